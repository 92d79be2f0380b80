"""Tests of threadkit._callbacks: the fake callback API and the exercise check of notebook 04."""

import contextvars
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import Future

import pytest

import threadkit as tk
from threadkit import _callbacks
from threadkit.traced import Future as TracedFuture

OK_URL = "https://example.org/hello.txt"
BAD_URL = "https://example.org/missing.txt"
WAIT = 5.0  # generous timeout for anything that should finish in tens of ms


def _collect(url):
    """Run start_download and return (kind, value, thread name) from the callback."""
    got = queue.Queue()
    tk.start_download(
        url,
        on_done=lambda content: got.put(("done", content, threading.current_thread().name)),
        on_error=lambda error: got.put(("error", error, threading.current_thread().name)),
    )
    return got.get(timeout=WAIT)


# ------------------------------------------------------------ start_download
def test_public_names():
    assert set(_callbacks.__all__) == {"DownloadError", "FAKE_WEB", "start_download", "check_callback_future",
                                       "threads_inherit_context", "new_thread_sees"}
    for name in _callbacks.__all__:
        assert getattr(tk, name) is getattr(_callbacks, name)


def test_start_download_returns_none_at_once_and_calls_on_done_in_its_own_thread():
    got = queue.Queue()
    t0 = time.perf_counter()
    returned = tk.start_download(OK_URL, on_done=lambda c: got.put((c, threading.current_thread().name)),
                                 on_error=got.put)
    elapsed = time.perf_counter() - t0
    assert returned is None
    assert got.empty()  # the download takes 30 ms: nothing has arrived yet
    assert elapsed < tk.FAKE_WEB[OK_URL][0] + 1.0
    content, thread_name = got.get(timeout=WAIT)
    assert content == tk.FAKE_WEB[OK_URL][1] == "Hello, callbacks!"
    assert thread_name == "download hello.txt"
    assert thread_name != threading.current_thread().name


@pytest.mark.parametrize("url, status", [(BAD_URL, 404), ("https://example.org/secret.txt", 403),
                                         ("https://example.org/nowhere", 404)])
def test_failing_urls_call_on_error_with_a_download_error(url, status):
    kind, error, thread_name = _collect(url)
    assert kind == "error"
    assert isinstance(error, tk.DownloadError)
    assert (error.url, error.status) == (url, status)
    assert url in str(error) and str(status) in str(error)
    assert thread_name.startswith("download ")


def test_every_fake_url_gives_its_outcome():
    for url, (delay, outcome) in tk.FAKE_WEB.items():
        assert 0 < delay <= 0.1
        kind, value, _ = _collect(url)
        if isinstance(outcome, int):
            assert kind == "error" and value.status == outcome
        else:
            assert (kind, value) == ("done", outcome)


def test_download_error_pickles_and_compares_by_fields():
    import pickle

    error = pickle.loads(pickle.dumps(tk.DownloadError(BAD_URL, 404)))
    assert (error.url, error.status, str(error)) == (BAD_URL, 404, f"404 Not Found: {BAD_URL}")
    assert isinstance(error, Exception)


def test_downloads_are_recorded_with_callbacks_in_the_download_lane():
    done = threading.Event()
    with tk.recording("download") as rec:
        tk.start_download(OK_URL, on_done=lambda c: done.set(), on_error=lambda e: done.set())
        assert done.wait(WAIT)
        for t in threading.enumerate():
            if t.name == "download hello.txt":
                t.join(WAIT)
    callbacks = [sp for sp in rec.spans if sp.kind == tk.CALLBACK]
    assert [(sp.thread_name, sp.label) for sp in callbacks] == [("download hello.txt", "on_done")]
    runs = [sp for sp in rec.spans if sp.kind == tk.RUN]
    assert [(sp.thread_name, sp.label) for sp in runs] == [("download hello.txt", "download")]


