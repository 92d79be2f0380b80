"""Lesson helpers for notebook 00 (start here).

* :func:`ideal_makespan_ms` and :func:`check_makespan_prediction`: the
  makespan-prediction exercise;
* :func:`cpu_threads_verdict`: what CPU-bound threads should do on the build
  the notebook runs on (take turns under the GIL, or run in parallel on a
  free-threaded build with the GIL off), compared with what they did.
"""

import math
import numbers

from .._build import BuildVerdict, check_build
from .._checking import CheckPassed, fail, grader
from .._validate import check_int, check_number
from .._workloads import ideal_makespan_ms

__all__ = ["check_makespan_prediction", "cpu_threads_verdict"]


#: How far (as a fraction) a prediction may be from the ideal makespan and still count.
PREDICTION_TOLERANCE = 0.1
#: CPU-bound threads under a GIL use at most one core; CPU time over wall time may
#: still read a little above 1.0 (timer and accounting noise), so up to this counts as one core.
ONE_CORE_MAX = 1.2
#: On a free-threaded build with the GIL off, CPU-bound threads on 2+ cores should use
#: more than this many cores together (documented, not measurable on the course's machine).
PARALLEL_MIN = 1.2


@grader
def check_makespan_prediction(predicted_ms, *, tasks, workers, delay_ms):
    """Check a predicted makespan (in ms) against the ideal one.

    A prediction within 10 % of the ideal passes.  A wrong one is refused with
    what it most likely counted instead: the right time in seconds, the
    sequential time, one round only, the full rounds without the leftover
    tasks, or an even split as if a task could run on several workers.

    Args:
        predicted_ms: the learner's prediction, a number of milliseconds.
        tasks, workers, delay_ms: the scenario, as for :func:`ideal_makespan_ms`.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: the prediction is missing, not a finite number of
            milliseconds (0 or more), or more than 10 % off; with a hint.
        TypeError, ValueError: the scenario arguments are invalid.
    """
    ideal = ideal_makespan_ms(tasks, workers, delay_ms)
    delay_ms = float(delay_ms)
    rounds = math.ceil(tasks / workers)
    hint = (f"{workers} workers run at most {workers} tasks at the same time; "
            f"how many rounds do {tasks} tasks need, and how long is one round?")
    if isinstance(predicted_ms, bool) or not isinstance(predicted_ms, numbers.Real):
        fail([f"predicted_ms should be a number of milliseconds, got {predicted_ms!r}."], hint)
    value = float(predicted_ms)
    if not math.isfinite(value) or value < 0:
        fail([f"predicted_ms should be a number of milliseconds, 0 or more, got {predicted_ms!r}."], hint)
    if abs(value - ideal) <= PREDICTION_TOLERANCE * max(ideal, 1):
        return CheckPassed(
            f"Correct: ceil({tasks} / {workers}) = {rounds} rounds x {delay_ms:g} ms "
            f"= {ideal:g} ms (plus a few ms of overhead in a real run)."
        )
    left = tasks % workers
    # what a wrong answer most likely counted, first match wins
    mistakes = [
        (value * 1000, ideal, "That is the right answer in seconds: predicted_ms is in milliseconds."),
        (value, tasks * delay_ms,
         "That is the sequential time, one task after another: the workers run tasks at the same time."),
        (value, delay_ms if rounds > 1 else None,
         f"That is one round: {workers} workers run only {workers} tasks at a time, "
         f"so {tasks} tasks do not fit in one round."),
        (value, (tasks // workers) * delay_ms if left else None,
         f"That counts the full rounds only: the {left} task(s) left over need a round of their own."),
        (value, tasks / workers * delay_ms if left else None,
         "That splits the work evenly, as if a task could be shared by several workers: "
         "each task runs whole on one worker, so the last round lasts a full task."),
    ]
    problems = [f"{value:g} ms is not what {workers} workers need for {tasks} tasks of {delay_ms:g} ms."]
    problems += [why for got, counted, why in mistakes if counted is not None and _same(got, counted)][:1]
    fail(problems, hint)


def _same(got, counted):
    """Whether a prediction equals a wrong count (up to rounding: 1 %, at least 0.5 ms)."""
    return abs(got - counted) <= max(0.01 * counted, 0.5)


def cpu_threads_verdict(cpu_ns, wall_ns, *, threads, cores, build=None):
    """Judge CPU-bound threads: did they use the cores this build allows?

    ``cpu_ns / wall_ns`` is the number of cores the threads used together.
    With the GIL on (every standard build) only one thread runs Python at a
    time, so it stays at about 1 (up to ``ONE_CORE_MAX``).  On a free-threaded
    build with the GIL off, threads run Python in parallel (documented; PEP 703,
    PEP 779), so with 2+ threads on 2+ cores it should exceed ``PARALLEL_MIN``.

    Args:
        cpu_ns: CPU time all the threads used together, in ns (>= 0).
        wall_ns: wall time from the first thread's start to the last one's end, in ns (> 0).
        threads: how many threads computed (>= 1).
        cores: how many cores the process may use (>= 1).
        build: the :class:`PythonBuild` to judge for; None: the running one.

    Returns:
        BuildVerdict: expected versus measured; ``as_expected`` says whether they agree.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range.
    """
    cpu_ns = check_number("cpu_ns", cpu_ns, minimum=0)
    wall_ns = check_number("wall_ns", wall_ns, minimum=1)
    threads = check_int("threads", threads, minimum=1)
    cores = check_int("cores", cores, minimum=1)
    build = check_build(build)
    used = cpu_ns / wall_ns
    measured = f"{threads} threads used {used:.1f} cores together"
    if build.threads_run_python_in_parallel and min(threads, cores) >= 2:
        expected = f"more than {PARALLEL_MIN:g} cores: without the GIL threads run Python in parallel"
        return BuildVerdict(build.describe(), expected, measured, used > PARALLEL_MIN)
    if build.threads_run_python_in_parallel:
        expected = "at most about 1 core: no GIL, but only one core or one thread"
    else:
        expected = "at most about 1 core: the GIL lets one thread run Python at a time"
    return BuildVerdict(build.describe(), expected, measured, used <= ONE_CORE_MAX)
