"""The exercise of 04_callbacks: ``first_success(futures)`` and its grader ``check_first_success``.

The grader must pass the solution (solutions/04_first_success.py), refuse the
starting code of the notebook's exercise cell, and refuse typical wrong answers,
each with the explanation that fits.
"""

import contextlib
import logging
import threading
import time
from concurrent.futures import CancelledError, Future, as_completed

import pytest

import threadkit as tk
from exercise_support import assert_refused, solution, stub
from threadkit._checking import _OUTCOMES, CheckPassed, ExerciseError
from threadkit.lessons.callbacks import check_first_success

NAME = "first_success"
# Seconds the grader waits for a Future; wrong answers that hang fail this fast. Above the
# grader's RENDEZVOUS_LIMIT (0.5 s) with room for a loaded machine: at 0.3 s a callback held
# at the rendezvous was misread as one that blocks (2 of 12 runs with two suites in parallel).
FAST = 1.5


def check(fn, **kwargs):
    return check_first_success(fn, **kwargs)


# -- typical wrong answers ---------------------------------------------------------------
def make_answer(*, lock=True, mark_running=True, guard_cancelled=True, once=True, on_failure="group",
                keep_cancelled=True):
    """A first_success(futures) built from these choices, right by default.

    lock: the callbacks hold one Lock. mark_running: set_running_or_notify_cancel() before returning.
    guard_cancelled: cancelled() before exception(). once: a success completes the Future only once.
    on_failure: "group" (right), "first" (the first failure completes it), "last" (the last error
        alone), "ignore" (failures never complete it). keep_cancelled: a CancelledError() per cancelled future.
    """

    def first_success(futures):
        futures, outcome, failures, decided = list(futures), Future(), [], []
        if mark_running:
            outcome.set_running_or_notify_cancel()
        guard = threading.Lock() if lock else contextlib.nullcontext()

        def on_done(future):
            cancelled = guard_cancelled and future.cancelled()
            error = CancelledError() if cancelled else future.exception()  # raises if cancelled and unguarded
            with guard:
                if decided and once:  # check ... (without a lock another callback can act in between)
                    return
                if error is None:
                    outcome.set_result(future.result())  # ... then act
                    decided.append(True)
                    return
                failures.append(error)
                if on_failure == "first" or (on_failure != "ignore" and len(failures) == len(futures)):
                    decided.append(True)
                    kept = [e for e in failures if keep_cancelled or not isinstance(e, CancelledError)]
                    group = ExceptionGroup("every future failed", kept)
                    outcome.set_exception(error if on_failure in ("first", "last") else group)

        for future in futures:
            future.add_done_callback(on_done)
        return outcome

    return first_success


def forgets_to_return(futures):
    """Attaches the callbacks, but returns nothing."""
    outcome = Future()
    for future in futures:
        future.add_done_callback(lambda f: outcome.done() or outcome.set_result(f.result()))


def returns_the_value(futures):
    """Waits for the first success and returns its value itself, not a Future."""
    for future in futures:
        if not future.cancelled() and future.exception(timeout=5) is None:
            return future.result()
    return None


def returns_an_input(futures):
    return futures[0]


def done_at_once(futures):
    outcome = Future()
    outcome.set_result(None)
    return outcome


def waits_in_a_thread(futures):
    """Returns at once, but a thread of its own waits for the futures (no callbacks)."""
    outcome = Future()

    def wait():
        for future in futures:
            if not future.cancelled() and future.exception(timeout=5) is None:
                outcome.set_result(future.result())
                return

    threading.Thread(target=wait, name="my waiter").start()
    return outcome


def callback_waits(futures):
    """A callback that blocks the thread that runs it."""
    outcome = Future()
    for future in futures:
        future.add_done_callback(lambda f: time.sleep(3 * FAST))  # longer than the grader joins (twice)
    return outcome


def callback_raises(futures):
    """Its callbacks raise (a bug): the Future logs each error and goes on."""
    outcome = Future()
    for future in futures:
        future.add_done_callback(lambda f: {}["missing"])
    return outcome


def not_written_yet(futures):
    raise NotImplementedError("write first_success")


# -- the solution and the starting code -------------------------------------------------------
def test_the_solution_passes():
    passed = check(solution("04")[NAME])
    assert isinstance(passed, CheckPassed) and passed.startswith("Correct: first_success")


def test_the_solution_passes_every_time_without_leaving_threads():
    fn = solution("04")[NAME]
    before = set(threading.enumerate())
    for _ in range(5):
        check(fn)
    time.sleep(0.05)
    assert {t for t in threading.enumerate() if t.is_alive()} <= before


def test_the_solution_works_with_a_real_pool():
    from concurrent.futures import ThreadPoolExecutor

    fn = solution("04")[NAME]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(tk.flaky_task, i, fail=(i < 2), delay=0.01 * (i + 1)) for i in range(3)]
        assert fn(futures).result(timeout=5) == 2
        failing = [pool.submit(tk.flaky_task, i, fail=True, delay=0.01) for i in range(3)]
        group = fn(failing).exception(timeout=5)
    assert isinstance(group, ExceptionGroup) and len(group.exceptions) == 3


