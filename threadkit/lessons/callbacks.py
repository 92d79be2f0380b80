"""Lesson helpers for notebook 04 (callbacks): the grader of ``first_success(futures)``, and context helpers."""

import contextlib
import sys
import threading
from concurrent.futures import CancelledError, Future, InvalidStateError, wait

from .._checking import CheckPassed, Hang, call_with_timeout, describe_error, fail, futures_log, grader, new_threads
from .._validate import A_BOOL, A_CALLABLE, a_number, accepts, describe, optional

__all__ = ["check_first_success", "threads_inherit_context", "new_thread_sees"]

#: Seconds the learner's function may take to return its Future (no future it was given finishes meanwhile), and
#: that the first read of a future finished together with others waits for the other callbacks' reads.
CALL_DEADLINE, RENDEZVOUS_LIMIT = 1.0, 0.5


def threads_inherit_context():
    """Whether a new ``Thread`` starts with a copy of its starter's context variables: what
    ``sys.flags.thread_inherit_context`` (3.14+) says, 1 by default on free-threaded builds, else 0."""
    return bool(getattr(sys.flags, "thread_inherit_context", 0))


@accepts(inherit=optional(A_BOOL))
def new_thread_sees(value, default, inherit=None):
    """What a context variable set to ``value`` reads in a thread started afterwards.

    Args:
        value: the value the starting code set.
        default: the variable's default (what an empty context reads).
        inherit: whether new threads copy the starter's context; None asks :func:`threads_inherit_context`.

    Raises:
        TypeError: ``inherit`` is not True, False or None.
    """
    return value if (threads_inherit_context() if inherit is None else inherit) else default


# ------------------------------------------------------------------ the exercise check
_HINT = ("create a Future, attach one callback to every future with add_done_callback and return yours at once. "
         "In the callback (it runs in whichever thread finished that future), hold one Lock while you decide: "
         "the first success sets the result; the last failure sets an ExceptionGroup of all the errors.")
_WAIT_HINT = ("do not wait inside first_success (no result(), wait(), as_completed() or join()): attach a callback "
              "to each future with add_done_callback and return your Future; the callbacks complete it later.")


class _Rendezvous:
    """Holds each read of a finished future until every callback made as many (callbacks reading outside a
    lock then race every time); after ``limit`` s (they hold a lock: one at a time) it holds none."""

    def __init__(self, n, limit=RENDEZVOUS_LIMIT):
        self.n, self.limit, self.changed, self.reads, self.off = n, limit, threading.Condition(), {}, False

    def arrive(self, future):
        with self.changed:
            if self.off or not future.done():
                return
            mine = self.reads[future] = self.reads.get(future, 0) + 1
            self.changed.notify_all()
            everyone = lambda: self.off or (len(self.reads) == self.n and min(self.reads.values()) >= mine)
            if not self.changed.wait_for(everyone, self.limit):
                self.off = True  # the callbacks run one at a time (a lock): stop holding reads back
                self.changed.notify_all()


class _Input(Future):
    """A future given to the learner's function: marked running (so ``cancel()`` fails), labelled for messages."""

    def __init__(self, index, rendezvous=None, running=True):
        super().__init__()
        self.index, self.label, self._rendezvous = index, f"futures[{index}]", rendezvous
        if running:
            self.set_running_or_notify_cancel()

    def result(self, timeout=None):
        if self._rendezvous:
            self._rendezvous.arrive(self)
        return super().result(timeout)

    def exception(self, timeout=None):
        if self._rendezvous:
            self._rendezvous.arrive(self)
        return super().exception(timeout)


def _finish(futures, outcomes, timeout, together=False):
    """Complete each future with its outcome in a thread ``worker-<i>``, one after the other or all at once."""
    gate, threads = threading.Event(), []
    if not together:
        gate.set()
    def complete(future, outcome):
        gate.wait(timeout)
        with contextlib.suppress(InvalidStateError):  # the learner completed a future it was given
            (future.set_exception if isinstance(outcome, BaseException) else future.set_result)(outcome)
    for future, outcome in zip(futures, outcomes):
        threads.append(threading.Thread(target=complete, args=(future, outcome), name=f"worker-{future.index}"))
        threads[-1].start()
        if not together:
            threads[-1].join(timeout)
    gate.set()
    for thread in threads:
        thread.join(timeout)
    stuck = ", ".join(t.name for t in threads if t.is_alive())
    return [f"a callback did not return within {timeout:g} s in {stuck}: a callback runs in the thread that "
            "finished the future and must not wait (no result() on other futures, no join())."] if stuck else []


