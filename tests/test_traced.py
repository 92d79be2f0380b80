"""The traced twins behave like the standard library, and record what they should.

Part 1 runs the same calls on the standard-library class and on its twin, outside
and inside a recording, and compares the outcomes (return values, exception
types and messages).  Part 2 checks what gets recorded.  Part 3 checks that two
CPU-bound threads share one CPU under the GIL.

Tests never depend on timing: a thread that must be blocked is observed blocked
(``blocked_in``) before it is released, and timeouts are only used where the
outcome cannot depend on how long they are.
"""

import concurrent.futures as cf
import logging
import queue
import re
import sys
import threading
import time
from types import SimpleNamespace

import pytest

import threadkit as tk
from threadkit import kinds, traced

STD = SimpleNamespace(
    name="stdlib",
    Lock=threading.Lock,
    Queue=queue.Queue,
    Event=threading.Event,
    Thread=threading.Thread,
    ThreadPoolExecutor=cf.ThreadPoolExecutor,
    Future=cf.Future,
    as_completed=cf.as_completed,
    wait=cf.wait,
)
TWIN = SimpleNamespace(name="twin", **{name: getattr(traced, name) for name in vars(STD) if name != "name"})
MODES = ["twin", "twin-recorded"]
WAIT = 30  # seconds: generous bound for waits that end as soon as the other side acts


# ------------------------------------------------------------------ helpers
def sanitize(text):
    return re.sub(r"0x[0-9a-fA-F]+", "0x?", text)


def outcome(fn, *args, **kwargs):
    """What a call did, comparable across runs: a value, or an exception's type and message."""
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: B036 - the point is to capture anything
        return ("raised", type(exc), sanitize(str(exc)))
    if isinstance(value, BaseException):
        return ("returned exception", type(value), sanitize(str(value)))
    return ("returned", value)


def run(kit_mode, scenario, *args):
    """Run ``scenario(kit, *args)`` with the stdlib, the twin, or the twin in a recording."""
    if kit_mode == "stdlib":
        return scenario(STD, *args)
    if kit_mode == "twin":
        return scenario(TWIN, *args)
    with tk.recording() as rec:
        result = scenario(TWIN, *args)
    assert rec.spans or rec.instants, "the twins recorded nothing inside a recording"
    return result


def short(outcomes):
    """Outcomes reduced to what the tests below state: the value, or the exception type."""
    return [o[1] for o in outcomes]


#: Checks in a row (a few ms apart) that must find a thread asleep in a call, unmoved.
STEADY_CHECKS = 3


def kernel_state(thread):
    """The scheduler's state letter of ``thread`` (Linux /proc: "S" asleep), or None elsewhere."""
    try:
        with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def cpu_ns(thread):
    """CPU time ``thread`` has used so far, or None where the platform does not tell."""
    try:
        return time.clock_gettime_ns(time.pthread_getcpuclockid(thread.ident))
    except (AttributeError, OSError):
        return None


def snapshot(thread, method):
    """(innermost code, instruction, CPU time) of ``thread`` while ``method`` is on its stack, else None."""
    top = frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code is method.__code__:
            return top.f_code, top.f_lasti, cpu_ns(thread)
        frame = frame.f_back
    return None


def blocked_in(thread, method, timeout=WAIT):
    """Wait until ``thread`` is blocked inside a call of ``method`` (a twin's, e.g. traced.Lock.acquire).

    Blocked: the call is on the thread's stack, and at STEADY_CHECKS checks in a row the
    thread has not moved, used no CPU and is asleep in the kernel (where the platform
    tells). Between two checks this thread sleeps and so leaves the GIL: a thread that
    could run would have moved on. So the call has got as far as it can, whatever the
    machine's speed, and nothing private of the twin is read.
    """
    deadline = time.monotonic() + timeout
    last, steady = None, 0
    while time.monotonic() < deadline:
        now = snapshot(thread, method)
        unmoved = now is not None and now == last and kernel_state(thread) in ("S", None)
        steady = steady + 1 if unmoved else 0
        if steady >= STEADY_CHECKS:
            return True
        last = now
        time.sleep(0.002)
    raise AssertionError(f"{thread.name} never blocked in {method.__qualname__}()")


def release_when_blocked(thread, method, event):
    """Start a helper that sets ``event`` once ``thread`` is blocked in a call of ``method``."""
    failures = []

    def helper():
        try:
            blocked_in(thread, method)
        except AssertionError as exc:  # pragma: no cover - reported by the caller
            failures.append(exc)
        finally:
            event.set()

    h = threading.Thread(target=helper, name="releaser")
    h.start()
    return h, failures


def test_blocked_in_tells_a_blocked_thread_from_a_busy_one():
    ev, stop = traced.Event(), threading.Event()

    def busy():
        while not stop.is_set():
            sum(range(100))

    waiter = threading.Thread(target=ev.wait, args=(WAIT,))
    spinner = threading.Thread(target=busy)
    waiter.start()
    spinner.start()
    try:
        assert blocked_in(waiter, traced.Event.wait)
        with pytest.raises(AssertionError, match="never blocked in Event.wait"):
            blocked_in(spinner, traced.Event.wait, timeout=0.2)
        with pytest.raises(AssertionError, match=r"never blocked in .*busy\(\)"):
            blocked_in(spinner, busy, timeout=0.2)
    finally:
        stop.set()
        ev.set()
        waiter.join(WAIT)
        spinner.join(WAIT)


def lanes_named(rec):
    return {info.lane: info.name for info in rec.threads}


