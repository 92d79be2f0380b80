"""What every exercise grader (a ``check_*`` in :mod:`threadkit.lessons`) is built on.

A grader runs the learner's code with a timeout, so a hang fails fast, and explains each problem
by raising :class:`ExerciseError`; on success it returns a :class:`CheckPassed`.
"""

import contextlib
import functools
import logging
import os
import threading
import time
import traceback
import types
from collections.abc import Iterable

from ._validate import A_CALLABLE, A_STR, a_number, accepts, describe, instance_of, satisfying, valid

__all__ = ["confirm_refused"]

#: Seconds a check waits for the learner's code before calling it a hang, by default and at most.
DEFAULT_CHECK_TIMEOUT = 10.0
MAX_CHECK_TIMEOUT = 3600.0
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class ExerciseError(AssertionError):
    """Raised by a grader: what is wrong and how to fix it. IPython shows the message, and the
    learner's own frames when their exception is the cause (not the grader's, nor local paths)."""

    def _render_traceback_(self):
        lines, cause = [], self.__cause__
        if cause is not None:
            frames = [traceback.FrameSummary(_shown_filename(f.filename), f.lineno, f.name, line=f.line)
                      for f in traceback.extract_tb(cause.__traceback__)
                      if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
            lines.append("Traceback (most recent call last):\n")
            lines += traceback.format_list(frames)
            lines += traceback.format_exception_only(type(cause), cause)
            lines.append("\nThe above exception was the direct cause of the following exception:\n\n")
        lines.append(f"ExerciseError: {self}")
        return "".join(lines).splitlines()


def _shown_filename(filename):
    """IPython's name for a cell's temporary code file ("Cell In[3]"), else ``filename``."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        label = shell.compile.format_code_name(filename) if shell is not None else None
    except Exception:  # no IPython, or one without format_code_name
        label = None
    return " ".join(label) if label else filename


class CheckPassed(str):
    """The message of a passed check; shown without quotes in a notebook."""

    def __repr__(self):
        return str(self)


class Hang(ExerciseError):
    """The learner's code did not return in time (raised by :func:`call_with_timeout`)."""


def fail(problems, hint=None, cause=None):
    """Raise :class:`ExerciseError`: ``"Not yet:"``, one ``"  - <problem>"`` line each, then the hint.

    Args:
        problems: a str, or a list of items that are a str or a ``(problem, hint)`` pair.
        hint: shown when no problem brings its own (the first paired hint wins).
        cause: the learner's exception behind the problems, kept as ``__cause__``.
    """
    raise ExerciseError(_message(problems, hint)) from cause


def _message(problems, hint):
    if isinstance(problems, (str, tuple)):
        problems = [problems]
    try:
        problems = list(problems)
    except TypeError:
        raise TypeError(f"problems must be a list of str (or one str), got {describe(problems)}") from None
    if not problems:
        raise ValueError("problems must name at least one problem, got an empty list")
    pairs = [problem if isinstance(problem, tuple) else (problem, None) for problem in problems]
    lines = ["Not yet:"] + [f"  - {valid('each of problems', text, A_STR)}" for text, _ in pairs]
    hint = next((own for _, own in pairs if own), hint)
    if hint:
        lines.append(f"Hint: {valid('hint', hint, A_STR)}")
    return "\n".join(lines)


def describe_error(exc):
    """``"TypeName: message"``, or the type's name alone when the message is empty."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def explain_raised(call, exc, raised):
    """Raise :class:`ExerciseError` for ``exc``, raised by the learner's function (kept as the cause).

    Args:
        call: how the function was called, e.g. ``"fetch_all(urls, fetch, max_workers=4)"``.
        raised: ``{exception type: (problem or None, hint)}``, searched in order with ``isinstance``;
            a None problem reads ``"<call> raised <describe_error(exc)>"``.
    """
    problem, hint = next((pair for kind, pair in raised.items() if isinstance(exc, kind)),
                         (None, "read the traceback above this message: the error happened inside your function."))
    if problem is None and isinstance(exc, NotImplementedError):
        problem = f"{call} raised NotImplementedError: it is not written yet."
    fail(problem or f"{call} raised {describe_error(exc)}", hint, cause=exc)


@accepts(fn=A_CALLABLE, timeout=a_number(0.001, MAX_CHECK_TIMEOUT), what=A_STR)
def call_with_timeout(fn, *args, timeout=DEFAULT_CHECK_TIMEOUT, what="your function", raised=None, **kwargs):
    """Return ``fn(*args, **kwargs)``, run in a daemon helper thread; refuse it (named ``what``) if it
    takes more than ``timeout`` s (:class:`Hang`). With ``raised`` (see :func:`explain_raised`) an Exception from ``fn``
    is explained in an :class:`ExerciseError`; anything else ``fn`` raises is raised unchanged."""
    outcome = {}

    def runner():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    helper = threading.Thread(target=runner, name="threadkit-check", daemon=True)
    helper.start()
    helper.join(timeout)
    if helper.is_alive():
        raise Hang(_message(f"{what} did not return within {timeout:g} s: it hangs or is far too slow.",
                            "every blocking call (get, result, join, acquire) needs a timeout or a matching put/set."))
    error = outcome.get("error")
    if raised is not None and isinstance(error, Exception) and not isinstance(error, ExerciseError):
        explain_raised(what, error, raised)
    if "error" in outcome:
        raise error
    return outcome.get("value")


@accepts(before=instance_of(Iterable, "a collection of threads (e.g. threading.enumerate())"),
         grace=a_number(0, MAX_CHECK_TIMEOUT))
def new_threads(before, grace=0.0):
    """Threads alive now that were not in ``before`` (nor this thread, nor a check's helper), by name.

    ``grace`` 0 joins none: from 3.14 even ``join(0)`` lets a freed pool's idle workers end, hiding
    a pool never shut down. With ``grace`` > 0 the threads share that many seconds to end first.
    """
    known, me = set(before), threading.current_thread()
    extra = [t for t in threading.enumerate() if t not in known and t is not me and t.name != "threadkit-check"]
    deadline = time.monotonic() + grace
    for thread in extra if grace > 0 else ():
        with contextlib.suppress(RuntimeError, AssertionError):  # e.g. a dummy thread cannot be joined
            thread.join(max(0.0, deadline - time.monotonic()))
    return sorted((t for t in extra if t.is_alive()), key=lambda t: t.name)


@contextlib.contextmanager
def futures_log():
    """Collect what ``concurrent.futures`` logs (a done-callback that raised) instead of printing it:
    yields an object with ``errors`` (the exceptions logged) and ``text`` (messages and errors)."""
    log, handler, logger = types.SimpleNamespace(errors=[], text=""), logging.Handler(logging.ERROR), \
        logging.getLogger("concurrent.futures")

    def emit(record):
        error = record.exc_info[1] if record.exc_info else None
        log.errors += [] if error is None else [error]
        log.text = "\n".join(filter(None, [log.text, record.getMessage(), error and describe_error(error)]))

    handler.emit, propagate, logger.propagate = emit, logger.propagate, False
    logger.addHandler(handler)
    try:
        yield log
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


_OUTCOMES = {}  # the last outcome of each grader, by name: a CheckPassed or the ExerciseError raised


@accepts(check=A_CALLABLE)
def grader(check):
    """Decorate an exercise grader (a ``check_*``) so :func:`confirm_refused` can read its last outcome."""
    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        _OUTCOMES.pop(check.__name__, None)
        try:
            _OUTCOMES[check.__name__] = check(*args, **kwargs)
        except ExerciseError as exc:
            _OUTCOMES[check.__name__] = exc
            raise
        return _OUTCOMES[check.__name__]

    wrapper.is_grader = True
    return wrapper


@accepts(check=satisfying(lambda f: getattr(f, "is_grader", False), "an exercise grader such as check_fetch_all"),
         reasons=A_STR)
def confirm_refused(check, *reasons):
    """Print whether the last run of the grader ``check`` refused with each of ``reasons`` (phrases).

    Under nbval the exercise holds its starting code, so the stored line proves the refusal.

    Raises:
        TypeError, ValueError: ``check`` is not a grader, a reason is not a str, or none is given.
        RuntimeError: ``check`` has not run yet in this kernel.
    """
    if not reasons:
        raise ValueError("reasons must hold at least one phrase the refusal must contain, e.g. 'too slow'")
    name, outcome = check.__name__, _OUTCOMES.get(check.__name__)
    if outcome is None:
        raise RuntimeError(f"{name} has not run yet: run the check cell above first")
    if not isinstance(outcome, ExerciseError):
        print(f"your answer passed {name}: well done")
    elif any(reason not in str(outcome) for reason in reasons):
        print(f"{name} refused your answer: read its message above")
    else:
        print(f"checked: the starting code is refused: {'; '.join(reasons)}")