def _callback_problems(log, when=""):
    """Explain, once each, the exceptions the learner's callbacks raised (and the Future logged) since the last call."""
    errors, log.errors[:] = list(log.errors), []
    rows = ((InvalidStateError, f"{when}a callback completed your Future twice: the later set_result or set_exception "
                                "raised InvalidStateError (only logged). 'Is it done yet? Then complete it' is two "
                                "steps, and another callback can run between them: hold one Lock from the check to "
                                "the set."),
            (CancelledError, "a callback called exception() or result() on a cancelled future: that raises "
                             "CancelledError, which stopped the callback and was only logged. Check future.cancelled() "
                             "first; a cancelled future counts as failed (its error: a CancelledError())."))
    others = dict.fromkeys(describe_error(e) for e in errors if not isinstance(e, (InvalidStateError, CancelledError)))
    return ([text for kind, text in rows if any(isinstance(e, kind) for e in errors)]
            + [f"a callback raised {text} (the Future logged it and went on: nobody would see it)." for text in others])


def _outcome(out, timeout):
    """``(kind, value, text)`` of the learner's Future after waiting at most ``timeout`` s: what it did."""
    wait([out], timeout=timeout)
    if not out.done():
        return "pending", None, "never completed"
    error = CancelledError() if out.cancelled() else out.exception(timeout=0)
    if error is not None:
        return "error", error, f"raised {describe_error(error)}"
    return "result", out.result(timeout=0), f"got the result {describe(out.result(timeout=0))}"


def _call(fn, name, futures):
    """Call ``fn(futures)``; return what it returned and a list of problems."""
    call, before, fresh = f"{name}(futures)", threading.enumerate(), not any(f.done() for f in futures)
    try:
        out = call_with_timeout(fn, list(futures), timeout=CALL_DEADLINE, what=call, raised={Exception: (None, _HINT)})
    except Hang:
        pending = [f for f in futures if not f.done()]  # so that a function waiting for them returns
        _finish(pending, [f"result of {f.label}" for f in pending], 2.0)
        fail([(f"{call} did not return within {CALL_DEADLINE:g} s, while the futures were still running: it waits "
               "for them instead of returning a Future at once.", _WAIT_HINT)])
    started = ", ".join(t.name for t in new_threads(before))
    rows = ((started, f"{call} started threads of its own ({started}): none is needed, the callbacks run in the "
                      "threads that finish the futures."),
            (not isinstance(out, Future), f"{call} returned {describe(out)}, not a concurrent.futures.Future."),
            (any(out is f for f in futures), f"{call} returned one of the futures it was given: create a new Future "
                                             "and return that."),
            (fresh and isinstance(out, Future) and out.done(), f"{call} returned a Future that was already done, "
             "before any future had finished: only your callbacks may complete it, when the futures finish."))
    return out, [problem for bad, problem in rows if bad]


def _verdict(out, timeout, futures, outcomes, when):
    """Problems with what the Future holds once ``outcomes`` (None: cancelled) decided it."""
    kind, value, said = _outcome(out, timeout)
    successes = [o for o in outcomes if o is not None and not isinstance(o, BaseException)]
    if successes or kind != "error" or not isinstance(value, BaseExceptionGroup):
        need = "the result of the first future to succeed" if successes else "an ExceptionGroup of all their errors"
        return [] if kind == "result" and value in successes else [f"{when}, your Future {said}: it needs {need}."]
    missing = [f.label + (" (cancelled: use a CancelledError())" if e is None else "")
               for f, e in zip(futures, outcomes)
               if not any(isinstance(x, CancelledError) if e is None else x is e for x in value.exceptions)]
    return [f"your ExceptionGroup holds {len(value.exceptions)} errors and lacks the one of {', '.join(missing)}: "
            f"it needs the errors of all {len(futures)} futures."] if missing else []


