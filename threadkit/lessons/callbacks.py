"""Lesson helpers for notebook 04 (callbacks).

* :func:`check_first_success` checks the exercise: ``first_success(futures)``
  returns a new Future at once, and done-callbacks complete it with the result
  of the first future to succeed, or, once every future has failed, with an
  ``ExceptionGroup`` of all their errors.
* :func:`threads_inherit_context` and :func:`new_thread_sees` say what a new
  thread sees of its starter's context variables on the running build, so a
  notebook cell can assert the outcome for the build it runs on.

The technique itself (``add_done_callback``, a ``Lock`` around the state the
callbacks share, completing a Future exactly once) stays in the notebook and in
``solutions/04_first_success.py``.
"""

import logging
import sys
import threading
from concurrent.futures import CancelledError, InvalidStateError, wait
from concurrent.futures import Future as _StdFuture

from .. import _checking
from .._checking import CheckPassed, call_with_timeout, fail, grader, leftover_threads
from .._validate import check_callable, check_number

__all__ = [
    "check_first_success",
    "threads_inherit_context",
    "new_thread_sees",
]

#: The ``sys.flags`` attribute (3.14+) deciding whether new threads start with a copy of the starter's context.
INHERIT_FLAG = "thread_inherit_context"
#: Seconds the learner's function may take to return its Future (no future it was given finishes meanwhile).
CALL_DEADLINE = 1.0
#: When futures finish together, the first read of each (``result()``/``exception()``) waits at most this
#: long for the other callbacks to reach their read too, so that a check-then-act race shows every time.
RENDEZVOUS_LIMIT = 0.5
#: The logger through which a Future reports an exception raised by one of its done-callbacks.
FUTURES_LOGGER = "concurrent.futures"

ExerciseError = _checking.ExerciseError


# ------------------------------------------------------- context variables
def threads_inherit_context(flags=None):
    """Whether a new ``Thread`` starts with a copy of its starter's context variables.

    ``sys.flags.thread_inherit_context`` (3.14+) decides it: 1 by default on
    free-threaded builds, 0 on standard (GIL) builds, and settable with
    ``-X thread_inherit_context=1`` or ``PYTHON_THREAD_INHERIT_CONTEXT=1``.
    Before 3.14 there is no such flag and a new thread always starts with an
    empty context.  A pool worker is a thread too: with the flag on it gets a
    copy of the context of the ``submit`` that started it, not of later ones.

    Args:
        flags: an object with the attributes of ``sys.flags`` (default:
            ``sys.flags``); tests pass a stand-in.

    Returns:
        bool: True when new threads inherit a copy of the starter's context.

    Raises:
        TypeError: the flag exists but is not an int.
    """
    flags = sys.flags if flags is None else flags
    value = getattr(flags, INHERIT_FLAG, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"flags.{INHERIT_FLAG} must be an int (0 or 1), got {value!r} (type {type(value).__name__})")
    return bool(value)


def new_thread_sees(value, default, inherit=None):
    """What a context variable set to ``value`` reads in a thread started afterwards.

    Args:
        value: the value the starting code set.
        default: the variable's default (what an empty context reads).
        inherit: True if new threads copy the starter's context, False if not;
            None (the default) asks :func:`threads_inherit_context`.

    Returns:
        ``value`` when threads inherit the context, else ``default``.

    Raises:
        TypeError: ``inherit`` is not True, False or None.
    """
    if inherit is None:
        inherit = threads_inherit_context()
    elif not isinstance(inherit, bool):
        raise TypeError(f"inherit must be True, False or None, got {inherit!r} (type {type(inherit).__name__})")
    return value if inherit else default


# ------------------------------------------------------------------ the exercise check
_HINT = (
    "create a Future, attach one callback to every future with add_done_callback and return yours at once. "
    "In the callback (it runs in whichever thread finished that future), hold one Lock while you decide: "
    "the first success sets the result; the last failure sets an ExceptionGroup of all the errors."
)
_WAIT_HINT = (
    "do not wait inside first_success (no result(), wait(), as_completed() or join()): attach a callback to "
    "each future with add_done_callback and return your Future; the callbacks complete it later."
)


