"""The exercise of 00_start_here: predict the makespan of 9 tasks of 40 ms on 4 workers.

The grader (check_makespan_prediction) passes the solution file, refuses the starting
code (predicted_ms = None) and typical wrong predictions, each with the explanation that
fits what the learner most likely counted.
"""

import json
import math

import numpy as np
import pytest

from threadkit.lessons.start import check_makespan_prediction
from exercise_support import NOTEBOOKS, assert_refused, exercise_cell, solution, stub

SCENARIO = dict(tasks=9, workers=4, delay_ms=40)


def test_the_notebook_checks_the_scenario_tested_here():
    index, _, _ = exercise_cell("00")
    cells = json.loads(next(NOTEBOOKS.glob("00*.ipynb")).read_text(encoding="utf-8"))["cells"]
    check = "".join(cells[index + 1]["source"])
    assert "check_makespan_prediction(predicted_ms, tasks=9, workers=4, delay_ms=40)" in check


def test_the_solution_passes():
    passed = check_makespan_prediction(solution("00")["predicted_ms"], **SCENARIO)
    assert "3 rounds" in passed and "120 ms" in passed


@pytest.mark.parametrize("close_enough", [120, 120.0, 125, 131, np.int64(120), np.float64(120.0)])
def test_predictions_within_ten_percent_pass(close_enough):
    assert "Correct" in check_makespan_prediction(close_enough, **SCENARIO)


def test_the_starting_code_is_refused():
    assert stub("00", "predicted_ms") is None
    assert_refused(check_makespan_prediction, stub("00", "predicted_ms"),
                   "a number of milliseconds, 0 or more, got None", "rounds", **SCENARIO)


@pytest.mark.parametrize(
    "wrong, phrases",
    [
        (360, ["360 ms is not what 4 workers need", "sequential time"]),    # 9 x 40: no threads at all
        (40, ["That is one round", "do not fit in one round"]),             # all 9 tasks at once
        (80, ["full rounds only", "1 task(s) left over"]),                  # 9 // 4 = 2 rounds
        (90, ["splits the work evenly", "runs whole on one worker"]),       # 9 / 4 x 40
        (0.12, ["in seconds"]),                                             # the right answer, in s
    ],
)
def test_typical_wrong_answers_are_refused_with_their_explanation(wrong, phrases):
    message = assert_refused(check_makespan_prediction, wrong, *phrases, **SCENARIO)
    assert "Hint: 4 workers run at most 4 tasks at the same time" in message


def test_a_wrong_answer_nobody_anticipated_still_gets_the_hint():
    message = assert_refused(check_makespan_prediction, 200, "200 ms is not what", **SCENARIO)
    assert message.count("\n  - ") == 1 and "Hint:" in message


@pytest.mark.parametrize("not_a_prediction", ["120", [120], True, math.nan, math.inf, -120])
def test_what_is_not_a_number_of_milliseconds_is_refused_not_crashed(not_a_prediction):
    assert_refused(check_makespan_prediction, not_a_prediction, "predicted_ms should be a number", **SCENARIO)


def test_explanations_fit_other_scenarios():
    # 8 tasks on 4 workers: no leftover, so no leftover or even-split explanation
    assert "Correct" in check_makespan_prediction(80, tasks=8, workers=4, delay_ms=40)
    assert "left over" not in assert_refused(check_makespan_prediction, 40, "one round",
                                             tasks=8, workers=4, delay_ms=40)
    # one worker: the sequential time is right
    assert "Correct" in check_makespan_prediction(360, tasks=9, workers=1, delay_ms=40)
    # more workers than tasks: one round is right
    assert "Correct" in check_makespan_prediction(40, tasks=3, workers=4, delay_ms=40)


@pytest.mark.parametrize(
    "scenario, error, words",
    [
        (dict(tasks=-1), ValueError, "tasks"),
        (dict(tasks=9.0), TypeError, "tasks"),
        (dict(workers=0), ValueError, "workers"),
        (dict(delay_ms="40"), TypeError, "delay_ms"),
        (dict(delay_ms=math.nan), ValueError, "delay_ms"),
    ],
)
def test_the_grader_validates_the_scenario(scenario, error, words):
    with pytest.raises(error, match=words):
        check_makespan_prediction(120, **{**SCENARIO, **scenario})