def test_a_raising_callback_reaches_threading_excepthook():
    seen = []
    old = threading.excepthook
    threading.excepthook = lambda args: seen.append((args.exc_type, args.thread.name))
    try:
        before = set(threading.enumerate())
        tk.start_download(OK_URL, on_done=lambda c: 1 / 0, on_error=print)
        for t in set(threading.enumerate()) - before:
            t.join(WAIT)
    finally:
        threading.excepthook = old
    assert seen == [(ZeroDivisionError, "download hello.txt")]


@pytest.mark.parametrize(
    "args, message",
    [
        ((b"https://x", print, print), "url must be a str"),
        ((None, print, print), "url must be a str"),
        ((OK_URL, "print", print), "on_done must be callable"),
        ((OK_URL, print, None), "on_error must be callable"),
    ],
)
def test_start_download_rejects_bad_arguments(args, message):
    with pytest.raises(TypeError, match=message) as info:
        tk.start_download(*args)
    assert "got" in str(info.value)


# ------------------------------------------------------- check_callback_future
def right(url):
    future = TracedFuture()
    future.set_running_or_notify_cancel()  # nobody can cancel it now: set_result cannot fail
    tk.start_download(url, on_done=future.set_result, on_error=future.set_exception)
    return future


def right_with_plain_future(url):
    future = Future()
    future.set_running_or_notify_cancel()
    tk.start_download(url, on_done=future.set_result, on_error=future.set_exception)
    return future


def cancellable(url):
    """Right except for the cancel trap: the Future stays pending, so cancel() succeeds."""
    future = Future()
    tk.start_download(url, on_done=future.set_result, on_error=future.set_exception)
    return future


def stub(url):
    return None


def blocks(url):
    future = Future()
    tk.start_download(url, on_done=future.set_result, on_error=future.set_exception)
    future.exception(timeout=WAIT)  # waits for the download: the caller is blocked
    return future


def loses_errors(url):
    future = Future()
    tk.start_download(url, on_done=future.set_result, on_error=lambda error: None)
    return future


def never_resolves(url):
    future = Future()
    tk.start_download(url, on_done=lambda content: None, on_error=lambda error: None)
    return future


def error_as_result(url):
    future = Future()
    tk.start_download(url, on_done=future.set_result, on_error=future.set_result)
    return future


def already_done(url):
    future = Future()
    tk.start_download(url, on_done=print, on_error=print)
    future.set_result(tk.FAKE_WEB.get(url, (0, ""))[1])
    return future


def shared_future(url, _future=Future()):
    tk.start_download(url, on_done=_future.set_result, on_error=_future.set_exception)
    return _future


def raising_callback(url):
    future = Future()

    def on_done(content):
        future.set_result(content)
        raise RuntimeError("oops in on_done")

    tk.start_download(url, on_done=on_done, on_error=future.set_exception)
    return future


def starts_wrong_url(url):
    future = Future()
    tk.start_download(url + "?x", on_done=future.set_result, on_error=future.set_exception)
    return future


def raises(url):
    raise NotImplementedError("write me")


def wrong_content(url):
    future = Future()
    tk.start_download(url, on_done=lambda c: future.set_result(c.upper()), on_error=future.set_exception)
    return future


def leaves_a_thread(url):
    future = right(url)
    threading.Thread(target=time.sleep, args=(1.5,), name="left behind").start()
    return future


def cancels(url):
    future = cancellable(url)
    future.cancel()
    return future


def cancels_later(url):
    future = Future()
    tk.start_download(url, on_done=future.set_result, on_error=lambda error: future.cancel())
    return future


def test_the_right_solution_passes_with_either_future_class():
    for fn in (right, right_with_plain_future):
        before = set(threading.enumerate())
        passed = tk.check_callback_future(fn)
        assert isinstance(passed, tk.CheckPassed)
        assert passed.startswith("Correct:") and fn.__name__ in passed
        assert repr(passed) == str(passed)
        time.sleep(0.05)
        assert {t for t in threading.enumerate() if t.is_alive()} <= before


def test_the_right_solution_passes_repeatedly_and_fast():
    t0 = time.perf_counter()
    for _ in range(5):
        tk.check_callback_future(right)
    assert time.perf_counter() - t0 < 5 * 1.0