class _Rendezvous:
    """Holds each read of a finished future until every callback has made as many reads, or ``limit`` s passed.

    Callbacks that read their futures *outside* a shared lock reach each read
    together and go on together: a check-then-act between them races every
    time.  Callbacks that hold a lock arrive one by one: after ``limit`` the
    reads stop waiting for good.
    """

    def __init__(self, n, limit=RENDEZVOUS_LIMIT):
        self.n, self.limit = n, limit
        self.changed = threading.Condition()
        self.reads = {}  # future -> how many times its callback read it
        self.off = False

    def arrive(self, future):
        with self.changed:
            if self.off:
                return
            mine = self.reads[future] = self.reads.get(future, 0) + 1
            self.changed.notify_all()
            everyone = lambda: self.off or (len(self.reads) == self.n and min(self.reads.values()) >= mine)
            if not self.changed.wait_for(everyone, self.limit):
                self.off = True  # the callbacks run one at a time (a lock): stop holding reads back
                self.changed.notify_all()


class _Input(_StdFuture):
    """A future given to the learner's function: marked running (so ``cancel()`` fails), labelled for messages."""

    def __init__(self, index, rendezvous=None, running=True):
        super().__init__()
        self.index = index
        self.label = f"futures[{index}]"
        self._rendezvous = rendezvous
        if running:
            self.set_running_or_notify_cancel()

    def result(self, timeout=None):
        self._meet()
        return super().result(timeout)

    def exception(self, timeout=None):
        self._meet()
        return super().exception(timeout)

    def _meet(self):
        if self._rendezvous is not None and self.done():
            self._rendezvous.arrive(self)


class _CallbackErrors(logging.Handler):
    """Collects the exceptions that done-callbacks raised while a check runs (a Future logs them)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])

    def take(self):
        with self.lock:
            errors, self.errors = self.errors, []
        return errors

    def __enter__(self):
        logger = logging.getLogger(FUTURES_LOGGER)
        self._propagate = logger.propagate
        logger.addHandler(self)
        logger.propagate = False  # the check reports them; nothing is printed from a worker
        return self

    def __exit__(self, *exc_info):
        logger = logging.getLogger(FUTURES_LOGGER)
        logger.removeHandler(self)
        logger.propagate = self._propagate
        return False


def _describe_value(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe_error(exc):
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _complete(future, outcome, barrier, timeout, problems):
    if barrier is not None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)  # runs the future's callbacks, here
        else:
            future.set_result(outcome)
    except InvalidStateError:
        problems.append(f"{future.label} was already done or cancelled when its task finished: "
                        "your function must not complete or cancel the futures it is given.")


def _finish(futures, outcomes, timeout, together=False):
    """Complete each future with its outcome (a value, or an exception), each in a thread ``worker-<i>``.

    One after the other, or all at once (released together by a Barrier).
    Returns a list of problems.
    """
    futures, outcomes = list(futures), list(outcomes)
    barrier = threading.Barrier(len(futures)) if together else None
    problems, threads = [], []
    for future, outcome in zip(futures, outcomes):
        thread = threading.Thread(target=_complete, args=(future, outcome, barrier, timeout, problems),
                                  name=f"worker-{future.index}")
        thread.start()
        threads.append(thread)
        if not together:
            thread.join(timeout)
    for thread in threads:
        thread.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        problems.append(
            f"a callback did not return within {timeout:g} s in {', '.join(stuck)}: a callback runs in the thread "
            "that finished the future and must not wait (no result() on other futures, no join())."
        )
    return problems


def _callback_problems(errors, twice):
    """Explain the exceptions the learner's callbacks raised (``twice``: what completing twice means here)."""
    problems = []
    if any(isinstance(e, InvalidStateError) for e in errors):
        problems.append(twice)
    if any(isinstance(e, CancelledError) for e in errors):
        problems.append(
            "a callback called exception() or result() on a cancelled future: that raises CancelledError, "
            "which stopped the callback and was only logged. Check future.cancelled() first; a cancelled "
            "future counts as failed (its error: a CancelledError())."
        )
    seen = set()
    for e in errors:
        text = _describe_error(e)
        if not isinstance(e, (InvalidStateError, CancelledError)) and text not in seen:
            seen.add(text)
            problems.append(f"a callback raised {text} (the Future logged it and went on: nobody would see it).")
    return problems