# ===================================================== part 1: same behaviour
def lock_basics(kit):
    lock = kit.Lock()
    out = [
        outcome(lock.acquire),
        outcome(lock.locked),
        outcome(lock.acquire, False),
        outcome(lock.acquire, True, 0.01),
        outcome(lock.acquire, timeout=0),
        outcome(lock.release),
        outcome(lock.locked),
        outcome(lock.release),
    ]
    with lock as entered:
        out.append(("returned", entered))
        out.append(outcome(lock.locked))
    out.append(outcome(lock.locked))
    with pytest.raises(KeyError):
        with lock:
            raise KeyError("inside")
    out.append(outcome(lock.locked))
    return out


def lock_bad_arguments(kit):
    lock = kit.Lock()
    out = [
        outcome(lock.acquire, False, 1),
        outcome(lock.acquire, True, -2),
        outcome(lock.acquire, timeout=float("nan")),
        outcome(lock.acquire, timeout=None),
        outcome(lock.acquire, timeout="1"),
        outcome(lock.acquire, True, 1e300),
        outcome(lock.locked),
    ]
    if lock.locked():  # a bad argument was accepted (a bug): do not hang below
        lock.release()
    return out + [
        outcome(lock.acquire, timeout=-1),
        outcome(lock.release),
        outcome(lock.acquire, True, 0.5),
        outcome(lock.release),
    ]


def lock_released_by_another_thread(kit):
    lock = kit.Lock()
    lock.acquire()
    out = []
    t = threading.Thread(target=lambda: out.append(outcome(lock.release)))
    t.start()
    t.join(WAIT)
    out.append(outcome(lock.locked))
    out.append(outcome(lock.acquire, False))
    out.append(outcome(lock.release))
    return out


def condition_wait_notify(kit):
    lock = kit.Lock()
    cond = threading.Condition(lock)
    ready, out = [], []

    def consumer():
        with cond:
            out.append(("consumer", cond.wait_for(lambda: ready, timeout=WAIT), list(ready)))

    t = threading.Thread(target=consumer)
    t.start()
    deadline = time.monotonic() + WAIT
    while not cond._waiters and time.monotonic() < deadline:  # the consumer waits
        time.sleep(0.001)
    with cond:
        ready.append(1)
        cond.notify()
    t.join(WAIT)
    out.append(outcome(cond.wait, 0.01))  # not holding the lock
    out.append(outcome(cond.notify))
    with cond:
        out.append(outcome(cond.wait, 0.01))  # nobody notifies: times out
        out.append(outcome(cond.wait_for, lambda: True, 0.01))
    out.append(outcome(lock.acquire, False))
    out.append(outcome(lock.release))
    return out


def queue_basics(kit):
    q = kit.Queue(2)
    out = [
        outcome(q.put, "a"),
        outcome(q.put_nowait, "b"),
        outcome(q.full),
        outcome(q.put, "c", False),
        outcome(q.put, "c", timeout=0.01),
        outcome(q.put_nowait, "c"),
        outcome(q.put, "c", timeout=-1),
        outcome(q.qsize),
        outcome(q.get, timeout=-1),
        outcome(q.get),
        outcome(q.get_nowait),
        outcome(q.empty),
        outcome(q.get, timeout=0.01),
        outcome(q.get, False),
        outcome(q.get_nowait),
        outcome(q.get, timeout=-1),
        outcome(q.get, timeout="x"),
        outcome(q.task_done),
        outcome(q.task_done),
        outcome(q.task_done),
        outcome(q.join),
    ]
    unbounded = kit.Queue()
    out += [
        outcome(unbounded.put, 1, timeout=-1),  # never blocks, so never checks the timeout
        outcome(unbounded.put, 2, timeout="x"),
        outcome(unbounded.put, 3, False),
        outcome(unbounded.get, True, None),
        outcome(unbounded.get, True, 0.5),
    ]
    # (A blocking get on an empty queue would hang: only when a bug lost an item.)
    out.append(outcome(unbounded.get) if unbounded.qsize() else ("an item is missing",))
    out.append(("returned", unbounded.maxsize))
    if hasattr(unbounded, "shutdown"):  # Python 3.13+
        unbounded.put("left")
        unbounded.shutdown()
        out += [outcome(unbounded.put, 4), outcome(unbounded.get), outcome(unbounded.get), outcome(unbounded.get, False)]
    return out


def queue_blocking_hand_offs(kit):
    q = kit.Queue(1)
    got = []
    consumer = threading.Thread(target=lambda: got.extend([q.get(timeout=WAIT) for _ in range(3)]))
    consumer.start()
    for item in ("x", "y", "z"):
        q.put(item, timeout=WAIT)  # blocks while the queue holds one item
    consumer.join(WAIT)
    q.put("w")
    q.task_done()
    q.task_done()
    q.task_done()
    joiner = threading.Thread(target=q.join)
    joiner.start()
    q.get()
    q.task_done()
    joiner.join(WAIT)
    return [("returned", got), ("returned", joiner.is_alive()), outcome(q.qsize)]


def event_basics(kit):
    ev = kit.Event()
    out = [
        outcome(ev.is_set),
        outcome(ev.wait, 0.01),
        outcome(ev.wait, 0),
        outcome(ev.wait, -1),
        outcome(ev.wait, "x"),
        outcome(ev.set),
        outcome(ev.wait),
        outcome(ev.wait, 0.01),
        outcome(ev.is_set),
        outcome(ev.clear),
        outcome(ev.is_set),
        outcome(ev.wait, 0),
    ]
    waiter_result = []
    t = threading.Thread(target=lambda: waiter_result.append(ev.wait(WAIT)))
    t.start()
    ev.set()
    t.join(WAIT)
    out.append(("returned", waiter_result))
    return out


