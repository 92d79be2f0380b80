"""Unit tests for threadkit._queues: the STOP sentinel, the data of the pipeline-stage check
(check_pipeline itself is tested in tests/test_exercise_03.py) and the hand-off round trip."""

import copy
import pickle
import queue
import threading
import time

import pytest

import threadkit as tk
from threadkit import _queues
from threadkit._queues import STOP

T = 5  # seconds: the timeout of every blocking call in these tests


# ----------------------------------------------------------------------- STOP
def test_stop_is_a_unique_exported_sentinel():
    assert tk.STOP is STOP
    assert "STOP" in tk.__all__ and "check_pipeline" in tk.__all__
    assert repr(STOP) == "STOP"
    assert type(STOP)() is STOP
    assert copy.copy(STOP) is STOP and copy.deepcopy([STOP])[0] is STOP
    assert pickle.loads(pickle.dumps(STOP)) is STOP
    assert STOP is not None and STOP != object()


# ------------------------------------------------------------ the check's data
def test_the_check_data_is_as_documented():
    assert _queues.CHECK_ITEMS == 20 and _queues.CHECK_WORKERS == 4
    assert len(_queues.CHECK_FAILING) == 3
    delays = [_queues._delay_s(i) for i in range(_queues.CHECK_ITEMS)]
    assert min(delays) >= 0.005 and max(delays) <= 0.015
    assert delays != sorted(delays)  # completion order differs from input order


def test_process_counts_calls_and_raises_for_failing_items():
    process = _queues._Process(_queues.CHECK_FAILING)
    assert process(_queues.ITEM_BASE + 0) == (_queues.ITEM_BASE + 0) ** 2
    with pytest.raises(tk.TaskFailed, match="item 103 failed"):
        process(_queues.ITEM_BASE + 3)
    with pytest.raises(TypeError, match=r"process\(\) takes one item"):
        process((0, 100))
    assert process.calls[0] == 1 and process.calls[3] == 1
    assert process.bad_args == [(0, 100)]
    assert process.max_in_flight == 1


# ------------------------------------------------------------ hand-off cost
@pytest.mark.parametrize("kind", tk.ROUND_TRIP_KINDS)
def test_handoff_round_trip_returns_a_positive_time_and_leaves_no_thread(kind):
    before = set(threading.enumerate())
    us = tk.handoff_round_trip_us(kind, rounds=50, repeats=2)
    assert isinstance(us, float) and 0 < us < 1e6
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []


def test_handoff_kinds_are_exported_and_documented():
    assert tk.ROUND_TRIP_KINDS == ("Queue", "SimpleQueue", "Future")
    assert "handoff_round_trip_us" in tk.__all__ and "ROUND_TRIP_KINDS" in tk.__all__
    doc = tk.handoff_round_trip_us.__doc__
    assert "Args:" in doc and "Returns:" in doc and "Raises:" in doc


def test_the_echo_thread_really_is_another_thread(monkeypatch):
    seen = []
    real_loop = _queues._echo_loop

    def spying_loop(inbox, outbox, timeout):
        seen.append(threading.current_thread())
        real_loop(inbox, outbox, timeout)

    monkeypatch.setattr(_queues, "_echo_loop", spying_loop)
    tk.handoff_round_trip_us("SimpleQueue", rounds=5, repeats=1)
    assert len(seen) == 1 and seen[0] is not threading.current_thread()
    assert seen[0].name.startswith(_queues.ECHO_THREAD_PREFIX)


def test_a_wrong_echo_is_caught(monkeypatch):
    def lying_loop(inbox, outbox, timeout):
        while (item := inbox.get(timeout=timeout)) is not STOP:
            outbox.put(0)

    monkeypatch.setattr(_queues, "_echo_loop", lying_loop)
    with pytest.raises(AssertionError, match="round 1: the echo thread sent back a different item"):
        tk.handoff_round_trip_us("Queue", rounds=5, repeats=1)


def test_a_silent_echo_times_out_instead_of_hanging(monkeypatch):
    def silent_loop(inbox, outbox, timeout):
        while inbox.get(timeout=T) is not STOP:  # takes items, never answers
            pass

    monkeypatch.setattr(_queues, "_echo_loop", silent_loop)
    start = time.perf_counter()
    with pytest.raises(queue.Empty):
        tk.handoff_round_trip_us("SimpleQueue", rounds=5, repeats=1, timeout=0.2)
    assert time.perf_counter() - start < 3


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"kind": "deque"}, ValueError, r"kind must be one of 'Queue', 'SimpleQueue', 'Future'; got 'deque'"),
        ({"kind": queue.Queue}, TypeError, r"kind must be a str, got <class 'queue.Queue'>"),
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
