"""Notebook 00 (start here): the makespan-prediction exercise and the CPU-bound threads verdict."""

import math

from .._build import A_BUILD_OR_NONE, BuildVerdict, python_build
from .._checking import CheckPassed, fail, grader
from .._validate import a_number, accepts, an_int
from .._workloads import ideal_makespan_ms

__all__ = ["check_makespan_prediction", "cpu_threads_verdict"]

#: How far (as a fraction) a prediction may be from the ideal makespan and still count.
PREDICTION_TOLERANCE = 0.1
#: CPU time over wall time up to this counts as one core (timer and accounting noise).
ONE_CORE_MAX = 1.2
#: Without the GIL, 2+ CPU-bound threads on 2+ cores should use more cores than this together.
PARALLEL_MIN = 1.2


@grader
@accepts(tasks=an_int(0), workers=an_int(1), delay_ms=a_number(0))
def check_makespan_prediction(predicted_ms, *, tasks, workers, delay_ms):
    """Check a predicted makespan (ms) against :func:`ideal_makespan_ms`; within 10 % passes.

    Raises:
        ExerciseError: not a number of milliseconds >= 0, or more than 10 % off (saying what it counted).
        TypeError, ValueError: the scenario arguments are invalid.
    """
    ideal, rounds, left = ideal_makespan_ms(tasks, workers, delay_ms), math.ceil(tasks / workers), tasks % workers
    hint = (f"{workers} workers run at most {workers} tasks at the same time; "
            f"how many rounds do {tasks} tasks need, and how long is one round?")
    try:
        value = a_number(0)("predicted_ms", predicted_ms)
    except (TypeError, ValueError):
        fail(f"predicted_ms should be a number of milliseconds, 0 or more, got {predicted_ms!r}.", hint)
    if abs(value - ideal) <= PREDICTION_TOLERANCE * max(ideal, 1):
        return CheckPassed(f"Correct: ceil({tasks} / {workers}) = {rounds} rounds x {delay_ms:g} ms "
                           f"= {ideal:g} ms (plus a few ms of overhead in a real run).")
    mistakes = [  # what a wrong answer most likely counted; the first match wins
        (value * 1000, ideal, "That is the right answer in seconds: predicted_ms is in milliseconds."),
        (value, tasks * delay_ms,
         "That is the sequential time, one task after another: the workers run tasks at the same time."),
        (value, delay_ms if rounds > 1 else None, f"That is one round: {workers} workers run only {workers} tasks "
         f"at a time, so {tasks} tasks do not fit in one round."),
        (value, (tasks // workers) * delay_ms if left else None,
         f"That counts the full rounds only: the {left} task(s) left over need a round of their own."),
        (value, tasks / workers * delay_ms if left else None,
         "That splits the work evenly, as if a task could be shared by several workers: "
         "each task runs whole on one worker, so the last round lasts a full task."),
    ]
    problems = [f"{value:g} ms is not what {workers} workers need for {tasks} tasks of {delay_ms:g} ms."]
    problems += [why for got, counted, why in mistakes
                 if counted is not None and abs(got - counted) <= max(0.01 * counted, 0.5)][:1]
    fail(problems, hint)


@accepts(cpu_ns=a_number(0), wall_ns=a_number(1), threads=an_int(1), cores=an_int(1), build=A_BUILD_OR_NONE)
def cpu_threads_verdict(cpu_ns, wall_ns, *, threads, cores, build=None):
    """A :class:`BuildVerdict`: did CPU-bound threads use (``cpu_ns / wall_ns``) the cores ``build`` allows?

    With the GIL on, about 1 core (up to ``ONE_CORE_MAX``); with it off (free-threaded build, PEP 703),
    2+ threads on 2+ cores should use more than ``PARALLEL_MIN``. ``build`` None: the running one.
    """
    build = build or python_build()
    used, parallel = cpu_ns / wall_ns, build.threads_run_python_in_parallel
    in_parallel = parallel and min(threads, cores) >= 2
    if in_parallel:
        expected = f"more than {PARALLEL_MIN:g} cores: without the GIL threads run Python in parallel"
    elif parallel:
        expected = "at most about 1 core: no GIL, but only one core or one thread"
    else:
        expected = "at most about 1 core: the GIL lets one thread run Python at a time"
    agree = used > PARALLEL_MIN if in_parallel else used <= ONE_CORE_MAX
    return BuildVerdict(build.describe(), expected, f"{threads} threads used {used:.1f} cores together", agree)