def _scenario(outcomes, decider, when, done, together, fn, name, timeout, log):
    """Give ``fn`` futures, the first ``done`` already finished; finish the others with ``outcomes``, one by one
    (the Future must stay pending until ``futures[decider]`` finished) or ``together``; return the problems."""
    rendezvous = _Rendezvous(len(outcomes)) if together else None
    futures = [_Input(i, rendezvous, running=outcomes[i] is not None) for i in range(len(outcomes))]
    for future, outcome in zip(futures[:done], outcomes):
        if outcome is None:
            future.cancel()
        else:
            future.set_exception(outcome)
    out, problems = _call(fn, name, futures)
    if problems:
        return problems + _finish(futures[done:], outcomes[done:], timeout, together)
    n = len(futures)
    for start, stop in [(done, n)] if together else [(i, i + 1) for i in range(done, n)]:
        if start <= decider and out.done():
            _finish(futures[start:], outcomes[start:], timeout)
            failed, running = (" and ".join(f.label for f in part) for part in (futures[:start], futures[start:]))
            return [f"your Future was completed ({_outcome(out, 0)[2]}) as soon as {failed} failed, while {running} "
                    f"{'was' if start == n - 1 else 'were'} still running: the first *success* wins; a failure "
                    "counts only once every future has failed."] + _callback_problems(log)
        problems += _finish(futures[start:stop], outcomes[start:stop], timeout, together)
        if start <= decider < stop:
            problems += _verdict(out, timeout, futures[:decider + 1], outcomes[:decider + 1], when)
    return problems + _callback_problems(log, f"{when}, " if together else "")


def _cancel_probe(fn, name, timeout, log):
    """The caller cancels the returned Future while its futures run: no callback may fail because of it."""
    futures = [_Input(i) for i in range(2)]
    out, problems = _call(fn, name, futures)
    cancelled = not problems and out.cancel()
    problems += _finish(futures, ["result of futures[0]", "result of futures[1]"], timeout)
    if cancelled and any(isinstance(e, InvalidStateError) for e in log.errors):
        problems.append("cancel() on your Future succeeded while its futures were still running, so a callback's "
                        "set_result then raised InvalidStateError (only logged). Mark your Future running with "
                        "set_running_or_notify_cancel() before returning it (section 3): then nobody can cancel it "
                        "half-way.")
        log.errors[:] = [e for e in log.errors if not isinstance(e, InvalidStateError)]
    return problems + _callback_problems(log)


@grader
@accepts(fn=A_CALLABLE, timeout=a_number(0.05, 60.0))
def check_first_success(fn, timeout=2.0):
    """Check the exercise: ``fn(futures)`` returns a Future for the first of ``futures`` to succeed.

    The futures given to ``fn`` finish later, one by one, all at once, or all failing; the Future must
    hold the first success, or an ``ExceptionGroup`` of every error, and be completed exactly once.

    Args:
        fn: the learner's function, called as ``fn(futures)`` with a list of futures.
        timeout: seconds to wait for the Future once a future has finished it (0.05 to 60).

    Raises:
        ExerciseError: listing what is wrong, with a hint.
    """
    name = getattr(fn, "__name__", "your function")
    scenarios = (  # (outcomes, decider, when, done, together); an outcome of None: cancelled
        ([ValueError("futures[0] failed"), "result of futures[1]", "result of futures[2]"], 1,
         "when futures[0] had failed and futures[1] succeeded", 0, False),
        ([OSError("futures[0] failed"), None, ValueError("futures[2] failed"), TimeoutError("futures[3] timed out")],
         3, "when all 4 futures had failed", 2, False),
        ([f"result of futures[{i}]" for i in range(4)], 3, "when 4 futures succeeded at the same moment, in 4 threads",
         0, True),
        ([ValueError(f"futures[{i}] failed") for i in range(4)], 3,
         "when 4 futures failed at the same moment, in 4 threads", 0, True))
    with futures_log() as log:
        for sc in (*scenarios, None):  # None: the caller cancels the Future
            problems = _scenario(*sc, fn, name, timeout, log) if sc else _cancel_probe(fn, name, timeout, log)
            if problems:
                fail(problems, _HINT)
    return CheckPassed(f"Correct: {name} returns a Future at once; its callbacks give it the first success (even after "
                       "a failure), or all the errors once every future has failed, and complete it exactly once.")
