"""Unit tests for threadkit.lessons.start: the makespan helpers and the CPU-bound verdict,
with the build replaced by fake PythonBuilds to cover branches this machine cannot run."""

import pytest

import threadkit as tk
from threadkit._build import PythonBuild
from threadkit.lessons.start import check_makespan_prediction, cpu_threads_verdict

STANDARD = PythonBuild("3.11.7", free_threaded=False, gil_enabled=True)
FREE_THREADED = PythonBuild("3.14.0", free_threaded=True, gil_enabled=False)
FREE_THREADED_GIL_ON = PythonBuild("3.14.0", free_threaded=True, gil_enabled=True)
MS = 1_000_000


@pytest.mark.parametrize("build", [STANDARD, FREE_THREADED_GIL_ON])
def test_with_the_gil_one_core_is_expected(build):
    took_turns = cpu_threads_verdict(100 * MS, 100 * MS, threads=2, cores=2, build=build)
    assert took_turns.as_expected and "GIL" in took_turns.expected and "1.0 cores" in took_turns.measured
    parallel = cpu_threads_verdict(190 * MS, 100 * MS, threads=2, cores=2, build=build)
    assert not parallel.as_expected
    assert "NOT as expected" in str(parallel) and build.describe() in str(parallel)


def test_without_the_gil_parallel_is_expected_on_two_cores():
    parallel = cpu_threads_verdict(190 * MS, 100 * MS, threads=2, cores=2, build=FREE_THREADED)
    assert parallel.as_expected and "in parallel" in parallel.expected
    took_turns = cpu_threads_verdict(100 * MS, 100 * MS, threads=2, cores=2, build=FREE_THREADED)
    assert not took_turns.as_expected


@pytest.mark.parametrize("threads, cores", [(2, 1), (1, 4)])
def test_without_the_gil_one_core_or_one_thread_still_means_one_core(threads, cores):
    verdict = cpu_threads_verdict(100 * MS, 100 * MS, threads=threads, cores=cores, build=FREE_THREADED)
    assert verdict.as_expected and "only one core or one thread" in verdict.expected
    assert not cpu_threads_verdict(190 * MS, 100 * MS, threads=threads, cores=cores,
                                      build=FREE_THREADED).as_expected


def test_the_running_build_is_used_by_default():
    verdict = cpu_threads_verdict(100 * MS, 100 * MS, threads=2, cores=2)
    assert verdict.build == tk.python_build().describe()


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(cpu_ns=-1), ValueError, "cpu_ns"),
        (dict(wall_ns=0), ValueError, "wall_ns"),
        (dict(cpu_ns="1"), TypeError, "cpu_ns"),
        (dict(threads=0), ValueError, "threads"),
        (dict(cores=1.5), TypeError, "cores"),
        (dict(build=("3.11", False, True)), TypeError, "build"),
    ],
)
def test_cpu_threads_verdict_validates(kwargs, error, words):
    args = dict(cpu_ns=1, wall_ns=1, threads=2, cores=2, build=STANDARD)
    args.update(kwargs)
    with pytest.raises(error, match=words):
        cpu_threads_verdict(args.pop("cpu_ns"), args.pop("wall_ns"), **args)


def test_the_prediction_check_counts_rounds():
    assert "3 rounds" in str(check_makespan_prediction(120, tasks=9, workers=4, delay_ms=40))