@pytest.mark.parametrize(
    "fn, phrases",
    [
        (stub, ["did not call tk.start_download", "returned None, not a concurrent.futures.Future"]),
        (blocks, ["did not return within 1 s although the download had started", "waits for the download"]),
        (loses_errors, ["missing.txt') (a failing URL) never completed", "the error was lost"]),
        (never_resolves, ["hello.txt') never got a result", "numbers.csv') never got a result",
                          "slow.json') never got a result", "the error was lost"]),
        (error_as_result, ["returned the error (DownloadError: 404 Not Found", "use future.set_exception"]),
        (already_done, ["returned a Future that was already done", "before its download had finished"]),
        (shared_future, ["numbers.csv') returned the same Future as shared_future('https://example.org/hello.txt')",
                          "a Future of its own"]),
        (raising_callback, ["the on_done callback you passed for https://example.org/hello.txt raised "
                            "RuntimeError: oops in on_done"]),
        (starts_wrong_url, ["did not call tk.start_download('https://example.org/hello.txt', ...) "
                            "(it started 'https://example.org/hello.txt?x')"]),
        (raises, ["raised NotImplementedError: write me"]),
        (wrong_content, ["gave 'HELLO, CALLBACKS!', expected the content 'Hello, callbacks!'"]),
        (leaves_a_thread, ["threads still running after the check: left behind"]),
        (cancels, ["hello.txt') returned a Future that was already done"]),
        (cancels_later, ["missing.txt') (a failing URL) was cancelled"]),
        (cancellable, ["cancel() on the Future of cancellable('https://example.org/hello.txt') succeeded while its "
                       "download was running", "set_running_or_notify_cancel()"]),
    ],
    ids=lambda v: getattr(v, "__name__", "phrases"),
)
def test_wrong_solutions_are_rejected_with_an_explanation(fn, phrases):
    t0 = time.perf_counter()
    with pytest.raises(tk.ExerciseError) as info:
        tk.check_callback_future(fn, timeout=0.3)
    message = str(info.value)
    assert message.startswith("Not yet:")
    assert "Hint:" in message
    for phrase in phrases:
        assert phrase in message, message
    assert time.perf_counter() - t0 < 4.0  # every wait in the check has a timeout
    assert _callbacks._session is None  # the check cleaned up after itself


def test_the_hint_does_not_give_the_answer_away():
    with pytest.raises(tk.ExerciseError) as info:
        tk.check_callback_future(stub)
    assert "on_done=future.set_result" not in str(info.value)


def test_downloads_outside_a_check_are_not_held_back():
    tk.check_callback_future(right)
    t0 = time.perf_counter()
    assert right(OK_URL).result(timeout=WAIT) == "Hello, callbacks!"
    assert time.perf_counter() - t0 < 1.0


def test_a_check_cannot_run_inside_another():
    inner = []

    def nested(url):
        try:
            tk.check_callback_future(right)
        except RuntimeError as exc:
            inner.append(str(exc))
        return right(url)

    tk.check_callback_future(nested)
    assert inner and all("already running" in text for text in inner)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"fn": "right"}, TypeError, "fn must be callable"),
        ({"fn": right, "timeout": "2"}, TypeError, "timeout must be a number"),
        ({"fn": right, "timeout": 0}, ValueError, "timeout must be a finite number from 0.05 to 60.0, got 0$"),
        ({"fn": right, "timeout": float("nan")}, ValueError, "timeout must be a finite number"),
        ({"fn": right, "timeout": 61}, ValueError, "got 61$"),
    ],
)
def test_check_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        tk.check_callback_future(**kwargs)


def test_a_failed_check_shows_only_its_message_in_ipython():
    with pytest.raises(tk.ExerciseError) as info:
        tk.check_callback_future(stub)
    lines = info.value._render_traceback_()
    assert lines[0].startswith("ExerciseError: Not yet:")
    assert not any("/" + "threadkit/" in line or "File " in line for line in lines)


