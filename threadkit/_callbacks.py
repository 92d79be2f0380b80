"""Lesson helpers for notebook 04 (callbacks).

* :func:`start_download` is a *fake* callback-style API, the kind many
  libraries offer: it returns at once and later calls ``on_done(content)`` or
  ``on_error(error)`` **from its own thread**.  Delays and outcomes depend
  only on the URL (see :data:`FAKE_WEB`), so demos are reproducible.
* :func:`check_callback_future` checks the exercise: a function that turns
  :func:`start_download` into one returning a ``concurrent.futures.Future``.
* :func:`threads_inherit_context` and :func:`new_thread_sees` say what a new
  thread sees of its starter's context variables on the running build, so a
  notebook cell can assert the outcome for the build it runs on.

The technique itself (creating the Future, marking it running, passing its
``set_result`` and ``set_exception`` as callbacks) stays in the notebook.
"""

import sys
import threading
import time
import types
from concurrent.futures import CancelledError, InvalidStateError
from concurrent.futures import Future as _StdFuture

from . import _checking, _kinds
from ._checking import CheckPassed, call_with_timeout, fail, leftover_threads, grader
from ._recording import span
from ._traced import Thread
from ._validate import check_callable, check_number, check_str

__all__ = [
    "DownloadError",
    "FAKE_WEB",
    "start_download",
    "check_callback_future",
    "threads_inherit_context",
    "new_thread_sees",
]

#: The fake web behind :func:`start_download`: url -> (delay in seconds, content or HTTP error status).
FAKE_WEB = types.MappingProxyType(
    {
        "https://example.org/hello.txt": (0.03, "Hello, callbacks!"),
        "https://example.org/numbers.csv": (0.05, "n,square\n1,1\n2,4\n3,9\n"),
        "https://example.org/slow.json": (0.08, '{"slow": true}'),
        "https://example.org/missing.txt": (0.02, 404),
        "https://example.org/secret.txt": (0.04, 403),
    }
)
#: Delay and status of any URL not in :data:`FAKE_WEB`.
UNKNOWN_URL = (0.01, 404)
_REASONS = {403: "Forbidden", 404: "Not Found"}
#: Longest time a download thread waits for a check to let it finish (a safety net).
_GATE_LIMIT = 30.0
#: Seconds the learner's function may take to return its Future (the download is held back meanwhile).
CALL_DEADLINE = 1.0
#: The ``sys.flags`` attribute (3.14+) deciding whether new threads start with a copy of the starter's context.
INHERIT_FLAG = "thread_inherit_context"


class DownloadError(Exception):
    """What :func:`start_download` passes to ``on_error``: the URL could not be fetched.

    Attributes:
        url: the URL requested.
        status: the HTTP status code (e.g. 404).
    """

    def __init__(self, url, status):
        self.url = url
        self.status = status
        super().__init__(f"{status} {_REASONS.get(status, 'Error')}: {url}")

    def __reduce__(self):
        return (type(self), (self.url, self.status))


ExerciseError = _checking.ExerciseError


class _Download:
    """What a check learns about one download started while it runs."""

    __slots__ = ("url", "on_done", "on_error", "thread", "callback_errors")

    def __init__(self, url, on_done, on_error):
        self.url = url
        self.on_done = on_done
        self.on_error = on_error
        self.thread = None
        self.callback_errors = []


class _Session:
    """A running check: downloads wait for ``gate`` and are remembered in ``downloads``."""

    def __init__(self):
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.downloads = []

    def started(self, url=None):
        with self.lock:
            return [d for d in self.downloads if url is None or d.url == url]


_session = None


def _outcome(url):
    delay, outcome = FAKE_WEB.get(url, UNKNOWN_URL)
    return delay, outcome


def _short_name(url):
    return url.rstrip("/").rsplit("/", 1)[-1] or url


def _download(record, session):
    delay, outcome = _outcome(record.url)
    time.sleep(delay)
    if session is not None:
        session.gate.wait(_GATE_LIMIT)
    if isinstance(outcome, int):
        which, callback, argument = "on_error", record.on_error, DownloadError(record.url, outcome)
    else:
        which, callback, argument = "on_done", record.on_done, outcome
    with span(_kinds.CALLBACK, which):
        if session is None:
            callback(argument)  # an error here reaches threading.excepthook, as in any thread
            return
        try:
            callback(argument)
        except BaseException as exc:  # reported by the check instead of printed
            record.callback_errors.append((which, exc))


_download.__qualname__ = _download.__name__ = "download"