def _wait_outcome(future, timeout):
    """("result", value), ("error", exception) or ("pending", None) after waiting at most ``timeout`` s."""
    wait([future], timeout=timeout)
    if not future.done():
        return "pending", None
    if future.cancelled():
        return "error", CancelledError()
    error = future.exception(timeout=0)
    return ("error", error) if error is not None else ("result", future.result(timeout=0))


def _call(fn, name, futures):
    """Call ``fn(futures)``; return what it returned and a list of problems.

    If ``fn`` does not return within ``CALL_DEADLINE``, the futures are finished
    (so that a function waiting for them returns) and the check fails.
    """
    call = f"{name}(futures)"
    threads_before = set(threading.enumerate())
    try:
        returned = call_with_timeout(fn, list(futures), timeout=CALL_DEADLINE, what=call)
    except ExerciseError:
        _finish([f for f in futures if not f.done()], [f"result of {f.label}" for f in futures if not f.done()], 2.0)
        fail([f"{call} did not return within {CALL_DEADLINE:g} s, while the futures were still running: "
              "it waits for them instead of returning a Future at once."], _WAIT_HINT)
    except Exception as exc:
        fail([f"{call} raised {_describe_error(exc)}"], _HINT)
    problems = []
    started = sorted(t.name for t in set(threading.enumerate()) - threads_before
                     if t.is_alive() and t.name != "threadkit-check")
    if started:
        problems.append(f"{call} started threads of its own ({', '.join(started)}): none is needed, the callbacks "
                        "run in the threads that finish the futures.")
    if not isinstance(returned, _StdFuture):
        problems.append(f"{call} returned {_describe_value(returned)}, not a concurrent.futures.Future.")
    elif any(returned is f for f in futures):
        problems.append(f"{call} returned one of the futures it was given: create a new Future and return that.")
    return returned, problems


def _first_success_wins(fn, name, timeout, log):
    """futures[0] fails, then futures[1] succeeds, then futures[2]: the result is futures[1]'s, set once."""
    futures = [_Input(i) for i in range(3)]
    outcomes = [ValueError("futures[0] failed"), "result of futures[1]", "result of futures[2]"]
    out, problems = _call(fn, name, futures)
    if not problems and out.done():
        problems.append(f"{name}(futures) returned a Future that was already done, before any future had "
                        "finished: only your callbacks may complete it, when the futures finish.")
    if problems:
        _finish(futures, outcomes, timeout)
        return problems
    problems += _finish(futures[:1], outcomes[:1], timeout)
    if out.done():
        kind, value = _wait_outcome(out, 0)
        if kind == "error":
            problems.append(f"your Future failed ({_describe_error(value)}) as soon as futures[0] failed, while "
                            "futures[1] and futures[2] were still running: the first *success* wins; a failure "
                            "counts only once every future has failed.")
        else:
            problems.append(f"your Future got the result {_describe_value(value)} when futures[0] failed: "
                            "a failure must not complete it while other futures are still running.")
        _finish(futures[1:], outcomes[1:], timeout)
        return problems + _callback_problems(log.take(), "a callback completed your Future twice.")
    problems += _finish(futures[1:2], outcomes[1:2], timeout)
    kind, value = _wait_outcome(out, timeout)
    problems += _finish(futures[2:], outcomes[2:], timeout)
    if kind == "pending":
        problems.append(f"your Future never completed although futures[1] succeeded (waited {timeout:g} s): "
                        "its callback must set the result.")
    elif kind == "error":
        problems.append(f"your Future raised {_describe_error(value)}, although futures[1] succeeded with "
                        f"{outcomes[1]!r}.")
    elif value != outcomes[1]:
        problems.append(f"your Future's result is {_describe_value(value)}, expected {outcomes[1]!r} "
                        "(the result of futures[1], the first future to succeed).")
    return problems + _callback_problems(log.take(), (
        "your Future was completed twice: when futures[2] succeeded too, a callback called set_result again and "
        "got InvalidStateError (the Future only logged it). Complete it once: the first success wins."))