def test_a_failed_check_shows_the_learners_own_error_with_its_traceback():
    with pytest.raises(tk.ExerciseError) as info:
        tk.check_callback_future(raises)
    assert isinstance(info.value.__cause__, NotImplementedError)
    text = "\n".join(info.value._render_traceback_())
    assert "in raises" in text and "NotImplementedError: write me" in text
    assert "threadkit/_checking.py" not in text and "threadkit/_callbacks.py" not in text
    assert text.rstrip().endswith(str(info.value).splitlines()[-1])


def test_a_cancellable_future_is_the_only_complaint():
    """The cancel probe's own InvalidStateError is not reported twice, and nothing else is wrong."""
    with pytest.raises(tk.ExerciseError) as info:
        tk.check_callback_future(cancellable, timeout=0.3)
    problems = [line for line in str(info.value).splitlines() if line.startswith("  - ")]
    assert len(problems) == 1 and "cancel() on the Future" in problems[0], str(info.value)


# ------------------------------------------------------- context variables
class _Flags:
    """A stand-in for sys.flags."""

    def __init__(self, **values):
        self.__dict__.update(values)


@pytest.mark.parametrize("flags, expected", [(_Flags(thread_inherit_context=1), True),
                                             (_Flags(thread_inherit_context=0), False),
                                             (_Flags(), False)],  # before 3.14: no such flag
                         ids=["free-threaded default", "GIL default", "before 3.14"])
def test_threads_inherit_context_reads_the_flag(flags, expected):
    assert tk.threads_inherit_context(flags) is expected
    seen = tk.new_thread_sees("req-42", "none", inherit=tk.threads_inherit_context(flags))
    assert seen == ("req-42" if expected else "none")


def test_threads_inherit_context_on_this_interpreter():
    assert tk.threads_inherit_context() is bool(getattr(sys.flags, "thread_inherit_context", 0))
    assert tk.new_thread_sees("v", "d") == tk.new_thread_sees("v", "d", inherit=tk.threads_inherit_context())


def test_new_thread_sees_matches_a_real_thread():
    var = contextvars.ContextVar("var", default="none")

    def start_and_read():
        var.set("req-42")
        got = []
        thread = threading.Thread(target=lambda: got.append(var.get()))
        thread.start()
        thread.join(timeout=WAIT)
        return got

    assert contextvars.copy_context().run(start_and_read) == [tk.new_thread_sees("req-42", "none")]


@pytest.mark.skipif(sys.version_info < (3, 14), reason="sys.flags.thread_inherit_context is new in 3.14")
@pytest.mark.parametrize("setting", ["0", "1"])
def test_the_flag_decides_for_threads_and_pool_workers(setting):
    """-X thread_inherit_context=1 (the free-threaded default) on this build: threads copy the context."""
    code = (
        "import contextvars, threading, concurrent.futures as cf, threadkit as tk\n"
        "var = contextvars.ContextVar('var', default='none'); var.set('req-42'); got = []\n"
        "t = threading.Thread(target=lambda: got.append(var.get())); t.start(); t.join(5)\n"
        "with cf.ThreadPoolExecutor(1) as pool:\n"
        "    got.append(pool.submit(var.get).result(5)); var.set('later'); got.append(pool.submit(var.get).result(5))\n"
        "print(tk.threads_inherit_context(), got)\n"
    )
    out = subprocess.run([sys.executable, "-X", f"thread_inherit_context={setting}", "-c", code],
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    if setting == "1":  # the pool worker keeps the copy made when the first submit started it
        assert out == "True ['req-42', 'req-42', 'req-42']"
    else:
        assert out == "False ['none', 'none', 'none']"


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: tk.threads_inherit_context(_Flags(thread_inherit_context="yes")), TypeError,
         "flags.thread_inherit_context must be an int"),
        (lambda: tk.new_thread_sees("v", "d", inherit=1), TypeError, "inherit must be True, False or None, got 1"),
    ],
)
def test_context_helpers_reject_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
