"""Every public function rejects bad input with a message naming the argument and the value.

Each case: a call, the exception type, the argument's name, and the text of the
value received, all of which must appear in the message (with what is
accepted: "must be ...").
"""

import threading

import numpy as np
import pytest

import threadkit as tk
from threadkit import kinds, traced
from threadkit._recording import Recording
from threadkit import _checking, _validate
from threadkit.lessons import comparison, races
from threadkit.lessons.callbacks import check_first_success, new_thread_sees
from threadkit.lessons.pools import FakeWeb, check_fetch_all
from threadkit.lessons.queues import check_pipeline
from threadkit.lessons.start import cpu_threads_verdict

NAN = float("nan")
INF = float("inf")


def _rec():
    with tk.recording() as rec:
        tk.mark("x")  # one thread seen: MainThread, lane 0
    return rec


def nothing():
    pass


@_checking.grader
def graded():
    return _checking.CheckPassed("passed")


def _schedules():
    return races.interleavings({"A": ["read", "add", "write"], "B": ["read", "add", "write"]})


CASES = [
    # --------------------------------------------------------- lesson 01
    ("check_fetch_all fetch_all", lambda: check_fetch_all(42), TypeError, "fetch_all", "42"),
    ("check_fetch_all timeout str", lambda: check_fetch_all(nothing, timeout="soon"), TypeError, "timeout", "'soon'"),
    ("check_fetch_all timeout<0", lambda: check_fetch_all(nothing, timeout=-1), ValueError, "timeout", "-1"),
    ("FakeWeb.fetch url", lambda: FakeWeb().fetch("https://example.com/page/12"), ValueError, "url", "page/12'"),
    ("FakeWeb.fetch url int", lambda: FakeWeb().fetch(url=0), ValueError, "url", "got 0"),
    # --------------------------------------------------------- workloads
    ("io_task delay<0", lambda: tk.io_task(-1), ValueError, "delay", "-1"),
    ("io_task delay nan", lambda: tk.io_task(NAN), ValueError, "delay", "nan"),
    ("io_task delay inf", lambda: tk.io_task(INF), ValueError, "delay", "inf"),
    ("io_task delay too big", lambda: tk.io_task(61), ValueError, "delay", "61"),
    ("io_task delay huge int", lambda: tk.io_task(10**400), ValueError, "delay", "1000000"),
    ("io_task delay bool", lambda: tk.io_task(True), TypeError, "delay", "True"),
    ("io_task delay str", lambda: tk.io_task("0.1"), TypeError, "delay", "'0.1'"),
    ("io_task delay None", lambda: tk.io_task(None), TypeError, "delay", "None"),
    ("cpu_task n bool", lambda: tk.cpu_task(True), TypeError, "n", "True"),
    ("cpu_task n float", lambda: tk.cpu_task(10.0), TypeError, "n", "10.0"),
    ("cpu_task n str", lambda: tk.cpu_task("10"), TypeError, "n", "'10'"),
    ("cpu_task n<0", lambda: tk.cpu_task(-1), ValueError, "n", "-1"),
    ("cpu_task n too big", lambda: tk.cpu_task(10**10), ValueError, "n", "10000000000"),
    ("flaky_task fail int", lambda: tk.flaky_task(1, fail=1), TypeError, "fail", "1"),
    ("flaky_task fail str", lambda: tk.flaky_task(1, fail="yes"), TypeError, "fail", "'yes'"),
    ("flaky_task delay<0", lambda: tk.flaky_task(1, delay=-0.5), ValueError, "delay", "-0.5"),
    ("flaky_task delay nan", lambda: tk.flaky_task(1, delay=NAN), ValueError, "delay", "nan"),
    ("failure_plan tasks<0", lambda: tk.failure_plan(-1, 0.5), ValueError, "tasks", "-1"),
    ("failure_plan tasks float", lambda: tk.failure_plan(2.0, 0.5), TypeError, "tasks", "2.0"),
    ("failure_plan tasks bool", lambda: tk.failure_plan(True, 0.5), TypeError, "tasks", "True"),
    ("failure_plan rate>1", lambda: tk.failure_plan(10, 1.5), ValueError, "rate", "1.5"),
    ("failure_plan rate<0", lambda: tk.failure_plan(10, -0.1), ValueError, "rate", "-0.1"),
    ("failure_plan rate nan", lambda: tk.failure_plan(10, NAN), ValueError, "rate", "nan"),
    ("failure_plan rate str", lambda: tk.failure_plan(10, "half"), TypeError, "rate", "'half'"),
    ("failure_plan rate bool", lambda: tk.failure_plan(10, False), TypeError, "rate", "False"),
    ("failure_plan seed float", lambda: tk.failure_plan(10, 0.5, seed=1.5), TypeError, "seed", "1.5"),
    ("failure_plan seed None", lambda: tk.failure_plan(10, 0.5, seed=None), TypeError, "seed", "None"),
    # --------------------------------------------------------- recording
    ("Recording name", lambda: Recording(5), TypeError, "name", "5"),
    ("best_of runs 0", lambda: tk.best_of(0, nothing), ValueError, "runs", "0"),
    ("best_of runs too many", lambda: tk.best_of(21, nothing), ValueError, "runs", "21"),
    ("best_of runs float", lambda: tk.best_of(2.0, nothing), TypeError, "runs", "2.0"),
    ("best_of runs bool", lambda: tk.best_of(True, nothing), TypeError, "runs", "True"),
    ("best_of fn", lambda: tk.best_of(3, "scenario"), TypeError, "fn", "'scenario'"),
    ("recording name", lambda: tk.recording(None), TypeError, "name", "None"),
    ("span kind", lambda: tk.span("nap"), ValueError, "kind", "'nap'"),
    ("span instant kind", lambda: tk.span(kinds.SUBMIT), ValueError, "kind", "'submit'"),
    ("span kind None", lambda: tk.span(None), ValueError, "kind", "None"),
    ("span label", lambda: tk.span(kinds.RUN, label=1.5), TypeError, "label", "1.5"),
    ("mark label", lambda: tk.mark(5), TypeError, "label", "5"),
    ("time_in kind", lambda: _rec().time_in("nap"), ValueError, "kind", "'nap'"),
    ("time_in thread name", lambda: _rec().time_in(kinds.RUN, thread="ghost"), ValueError, "thread", "'ghost'"),
    ("time_in thread lane", lambda: _rec().time_in(kinds.RUN, thread=3), ValueError, "thread", "3"),
    ("time_in thread negative", lambda: _rec().time_in(kinds.RUN, thread=-1), ValueError, "thread", "-1"),
    ("time_in thread float", lambda: _rec().time_in(kinds.RUN, thread=0.0), TypeError, "thread", "0.0"),
    ("time_in thread bool", lambda: _rec().time_in(kinds.RUN, thread=False), TypeError, "thread", "False"),
    ("count kind", lambda: _rec().count("nap"), ValueError, "kind", "'nap'"),
    ("count thread", lambda: _rec().count(kinds.MARK, thread="ghost"), ValueError, "thread", "'ghost'"),
    ("count thread type", lambda: _rec().count(kinds.MARK, thread=[0]), TypeError, "thread", "[0]"),
    ("save path", lambda: _rec().save(5), TypeError, "path", "5"),
    ("load path", lambda: Recording.load(None), TypeError, "path", "None"),
    ("from_chrome_trace", lambda: Recording.from_chrome_trace("{}"), TypeError, "trace", "'{}'"),
    ("from_chrome_trace events", lambda: Recording.from_chrome_trace({"traceEvents": 1}), TypeError,
     "trace['traceEvents']", "1"),
    # ------------------------------------------------------------- twins
    ("Lock name", lambda: traced.Lock(name=5), TypeError, "name", "5"),
    ("Queue name", lambda: traced.Queue(name=1.5), TypeError, "name", "1.5"),
    ("Queue maxsize and name", lambda: traced.Queue(3, name=["q"]), TypeError, "name", "['q']"),
    ("Event name", lambda: traced.Event(name=b"e"), TypeError, "name", "b'e'"),
    # ------------------------------------------------- lessons 03 and 04
    ("check_pipeline run_stage", lambda: check_pipeline(5), TypeError, "run_stage", "5"),
    ("check_pipeline timeout 0", lambda: check_pipeline(nothing, timeout=0), ValueError, "timeout", "0"),
    ("check_pipeline timeout str", lambda: check_pipeline(nothing, timeout="1"), TypeError, "timeout", "'1'"),
    ("check_first_success fn", lambda: check_first_success(None), TypeError, "fn", "None"),
    ("check_first_success timeout", lambda: check_first_success(nothing, 61), ValueError, "timeout", "61"),
    ("new_thread_sees inherit", lambda: new_thread_sees("v", "d", inherit=1), TypeError, "inherit", "1"),
    # ---------------------------------------------------------- checking
    ("call_with_timeout fn", lambda: _checking.call_with_timeout(5), TypeError, "fn", "5"),
    ("call_with_timeout timeout 0", lambda: _checking.call_with_timeout(nothing, timeout=0), ValueError,
     "timeout", "0"),
    ("call_with_timeout timeout<0", lambda: _checking.call_with_timeout(nothing, timeout=-1), ValueError,
     "timeout", "-1"),
    ("call_with_timeout timeout nan", lambda: _checking.call_with_timeout(nothing, timeout=NAN), ValueError,
     "timeout", "nan"),
    ("call_with_timeout timeout huge", lambda: _checking.call_with_timeout(nothing, timeout=1e300), ValueError,
     "timeout", "1e+300"),
    ("call_with_timeout timeout str", lambda: _checking.call_with_timeout(nothing, timeout="1"), TypeError,
     "timeout", "'1'"),
    ("call_with_timeout what", lambda: _checking.call_with_timeout(nothing, what=3), TypeError, "what", "3"),
    ("new_threads before", lambda: _checking.new_threads(5), TypeError, "before", "5"),
    ("new_threads grace<0", lambda: _checking.new_threads([], grace=-1), ValueError, "grace", "-1"),
    ("new_threads grace str", lambda: _checking.new_threads([], grace="1"), TypeError, "grace", "'1'"),
    ("fail problems", lambda: _checking.fail(5), TypeError, "problems", "5"),
    ("fail problems empty", lambda: _checking.fail([]), ValueError, "problems", "empty"),
    ("fail problem item", lambda: _checking.fail(["ok", 2]), TypeError, "problems", "2"),
    ("fail paired problem item", lambda: _checking.fail([(None, "hint")]), TypeError, "problems", "None"),
    ("fail hint", lambda: _checking.fail(["x"], hint=5), TypeError, "hint", "5"),
    ("fail paired hint", lambda: _checking.fail([("x", 5)]), TypeError, "hint", "5"),
    ("grader check", lambda: _checking.grader(5), TypeError, "check", "5"),
    ("confirm_refused check", lambda: tk.confirm_refused(print, "x"), TypeError, "check", "print"),
    ("confirm_refused reason", lambda: tk.confirm_refused(graded, "x", 5), TypeError, "reasons", "5"),
    ("confirm_refused no reason", lambda: tk.confirm_refused(graded), ValueError, "reasons", "at least one"),
    # ------------------------------------------------------ build, lesson 00
    ("cpu_threads_verdict build", lambda: cpu_threads_verdict(1, 1, threads=1, cores=1, build="3.11"), TypeError,
     "build", "'3.11'"),
    ("cpu_threads_verdict wall_ns", lambda: cpu_threads_verdict(1, 0, threads=1, cores=1), ValueError,
     "wall_ns", "0"),
]


