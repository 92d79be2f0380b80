"""Workloads have known, documented shapes: values, failures, reproducible plans."""

import queue
import threading
import time

import pytest

import threadkit as tk
from threadkit import _workloads

T = 5  # seconds: the timeout of every blocking call in these tests


def test_io_task_returns_the_delay_or_the_value():
    assert tk.io_task(0) == 0.0 and isinstance(tk.io_task(0), float)
    assert tk.io_task(0.001) == 0.001
    assert tk.io_task(0, value="v") == "v"
    assert tk.io_task(delay=0, value=0) == 0  # a falsy value is still returned
    assert tk.io_task(1e-4, value=None) == 1e-4
    assert tk.io_task(0, [1]) == [1]


def test_io_task_releases_the_gil_so_others_run_meanwhile():
    """While one thread sleeps in io_task, another thread completes work."""
    other_done = threading.Event()

    def other():
        tk.cpu_task(1000)
        other_done.set()

    def sleeper():
        t = threading.Thread(target=other)
        t.start()
        tk.io_task(0.2)  # the other thread needs far less than this, once it may run
        was_done = other_done.is_set()
        t.join()
        return was_done

    results = [sleeper() for _ in range(3)]
    assert any(results)  # robust under load: at least one of three runs shows it


def test_cpu_task_values():
    assert tk.cpu_task(0) == 0
    assert tk.cpu_task(1) == 0
    assert tk.cpu_task(10) == 285
    for n in (2, 7, 1000, 5000):
        assert tk.cpu_task(n) == sum(i * i for i in range(n)) % 1_000_003
    assert tk.cpu_task(n=3) == 5
    assert isinstance(tk.cpu_task(100), int)


def test_cpu_task_result_depends_only_on_n():
    assert len({tk.cpu_task(20_000) for _ in range(3)}) == 1
    assert tk.cpu_task() == tk.cpu_task(200_000)


def test_flaky_task_returns_or_fails_on_demand():
    assert tk.flaky_task(7) == 7
    assert tk.flaky_task("x", fail=False, delay=0.001) == "x"
    obj = object()
    assert tk.flaky_task(obj) is obj
    with pytest.raises(tk.TaskFailed) as info:
        tk.flaky_task(3, fail=True)
    assert str(info.value) == "task 3 failed"
    with pytest.raises(tk.TaskFailed, match=r"^task 'job' failed$"):
        tk.flaky_task("job", True, 0)
    assert issubclass(tk.TaskFailed, Exception) and not issubclass(tk.TaskFailed, (ValueError, RuntimeError))


def test_failure_plan_size_and_range():
    for tasks, rate in [(10, 0.3), (7, 0.5), (100, 0.05), (3, 1.0), (5, 0.0), (0, 0.5), (1, 0.49), (1, 0.51)]:
        plan = tk.failure_plan(tasks, rate)
        assert isinstance(plan, frozenset)
        assert len(plan) == round(tasks * rate)
        assert all(isinstance(i, int) and 0 <= i < tasks for i in plan)
    assert tk.failure_plan(4, 1.0) == frozenset(range(4))
    assert tk.failure_plan(4, 0) == frozenset()


