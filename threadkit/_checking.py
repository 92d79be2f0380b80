"""Shared machinery for the exercise checks (``check_*`` functions).

A check runs the learner's code with a timeout, so a hang fails fast instead
of freezing the notebook, and explains every problem it finds in plain words
by raising :class:`ExerciseError`.  On success it returns a
:class:`CheckPassed`, which a notebook shows as one line of text.
"""

import contextlib
import logging
import os
import threading
import traceback
import time

from ._validate import check_callable, check_number, check_str, describe

__all__ = ["confirm_refused", "ExerciseError", "CheckPassed"]

#: Seconds a check waits for the learner's code before calling it a hang.
DEFAULT_CHECK_TIMEOUT = 10.0
#: Longest timeout :func:`call_with_timeout` accepts (one hour).
MAX_CHECK_TIMEOUT = 3600.0
#: Seconds a check waits for leftover threads to finish before reporting them.
LEFTOVER_GRACE = 1.0


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class ExerciseError(AssertionError):
    """Raised by a check: the message lists what is wrong and how to fix it.

    IPython shows it as its message only: the frames inside the check say
    nothing about the learner's code (and would store local file paths in a
    notebook).  An exception raised by the learner's own code is kept as the
    cause and shown with the learner's frames.
    """

    def _render_traceback_(self):
        lines = []
        cause = self.__cause__
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
    """IPython's name for the code of a notebook cell ("Cell In[3]"), else ``filename``.

    A cell's code lives in a temporary file (``/tmp/ipykernel_<pid>/<hash>.py``);
    its path would tie a stored notebook to one machine and one run.
    """
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


def fail(problems, hint=None, cause=None):
    """Raise :class:`ExerciseError`: ``"Not yet:"``, one ``"  - <problem>"`` line each, a hint.

    Args:
        problems: a str, or a list whose items are a str or a ``(problem, hint)`` pair.
        hint: the hint shown when no problem brings its own (the first paired hint wins).
        cause: the learner's exception behind the problems, kept as ``__cause__``.

    Raises:
        ExerciseError: always, when the arguments are valid.
        TypeError, ValueError: ``problems`` is empty or not text, ``hint`` is not a str.
    """
    if isinstance(problems, (str, tuple)):
        problems = [problems]
    try:
        problems = list(problems)
    except TypeError:
        raise TypeError(f"problems must be a list of str (or one str), got {describe(problems)}") from None
    if not problems:
        raise ValueError("problems must name at least one problem, got an empty list")
    texts, hints = [], []
    for problem in problems:
        text, own_hint = problem if isinstance(problem, tuple) else (problem, None)
        texts.append(check_str("each of problems", text))
        if own_hint:
            hints.append(own_hint)
    hint = hints[0] if hints else hint
    lines = ["Not yet:"] + [f"  - {text}" for text in texts]
    if hint:
        lines.append(f"Hint: {check_str('hint', hint)}")
    raise ExerciseError("\n".join(lines)) from cause


def describe_error(exc):
    """``"TypeName: message"``, or the type's name alone when the message is empty."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def explain_raised(call, exc, raised):
    """Raise :class:`ExerciseError` for an exception the learner's function raised.

    Args:
        call: how the function was called, e.g. ``"fetch_all(urls, fetch, max_workers=4)"``.
        exc: the exception it raised (kept as the cause).
        raised: ``{exception type: (problem or None, hint)}``, searched in order with
            ``isinstance``; a ``None`` problem reads ``"<call> raised <describe_error(exc)>"``.
    """
    for kind, (problem, hint) in raised.items():
        if isinstance(exc, kind):
            break
    else:
        problem, hint = None, "read the traceback above this message: the error happened inside your function."
    if problem is None and isinstance(exc, NotImplementedError):
        problem = f"{call} raised NotImplementedError: it is not written yet."
    fail([problem or f"{call} raised {describe_error(exc)}"], hint, cause=exc)


def call_with_timeout(fn, *args, timeout=DEFAULT_CHECK_TIMEOUT, what="your function", raised=None, **kwargs):
    """Call ``fn(*args, **kwargs)`` in a helper thread and wait at most ``timeout`` s.

    With ``raised`` (see :func:`explain_raised`), an exception ``fn`` raises becomes an
    :class:`ExerciseError` that explains it.

    Returns:
        what ``fn`` returned.

    Raises:
        ExerciseError: ``fn`` did not return within ``timeout`` seconds (the
            helper is a daemon thread, so a hang cannot block the kernel's exit).
        BaseException: whatever ``fn`` raised, unchanged.
        TypeError, ValueError: ``fn`` is not callable, ``timeout`` is not a
            number from 0.001 to ``MAX_CHECK_TIMEOUT``, or ``what`` is not a str.
    """
    check_callable("fn", fn)
    timeout = check_number("timeout", timeout, minimum=0.001, maximum=MAX_CHECK_TIMEOUT)
    check_str("what", what)
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
        fail(
            [f"{what} did not return within {timeout:g} s: it hangs or is far too slow."],
            "every blocking call (get, result, join, acquire) needs a timeout or a matching put/set.",
        )
    if "error" in outcome:
        if raised is not None and isinstance(outcome["error"], Exception):
            explain_raised(what, outcome["error"], raised)
        raise outcome["error"]
    return outcome.get("value")


def new_threads(before, grace=0.0):
    """Threads alive now that were not in ``before`` (nor this thread, nor a check's helper).

    With ``grace`` 0, no thread is joined: from 3.14 even ``join(0)`` lets others run, and a
    freed pool's idle workers end in that moment, hiding a pool that was never shut down.
    With ``grace`` > 0, the threads share that many seconds to end first.

    Returns:
        list[threading.Thread]: the threads still alive, sorted by name.
    """
    known = set(before)
    me = threading.current_thread()
    extra = [t for t in threading.enumerate() if t not in known and t is not me and t.name != "threadkit-check"]
    if grace > 0:
        deadline = time.monotonic() + grace
        for thread in extra:
            thread.join(max(0.0, deadline - time.monotonic()))
    return sorted((t for t in extra if t.is_alive()), key=lambda t: t.name)


class _Log(logging.Handler):
    """What ``concurrent.futures`` logged: ``errors`` (exceptions) and ``text``."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors, self._lines = [], []

    def emit(self, record):
        self._lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])
            self._lines.append(describe_error(record.exc_info[1]))

    @property
    def text(self):
        return "\n".join(self._lines)