def scenario(workers):
    pass


def _drawn():
    return tk._recording.Recording("drawn")


CASES += [  # -------------------------------------------- draw, summarize, explore, Shared
    ("draw recordings", lambda: tk.draw("x"), TypeError, "recordings", "'x'"),
    ("draw recordings empty", lambda: tk.draw([]), ValueError, "recordings", "empty list"),
    ("draw recordings item", lambda: tk.draw([_drawn(), 5]), TypeError, "recordings[1]", "5"),
    ("draw titles type", lambda: tk.draw([_drawn()], titles="a"), TypeError, "titles", "'a'"),
    ("draw titles length", lambda: tk.draw([_drawn()], titles=["a", "b"]), ValueError, "titles", "['a', 'b']"),
    ("draw titles item", lambda: tk.draw([_drawn()], titles=[1]), TypeError, "titles[0]", "1"),
    ("summarize recording", lambda: tk.summarize(None), TypeError, "recording", "None"),
    ("explore scenario", lambda: tk.explore("pool", workers=(1, 8, 3)), TypeError, "scenario", "'pool'"),
    ("explore name", lambda: tk.explore(lambda **kw: None, **{"2x": (1, 8, 3)}), ValueError, "names", "'2x'"),
    ("explore spec type", lambda: tk.explore(scenario, workers=3), TypeError, "workers", "3"),
    ("explore spec length", lambda: tk.explore(scenario, workers=(1, 8)), TypeError, "workers", "(1, 8)"),
    ("explore spec empty", lambda: tk.explore(scenario, workers=()), TypeError, "workers", "()"),
    ("explore min > max", lambda: tk.explore(scenario, workers=(8, 1, 3)), ValueError, "workers", "min=8"),
    ("explore min = max", lambda: tk.explore(scenario, workers=(1, 1, 1)), ValueError, "workers", "max=1"),
    ("explore default", lambda: tk.explore(scenario, workers=(1, 8, 9)), ValueError, "workers", "9"),
    ("explore step 0", lambda: tk.explore(scenario, workers=(1, 8, 3, 0)), ValueError, "workers", "got 0"),
    ("explore step big", lambda: tk.explore(scenario, workers=(1, 8, 3, 10)), ValueError, "workers", "10"),
    ("explore spec str", lambda: tk.explore(scenario, workers=(1, "8", 3)), TypeError, "workers", "'8'"),
    ("explore spec bool", lambda: tk.explore(scenario, workers=(True, 8, 3)), TypeError, "workers", "True"),
    ("explore spec inf", lambda: tk.explore(scenario, workers=(1, INF, 3)), ValueError, "workers", "inf"),
    ("explore choices", lambda: tk.explore(scenario, workers=["a", "a"]), ValueError, "workers", "['a', 'a']"),
    ("explore mixed", lambda: tk.explore(scenario, workers=["a", 1]), TypeError, "workers", "'a'"),
    ("explore signature", lambda: tk.explore(scenario, nope=(1, 8, 3)), TypeError, "nope", "'scenario'"),
    ("Shared name", lambda: tk.Shared(3), TypeError, "name", "3"),
    ("lost_updates shared", lambda: tk.lost_updates("total"), TypeError, "shared", "'total'"),
    ("lost_updates nothing recorded", lambda: tk.lost_updates(tk.Shared("idle")), ValueError, "shared",
     "'idle'"),
    ("draw_race shared", lambda: tk.draw_race(None), TypeError, "shared", "None"),
    ("draw_race zoom<0", lambda: tk.draw_race(tk.Shared("x"), zoom=-1), ValueError, "zoom", "-1"),
    ("draw_race zoom float", lambda: tk.draw_race(tk.Shared("x"), zoom=0.0), TypeError, "zoom", "0.0"),
    ("draw_race zoom bool", lambda: tk.draw_race(tk.Shared("x"), zoom=True), TypeError, "zoom", "True"),
]