def start_download(url, on_done, on_error):
    """Start downloading ``url`` from the fake web and return ``None`` at once.

    The download runs in a new thread named ``"download <file>"``.  When it
    finishes, *that thread* calls exactly one of the callbacks:
    ``on_done(content)`` with the page's text, or ``on_error(error)`` with a
    :class:`DownloadError` (unknown URLs give 404).  Delays are tens of
    milliseconds and depend only on the URL (see :data:`FAKE_WEB`).  Inside a
    recording, the thread's run and the callback appear on the timeline.

    An exception raised by a callback is not caught: like any exception
    escaping a thread, it goes to ``threading.excepthook``.

    Args:
        url: the URL, a str.
        on_done: called with the content (a str) on success.
        on_error: called with a :class:`DownloadError` on failure.

    Returns:
        None: there is nothing to wait on; only the callbacks tell you the outcome.

    Raises:
        TypeError: ``url`` is not a str, or a callback is not callable.
    """
    check_str("url", url)
    check_callable("on_done", on_done)
    check_callable("on_error", on_error)
    session = _session
    record = _Download(url, on_done, on_error)
    thread = Thread(target=_download, args=(record, session), name=f"download {_short_name(url)}")
    record.thread = thread
    if session is not None:
        with session.lock:
            session.downloads.append(record)
    thread.start()


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


# ------------------------------------------------------------------ the check
_OK_URLS = ("https://example.org/hello.txt", "https://example.org/numbers.csv", "https://example.org/slow.json")
_BAD_URL = "https://example.org/missing.txt"
_HINT = (
    "create a Future, mark it running so that nobody can cancel it, give tk.start_download callbacks that "
    "complete it (set_result for the content, set_exception for the error), and return it without waiting."
)
#: The URL of one more download, whose Future the check tries to cancel while the download runs.
_CANCEL_PROBE_URL = _OK_URLS[0]


def _describe_value(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@grader
def check_callback_future(fn, timeout=2.0):
    """Check the exercise: ``fn(url)`` must turn :func:`start_download` into a Future.

    The check holds every download back until ``fn`` has returned, so it can
    tell a function that returns at once from one that waits.  It verifies that:

    * ``fn(url)`` calls :func:`start_download` for that URL and returns within
      ``CALL_DEADLINE`` seconds, while the download is still unfinished;
    * it returns a ``concurrent.futures.Future`` that is not done yet;
    * the Future's ``result()`` is the page's content, for three downloads
      running at once (each Future gets its own content);
    * for a failing URL, ``result()`` raises the :class:`DownloadError`
      (``set_exception``, not ``set_result``, and the error is not lost);
    * the callbacks do not raise, and no threads are left running;
    * once all of that holds: ``cancel()`` on one more Future, while its
      download runs, must fail (the Future was marked running with
      ``set_running_or_notify_cancel()``); otherwise the download's
      ``set_result`` raises ``InvalidStateError`` in the download thread.

    Args:
        fn: the learner's function, called as ``fn(url)``.
        timeout: seconds to wait for each Future once its download may finish (0.05 to 60).

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: listing what is wrong, with a hint.
        TypeError, ValueError: ``fn`` is not callable, or ``timeout`` is out of range.
    """
    check_callable("fn", fn)
    timeout = check_number("timeout", timeout, minimum=0.05, maximum=60.0)
    try:
        return _run_check(fn, timeout)
    except _checking.ExerciseError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, _checking.ExerciseError):
            cause = None
        raise ExerciseError(str(exc)) from cause


