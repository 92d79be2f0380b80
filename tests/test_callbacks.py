"""Tests of threadkit.lessons.callbacks: the context-variable helpers of notebook 04 and the grader's machinery.

The grader itself (check_first_success) is tested against the solution, the
notebook's starting code and wrong answers in tests/test_exercise_04.py.
"""

import contextvars
import subprocess
import sys
import threading
import time

import pytest

from threadkit.lessons import callbacks as _callbacks
from threadkit.lessons.callbacks import new_thread_sees, threads_inherit_context

WAIT = 5.0  # generous timeout for anything that should finish in tens of ms


def test_public_names():
    assert _callbacks.__all__ == ["check_first_success", "threads_inherit_context", "new_thread_sees"]


# ------------------------------------------------------- the grader's rendezvous
def _read_together(rendezvous, futures, locked):
    """Each future's "callback" reads it twice, in a thread of its own; return when each read returned."""
    lock = threading.Lock() if locked else None
    times = {}

    def callback(future):
        if lock:
            lock.acquire()
        try:
            future.result()
            future.exception()
            times[future.index] = time.perf_counter()
        finally:
            if lock:
                lock.release()

    threads = [threading.Thread(target=callback, args=(f,)) for f in futures]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    return times


def test_reads_outside_a_lock_go_on_together():
    rendezvous = _callbacks._Rendezvous(3, limit=WAIT)
    futures = [_callbacks._Input(i, rendezvous) for i in range(3)]
    for f in futures:
        f.set_result(f.index)
    started = time.perf_counter()
    times = _read_together(rendezvous, futures, locked=False)
    assert sorted(times) == [0, 1, 2] and not rendezvous.off
    assert max(times.values()) - started < WAIT / 2  # nobody waited for the limit
    assert rendezvous.reads == {f: 2 for f in futures}


def test_reads_under_a_lock_wait_once_for_the_limit_then_never_again():
    rendezvous = _callbacks._Rendezvous(3, limit=0.2)
    futures = [_callbacks._Input(i, rendezvous) for i in range(3)]
    for f in futures:
        f.set_result(f.index)
    started = time.perf_counter()
    times = _read_together(rendezvous, futures, locked=True)
    assert sorted(times) == [0, 1, 2] and rendezvous.off
    assert 0.2 <= max(times.values()) - started < 0.2 + 2.0  # one wait of 0.2 s, not one per read


def test_input_futures_cannot_be_cancelled_unless_asked():
    running, pending = _callbacks._Input(0), _callbacks._Input(1, running=False)
    assert running.cancel() is False and running.running()
    assert pending.cancel() is True and pending.label == "futures[1]"


# ------------------------------------------------------- context variables
class _Flags:
    """A stand-in for sys.flags."""

    def __init__(self, **values):
        self.__dict__.update(values)


@pytest.mark.parametrize("flags, expected", [(_Flags(thread_inherit_context=1), True),
                                             (_Flags(thread_inherit_context=0), False),
                                             (_Flags(), False)],  # before 3.14: no such flag
                         ids=["free-threaded default", "GIL default", "before 3.14"])
def test_threads_inherit_context_reads_the_flag(monkeypatch, flags, expected):
    monkeypatch.setattr(sys, "flags", flags)
    assert threads_inherit_context() is expected
    assert new_thread_sees("req-42", "none") == ("req-42" if expected else "none")


def test_threads_inherit_context_on_this_interpreter():
    assert threads_inherit_context() is bool(getattr(sys.flags, "thread_inherit_context", 0))
    assert new_thread_sees("v", "d") == new_thread_sees("v", "d", inherit=threads_inherit_context())


def test_new_thread_sees_matches_a_real_thread():
    var = contextvars.ContextVar("var", default="none")

    def start_and_read():
        var.set("req-42")
        got = []
        thread = threading.Thread(target=lambda: got.append(var.get()))
        thread.start()
        thread.join(timeout=WAIT)
        return got

    assert contextvars.copy_context().run(start_and_read) == [new_thread_sees("req-42", "none")]


@pytest.mark.skipif(sys.version_info < (3, 14), reason="sys.flags.thread_inherit_context is new in 3.14")
@pytest.mark.parametrize("setting", ["0", "1"])
def test_the_flag_decides_for_threads_and_pool_workers(setting):
    """-X thread_inherit_context=1 (the free-threaded default) on this build: threads copy the context."""
    code = (
        "import contextvars, threading, concurrent.futures as cf\n"
        "from threadkit.lessons.callbacks import threads_inherit_context\n"
        "var = contextvars.ContextVar('var', default='none'); var.set('req-42'); got = []\n"
        "t = threading.Thread(target=lambda: got.append(var.get())); t.start(); t.join(5)\n"
        "with cf.ThreadPoolExecutor(1) as pool:\n"
        "    got.append(pool.submit(var.get).result(5)); var.set('later'); got.append(pool.submit(var.get).result(5))\n"
        "print(threads_inherit_context(), got)\n"
    )
    out = subprocess.run([sys.executable, "-X", f"thread_inherit_context={setting}", "-c", code],
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    if setting == "1":  # the pool worker keeps the copy made when the first submit started it
        assert out == "True ['req-42', 'req-42', 'req-42']"
    else:
        assert out == "False ['none', 'none', 'none']"


def test_new_thread_sees_rejects_a_bad_inherit():
    with pytest.raises(TypeError, match="inherit must be True or False, got 1"):
        new_thread_sees("v", "d", inherit=1)