@contextlib.contextmanager
def futures_log():
    """Collect what ``concurrent.futures`` logs (a done-callback that raised) instead of printing it.

    Yields:
        an object with ``errors`` (the exceptions logged) and ``text`` (the messages).
    """
    logger, log = logging.getLogger("concurrent.futures"), _Log()
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(log)
    try:
        yield log
    finally:
        logger.removeHandler(log)
        logger.propagate = propagate


def leftover_threads(before, grace=LEFTOVER_GRACE):
    """Names of threads alive now that were not in ``before``, after waiting ``grace`` s.

    The calling thread and check helpers (``"threadkit-check"``) are never
    reported.  All threads share one ``grace`` period.

    Args:
        before: a collection of ``threading.Thread`` objects (e.g. ``threading.enumerate()``
            taken before the learner's code ran).
        grace: seconds to let finishing threads end, 0 to ``MAX_CHECK_TIMEOUT``.

    Returns:
        list[str]: sorted names of threads still running.
    """
    grace = check_number("grace", grace, minimum=0, maximum=MAX_CHECK_TIMEOUT)
    try:
        known = set(before)
    except TypeError:
        raise TypeError(
            f"before must be a collection of threading.Thread objects (e.g. threading.enumerate()), "
            f"got {before!r} (type {type(before).__name__})"
        ) from None
    me = threading.current_thread()
    extra = [t for t in threading.enumerate() if t not in known and t is not me and t.name != "threadkit-check"]
    deadline = time.monotonic() + grace
    for thread in extra:
        try:
            thread.join(max(0.0, deadline - time.monotonic()))
        except (RuntimeError, AssertionError):  # e.g. a dummy thread, which cannot be joined
            pass
    return sorted(t.name for t in extra if t.is_alive())


# -- outcomes of the graders, for the collapsed cell that follows an exercise's check ------
#: Last outcome of each grader, by its name: a CheckPassed or the ExerciseError it raised.
_OUTCOMES = {}


def grader(check):
    """Decorate an exercise grader (a ``check_*`` function) so its last outcome is kept.

    The wrapped grader behaves exactly as before; :func:`confirm_refused` reads
    the kept outcome.

    Args:
        check: the grader, a callable that returns a CheckPassed or raises ExerciseError.

    Returns:
        the wrapped grader (same name and docstring).

    Raises:
        TypeError: ``check`` is not callable.
    """
    import functools

    check_callable("check", check)

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        _OUTCOMES.pop(check.__name__, None)
        try:
            passed = check(*args, **kwargs)
        except ExerciseError as exc:
            _OUTCOMES[check.__name__] = exc
            raise
        _OUTCOMES[check.__name__] = passed
        return passed

    wrapper.is_grader = True
    return wrapper


def confirm_refused(check, *reasons):
    """Print one line about the last run of the grader ``check`` (the cell above).

    The cell after an exercise's check runs this.  Under nbval the exercise
    holds its starting code, so the check must have refused it, for each of
    ``reasons``: it then prints ``"checked: the starting code is refused: ..."``,
    and the stored output proves that.  After a learner's own answer it prints
    whether that answer passed instead (and nbval's comparison would fail).

    Args:
        check: a grader such as ``tk.check_fetch_all``.
        reasons: one or more phrases that the refusal must contain.

    Returns:
        None (the line is printed).

    Raises:
        TypeError: ``check`` is not a grader, or a reason is not a str.
        ValueError: no reason given.
        RuntimeError: ``check`` has not run yet in this kernel.
    """
    if not getattr(check, "is_grader", False):
        raise TypeError(f"check must be an exercise grader such as tk.check_fetch_all, got {check!r}")
    if not reasons:
        raise ValueError("give at least one reason: a phrase the refusal must contain, e.g. 'too slow'")
    for reason in reasons:
        check_str("each reason", reason)
    name = check.__name__
    if name not in _OUTCOMES:
        raise RuntimeError(f"{name} has not run yet: run the check cell above first")
    outcome = _OUTCOMES[name]
    if not isinstance(outcome, ExerciseError):
        print(f"your answer passed {name}: well done")
        return
    missing = [r for r in reasons if r not in str(outcome)]
    if missing:
        print(f"{name} refused your answer: read its message above")
        return
    print(f"checked: the starting code is refused: {'; '.join(reasons)}")