def thread_basics(kit):
    results = []
    t = kit.Thread(target=lambda a, b=0: results.append(a + b), args=(1,), kwargs={"b": 2}, name="adder", daemon=True)
    out = [
        outcome(t.join),
        outcome(t.is_alive),
        ("returned", t.name, t.daemon, t.ident),
        outcome(t.start),
        outcome(t.join, WAIT),
        outcome(t.is_alive),
        ("returned", results),
        outcome(t.start),
        outcome(t.join),
    ]
    release = threading.Event()
    slow = kit.Thread(target=release.wait, args=(WAIT,))
    slow.start()
    out += [outcome(slow.join, 0.01), outcome(slow.is_alive)]
    release.set()
    out += [outcome(slow.join, WAIT), outcome(slow.is_alive)]
    own = []
    selfjoin = kit.Thread(target=lambda: own.append(outcome(threading.current_thread().join)))
    selfjoin.start()
    selfjoin.join(WAIT)
    out.append(own[0])

    class Worker(kit.Thread):
        def run(self):
            self.answer = tk.cpu_task(10)

    w = Worker()
    w.start()
    w.join(WAIT)
    out.append(("returned", w.answer))
    return out


def future_direct(kit):
    f = kit.Future()
    out = [
        outcome(f.done),
        outcome(f.running),
        outcome(f.set_running_or_notify_cancel),
        outcome(f.running),
        outcome(f.result, 0.01),
        outcome(f.exception, 0.01),
        outcome(f.set_result, 5),
        outcome(f.result),
        outcome(f.exception),
        outcome(f.set_result, 6),
        outcome(f.set_exception, ValueError("late")),
        outcome(f.cancel),
        outcome(f.done),
    ]
    failed = kit.Future()
    failed.set_exception(KeyError("k"))
    out += [outcome(failed.result), outcome(failed.exception), outcome(failed.set_result, 1)]
    cancelled = kit.Future()
    out += [
        outcome(cancelled.cancel),
        outcome(cancelled.cancelled),
        outcome(cancelled.result),
        outcome(cancelled.exception),
        outcome(cancelled.set_result, 1),
        outcome(cancelled.set_running_or_notify_cancel),
    ]
    return out


def pool_results_and_errors(kit):
    with kit.ThreadPoolExecutor(max_workers=2) as pool:
        ok = pool.submit(pow, 2, 10)
        fails = pool.submit(tk.flaky_task, "x", fail=True)
        bad = pool.submit(int, "zz")
        not_callable = pool.submit(5)
        kw = pool.submit(tk.io_task, delay=0, value="kw")
        out = [
            outcome(ok.result, WAIT),
            outcome(fails.result, WAIT),
            outcome(fails.exception, WAIT),
            outcome(bad.result, WAIT),
            outcome(not_callable.result, WAIT),
            outcome(kw.result, WAIT),
            ("returned", [f.done() for f in (ok, fails, bad, not_callable, kw)]),
            ("returned", type(ok).__name__, isinstance(ok, cf.Future)),
        ]
    out.append(outcome(pool.submit, pow, 2, 2))
    out.append(outcome(pool.shutdown))
    return out


def submit_running(pool):
    """Submit a task that runs until released; return (its future, the release event) once it runs."""
    started, release = threading.Event(), threading.Event()

    def blocker():
        started.set()
        return release.wait(WAIT)

    future = pool.submit(blocker)
    assert started.wait(WAIT)
    return future, release


def pool_result_timeout(kit):
    with kit.ThreadPoolExecutor(max_workers=1) as pool:
        f, release = submit_running(pool)
        out = [outcome(f.result, 0.01), outcome(f.exception, 0.01), outcome(f.done), outcome(f.running)]
        release.set()  # the task kept running: it now finishes normally
        out += [outcome(f.result, WAIT), outcome(f.done)]
    return out


def pool_cancel(kit):
    with kit.ThreadPoolExecutor(max_workers=1) as pool:
        running, release = submit_running(pool)
        pending = pool.submit(pow, 2, 3)
        out = [
            outcome(pending.cancel),
            outcome(running.cancel),
            outcome(pending.cancelled),
            outcome(running.running),
            outcome(pending.result),
            outcome(pending.cancel),
        ]
        release.set()
        out += [outcome(running.result, WAIT), outcome(running.cancelled)]
    return out


def pool_shutdown_cancel_futures(kit):
    pool = kit.ThreadPoolExecutor(max_workers=1)
    running, release = submit_running(pool)
    pending = [pool.submit(pow, 2, i) for i in range(3)]
    out = [outcome(pool.shutdown, wait=False, cancel_futures=True)]
    release.set()
    out += [
        outcome(pool.shutdown, wait=True),
        outcome(running.result, WAIT),
        ("returned", [f.cancelled() for f in pending]),
        outcome(pending[0].result),
        outcome(pool.submit, pow, 1, 1),
    ]
    return out


