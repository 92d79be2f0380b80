"""Workloads have known, documented shapes: values, failures, reproducible plans."""

import threading

import pytest

import threadkit as tk
from threadkit import _workloads


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