def _all_fail(fn, name, timeout, log):
    """futures[0] failed and futures[1] was cancelled before the call; 2 and 3 fail later: an ExceptionGroup of 4."""
    early = _Input(0)
    cancelled = _Input(1, running=False)
    later = [_Input(2), _Input(3)]
    errors = [OSError("futures[0] failed"), None, ValueError("futures[2] failed"), TimeoutError("futures[3] timed out")]
    early.set_exception(errors[0])
    cancelled.cancel()
    futures = [early, cancelled] + later
    out, problems = _call(fn, name, futures)
    if problems:
        _finish(later, errors[2:], timeout)
        return problems
    for step, (future, error) in enumerate(zip(later, errors[2:])):
        if out.done():
            kind, value = _wait_outcome(out, 0)
            what = f"failed with {_describe_error(value)}" if kind == "error" else f"got the result {_describe_value(value)}"
            running = [f.label for f in later[step:]]
            problems.append(f"your Future {what} while {' and '.join(running)} {'was' if len(running) == 1 else 'were'} "
                            "still running (futures[0] had failed, futures[1] was cancelled): a failure completes it "
                            "only when it is the last one.")
            _finish(later[step:], errors[2 + step:], timeout)
            return problems + _callback_problems(log.take(), "a callback completed your Future twice.")
        problems += _finish([future], [error], timeout)
    kind, value = _wait_outcome(out, timeout)
    if kind == "pending":
        problems.append(f"your Future never completed although all 4 futures had failed (waited {timeout:g} s): "
                        "when the last one fails, set an ExceptionGroup of all the errors.")
    elif kind == "result":
        problems.append(f"your Future got the result {_describe_value(value)} although every future failed.")
    elif not isinstance(value, BaseExceptionGroup):
        problems.append(f"your Future raised {_describe_error(value)}, not an ExceptionGroup of the errors "
                        "of all 4 futures.")
    else:
        found = list(value.exceptions)
        missing = [f.label for f, e in zip(futures, errors) if e is not None and not any(x is e for x in found)]
        if not any(isinstance(x, CancelledError) for x in found):
            missing.insert(1, "futures[1] (cancelled: use a CancelledError())")
        if missing:
            problems.append(f"your ExceptionGroup holds {len(found)} errors and lacks the one of "
                            f"{', '.join(missing)}: it needs the errors of all 4 futures.")
        elif len(found) != 4:
            problems.append(f"your ExceptionGroup holds {len(found)} errors for 4 futures: one error per future.")
    return problems + _callback_problems(log.take(), "a callback completed your Future twice.")


def _together(fn, name, timeout, log):
    """4 futures succeed at the same moment in 4 threads, then 4 fail together: complete once, keep every error."""
    problems = []
    for succeed in (True, False):
        rendezvous = _Rendezvous(4)
        futures = [_Input(i, rendezvous) for i in range(4)]
        outcomes = ([f"result of futures[{i}]" for i in range(4)] if succeed
                    else [ValueError(f"futures[{i}] failed") for i in range(4)])
        out, problems = _call(fn, name, futures)
        problems += _finish(futures, outcomes, timeout, together=True)
        if problems:
            return problems
        kind, value = _wait_outcome(out, timeout)
        what = "succeeded" if succeed else "failed"
        if kind == "pending":
            problems.append(f"when 4 futures {what} at the same moment, in 4 threads, your Future never completed "
                            f"(waited {timeout:g} s).")
        elif succeed and (kind != "result" or value not in outcomes):
            problems.append(f"when 4 futures succeeded at the same moment, your Future "
                            f"{'raised ' + _describe_error(value) if kind == 'error' else 'gave ' + _describe_value(value)}"
                            ", expected the result of one of them.")
        elif not succeed and kind == "error" and isinstance(value, BaseExceptionGroup):
            kept = sum(any(x is e for x in value.exceptions) for e in outcomes)
            if kept != 4:
                problems.append(f"when 4 futures failed at the same moment, in 4 threads, your ExceptionGroup kept "
                                f"{kept} of their 4 errors: the callbacks share the list of errors.")
        problems += _callback_problems(log.take(), (
            f"when 4 futures {what} at the same moment, in 4 threads, more than one callback completed your Future: "
            "the later set_result or set_exception raised InvalidStateError (only logged). 'Is it done yet? "
            "Then complete it' is two steps, and another callback can run between them: hold one Lock from the "
            "check to the set."))
        if problems:
            return problems
    return problems