def pool_map(kit):
    with kit.ThreadPoolExecutor(max_workers=3) as pool:
        out = [
            ("returned", list(pool.map(pow, [2, 3, 4], [2, 2, 2]))),
            ("returned", list(pool.map(lambda x: tk.io_task(0.003 * (3 - x), value=x), range(3)))),
        ]
        it = pool.map(lambda x: 10 // x, [5, 0, 2])
        out += [outcome(next, it), outcome(next, it), outcome(next, it)]
        release = threading.Event()
        it = pool.map(release.wait, [WAIT], timeout=0.01)
        out.append(outcome(next, it))
        release.set()
        out.append(("returned", list(pool.map(str, []))))
    return out


def as_completed_order(kit):
    events = [threading.Event() for _ in range(3)]

    def task(i):
        events[i].wait(WAIT)
        return i

    with kit.ThreadPoolExecutor(max_workers=3) as pool:
        fs = [pool.submit(task, i) for i in range(3)]
        it = kit.as_completed(fs, timeout=WAIT)
        order = []
        for i in (2, 0, 1):  # only future i can finish before it is yielded
            events[i].set()
            order.append(next(it).result())
        out = [("returned", order), outcome(next, it)]

        release = threading.Event()
        waiting = pool.submit(release.wait, WAIT)
        first = next(kit.as_completed([waiting, fs[0]], timeout=0.01))  # the done one comes first
        out.append(("returned", first is fs[0]))
        it = kit.as_completed([waiting], timeout=0.01)
        out.append(outcome(next, it))
        release.set()
        out.append(("returned", sorted(f.result() for f in kit.as_completed(fs + fs))))  # duplicates once
    return out


def wait_variants(kit):
    events = [threading.Event() for _ in range(2)]
    with kit.ThreadPoolExecutor(max_workers=3) as pool:
        f0 = pool.submit(events[0].wait, WAIT)
        f1 = pool.submit(events[1].wait, WAIT)
        events[0].set()
        done, not_done = kit.wait([f0, f1], timeout=WAIT, return_when=cf.FIRST_COMPLETED)
        out = [("returned", f0 in done, f1 in not_done, len(done), len(not_done))]
        result = kit.wait([f1], timeout=0.01)
        out.append(("returned", type(result).__name__, len(result.done), len(result.not_done)))
        failing = pool.submit(tk.flaky_task, 1, fail=True)
        done, not_done = kit.wait([failing, f1], timeout=WAIT, return_when=cf.FIRST_EXCEPTION)
        out.append(("returned", failing in done, f1 in not_done))
        events[1].set()
        done, not_done = kit.wait([f0, f1, failing])
        out.append(("returned", len(done), len(not_done)))
    return out


SCENARIOS = {
    lock_basics: [True, True, False, False, False, None, False, RuntimeError, True, True, False, False],
    lock_bad_arguments: [
        ValueError, ValueError, ValueError, TypeError, TypeError, OverflowError, False, True, None, True, None,
    ],
    lock_released_by_another_thread: [None, False, True, None],
    queue_basics: None,  # checked in test_queue_outcomes
    queue_blocking_hand_offs: [["x", "y", "z"], False, 0],
    event_basics: [False, False, False, False, TypeError, None, True, True, True, None, False, False, [True]],
    thread_basics: None,  # checked in test_thread_outcomes
    future_direct: [
        False, False, True, True, cf.TimeoutError, cf.TimeoutError, None, 5, None,
        cf.InvalidStateError, cf.InvalidStateError, False, True,
        KeyError, KeyError, cf.InvalidStateError,
        True, True, cf.CancelledError, cf.CancelledError, cf.InvalidStateError, False,
    ],
    pool_results_and_errors: None,
    pool_result_timeout: [cf.TimeoutError, cf.TimeoutError, False, True, True, True],
    pool_cancel: [True, False, True, True, cf.CancelledError, True, True, False],
    pool_shutdown_cancel_futures: [None, None, True, [True, True, True], cf.CancelledError, RuntimeError],
    pool_map: [[4, 9, 16], [0, 1, 2], 2, ZeroDivisionError, StopIteration, cf.TimeoutError, []],
    as_completed_order: None,
    wait_variants: None,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=lambda f: f.__name__)
def test_twin_behaves_like_the_stdlib(scenario, mode):
    expected = run("stdlib", scenario)
    assert run(mode, scenario) == expected
    if SCENARIOS[scenario] is not None:
        assert short(expected) == SCENARIOS[scenario]


@pytest.mark.parametrize("mode", MODES)
def test_condition_works_with_a_twin_lock(mode):
    expected = run("stdlib", condition_wait_notify)
    assert run(mode, condition_wait_notify) == expected
    assert expected[0] == ("consumer", [1], [1])  # wait_for returns the predicate's value
    assert short(expected[1:3]) == [RuntimeError, RuntimeError]
    assert expected[1][2] == "cannot wait on un-acquired lock"
    assert short(expected[3:5]) == [False, True]
    assert short(expected[-2:]) == [True, None]


def test_queue_outcomes():
    out = run("stdlib", queue_basics)
    assert short(out[:21]) == [
        None, None, True, queue.Full, queue.Full, queue.Full, ValueError, 2, ValueError, "a", "b", True,
        queue.Empty, queue.Empty, queue.Empty, ValueError, TypeError, None, None, ValueError, None,
    ]
    assert out[6][2] == "'timeout' must be a non-negative number"
    assert out[19][2] == "task_done() called too many times"
    assert short(out[21:28]) == [None, None, None, 1, 2, 3, 0]
    if sys.version_info >= (3, 13):
        assert short(out[28:]) == [queue.ShutDown, "left", queue.ShutDown, queue.ShutDown]


def test_thread_outcomes():
    out = run("stdlib", thread_basics)
    assert out[0] == ("raised", RuntimeError, "cannot join thread before it is started")
    assert short(out[1:2]) == [False]
    assert out[2] == ("returned", "adder", True, None)
    assert short(out[3:7]) == [None, None, False, [3]]
    assert out[7] == ("raised", RuntimeError, "threads can only be started once")
    assert short(out[8:13]) == [None, None, True, None, False]
    assert out[13] == ("raised", RuntimeError, "cannot join current thread")
    assert out[14] == ("returned", 285)


def test_pool_outcomes():
    out = run("stdlib", pool_results_and_errors)
    assert out[0] == ("returned", 1024)
    assert out[1] == ("raised", tk.TaskFailed, "task 'x' failed")
    assert out[2] == ("returned exception", tk.TaskFailed, "task 'x' failed")
    assert out[3][:2] == ("raised", ValueError) and "invalid literal" in out[3][2]
    assert out[4] == ("raised", TypeError, "'int' object is not callable")
    assert out[5] == ("returned", "kw")
    assert out[6] == ("returned", [True] * 5)
    assert out[8] == ("raised", RuntimeError, "cannot schedule new futures after shutdown")


def test_as_completed_and_wait_outcomes():
    out = run("stdlib", as_completed_order)
    assert out[0] == ("returned", [2, 0, 1])
    assert short(out[1:2]) == [StopIteration]
    assert out[2] == ("returned", True)
    assert out[3] == ("raised", cf.TimeoutError, "1 (of 1) futures unfinished")
    assert out[4] == ("returned", [0, 1, 2])
    assert run("stdlib", wait_variants) == [
        ("returned", True, True, 1, 1),
        ("returned", "DoneAndNotDoneFutures", 0, 1),
        ("returned", True, True),
        ("returned", 3, 0),
    ]


@pytest.mark.parametrize("mode", ["stdlib"] + MODES)
def test_a_failing_thread_reaches_threading_excepthook(mode, monkeypatch):
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args))

    def scenario(kit):
        t = kit.Thread(target=tk.flaky_task, args=("t",), kwargs={"fail": True}, name="doomed")
        t.start()
        t.join(WAIT)
        return t

    t = run(mode, scenario)
    assert len(seen) == 1
    args = seen[0]
    assert args.exc_type is tk.TaskFailed and str(args.exc_value) == "task 't' failed"
    assert args.thread is t
    assert not t.is_alive()