CASES += [
    # ------------------------------------------------- lesson 05 (comparison)
    ("count_code_lines objects", lambda: comparison.count_code_lines(nothing, 42), TypeError, "objects[1]", "42"),
    ("table rows", lambda: comparison.table("abc"), TypeError, "rows", "'abc'"),
    ("table row", lambda: comparison.table([("a", 1)]), TypeError, "rows[0]", "('a', 1)"),
    ("table title", lambda: comparison.table([{"a": 1}], title=None), TypeError, "title", "None"),
    ("quiz questions", lambda: comparison.quiz("q"), TypeError, "questions", "'q'"),
    ("quiz question", lambda: comparison.quiz([None]), TypeError, "questions[0]", "None"),
    ("check_fetch_with_deadline fn", lambda: comparison.check_fetch_with_deadline("f"), TypeError, "fn", "'f'"),
]

CASES += [
    # ------------------------------------------------------- lessons.races
    ("interleavings programs", lambda: races.interleavings([["read"]]), TypeError, "programs", "[['read']]"),
    ("interleavings start str", lambda: races.interleavings({"A": ["read"]}, start="0"), TypeError, "start", "'0'"),
    ("interleavings start float", lambda: races.interleavings({"A": ["read"]}, 1.5), TypeError, "start", "1.5"),
    ("interleavings start bool", lambda: races.interleavings({"A": ["read"]}, True), TypeError, "start", "True"),
    ("draw_schedule schedule", lambda: races.draw_schedule(list(_schedules()[0])), TypeError, "schedule", "[1, 6"),
    ("draw_schedule upto", lambda: races.draw_schedule(_schedules()[0], 7), ValueError, "upto", "7"),
    ("draw_schedule upto str", lambda: races.draw_schedule(_schedules()[0], "3"), TypeError, "upto", "'3'"),
    ("step_through schedules", lambda: races.step_through([]), TypeError, "schedules", "[]"),
    ("step_through number", lambda: races.step_through(_schedules(), number=7), ValueError, "number", "7"),
    ("step_through upto", lambda: races.step_through(_schedules(), upto=-1), ValueError, "upto", "-1"),
    ("replay programs", lambda: races.replay([], ["A"]), TypeError, "programs", "[]"),
    ("replay order", lambda: races.replay({"A": [print]}, "A"), TypeError, "order", "'A'"),
    ("replay timeout 0", lambda: races.replay({"A": [print]}, ["A"], timeout=0), ValueError, "timeout", "0"),
    ("replay timeout str", lambda: races.replay({"A": [print]}, ["A"], timeout="1"), TypeError, "timeout", "'1'"),
    ("draw_lost_updates losses", lambda: races.draw_lost_updates([0.1]), TypeError, "losses", "[0.1]"),
    ("draw_lost_updates empty", lambda: races.draw_lost_updates({}), ValueError, "losses", "empty"),
    ("draw_lost_updates count", lambda: races.draw_lost_updates({0: [0.1]}), ValueError, "iteration count", "0"),
    ("draw_lost_updates runs", lambda: races.draw_lost_updates({10: []}), TypeError, "losses[10]", "[]"),
    ("draw_lost_updates fraction", lambda: races.draw_lost_updates({10: [1.5]}), ValueError, "losses[10]", "1.5"),
    ("draw_lost_updates switch", lambda: races.draw_lost_updates({10: [0.5]}, switch_iterations=0), ValueError,
     "switch_iterations", "0"),
    ("draw_lost_updates title", lambda: races.draw_lost_updates({10: [0.5]}, title=3), TypeError, "title", "3"),
    ("counter_verdict lost<0", lambda: races.counter_verdict(-1, 10), ValueError, "lost", "-1"),
    ("counter_verdict lost>total", lambda: races.counter_verdict(11, 10), ValueError, "lost", "11"),
    ("counter_verdict lost float", lambda: races.counter_verdict(0.5, 10), TypeError, "lost", "0.5"),
    ("counter_verdict total", lambda: races.counter_verdict(0, 0), ValueError, "total", "0"),
    ("counter_verdict build", lambda: races.counter_verdict(0, 10, "3.11"), TypeError, "build", "'3.11'"),
    ("check_account str", lambda: races.check_account("Account"), TypeError, "account_class", "'Account'"),
    ("check_account instance", lambda: races.check_account(object()), TypeError, "account_class", "object"),
]


