"""The machinery of the exercise checks: timeouts, leftover threads, messages, outcomes."""

import contextlib
import threading
import time
from concurrent.futures import Future

import pytest

import threadkit as tk
from threadkit import _checking
from threadkit._checking import (DEFAULT_CHECK_TIMEOUT, CheckPassed, ExerciseError, Hang, call_with_timeout,
                                 describe_error, explain_raised, fail, futures_log, grader, new_threads)

WAIT = 30


# --------------------------------------------------------- call_with_timeout
def test_returns_the_value():
    assert call_with_timeout(lambda: 42) == 42
    assert call_with_timeout(pow, 2, 5) == 32
    assert call_with_timeout(lambda a, b=0: a - b, 10, b=3, timeout=5) == 7
    assert call_with_timeout(lambda: None) is None


def test_runs_the_function_in_a_helper_thread():
    seen = []
    call_with_timeout(lambda: seen.append(threading.current_thread()))
    assert seen[0] is not threading.current_thread()
    assert seen[0].name == "threadkit-check" and seen[0].daemon


def test_reraises_the_functions_error_unchanged():
    error = KeyError("missing")

    def broken():
        raise error

    with pytest.raises(KeyError) as info:
        call_with_timeout(broken)
    assert info.value is error
    with pytest.raises(ZeroDivisionError):
        call_with_timeout(lambda: 1 / 0)
    with pytest.raises(ExerciseError, match="learner's own"):
        call_with_timeout(fail, ["learner's own"])


def test_reraises_base_exceptions_too():
    def leave():
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info:
        call_with_timeout(leave)
    assert info.value.code == 3


def test_a_hang_fails_fast_with_an_explanation():
    release = threading.Event()
    entered = threading.Event()

    def hangs():
        entered.set()
        release.wait()  # no timeout: a learner's hang

    before = set(threading.enumerate())
    t0 = time.monotonic()
    with pytest.raises(Hang) as info:  # an ExerciseError that says "no return in time", without a cause
        call_with_timeout(hangs, timeout=0.1, what="consumer()", raised={Exception: (None, "not this")})
    elapsed = time.monotonic() - t0
    try:
        assert entered.is_set()
        assert elapsed < DEFAULT_CHECK_TIMEOUT  # it did not wait for the hang to end
        message = str(info.value)
        assert message.startswith("Not yet:\n  - consumer() did not return within 0.1 s")
        assert "Hint: every blocking call" in message
        assert isinstance(info.value, AssertionError)
        helpers = [t for t in threading.enumerate() if t not in before]  # the one this call started
        assert [t.name for t in helpers] == ["threadkit-check"]
        assert helpers[0].daemon and helpers[0].is_alive()
    finally:
        release.set()  # let the daemon helper finish: nothing is left behind
    helpers[0].join(WAIT)
    assert not helpers[0].is_alive()


def test_default_what_is_your_function():
    release = threading.Event()
    try:
        with pytest.raises(ExerciseError, match=r"your function did not return within 0\.05 s"):
            call_with_timeout(release.wait, timeout=0.05)
    finally:
        release.set()


# ---------------------------------------------------------------- new_threads
def names(threads):
    return [t.name for t in threads]


def test_new_threads_finds_threads_still_running_sorted_without_helpers_or_the_caller():
    before = threading.enumerate()
    release = threading.Event()
    threads = [threading.Thread(target=release.wait, args=(WAIT,), name=n) for n in ("b", "a", "threadkit-check")]
    quick = threading.Thread(target=lambda: None, name="quick")
    for t in threads + [quick]:
        t.start()
    quick.join(WAIT)
    try:
        assert names(new_threads(before)) == ["a", "b"]
        assert names(new_threads(set(before), grace=0.05)) == ["a", "b"]
        assert threading.current_thread().name not in names(new_threads([]))
    finally:
        release.set()
        for t in threads:
            t.join(WAIT)
    assert new_threads(tuple(before)) == []


def test_new_threads_without_grace_never_joins(monkeypatch):
    """grace 0 must not call join at all: from 3.14 even join(0) lets idle pool workers end."""
    before = threading.enumerate()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(WAIT,), name="waiting")
    t.start()
    joined = []
    monkeypatch.setattr(threading.Thread, "join", lambda self, timeout=None: joined.append(self))
    try:
        assert names(new_threads(before)) == ["waiting"] and joined == []
    finally:
        monkeypatch.undo()
        release.set()
        t.join(WAIT)


def test_new_threads_waits_for_threads_that_finish_within_the_grace():
    before = threading.enumerate()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(WAIT,), name="finishing")
    t.start()
    timer = threading.Timer(0.05, release.set)
    timer.start()
    assert new_threads(before + [timer], grace=WAIT) == []
    timer.join(WAIT)
    assert names(new_threads(before + [timer])) == []


# ------------------------------------------------------ explained exceptions
def test_explain_raised_uses_the_first_matching_problem_and_hint():
    error = KeyError("url")
    raised = {LookupError: ("a lookup failed", "check the keys"), KeyError: (None, "never this one")}
    with pytest.raises(ExerciseError) as info:
        explain_raised("f(x)", error, raised)
    assert str(info.value) == "Not yet:\n  - a lookup failed\nHint: check the keys"
    assert info.value.__cause__ is error


@pytest.mark.parametrize(
    "error, raised, problem, hint",
    [
        (ValueError("bad"), {ValueError: (None, "read it")}, "f(x) raised ValueError: bad", "read it"),
        (NotImplementedError(), {NotImplementedError: (None, "write it")}, "f(x) raised NotImplementedError: "
         "it is not written yet.", "write it"),
        (NotImplementedError(), {}, "f(x) raised NotImplementedError: it is not written yet.", "read the traceback"),
        (OSError(), {KeyError: ("no", "no")}, "f(x) raised OSError", "the error happened inside your function"),
    ],
)
def test_explain_raised_describes_the_error_when_no_problem_is_given(error, raised, problem, hint):
    with pytest.raises(ExerciseError) as info:
        explain_raised("f(x)", error, raised)
    assert str(info.value).startswith(f"Not yet:\n  - {problem}\nHint: ") and hint in str(info.value)