@pytest.mark.parametrize("mode", ["stdlib"] + MODES)
def test_a_raising_callback_is_logged_and_later_callbacks_run(mode, caplog):
    def scenario(kit):
        calls = []
        f = kit.Future()
        f.add_done_callback(lambda fut: 1 / 0)
        f.add_done_callback(lambda fut: calls.append(("second", fut.result())))
        f.set_result("r")
        f.add_done_callback(lambda fut: [][1])  # already done: called (and logged) at once
        f.add_done_callback(lambda fut: calls.append(("after done", threading.current_thread().name)))
        return calls

    with caplog.at_level(logging.ERROR, logger="concurrent.futures"):
        calls = run(mode, scenario)
    assert calls == [("second", "r"), ("after done", threading.current_thread().name)]
    records = [r for r in caplog.records if r.name == "concurrent.futures"]
    assert [r.exc_info[0] for r in records] == [ZeroDivisionError, IndexError]
    assert all(r.getMessage().startswith("exception calling callback for <Future") for r in records)


@pytest.mark.parametrize("mode", ["stdlib"] + MODES)
def test_callbacks_run_in_the_thread_that_completes_the_future(mode):
    def scenario(kit):
        release = threading.Event()
        where = []
        with kit.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool") as pool:
            f = pool.submit(release.wait, WAIT)
            f.add_done_callback(lambda fut: where.append(("pending", threading.current_thread().name)))
            release.set()
            f.result(WAIT)
        f.add_done_callback(lambda fut: where.append(("done", threading.current_thread().name)))
        return where

    where = run(mode, scenario)
    assert where == [("pending", "pool_0"), ("done", threading.current_thread().name)]


# ============================================================ part 2: records
def test_pool_records_each_task():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=3, thread_name_prefix="w") as pool:
            fs = [pool.submit(tk.io_task, 0.001, i) for i in range(6)]
            fs += [pool.submit(tk.flaky_task, i, fail=True) for i in range(2)]
            cf.wait(fs)  # stdlib wait: records nothing itself
    names = lanes_named(rec)
    assert names[0] == "MainThread"
    assert rec.count(kinds.SUBMIT) == rec.count(kinds.SUBMIT, thread=0) == 8
    assert [ev.label for ev in rec.instants if ev.kind == kinds.SUBMIT] == [f"io_task #{i}" for i in range(1, 7)] + [
        "flaky_task #7",
        "flaky_task #8",
    ]
    assert rec.count(kinds.QUEUED) == rec.count(kinds.RUN) == 8
    assert rec.count(kinds.SET_RESULT) == 6 and rec.count(kinds.EXCEPTION) == 2
    worker_lanes = {lane for lane, name in names.items() if name.startswith("w_")}
    assert 1 <= len(worker_lanes) <= 3
    for sp in rec.spans:
        if sp.kind in (kinds.RUN, kinds.QUEUED):
            assert sp.lane in worker_lanes
    for ev in rec.instants:
        if ev.kind in (kinds.SET_RESULT, kinds.EXCEPTION):
            assert ev.lane in worker_lanes
    submits = {ev.label: ev for ev in rec.instants if ev.kind == kinds.SUBMIT}
    for run_span in (sp for sp in rec.spans if sp.kind == kinds.RUN):
        queued = [sp for sp in rec.spans if sp.kind == kinds.QUEUED and sp.label == run_span.label]
        assert len(queued) == 1 and queued[0].lane == run_span.lane
        assert queued[0].start_ns == submits[run_span.label].t_ns  # queued from submit...
        assert queued[0].end_ns == run_span.start_ns  # ...to the start of the run
        assert run_span.cpu_ns is not None
        outcome_events = [
            ev for ev in rec.instants if ev.kind in (kinds.SET_RESULT, kinds.EXCEPTION) and ev.label == run_span.label
        ]
        assert len(outcome_events) == 1 and outcome_events[0].lane == run_span.lane
        assert outcome_events[0].t_ns >= run_span.end_ns
        assert outcome_events[0].kind == (kinds.EXCEPTION if run_span.label.startswith("flaky") else kinds.SET_RESULT)
    shutdowns = [sp for sp in rec.spans if sp.kind == kinds.JOIN_WAIT]
    assert [(sp.lane, sp.label) for sp in shutdowns] == [(0, "shutdown")]