@pytest.mark.parametrize("call, error, argument, value", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_with_a_clear_message(call, error, argument, value):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert type(info.value) is error
    assert argument in message
    assert value in message
    assert "must" in message or "was not seen" in message


def test_validation_runs_before_any_side_effect():
    """A rejected call leaves no trace: no recording made active, no thread started."""
    threads = threading.active_count()
    with pytest.raises(TypeError):
        tk.recording(5)
    assert tk.current_recording() is None
    with pytest.raises(TypeError):
        _checking.call_with_timeout(5)
    assert threading.active_count() == threads
    with tk.recording() as rec:
        with pytest.raises(ValueError):
            tk.span("nap")
        with pytest.raises(TypeError):
            tk.mark(None)
    assert rec.spans == [] and rec.instants == [] and rec.threads == []


def test_good_input_is_accepted_at_the_edges():
    assert tk.io_task(0) == 0.0
    assert tk.io_task(1e-6, value=1) == 1
    assert tk.cpu_task(0) == 0
    assert tk.failure_plan(0, 0.0) == frozenset() and tk.failure_plan(3, 1) == frozenset({0, 1, 2})
    assert tk.failure_plan(10, 0.5, seed=-7) == tk.failure_plan(10, 0.5, seed=-7)
    traced.Lock(name="")
    traced.Queue(0, name="q")
    Recording("")
    with tk.span(kinds.RUN, ""):
        tk.mark("")


@pytest.mark.parametrize(
    "spec, value, result",
    [
        (_validate.an_int(0, 3), 3, 3),
        (_validate.an_int(), np.int64(-2), -2),
        (_validate.a_number(0), 2, 2.0),
        (_validate.a_number(hi=1), np.float32(0.5), 0.5),
        (_validate.A_STR, "v", "v"),
        (_validate.A_BOOL, False, False),
        (_validate.one_of("a", "b"), "a", "a"),
        (_validate.instance_of(list, "a list"), [1], [1]),
        (_validate.optional(_validate.an_int(1)), None, None),
        (_validate.optional(_validate.an_int(1)), 1, 1),
    ],
)
def test_specs_return_the_accepted_value(spec, value, result):
    assert _validate.valid("x", value, spec) == result
    assert type(_validate.valid("x", value, spec)) is type(result)


@pytest.mark.parametrize(
    "spec, value, error, message",
    [
        (_validate.an_int(0, 3), 4, ValueError, "n must be an int from 0 to 3, got 4"),
        (_validate.an_int(0), -1, ValueError, "n must be an int >= 0, got -1"),
        (_validate.an_int(hi=3), 9, ValueError, "n must be an int <= 3, got 9"),
        (_validate.an_int(), "4", TypeError, "n must be an int, got '4' (type str)"),
        (_validate.an_int(), True, TypeError, "n must be an int, got True (type bool)"),
        (_validate.a_number(0), -1, ValueError, "n must be a finite number >= 0, got -1"),
        (_validate.a_number(), NAN, ValueError, "n must be a finite number, got nan"),
        (_validate.a_number(), None, TypeError, "n must be a number, got None (type NoneType)"),
        (_validate.A_CALLABLE, 1, TypeError, "n must be callable (a function or other callable), got 1 (type int)"),
        (_validate.A_STR, 1, TypeError, "n must be a str, got 1 (type int)"),
        (_validate.A_BOOL, 0, TypeError, "n must be True or False, got 0 (type int)"),
        (_validate.one_of("a", "b"), "z", ValueError, "n must be one of 'a', 'b', got 'z' (type str)"),
        (_validate.instance_of(list, "a list"), 1, TypeError, "n must be a list, got 1 (type int)"),
        (_validate.optional(_validate.an_int(1)), 0, ValueError, "n must be an int >= 1, got 0"),
        (_validate.A_STR, b"x" * 100, TypeError, "n must be a str, got b'" + "x" * 55 + "... (type bytes)"),
    ],
)
def test_spec_messages(spec, value, error, message):
    with pytest.raises(error) as info:
        _validate.valid("n", value, spec)
    assert str(info.value) == message


@_validate.accepts(a=_validate.an_int(0), c=_validate.A_STR, rest=_validate.a_number(), k=_validate.A_BOOL)
def _declared(a, b=None, c="default", *rest, k=False, **extra):
    return a, b, c, rest, k, extra


def test_accepts_checks_arguments_wherever_they_are_passed():
    assert _declared(np.int64(1), "any", "c", 2, k=True, z="free") == (1, "any", "c", (2.0,), True, {"z": "free"})
    assert _declared(a=3) == (3, None, "default", (), False, {})
    assert _declared(0, c="x") == (0, None, "x", (), False, {})
    for call, name in [(lambda: _declared(-1), "a"), (lambda: _declared(a="1"), "a"), (lambda: _declared(0, 1, 2), "c"),
                       (lambda: _declared(0, c=2), "c"), (lambda: _declared(0, 1, "c", 1, "2"), "rest"),
                       (lambda: _declared(0, k=1), "k")]:
        with pytest.raises((TypeError, ValueError), match=f"^{name} must be "):
            call()
    assert _declared.validates == ("a", "c", "rest", "k") and _declared.__name__ == "_declared"


def test_accepts_refuses_a_spec_for_a_missing_parameter():
    with pytest.raises(TypeError, match="has no parameter x"):
        _validate.accepts(x=_validate.A_STR)(lambda a: a)


def test_describe_shortens_long_values():
    assert _validate.describe("x") == "'x' (type str)"
    assert _validate.describe("y" * 100, limit=10) == "'yyyyyy... (type str)"