def _run_check(fn, timeout):
    global _session
    name = getattr(fn, "__name__", "your function")
    if _session is not None:
        raise RuntimeError("check_callback_future is already running (it cannot run twice at once)")
    before = threading.enumerate()
    session = _session = _Session()
    probe_record, probe_cancelled = None, False
    try:
        futures = {}
        for url in _OK_URLS + (_BAD_URL,):
            future = _start_one(fn, name, url, session)
            for other_url, other in futures.items():
                if future is other:
                    fail(
                        [f"{name}({url!r}) returned the same Future as {name}({other_url!r}): "
                         "each call needs a Future of its own."],
                        _HINT,
                    )
            futures[url] = future
        # One more download, whose Future the check tries to cancel while the download is held back.
        probe = _start_one(fn, name, _CANCEL_PROBE_URL, session)
        probe_record = session.started(_CANCEL_PROBE_URL)[-1]
        probe_cancelled = probe.cancel()
        session.gate.set()  # now the downloads may finish
        deadline = time.monotonic() + timeout
        problems = []
        for url in _OK_URLS:
            problems += _check_result(name, url, futures[url], timeout, deadline)
        problems += _check_error(name, _BAD_URL, futures[_BAD_URL], timeout, deadline)
    finally:
        session.gate.set()
        _session = None
        for record in session.started():
            record.thread.join(timeout)
    for record in session.started():
        for which, exc in record.callback_errors:
            if record is probe_record and probe_cancelled and isinstance(exc, InvalidStateError):
                continue  # the consequence of the cancel below, explained there
            problems.append(
                f"the {which} callback you passed for {record.url} raised {type(exc).__name__}: {exc} "
                "(it ran in the download thread, where nobody would have seen it)."
            )
    if probe_cancelled and not problems:  # the last trap, reported once the rest works
        problems.append(
            f"cancel() on the Future of {name}({_CANCEL_PROBE_URL!r}) succeeded while its download was running: "
            "the download's set_result then raised InvalidStateError in the download thread. "
            "Call future.set_running_or_notify_cancel() before starting the download (section 5)."
        )
    if problems:
        fail(problems, _HINT)
    left = leftover_threads(before)
    if left:
        fail(
            [f"threads still running after the check: {', '.join(left)}."],
            "no pool or thread of your own is needed: start_download already runs in its own thread.",
        )
    return CheckPassed(
        f"Correct: {name} returns a Future at once; the download thread's callbacks give it "
        "the content (3 downloads at once) or the DownloadError."
    )


def _start_one(fn, name, url, session):
    """Call ``fn(url)`` while downloads are held back; return its Future or fail."""
    call = f"{name}({url!r})"
    already = len(session.started())
    started = time.perf_counter()
    try:
        future = call_with_timeout(fn, url, timeout=CALL_DEADLINE, what=call)
    except _checking.ExerciseError:
        if not session.started(url):
            raise
        fail(
            [
                f"{call} did not return within {CALL_DEADLINE:g} s although the download had started: "
                "it waits for the download instead of returning a Future at once."
            ],
            "do not call result(), wait() or join() inside; the caller decides when to wait.",
        )
    except Exception as exc:
        fail([f"{call} raised {type(exc).__name__}: {exc}"], _HINT)
    elapsed = time.perf_counter() - started
    problems = []
    records = session.started()[already:]
    mine = [d for d in records if d.url == url]
    if not mine:
        other = f" (it started {', '.join(repr(d.url) for d in records)})" if records else ""
        problems.append(f"{call} did not call tk.start_download({url!r}, ...){other}.")
    elif len(mine) > 1:
        problems.append(f"{call} started {len(mine)} downloads of that URL; start exactly one.")
    if not isinstance(future, _StdFuture):
        problems.append(f"{call} returned {_describe_value(future)}, not a concurrent.futures.Future.")
    elif future.done():
        problems.append(
            f"{call} returned a Future that was already done ({elapsed * 1000:.0f} ms after the call), "
            "before its download had finished: the Future must be completed by the callbacks."
        )
    if problems:
        fail(problems, _HINT)
    return future


def _left(deadline):
    return max(0.01, deadline - time.monotonic())


def _check_result(name, url, future, timeout, deadline):
    call = f"{name}({url!r})"
    expected = FAKE_WEB[url][1]
    try:
        value = future.result(timeout=_left(deadline))
    except TimeoutError:
        return [
            f"the Future of {call} never got a result (waited {timeout:g} s after the download finished): "
            "pass a callback that calls future.set_result(content) as on_done."
        ]
    except Exception as exc:
        return [f"the Future of {call} raised {type(exc).__name__}: {exc}, expected the content {expected!r}."]
    if value != expected:
        return [f"the Future of {call} gave {_describe_value(value)}, expected the content {expected!r}."]
    return []


def _check_error(name, url, future, timeout, deadline):
    call = f"{name}({url!r})"
    try:
        error = future.exception(timeout=_left(deadline))
    except TimeoutError:
        return [
            f"the Future of {call} (a failing URL) never completed (waited {timeout:g} s): the error was lost. "
            "Pass future.set_exception as on_error, so that result() raises the DownloadError."
        ]
    except CancelledError:
        return [f"the Future of {call} (a failing URL) was cancelled; expected it to raise the DownloadError."]
    if error is None:
        value = future.result()
        if isinstance(value, BaseException):
            return [
                f"the Future of {call} returned the error ({type(value).__name__}: {value}) as its result: "
                "use future.set_exception(error), so that result() raises it."
            ]
        return [f"the Future of {call} (a failing URL) returned {_describe_value(value)} instead of raising DownloadError."]
    if not isinstance(error, DownloadError) or error.url != url:
        return [
            f"the Future of {call} raised {type(error).__name__}: {error}, "
            "expected the DownloadError that start_download passed to on_error."
        ]
    return []
