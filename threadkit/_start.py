"""Lesson helpers for notebook 00 (start here): the makespan-prediction exercise."""

import math

from ._checking import CheckPassed, fail
from ._validate import check_int, check_number

__all__ = ["ideal_makespan_ms", "check_makespan_prediction"]

#: How far (as a fraction) a prediction may be from the ideal makespan and still count.
PREDICTION_TOLERANCE = 0.1


def ideal_makespan_ms(tasks, workers, delay_ms):
    """Makespan of ``tasks`` equal I/O tasks of ``delay_ms`` on ``workers`` threads.

    The pool runs the tasks in ``ceil(tasks / workers)`` rounds, each as long as
    one task, so the ideal is ``ceil(tasks / workers) * delay_ms`` (real runs add
    a few milliseconds of start-up and hand-off).

    Args:
        tasks: number of tasks, >= 0.
        workers: number of worker threads, >= 1.
        delay_ms: duration of one task in milliseconds, >= 0.

    Returns:
        float: the ideal makespan in milliseconds.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range.
    """
    tasks = check_int("tasks", tasks, minimum=0)
    workers = check_int("workers", workers, minimum=1)
    delay_ms = check_number("delay_ms", delay_ms, minimum=0)
    return math.ceil(tasks / workers) * delay_ms


def check_makespan_prediction(predicted_ms, *, tasks, workers, delay_ms):
    """Check a predicted makespan (in ms) against the ideal one.

    Args:
        predicted_ms: the learner's prediction, a number of milliseconds.
        tasks, workers, delay_ms: the scenario, as for :func:`ideal_makespan_ms`.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: the prediction is missing or more than 10 % off, with a hint.
        TypeError, ValueError: the scenario arguments are invalid.
    """
    ideal = ideal_makespan_ms(tasks, workers, delay_ms)
    if predicted_ms is None or isinstance(predicted_ms, bool) or not isinstance(predicted_ms, (int, float)):
        fail([f"predicted_ms should be a number of milliseconds, got {predicted_ms!r}."],
             "count how many rounds of tasks the workers need.")
    sequential = tasks * delay_ms
    if abs(predicted_ms - ideal) > PREDICTION_TOLERANCE * max(ideal, 1):
        problems = [f"{predicted_ms:g} ms is not what {workers} workers need for {tasks} tasks of {delay_ms:g} ms."]
        if abs(predicted_ms - sequential) <= PREDICTION_TOLERANCE * max(sequential, 1):
            problems.append("That is the sequential time: the workers run tasks at the same time.")
        fail(problems, f"{workers} workers finish {workers} tasks per round; how many rounds are there?")
    return CheckPassed(
        f"Correct: ceil({tasks} / {workers}) = {math.ceil(tasks / workers)} rounds x {delay_ms:g} ms "
        f"= {ideal:g} ms (plus a few ms of overhead in a real run)."
    )