def test_the_starting_code_is_refused_because_it_waits():
    starting_code = stub("04", NAME)
    starting_code.__globals__["as_completed"] = as_completed  # imported by the notebook, not by the solution
    message = assert_refused(check_first_success, starting_code, "did not return within 1 s", "waits for them")
    assert "add_done_callback" in message


# -- wrong answers, each refused with its explanation ----------------------------------------
first_to_finish = make_answer(on_failure="first")
every_success_sets = make_answer(once=False)
hangs_when_all_fail = make_answer(on_failure="ignore")
no_lock = make_answer(lock=False)

#: name: (first_success, phrases the refusal holds)
WRONG_ANSWERS = {
    "first to finish": (first_to_finish, ["your Future was completed (raised ValueError: futures[0] failed) as soon "
                                          "as futures[0] failed", "the first *success* wins"]),
    "every success sets": (every_success_sets, ["a callback completed your Future twice", "InvalidStateError"]),
    "hangs when all fail": (hangs_when_all_fail, ["when all 4 futures had failed, your Future never completed: "
                                                  "it needs an ExceptionGroup"]),
    "exception() before cancelled()": (make_answer(guard_cancelled=False),
                                       ["on a cancelled future", "Check future.cancelled() first"]),
    "skips the cancelled": (make_answer(keep_cancelled=False),
                            ["lacks the one of futures[1] (cancelled: use a CancelledError())"]),
    "last error only": (make_answer(on_failure="last"),
                        ["your Future raised TimeoutError: futures[3] timed out: it needs an ExceptionGroup"]),
    "no lock": (no_lock, ["when 4 futures succeeded at the same moment, in 4 threads, a callback completed your "
                          "Future twice", "hold one Lock from the check to the set"]),
    "cancellable": (make_answer(mark_running=False), ["cancel() on your Future succeeded",
                                                      "set_running_or_notify_cancel()"]),
    "forgets to return": (forgets_to_return, ["forgets_to_return(futures) returned None (type NoneType), not a "
                                              "concurrent.futures.Future"]),
    "returns an input": (returns_an_input, ["returned one of the futures it was given"]),
    "done at once": (done_at_once, ["returned a Future that was already done"]),
    "waits in a thread": (waits_in_a_thread, ["started threads of its own (my waiter)"]),
    "callback waits": (callback_waits, [f"a callback did not return within {FAST:g} s in worker-0", "must not wait"]),
    "callback raises": (callback_raises, ["never completed", "a callback raised KeyError: 'missing' (the Future "
                                                             "logged it"]),
    "not written yet": (not_written_yet, ["not_written_yet(futures) raised NotImplementedError: it is not written yet."]),
}


@pytest.mark.parametrize("answer, phrases", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_wrong_answers_are_refused_with_an_explanation(answer, phrases):
    started = time.perf_counter()
    message = assert_refused(check_first_success, answer, *phrases, timeout=FAST)
    assert message.startswith("Not yet:") and "\nHint: " in message
    assert time.perf_counter() - started < 20 * FAST  # every wait in the grader has a timeout


def test_returns_the_value_is_refused_for_waiting():
    """It waits for the futures before returning anything: refused for that first."""
    assert_refused(check_first_success, returns_the_value, "waits for them", timeout=FAST)


def test_the_learners_own_error_is_kept_as_the_cause():
    with pytest.raises(ExerciseError) as info:
        check(not_written_yet)
    assert isinstance(info.value.__cause__, NotImplementedError)
    text = "\n".join(info.value._render_traceback_())
    assert "in not_written_yet" in text and "threadkit/lessons/callbacks.py" not in text


def test_the_grader_leaves_the_futures_logger_as_it_found_it():
    logger = logging.getLogger("concurrent.futures")
    handlers, propagate = list(logger.handlers), logger.propagate
    with pytest.raises(ExerciseError):
        check(every_success_sets)
    check(solution("04")[NAME])
    assert logger.handlers == handlers and logger.propagate == propagate


def test_the_hint_does_not_give_the_answer_away():
    message = assert_refused(check_first_success, first_to_finish, "Hint:")
    assert "set_running_or_notify_cancel" not in message and "def " not in message


def test_a_refused_answer_leaves_no_thread_behind():
    before = set(threading.enumerate())
    for answer in (first_to_finish, hangs_when_all_fail, no_lock):
        with pytest.raises(ExerciseError):
            check(answer, timeout=FAST)
    time.sleep(0.05)
    assert {t for t in threading.enumerate() if t.is_alive() and t.name != "threadkit-check"} <= before


# -- the grader's arguments -------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"fn": "first_success"}, TypeError, "fn must be callable"),
        ({"fn": None}, TypeError, "fn must be callable"),
        ({"fn": first_to_finish, "timeout": "2"}, TypeError, "timeout must be a number"),
        ({"fn": first_to_finish, "timeout": 0}, ValueError, "timeout must be a finite number from 0.05 to 60.0, got 0$"),
        ({"fn": first_to_finish, "timeout": float("nan")}, ValueError, "timeout must be a finite number"),
        ({"fn": first_to_finish, "timeout": 61}, ValueError, "got 61$"),
    ],
)
def test_the_grader_validates_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        check_first_success(**kwargs)


def test_the_grader_is_a_grader():
    assert getattr(check_first_success, "is_grader", False)
    with pytest.raises(ExerciseError):
        check(first_to_finish)
    assert isinstance(_OUTCOMES["check_first_success"], ExerciseError)