def test_no_submit_is_recorded_when_submit_fails():
    pool = traced.ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    with tk.recording() as rec:
        with pytest.raises(RuntimeError):
            pool.submit(pow, 2, 2)
    assert rec.count(kinds.SUBMIT) == 0


def test_waiting_for_a_result_is_recorded_in_the_main_lane():
    release = threading.Event()
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            f = pool.submit(release.wait, WAIT)
            with pytest.raises(cf.TimeoutError):
                f.result(timeout=0.01)  # cannot finish before release: a guaranteed wait
            helper, failures = release_when_blocked(threading.main_thread(), traced.Future.result, release)
            assert f.result() is True  # blocks until the helper sees it blocked
            helper.join(WAIT)
            assert not failures
            f.result()  # done: no wait, nothing recorded
            f.exception()
    blocked = [sp for sp in rec.spans if sp.kind == kinds.BLOCKED_RESULT]
    assert [(sp.lane, sp.label) for sp in blocked] == [(0, "Event.wait #1"), (0, "Event.wait #1")]
    run_span = next(sp for sp in rec.spans if sp.kind == kinds.RUN)
    assert blocked[1].start_ns < run_span.end_ns <= blocked[1].end_ns  # waited until the task ended


def test_as_completed_and_wait_record_the_callers_wait():
    events = [threading.Event() for _ in range(2)]
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=2) as pool:
            fs = [pool.submit(ev.wait, WAIT) for ev in events]
            events[0].set()
            traced.wait(fs, return_when=traced.FIRST_COMPLETED)
            events[1].set()
            assert sum(1 for _ in traced.as_completed(fs)) == 2
    labels = [sp.label for sp in rec.spans if sp.kind == kinds.BLOCKED_RESULT]
    assert labels == ["wait", "as_completed", "as_completed"]
    assert all(sp.lane == 0 for sp in rec.spans if sp.kind == kinds.BLOCKED_RESULT)


@pytest.mark.parametrize("wait_for, label", [
    (lambda f: f.exception(timeout=0.01), "Event.wait #1"),
    (lambda f: next(traced.as_completed([f], timeout=0.01)), "as_completed"),
], ids=["exception", "as_completed"])
def test_a_wait_that_times_out_is_recorded_as_a_wait(wait_for, label):
    release = threading.Event()
    with tk.recording() as rec, traced.ThreadPoolExecutor(max_workers=1) as pool:
        f = pool.submit(release.wait, WAIT)
        pytest.raises(cf.TimeoutError, wait_for, f)
        release.set()
    assert [sp.label for sp in rec.spans if sp.kind == kinds.BLOCKED_RESULT] == [label]


def test_future_instants_outside_a_pool():
    with tk.recording() as rec:
        ok, failed, cancelled = traced.Future(), traced.Future(), traced.Future()
        ok.set_result(1)
        failed.set_exception(ValueError("x"))
        cancelled.cancel()
        ok.cancel()  # too late: not recorded
    assert [ev.kind for ev in rec.instants] == [kinds.SET_RESULT, kinds.EXCEPTION, kinds.CANCEL]
    assert all(ev.lane == 0 and ev.label == "future" for ev in rec.instants)


