"""Shared machinery for the exercise checks (``check_*`` functions).

A check runs the learner's code with a timeout, so a hang fails fast instead
of freezing the notebook, and explains every problem it finds in plain words
by raising :class:`ExerciseError`.  On success it returns a
:class:`CheckPassed`, which a notebook shows as one line of text.
"""

import threading

from ._validate import check_callable, check_number

#: Seconds a check waits for the learner's code before calling it a hang.
DEFAULT_CHECK_TIMEOUT = 10.0
#: Seconds a check waits for leftover threads to finish before reporting them.
LEFTOVER_GRACE = 1.0


class ExerciseError(AssertionError):
    """Raised by a check: the message lists what is wrong and how to fix it."""


class CheckPassed(str):
    """The message of a passed check; shown without quotes in a notebook."""

    def __repr__(self):
        return str(self)


def fail(problems, hint=""):
    """Raise :class:`ExerciseError` listing ``problems`` (a list of sentences)."""
    lines = ["Not yet:"] + [f"  - {p}" for p in problems]
    if hint:
        lines.append(f"Hint: {hint}")
    raise ExerciseError("\n".join(lines))


def call_with_timeout(fn, *args, timeout=DEFAULT_CHECK_TIMEOUT, what="your function", **kwargs):
    """Call ``fn(*args, **kwargs)`` in a helper thread and wait at most ``timeout`` s.

    Returns:
        what ``fn`` returned.

    Raises:
        ExerciseError: ``fn`` did not return within ``timeout`` seconds (the
            helper is a daemon thread, so a hang cannot block the kernel's exit).
        BaseException: whatever ``fn`` raised, unchanged.
        TypeError, ValueError: ``fn`` is not callable or ``timeout`` is not > 0.
    """
    check_callable("fn", fn)
    timeout = check_number("timeout", timeout, minimum=0.001)
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
        raise outcome["error"]
    return outcome.get("value")


def leftover_threads(before, grace=LEFTOVER_GRACE):
    """Names of threads alive now that were not in ``before``, after waiting ``grace`` s.

    Args:
        before: a collection of ``threading.Thread`` objects (e.g. ``threading.enumerate()``
            taken before the learner's code ran).
        grace: seconds to let finishing threads end.

    Returns:
        list[str]: sorted names of threads still running.
    """
    grace = check_number("grace", grace, minimum=0)
    known = set(before)
    extra = [t for t in threading.enumerate() if t not in known and t.name != "threadkit-check"]
    for thread in extra:
        thread.join(grace / max(1, len(extra)))
    return sorted(t.name for t in extra if t.is_alive())
