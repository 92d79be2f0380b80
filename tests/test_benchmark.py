"""benchmarks/recorder_overhead.py still runs: a shrunken run prints every figure.

This checks that the script works, never how fast anything is: the ratios depend on the
machine and its load, so the goals are judged by running the script itself (README).
"""

import importlib.util
import os
import re
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "recorder_overhead.py"


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("recorder_overhead", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Same code paths, a thousandth of the work.
    monkeypatch.setattr(module, "SPANS_PER_REP", 100)
    monkeypatch.setattr(module, "SPAN_REPS", 3)
    monkeypatch.setattr(module, "THREADS", 2)
    monkeypatch.setattr(module, "TASKS_PER_THREAD", 5)
    monkeypatch.setattr(module, "WORKLOAD_REPS", 2)
    monkeypatch.setattr(module, "WORKLOAD_MAX_REPS", 2)
    monkeypatch.setattr(module, "WORKLOAD_QUIET_ROUNDS", 1)
    monkeypatch.setattr(module, "WORKLOAD_PROCESSES", 2)
    monkeypatch.setattr(module, "ROUND_TRIPS", 20)
    monkeypatch.setattr(module, "ROUND_TRIP_REPS", 2)
    return module


def test_a_shrunken_run_prints_both_goal_lines_every_workload_and_the_round_trip(bench, capsys):
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    status = bench.main()
    out = capsys.readouterr().out
    assert status in (0, 1)
    verdicts = re.findall(r"^(PASS|FAIL) \((a|b)\) .* = \d+\.\d\dx \(goal <= \d\.\d\dx\)$", out, re.M)
    assert [part for _, part in verdicts] == ["a", "b"]
    assert status == (0 if all(v == "PASS" for v, _ in verdicts) else 1)
    assert re.search(r"\[goal\]: median of the 2 processes' ratios: \d+\.\d\dx", out)
    assert len(re.findall(r"^    process \d: not recorded .* best of 2 runs per mode", out, re.M)) == 2
    assert out.count("recorded (") >= 2  # the goal workload and the tiny-task one
    assert "cpu_task(200) alone takes" in out
    assert re.search(r"^INFO \(c\) recorded future round trip / not recorded = \d+\.\d\dx \(no goal\)$", out, re.M)
    assert re.search(r"not recorded \d+\.\d us, recorded \(with its hand-off link\) \d+\.\d us", out)
    if allowed is not None:
        assert os.sched_getaffinity(0) == allowed  # pinning was undone


def test_pinning_restores_the_cpus_even_after_an_error(bench):
    if not hasattr(os, "sched_setaffinity"):
        with bench.pinned_to_one_cpu() as cpu:
            assert cpu is None
        return
    allowed = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError):
        with bench.pinned_to_one_cpu() as cpu:
            if cpu is not None:
                assert os.sched_getaffinity(0) == {cpu}
            raise RuntimeError("inside")
    assert os.sched_getaffinity(0) == allowed
