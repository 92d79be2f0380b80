"""Every public function rejects bad input with a message naming the argument and the value.

Each case: a call, the exception type, the argument's name, and the text of the
value received, all of which must appear in the message (with what is
accepted: "must be ...").
"""

import threading

import pytest

import threadkit as tk
from threadkit import kinds, traced
from threadkit._recording import Recording
from threadkit import _checking, _validate

NAN = float("nan")
INF = float("inf")


def _rec():
    with tk.recording() as rec:
        tk.mark("x")  # one thread seen: MainThread, lane 0
    return rec


def nothing():
    pass


CASES = [
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
    ("leftover_threads before", lambda: _checking.leftover_threads(5), TypeError, "before", "5"),
    ("leftover_threads grace<0", lambda: _checking.leftover_threads([], grace=-1), ValueError, "grace", "-1"),
    ("leftover_threads grace str", lambda: _checking.leftover_threads([], grace="1"), TypeError, "grace", "'1'"),
    ("fail problems", lambda: _checking.fail(5), TypeError, "problems", "5"),
    ("fail problems empty", lambda: _checking.fail([]), ValueError, "problems", "empty"),
    ("fail problem item", lambda: _checking.fail(["ok", 2]), TypeError, "problems", "2"),
    ("fail hint", lambda: _checking.fail(["x"], hint=5), TypeError, "hint", "5"),
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
    "check, args, kwargs, result",
    [
        (_validate.check_int, ("n", 3), {"minimum": 0, "maximum": 3}, 3),
        (_validate.check_number, ("x", 2), {"minimum": 0}, 2.0),
        (_validate.check_number, ("x", 0.5), {"maximum": 1}, 0.5),
        (_validate.check_str, ("s", "v"), {}, "v"),
        (_validate.check_choice, ("c", "a", ("a", "b")), {}, "a"),
        (_validate.check_instance, ("i", [1], list, "a list"), {}, [1]),
    ],
)
def test_checks_return_the_accepted_value(check, args, kwargs, result):
    assert check(*args, **kwargs) == result


@pytest.mark.parametrize(
    "check, args, kwargs, error, message",
    [
        (_validate.check_int, ("n", 4), {"minimum": 0, "maximum": 3}, ValueError, "n must be an int from 0 to 3, got 4"),
        (_validate.check_int, ("n", -1), {"minimum": 0}, ValueError, "n must be an int >= 0, got -1"),
        (_validate.check_int, ("n", 9), {"maximum": 3}, ValueError, "n must be an int <= 3, got 9"),
        (_validate.check_int, ("n", "4"), {}, TypeError, "n must be an int, got '4' (type str)"),
        (_validate.check_number, ("x", -1), {"minimum": 0}, ValueError, "x must be a finite number >= 0, got -1"),
        (_validate.check_number, ("x", NAN), {}, ValueError, "x must be a finite number, got nan"),
        (_validate.check_number, ("x", None), {}, TypeError, "x must be a number, got None (type NoneType)"),
        (_validate.check_callable, ("f", 1), {}, TypeError,
         "f must be callable (a function or other callable), got 1 (type int)"),
        (_validate.check_str, ("s", 1), {}, TypeError, "s must be a str, got 1 (type int)"),
        (_validate.check_choice, ("c", "z", ("a", "b")), {}, ValueError, "c must be one of 'a', 'b'; got 'z'"),
        (_validate.check_instance, ("i", 1, list, "a list"), {}, TypeError, "i must be a list, got 1 (type int)"),
        (_validate.check_str, ("s", "x" * 100), {}, None, None),
        (_validate.check_str, ("s", b"x" * 100), {}, TypeError, "s must be a str, got b'" + "x" * 55 + "... (type bytes)"),
    ],
)
def test_check_messages(check, args, kwargs, error, message):
    if error is None:
        check(*args, **kwargs)
        return
    with pytest.raises(error) as info:
        check(*args, **kwargs)
    assert str(info.value) == message