def test_a_refusal_raised_inside_the_call_is_not_explained_again():
    def refuses():
        fail("the phase found a problem", "fix it")

    with pytest.raises(ExerciseError) as info:
        call_with_timeout(refuses, what="phase()", raised={Exception: (None, "never this")})
    assert not isinstance(info.value, Hang)
    assert str(info.value) == "Not yet:\n  - the phase found a problem\nHint: fix it"


def test_call_with_timeout_explains_an_exception_only_when_asked():
    with pytest.raises(ExerciseError, match="fetch_all raised ZeroDivisionError: division by zero") as info:
        call_with_timeout(lambda: 1 / 0, what="fetch_all", raised={ZeroDivisionError: (None, "no zeros")})
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    with pytest.raises(SystemExit):  # not an Exception: never explained
        call_with_timeout(lambda: exec("raise SystemExit(1)"), raised={BaseException: (None, "x")})


def test_describe_error():
    assert describe_error(KeyError("k")) == "KeyError: 'k'"
    assert describe_error(TimeoutError()) == "TimeoutError"


def test_futures_log_collects_what_a_failing_done_callback_logs(capsys):
    future = Future()
    future.add_done_callback(lambda f: 1 / 0)
    with futures_log() as log:
        future.set_result(1)
    assert [type(e) for e in log.errors] == [ZeroDivisionError]
    assert "exception calling callback" in log.text and "ZeroDivisionError: division by zero" in log.text
    assert capsys.readouterr().err == ""
    with futures_log() as quiet:
        pass
    assert quiet.errors == [] and quiet.text == ""


# ---------------------------------------------------------------------- fail
def test_fail_message_format():
    with pytest.raises(ExerciseError) as info:
        fail(["the result is 3, expected 4", "a thread is still running"], "join every thread")
    assert str(info.value) == (
        "Not yet:\n"
        "  - the result is 3, expected 4\n"
        "  - a thread is still running\n"
        "Hint: join every thread"
    )


def test_the_first_paired_hint_wins_and_the_cause_is_kept():
    cause = KeyError("k")
    with pytest.raises(ExerciseError) as info:
        fail(["plain", ("paired", "its own hint"), ("later", "later hint")], "general hint", cause=cause)
    assert str(info.value) == "Not yet:\n  - plain\n  - paired\n  - later\nHint: its own hint"
    assert info.value.__cause__ is cause
    with pytest.raises(ExerciseError, match="Hint: general hint$"):
        fail([("no hint of its own", None)], "general hint")


def test_fail_without_a_hint_and_with_one_problem():
    with pytest.raises(ExerciseError) as info:
        fail(["only this"])
    assert str(info.value) == "Not yet:\n  - only this"
    with pytest.raises(ExerciseError) as info:
        fail("one sentence", hint=None)
    assert str(info.value) == "Not yet:\n  - one sentence"
    with pytest.raises(ExerciseError) as info:
        fail(p for p in ("x", "y"))
    assert str(info.value) == "Not yet:\n  - x\n  - y"


def test_exercise_error_and_check_passed():
    assert issubclass(ExerciseError, AssertionError)
    passed = CheckPassed("All good: 6 results, no thread left.")
    assert isinstance(passed, str)
    assert repr(passed) == "All good: 6 results, no thread left." == str(passed)


def test_a_learners_frame_from_a_notebook_cell_is_named_like_ipython_names_it(monkeypatch):
    """A cell's code file (/tmp/ipykernel_<pid>/<hash>.py) is shown as "Cell In[n]", not as a local path."""
    import types

    cell_file = "/tmp/ipykernel_123/456.py"
    compiler = types.SimpleNamespace(format_code_name=lambda name: ("Cell", "In[7]") if name == cell_file else None)
    monkeypatch.setattr("IPython.get_ipython", lambda: types.SimpleNamespace(compile=compiler))
    assert _checking._shown_filename(cell_file) == "Cell In[7]"
    assert _checking._shown_filename("/elsewhere/module.py") == "/elsewhere/module.py"
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert _checking._shown_filename(cell_file) == cell_file


# ---------------------------------------------------------- grader outcomes
@grader
def check_sign(x):
    if x < 0:
        fail("x is negative", "use a positive x")
    return CheckPassed("positive")


@pytest.mark.parametrize(
    "answer, reasons, printed",
    [
        (-1, ("is negative",), "checked: the starting code is refused: is negative"),
        (-1, ("is negative", "positive x"), "checked: the starting code is refused: is negative; positive x"),
        (-1, ("is negative", "too slow"), "check_sign refused your answer: read its message above"),
        (1, ("is negative",), "your answer passed check_sign: well done"),
    ],
)
def test_confirm_refused_reads_the_graders_last_outcome(capsys, answer, reasons, printed):
    with pytest.raises(ExerciseError) if answer < 0 else contextlib.nullcontext():
        check_sign(answer)
    tk.confirm_refused(check_sign, *reasons)
    assert capsys.readouterr().out == printed + "\n"


def test_a_grader_that_did_not_finish_has_no_outcome():
    check_sign(1)
    with pytest.raises(TypeError):
        check_sign("one")  # '<' between str and int: not an outcome
    with pytest.raises(RuntimeError, match="check_sign has not run yet"):
        tk.confirm_refused(check_sign, "is negative")
    assert check_sign.is_grader and check_sign.__name__ == "check_sign"
