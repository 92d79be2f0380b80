"""Unit tests for threadkit.lessons.queues: the STOP sentinel, the data of the pipeline-stage check
(check_pipeline itself is tested in tests/test_exercise_03.py)."""

import pytest

import threadkit as tk
from threadkit.lessons import queues as _queues
from threadkit.lessons.queues import STOP


# ----------------------------------------------------------------------- STOP
def test_stop_is_a_unique_sentinel():
    assert _queues.__all__ == ["STOP", "check_pipeline"]
    assert repr(STOP) == "STOP" and STOP is not None and STOP != object()


# ------------------------------------------------------------ the check's data
def test_the_check_data_is_as_documented():
    assert _queues.CHECK_ITEMS == 20 and _queues.CHECK_WORKERS == 4
    assert len(_queues.CHECK_FAILING) == 3


def test_process_counts_calls_and_raises_for_failing_items():
    process = _queues._Process()
    assert process(_queues.ITEM_BASE + 0) == (_queues.ITEM_BASE + 0) ** 2
    with pytest.raises(tk.TaskFailed, match="item 103 failed"):
        process(_queues.ITEM_BASE + 3)
    with pytest.raises(TypeError, match=r"process\(\) takes one item"):
        process((0, 100))
    assert process.calls[0] == 1 and process.calls[3] == 1
    assert process.bad_args == [(0, 100)]
    assert process.max_in_flight == 1