def test_threads_record_run_spans_exceptions_and_joins(monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    release = threading.Event()

    class Sub(traced.Thread):
        def run(self):
            tk.cpu_task(100)

    with tk.recording() as rec:
        waiter = traced.Thread(target=release.wait, args=(WAIT,), name="waiter")
        failing = traced.Thread(target=tk.flaky_task, args=(1,), kwargs={"fail": True}, name="failing")
        sub = Sub(name="sub")
        for t in (waiter, failing, sub):
            t.start()
        waiter.join(timeout=0.01)  # still running: a recorded wait
        helper, failures = release_when_blocked(threading.main_thread(), traced.Thread.join, release)
        waiter.join()
        helper.join(WAIT)
        failing.join()
        sub.join()
        failing.join()  # finished: nothing to wait for, nothing recorded
    assert not failures
    names = lanes_named(rec)
    runs = {names[sp.lane]: sp for sp in rec.spans if sp.kind == kinds.RUN}
    assert set(runs) == {"waiter", "failing", "sub"}
    assert runs["waiter"].label == "Event.wait" and runs["sub"].label == "Sub.run"
    assert all(sp.cpu_ns is not None for sp in runs.values())
    assert [(names[ev.lane], ev.label) for ev in rec.instants if ev.kind == kinds.EXCEPTION] == [
        ("failing", "flaky_task")
    ]
    joins = [sp for sp in rec.spans if sp.kind == kinds.JOIN_WAIT]
    assert [(sp.lane, sp.label) for sp in joins][:2] == [(0, "waiter"), (0, "waiter")]
    assert joins[1].end_ns >= runs["waiter"].end_ns  # the join lasted until the thread ended
    assert all(sp.lane == 0 for sp in joins)


def held_in_a_thread(lock):
    """Start traced thread "A", holding ``lock`` until the returned event is set; (thread, event)."""
    holder_in, holder_go = threading.Event(), threading.Event()

    def holder():
        with lock:
            holder_in.set()
            holder_go.wait(WAIT)

    thread = traced.Thread(target=holder, name="A")
    thread.start()
    assert holder_in.wait(WAIT)
    return thread, holder_go


def test_lock_wait_only_when_contended_and_hold_from_acquire_to_release():
    lock = traced.Lock(name="L")
    with tk.recording() as rec:
        with lock:
            tk.mark("inside")
        assert lock.acquire(False)  # uncontended, non-blocking
        lock.release()
        a, holder_go = held_in_a_thread(lock)
        assert lock.acquire(False) is False  # non-blocking failure: no wait, no hold
        assert lock.acquire(timeout=0.01) is False  # a timed wait that fails: a wait, no hold
        helper, failures = release_when_blocked(threading.main_thread(), traced.Lock.acquire, holder_go)
        with lock:  # waits until A releases
            pass
        helper.join(WAIT)
        a.join(WAIT)
    assert not failures
    names = lanes_named(rec)
    holds = [(names[sp.lane], sp.label) for sp in rec.spans if sp.kind == kinds.LOCK_HOLD]
    assert holds == [("MainThread", "L"), ("MainThread", "L"), ("A", "L"), ("MainThread", "L")]
    waits = [sp for sp in rec.spans if sp.kind == kinds.LOCK_WAIT]
    assert [(sp.lane, sp.label) for sp in waits] == [(0, "L"), (0, "L")]
    first_hold = next(sp for sp in rec.spans if sp.kind == kinds.LOCK_HOLD)
    mark = rec.instants[0]
    assert first_hold.start_ns <= mark.t_ns <= first_hold.end_ns
    a_hold = next(sp for sp in rec.spans if sp.kind == kinds.LOCK_HOLD and names[sp.lane] == "A")
    last_hold = [sp for sp in rec.spans if sp.kind == kinds.LOCK_HOLD][-1]
    assert waits[1].start_ns < a_hold.end_ns <= waits[1].end_ns <= last_hold.start_ns


def test_lock_held_across_the_start_of_a_recording_records_no_hold():
    lock = traced.Lock()
    lock.acquire()
    with tk.recording() as rec:
        lock.release()
    assert rec.spans == []


def test_queue_waits_only_when_empty_or_full():
    q = traced.Queue(1, name="Q")
    with tk.recording() as rec:
        q.put("a")  # not full: no wait
        assert q.get() == "a"  # not empty: no wait
        with pytest.raises(queue.Empty):
            q.get(timeout=0.01)  # empty: a wait
        with pytest.raises(queue.Empty):
            q.get(block=False)  # non-blocking: no wait
        q.put("b")
        with pytest.raises(queue.Full):
            q.put("c", timeout=0.01)  # full: a wait
        with pytest.raises(queue.Full):
            q.put("c", block=False)  # non-blocking: no wait
        assert q.get() == "b"

        got = []
        consumer = traced.Thread(target=lambda: got.append(q.get()), name="consumer")
        consumer.start()
        blocked_in(consumer, traced.Queue.get)
        q.put("d")  # wakes the consumer
        consumer.join(WAIT)

        q.put("e")
        producer = traced.Thread(target=q.put, args=("f",), name="producer")
        producer.start()
        blocked_in(producer, traced.Queue.put)
        assert q.get() == "e"  # makes room for the producer
        producer.join(WAIT)
        assert q.get() == "f"
    names = lanes_named(rec)
    get_waits = [(names[sp.lane], sp.label) for sp in rec.spans if sp.kind == kinds.QUEUE_GET_WAIT]
    put_waits = [(names[sp.lane], sp.label) for sp in rec.spans if sp.kind == kinds.QUEUE_PUT_WAIT]
    assert get_waits == [("MainThread", "Q"), ("consumer", "Q")]
    assert put_waits == [("MainThread", "Q"), ("producer", "Q")]
    assert got == ["d"]
    puts = [names[ev.lane] for ev in rec.instants if ev.kind == kinds.PUT]
    gets = [names[ev.lane] for ev in rec.instants if ev.kind == kinds.GET]
    assert sorted(puts) == ["MainThread"] * 4 + ["producer"]
    assert sorted(gets) == ["MainThread"] * 4 + ["consumer"]
    consumer_wait = next(sp for sp in rec.spans if sp.kind == kinds.QUEUE_GET_WAIT and names[sp.lane] == "consumer")
    put_d = [ev for ev in rec.instants if ev.kind == kinds.PUT][2]
    consumer_get = next(ev for ev in rec.instants if ev.kind == kinds.GET and names[ev.lane] == "consumer")
    assert consumer_wait.start_ns < put_d.t_ns  # it was waiting before "d" arrived
    assert consumer_get.t_ns <= consumer_wait.end_ns  # and took "d" as its wait ended


def test_queue_join_is_recorded_when_tasks_are_unfinished():
    q = traced.Queue(name="jobs")
    with tk.recording() as rec:
        q.join()  # nothing unfinished: no wait
        q.put(1)
        worker = traced.Thread(target=lambda: (q.get(), q.task_done()))
        helper, failures = release_when_blocked(threading.main_thread(), traced.Queue.join, threading.Event())
        worker_started = threading.Event()

        def start_worker_when_joined():
            helper.join(WAIT)
            worker.start()
            worker_started.set()

        starter = threading.Thread(target=start_worker_when_joined)
        starter.start()
        q.join()
        starter.join(WAIT)
        worker.join(WAIT)
    assert not failures and worker_started.is_set()
    joins = [(sp.lane, sp.label) for sp in rec.spans if sp.kind == kinds.JOIN_WAIT]
    # (worker.join() may also wait, for the thread's last steps after task_done.)
    assert [j for j in joins if j[1] != worker.name] == [(0, "jobs.join")]


def test_event_wait_recorded_only_when_not_set():
    ev = traced.Event(name="go")
    with tk.recording() as rec:
        assert ev.wait(0.01) is False  # not set: a wait
        setter = threading.Thread(target=lambda: (blocked_in(threading.main_thread(), traced.Event.wait), ev.set()))
        setter.start()
        assert ev.wait(WAIT) is True
        setter.join(WAIT)
        assert ev.wait() is True  # set: no wait
    waits = [(sp.lane, sp.label) for sp in rec.spans if sp.kind == kinds.EVENT_WAIT]
    assert waits == [(0, "go"), (0, "go")]
    sets = [ev_ for ev_ in rec.instants if ev_.kind == kinds.EVENT_SET]
    assert len(sets) == 1 and sets[0].lane != 0 and sets[0].label == "go"


def test_callbacks_are_recorded_in_the_lane_of_the_thread_that_ran_them():
    release = threading.Event()

    def on_done(fut):
        pass

    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pool") as pool:
            f = pool.submit(release.wait, WAIT)
            f.add_done_callback(on_done)  # pending: runs in the worker
            release.set()
            f.result(WAIT)
        f.add_done_callback(on_done)  # done: runs here, now

        def by_hand():  # a callback called by hand is shown with tk.span
            with tk.span(kinds.CALLBACK, "by hand"):
                on_done(f)

        t = traced.Thread(target=by_hand, name="caller")
        t.start()
        t.join()
    names = lanes_named(rec)
    callbacks = [(names[sp.lane], sp.label) for sp in rec.spans if sp.kind == kinds.CALLBACK]
    label = on_done.__name__  # nested functions are labelled without "<locals>."
    assert callbacks == [("pool_0", label), ("MainThread", label), ("caller", "by hand")]


def test_a_callback_goes_to_the_recording_active_when_it_was_added():
    f = traced.Future()
    with tk.recording() as rec:
        f.add_done_callback(lambda fut: None)
    f.set_result(1)  # after the recording ended
    assert rec.count(kinds.CALLBACK) == 1


def test_labels_are_text_for_any_callable():
    import functools
    import json

    class Odd:
        def __init__(self):
            self.__qualname__ = None  # names that are not text: the type's name is used
            self.__name__ = 5

        def __call__(self):
            return "odd"

    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            results = [pool.submit(f).result() for f in (functools.partial(pow, 2, 3), Odd(), tk.cpu_task)]
        t = traced.Thread(target=functools.partial(tk.cpu_task, 5))
        t.start()
        t.join()
    assert results == [8, "odd", tk.cpu_task()]
    assert [sp.label for sp in rec.spans if sp.kind == kinds.RUN] == ["partial #1", "Odd #2", "cpu_task #3", "partial"]
    json.dumps(rec.to_chrome_trace())


def test_nothing_is_recorded_outside_a_recording():
    """Every twin used outside a recording; a recording started afterwards sees none of it."""
    lock, q, ev = traced.Lock(), traced.Queue(1), traced.Event()
    release = threading.Event()
    pool = traced.ThreadPoolExecutor(max_workers=2)
    pending = pool.submit(release.wait, WAIT)  # submitted outside, finishes inside
    with lock:
        q.put(1)
        q.get()
        ev.set()
        ev.wait()
    list(traced.as_completed([pool.submit(pow, 2, 2)]))
    traced.wait([pool.submit(pow, 2, 3)])
    t = traced.Thread(target=tk.cpu_task, args=(10,))
    t.start()
    t.join()
    lock.acquire()
    assert tk.current_recording() is None
    with tk.recording() as rec:
        release.set()
        pending.result(WAIT)  # done or not, the task's own events are not recorded
        lock.release()  # acquired outside: no hold recorded
    pool.shutdown()
    assert rec.count(kinds.RUN) == rec.count(kinds.QUEUED) == rec.count(kinds.SUBMIT) == rec.count(kinds.SET_RESULT) == 0
    assert rec.count(kinds.LOCK_HOLD) == 0
    assert {sp.kind for sp in rec.spans} <= {kinds.BLOCKED_RESULT}


# ======================================================= part 3: the GIL
@pytest.mark.skipif(
    hasattr(sys, "_is_gil_enabled") and not sys._is_gil_enabled(), reason="free-threaded build: no GIL"
)
def test_two_cpu_bound_threads_share_one_cpu_under_the_gil():
    barrier = threading.Barrier(2)

    def crunch():
        barrier.wait()
        tk.cpu_task(300_000)

    with tk.recording() as rec:
        threads = [traced.Thread(target=crunch, name=f"cpu-{i}") for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    runs = [sp for sp in rec.spans if sp.kind == kinds.RUN]
    assert len(runs) == 2 and runs[0].lane != runs[1].lane
    a, b = runs
    assert a.start_ns < b.end_ns and b.start_ns < a.end_ns  # they overlap on the wall clock
    assert all(sp.cpu_ns > 0 for sp in runs)
    window = max(a.end_ns, b.end_ns) - min(a.start_ns, b.start_ns)  # where either ran
    # With the GIL at most one of them computes at a time: together they used no
    # more CPU than the wall time they spanned (15% margin for clock granularity).
    assert a.cpu_ns + b.cpu_ns <= 1.15 * window


def burn_cpu(seconds):
    """Busy-loop for ``seconds`` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_pool_task_is_charged_its_own_cpu_time_not_a_callbacks():
    # A pool task reads the CPU clock once, at its end, and subtracts the worker's mark
    # (the end of its previous task or traced callback): a callback's CPU time, spent
    # in the same worker between two tasks, must not be charged to the next task.
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(burn_cpu, 0.05)
            first.add_done_callback(lambda f: burn_cpu(0.08))
            first.result(timeout=10)
            second = pool.submit(time.sleep, 0.02)
            second.result(timeout=10)
    runs = [sp for sp in rec.spans if sp.kind == kinds.RUN]
    assert [sp.label for sp in runs] == ["burn_cpu #1", "sleep #2"]
    assert 0.045e9 <= runs[0].cpu_ns < 0.075e9, runs[0].cpu_ns
    assert runs[1].cpu_ns < 0.01e9, f"the callback's 80 ms were charged to the next task: {runs[1].cpu_ns} ns"