def test_failure_plan_is_reproducible():
    assert tk.failure_plan(20, 0.25) == tk.failure_plan(20, 0.25)
    assert tk.failure_plan(20, 0.25, seed=5) == tk.failure_plan(tasks=20, rate=0.25, seed=5)
    plans = {tk.failure_plan(20, 0.25, seed=s) for s in range(10)}
    assert len(plans) > 1  # the seed chooses which tasks fail
    # Reproducible across calls made from other threads too (no shared random state).
    results = []
    threads = [threading.Thread(target=lambda: results.append(tk.failure_plan(50, 0.2, seed=3))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0] == tk.failure_plan(50, 0.2, seed=3)


def test_failure_plan_drives_flaky_task():
    plan = tk.failure_plan(10, 0.3, seed=1)
    outcomes = []
    for i in range(10):
        try:
            outcomes.append(tk.flaky_task(i, fail=i in plan))
        except tk.TaskFailed:
            outcomes.append("failed")
    assert outcomes.count("failed") == 3
    assert [i for i, o in enumerate(outcomes) if o == "failed"] == sorted(plan)


def test_documented_limits():
    assert _workloads.MAX_DELAY == 60.0
    assert tk.io_task(0.0) == 0.0
    with pytest.raises(ValueError):
        tk.io_task(_workloads.MAX_DELAY + 0.001)
    with pytest.raises(ValueError):
        tk.cpu_task(_workloads.MAX_CPU_ITERATIONS + 1)


# ------------------------------------------------------------ hand-off cost
@pytest.mark.parametrize("kind", ["Queue", "SimpleQueue", "Future", "Thread"])
def test_handoff_round_trip_returns_a_positive_time_and_leaves_no_thread(kind):
    before = set(threading.enumerate())
    us = tk.handoff_round_trip_us(kind, rounds=50, repeats=2)
    assert isinstance(us, float) and 0 < us < 1e6
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []


def test_a_thread_per_round_trip_starts_a_new_thread_each_time(monkeypatch):
    started = []
    real_start = threading.Thread.start

    def counting_start(thread):
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    tk.handoff_round_trip_us("Thread", rounds=7, repeats=2)
    assert started == [_workloads.ECHO_THREAD_PREFIX] * 2 * (1 + 7)  # a warm-up and 7 rounds, twice


def test_the_echo_thread_really_is_another_thread(monkeypatch):
    seen = []
    real_loop = _workloads._echo_loop

    def spying_loop(inbox, outbox, timeout):
        seen.append(threading.current_thread())
        real_loop(inbox, outbox, timeout)

    monkeypatch.setattr(_workloads, "_echo_loop", spying_loop)
    tk.handoff_round_trip_us("SimpleQueue", rounds=5, repeats=1)
    assert len(seen) == 1 and seen[0] is not threading.current_thread()
    assert seen[0].name.startswith(_workloads.ECHO_THREAD_PREFIX)


def test_a_wrong_echo_is_caught(monkeypatch):
    def lying_loop(inbox, outbox, timeout):
        while (item := inbox.get(timeout=timeout)) is not _workloads._STOP:
            outbox.put(0)

    monkeypatch.setattr(_workloads, "_echo_loop", lying_loop)
    with pytest.raises(AssertionError, match="round 1: Queue handed back a different item"):
        tk.handoff_round_trip_us("Queue", rounds=5, repeats=1)


def test_a_silent_echo_times_out_instead_of_hanging(monkeypatch):
    def silent_loop(inbox, outbox, timeout):
        while inbox.get(timeout=T) is not _workloads._STOP:  # takes items, never answers
            pass

    monkeypatch.setattr(_workloads, "_echo_loop", silent_loop)
    start = time.perf_counter()
    with pytest.raises(queue.Empty):
        tk.handoff_round_trip_us("SimpleQueue", rounds=5, repeats=1, timeout=0.2)
    assert time.perf_counter() - start < 3


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"kind": "deque"}, ValueError, r"kind must be one of 'Queue', 'SimpleQueue', 'Future', 'Thread', got 'deque'"),
        ({"kind": queue.Queue}, ValueError, r"kind must be one of .*, got <class 'queue.Queue'>"),
        ({"kind": "Queue", "rounds": 0}, ValueError, r"rounds must be an int from 1 to 1000000, got 0"),
        ({"kind": "Queue", "rounds": 2.5}, TypeError, r"rounds must be an int from 1 to 1000000, got 2.5"),
        ({"kind": "Queue", "repeats": 101}, ValueError, r"repeats must be an int from 1 to 100, got 101"),
        ({"kind": "Queue", "repeats": True}, TypeError, r"repeats must be an int"),
        ({"kind": "Queue", "timeout": 0}, ValueError, r"timeout must be a finite number from 0.001 to 600"),
        ({"kind": "Queue", "timeout": "1"}, TypeError, r"timeout must be a number"),
    ],
)
def test_handoff_round_trip_validates_its_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        tk.handoff_round_trip_us(**kwargs)


def test_handoff_round_trip_options_are_keyword_only():
    with pytest.raises(TypeError):
        tk.handoff_round_trip_us("Queue", 10, 2)


def test_ideal_makespan_is_rounds_times_the_delay():
    assert tk.ideal_makespan_ms(9, 4, 40) == 120
    assert tk.ideal_makespan_ms(0, 1, 40) == 0
