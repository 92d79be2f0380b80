"""The machinery of the exercise checks: timeouts, leftover threads, messages."""

import threading
import time

import pytest

from threadkit import CheckPassed, ExerciseError
from threadkit._checking import DEFAULT_CHECK_TIMEOUT, call_with_timeout, fail, leftover_threads

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
    with pytest.raises(ExerciseError) as info:
        call_with_timeout(hangs, timeout=0.1, what="consumer()")
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


# ----------------------------------------------------------- leftover_threads
def test_leftover_threads_names_threads_still_running():
    before = threading.enumerate()
    release = threading.Event()
    stray = threading.Thread(target=release.wait, name="stray")
    quick = threading.Thread(target=lambda: None, name="quick")
    stray.start()
    quick.start()
    try:
        assert leftover_threads(before, grace=0.05) == ["stray"]
    finally:
        release.set()
        stray.join(WAIT)
    assert leftover_threads(before, grace=0) == []


def test_leftover_threads_waits_for_threads_that_finish_within_the_grace():
    before = threading.enumerate()
    release = threading.Event()
    t = threading.Thread(target=release.wait, args=(WAIT,), name="finishing")
    t.start()
    timer = threading.Timer(0.05, release.set)
    timer.start()
    assert leftover_threads(before + [timer], grace=WAIT) == []
    timer.join(WAIT)


def test_leftover_threads_sorts_names_and_skips_check_helpers_and_the_caller():
    before = threading.enumerate()
    release = threading.Event()
    threads = [threading.Thread(target=release.wait, name=n) for n in ("b", "a", "threadkit-check")]
    for t in threads:
        t.start()
    try:
        assert leftover_threads(before, grace=0) == ["a", "b"]
        assert threading.current_thread().name not in leftover_threads([], grace=0)
    finally:
        release.set()
        for t in threads:
            t.join(WAIT)


def test_leftover_threads_accepts_any_collection():
    before = set(threading.enumerate())
    assert leftover_threads(before, grace=0) == []
    assert leftover_threads(tuple(before)) == []


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

    from threadkit import _checking

    cell_file = "/tmp/ipykernel_123/456.py"
    compiler = types.SimpleNamespace(format_code_name=lambda name: ("Cell", "In[7]") if name == cell_file else None)
    monkeypatch.setattr("IPython.get_ipython", lambda: types.SimpleNamespace(compile=compiler))
    assert _checking._shown_filename(cell_file) == "Cell In[7]"
    assert _checking._shown_filename("/elsewhere/module.py") == "/elsewhere/module.py"
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert _checking._shown_filename(cell_file) == cell_file