def _cancel_probe(fn, name, timeout, log):
    """The caller cancels the returned Future while its futures run: no callback may fail because of it."""
    futures = [_Input(i) for i in range(2)]
    out, problems = _call(fn, name, futures)
    if problems:
        _finish(futures, ["a", "b"], timeout)
        return problems
    cancelled = out.cancel()
    problems += _finish(futures, ["result of futures[0]", "result of futures[1]"], timeout)
    errors = log.take()
    if cancelled and any(isinstance(e, InvalidStateError) for e in errors):
        problems.append(
            "cancel() on your Future succeeded while its futures were still running, so a callback's set_result "
            "then raised InvalidStateError (only logged). Mark your Future running with "
            "set_running_or_notify_cancel() before returning it (section 3): then nobody can cancel it half-way."
        )
        errors = [e for e in errors if not isinstance(e, InvalidStateError)]
    return problems + _callback_problems(errors, "a callback completed your Future twice.")


@grader
def check_first_success(fn, timeout=2.0):
    """Check the exercise: ``fn(futures)`` returns a Future for the first of ``futures`` to succeed.

    The check gives ``fn`` futures of its own and finishes them itself, each in
    a thread ``worker-<i>`` (so the callbacks run there), after ``fn`` returned.
    It verifies that:

    * ``fn(futures)`` returns within ``CALL_DEADLINE`` seconds, before any future
      finished, a new ``concurrent.futures.Future`` that is not done yet, and
      starts no thread of its own;
    * futures[0] fails, then futures[1] succeeds, then futures[2]: the Future
      stays pending after the failure, then gets futures[1]'s result, and no
      callback completes it twice (``InvalidStateError``);
    * one future already failed and one cancelled before the call, two failing
      later: the Future stays pending until the last failure, then raises an
      ``ExceptionGroup`` holding all 4 errors (a ``CancelledError`` for the
      cancelled one);
    * 4 futures succeeding at the same moment, then 4 failing together (their
      first reads are held until all callbacks reached them, so that a
      check-then-act without a lock races every time): completed once, with
      one of the results, or with all 4 errors;
    * the caller may ``cancel()`` the Future while its futures run, without
      making a callback fail;
    * no callback raises, and no threads are left running.

    Args:
        fn: the learner's function, called as ``fn(futures)`` with a list of futures.
        timeout: seconds to wait for the Future once a future has finished it (0.05 to 60).

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: listing what is wrong, with a hint.
        TypeError, ValueError: ``fn`` is not callable, or ``timeout`` is not a number from 0.05 to 60.
    """
    check_callable("fn", fn)
    timeout = check_number("timeout", timeout, minimum=0.05, maximum=60.0)
    try:
        return _run_check(fn, timeout)
    except ExerciseError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ExerciseError):
            cause = None
        raise ExerciseError(str(exc)) from cause


def _run_check(fn, timeout):
    name = getattr(fn, "__name__", "your function")
    before = threading.enumerate()
    with _CallbackErrors() as log:
        for step in (_first_success_wins, _all_fail, _together, _cancel_probe):
            problems = step(fn, name, timeout, log)
            if problems:
                fail(problems, _HINT)
    left = leftover_threads(before)
    if left:
        fail([f"threads still running after the check: {', '.join(left)}."],
             "no thread or pool of your own is needed: the callbacks run in the threads that finish the futures.")
    return CheckPassed(
        f"Correct: {name} returns a Future at once; its callbacks give it the first success (even after a "
        "failure), or all the errors once every future has failed, and complete it exactly once."
    )
