"""Unit tests for threadkit._queues: the STOP sentinel and the pipeline-stage exercise check."""

import copy
import pickle
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import threadkit as tk
from threadkit import _queues
from threadkit._queues import STOP, check_pipeline

T = 5  # seconds: the timeout of every blocking call in these implementations


# ------------------------------------------------------- right implementations
def right(inbox, outbox, process, workers):
    """Each worker passes the one STOP on to the next."""

    def work():
        while True:
            pair = inbox.get(timeout=T)
            if pair is STOP:
                inbox.put(STOP)
                return
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc
            outbox.put((index, result))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(T)
    outbox.put(STOP)


def right_dispatcher(inbox, outbox, process, workers):
    """The caller reads the inbox and hands pairs to workers, one sentinel per worker."""
    jobs = queue.Queue()

    def work():
        while (pair := jobs.get(timeout=T)) is not None:
            index, item = pair
            try:
                outbox.put((index, process(item)))
            except Exception as exc:
                outbox.put((index, exc))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    while (pair := inbox.get(timeout=T)) is not STOP:
        jobs.put(pair)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join(T)
    outbox.put(STOP)


def right_pool(inbox, outbox, process, workers):
    """A pool of `workers` long-running loops."""

    def work():
        while (pair := inbox.get(timeout=T)) is not STOP:
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc
            outbox.put((index, result))
        inbox.put(STOP)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in range(workers):
            pool.submit(work)
    outbox.put(STOP)


# ------------------------------------------------------- wrong implementations
def make_stage(*, on_error="exc", repeat=1, repass_stop=True, final_stops=1, join=True,
               threads_per="worker", stop_at_empty=False, pass_pair=False):
    """A family of stages, right by default, each keyword breaking one part of the contract."""

    def handle(index, item):
        for _ in range(repeat):
            try:
                result = process_ref[0](pair_or_item(index, item))
            except Exception as exc:
                if on_error == "skip":  # swallowed: logged, say, but never passed on
                    continue
                result = {"exc": exc, "none": None, "text": str(exc), "new": RuntimeError(str(exc))}[on_error]
            outbox_ref[0].put((index, result))

    def pair_or_item(index, item):
        return (index, item) if pass_pair else item

    def work(inbox):
        while True:
            if stop_at_empty:
                try:
                    pair = inbox.get_nowait()
                except queue.Empty:
                    return
            else:
                pair = inbox.get(timeout=T)
            if pair is STOP:
                if repass_stop:
                    inbox.put(STOP)
                return
            handle(*pair)

    process_ref, outbox_ref = [None], [None]

    def run_stage(inbox, outbox, process, workers):
        process_ref[0], outbox_ref[0] = process, outbox
        if threads_per == "item":
            threads = []
            while (pair := inbox.get(timeout=T)) is not STOP:
                t = threading.Thread(target=handle, args=pair)
                t.start()
                threads.append(t)
        else:
            threads = [threading.Thread(target=work, args=(inbox,)) for _ in range(workers)]
            for t in threads:
                t.start()
        if join:
            for t in threads:
                t.join(T if join is True else join)
        for _ in range(final_stops):
            outbox.put(STOP)

    return run_stage


def stub(inbox, outbox, process, workers):
    raise NotImplementedError


def sequential(inbox, outbox, process, workers):
    while (pair := inbox.get(timeout=T)) is not STOP:
        index, item = pair
        try:
            outbox.put((index, process(item)))
        except Exception as exc:
            outbox.put((index, exc))
    outbox.put(STOP)


def one_worker(inbox, outbox, process, workers):
    return right(inbox, outbox, process, 1)


def hangs_one_stop_per_worker(inbox, outbox, process, workers):
    """The classic bug: each worker waits for its own STOP, but the inbox holds one."""

    def work():
        while True:
            pair = inbox.get()  # no timeout: waits forever for a STOP that never comes
            if pair is STOP:
                return
            index, item = pair
            try:
                outbox.put((index, process(item)))
            except Exception as exc:
                outbox.put((index, exc))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outbox.put(STOP)


def leaves_threads(inbox, outbox, process, workers):
    """Right results, but the join gives up early and idle workers keep waiting on the inbox."""
    make_stage(repass_stop=False, join=0.4)(inbox, outbox, process, workers)


def returns_before_join(inbox, outbox, process, workers):
    """Starts right workers, then returns at once: no join, no STOP on the outbox."""
    make_stage(join=False, final_stops=0)(inbox, outbox, process, workers)


def result_after_stop(inbox, outbox, process, workers):
    def work():
        while (pair := inbox.get(timeout=T)) is not STOP:
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc
            if index == 0:
                outbox.put(STOP)  # too early
            outbox.put((index, result))
        inbox.put(STOP)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(T)


def wrong_shape(inbox, outbox, process, workers):
    def work():
        while (pair := inbox.get(timeout=T)) is not STOP:
            index, item = pair
            try:
                outbox.put(process(item))  # forgot the index
            except Exception as exc:
                outbox.put(exc)
        inbox.put(STOP)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(T)
    outbox.put(STOP)


def crashes(inbox, outbox, process, workers):
    raise KeyError("oops")


def wrong_signature(inbox, outbox):
    pass


# --------------------------------------------------------------------- helpers
def rejected(run_stage, **kwargs):
    with pytest.raises(tk.ExerciseError) as info:
        check_pipeline(run_stage, **kwargs)
    return str(info.value)


# ----------------------------------------------------------------------- STOP
def test_stop_is_a_unique_exported_sentinel():
    assert tk.STOP is STOP
    assert "STOP" in tk.__all__ and "check_pipeline" in tk.__all__
    assert repr(STOP) == "STOP"
    assert type(STOP)() is STOP
    assert copy.copy(STOP) is STOP and copy.deepcopy([STOP])[0] is STOP
    assert pickle.loads(pickle.dumps(STOP)) is STOP
    assert STOP is not None and STOP != object()


# --------------------------------------------------------------- right answers
@pytest.mark.parametrize("run_stage", [right, right_dispatcher, right_pool, make_stage()])
def test_right_implementations_pass(run_stage):
    passed = check_pipeline(run_stage)
    assert isinstance(passed, tk.CheckPassed)
    assert passed.startswith("Passed: 20 items")
    assert repr(passed) == str(passed)


def test_the_check_is_quick_for_a_right_answer():
    start = time.perf_counter()
    check_pipeline(right)
    assert time.perf_counter() - start < 3


# --------------------------------------------------------------- wrong answers
def test_stub_is_rejected():
    message = rejected(stub)
    assert message.startswith("Not yet:")
    assert "NotImplementedError" in message and "not written yet" in message


def test_lost_errors_are_reported():
    message = rejected(make_stage(on_error="none"))
    assert "lost error" in message and "index 3" in message


def test_swallowed_errors_are_reported_as_lost_errors():
    message = rejected(make_stage(on_error="skip"))
    assert "lost errors" in message and "3, 11, 16" in message and "not be swallowed" in message
    assert "lost results" not in message and "except Exception as exc" in message  # the hint


def test_error_text_instead_of_exception_is_reported():
    assert "exception object itself" in rejected(make_stage(on_error="text"))


def test_new_exception_instead_of_the_raised_one_is_reported():
    assert "not a new one" in rejected(make_stage(on_error="new"))


def test_escaping_errors_are_reported():
    def raises_in_caller(inbox, outbox, process, workers):
        while (pair := inbox.get(timeout=T)) is not STOP:
            outbox.put((pair[0], process(pair[1])))

    message = rejected(raises_in_caller)
    assert "escaped" in message and "TaskFailed" in message


def test_processing_twice_is_reported():
    message = rejected(make_stage(repeat=2))
    assert "processed more than once" in message
    assert "appear more than once on outbox" in message


def test_leftover_threads_are_reported():
    message = rejected(leaves_threads)
    assert "still running when it returned" in message
    assert "join every worker" in message


def test_returning_before_the_workers_finish_is_reported():
    message = rejected(returns_before_join)
    assert "still running when it returned" in message
    assert "does not end with STOP" in message


def test_a_hang_is_reported_with_a_diagnosis():
    start = time.perf_counter()
    message = rejected(hangs_one_stop_per_worker, timeout=1)
    assert time.perf_counter() - start < 4
    assert "did not return within 1 s" in message
    assert "one STOP for 4 workers" in message
    assert "inbox.put(tk.STOP)" in message


def test_a_hang_before_all_items_are_processed_is_reported():
    release = threading.Event()

    def waits_forever(inbox, outbox, process, workers):
        release.wait()  # until the test ends: the grader's helper thread then ends too

    try:
        message = rejected(waits_forever, timeout=0.5)
    finally:
        release.set()
    assert "did not return within 0.5 s" in message
    assert "only 0 of 20 items were processed" in message


def test_processing_in_the_callers_thread_is_reported():
    message = rejected(sequential)
    assert "thread that called run_stage" in message


def test_one_at_a_time_is_reported():
    assert "one at a time" in rejected(one_worker)


def test_a_thread_per_item_is_reported():
    message = rejected(make_stage(threads_per="item"))
    assert "different threads" in message


def test_one_stop_per_worker_on_the_outbox_is_reported():
    message = rejected(make_stage(final_stops=4))
    assert "4 STOPs" in message


def test_a_missing_stop_is_reported():
    assert "does not end with STOP" in rejected(make_stage(final_stops=0))


def test_results_after_the_stop_are_reported():
    assert "came after the STOP" in rejected(result_after_stop)


def test_stopping_at_an_empty_inbox_is_reported():
    message = rejected(make_stage(stop_at_empty=True))
    assert "never taken from the inbox" in message
    assert "lost results" in message


def test_calling_process_with_the_pair_is_reported():
    message = rejected(make_stage(pass_pair=True))
    assert "not an item" in message


def test_results_without_index_are_reported():
    message = rejected(wrong_shape)
    assert "neither an (index, result) pair" in message


def test_other_errors_are_reported_with_their_type():
    message = rejected(crashes)
    assert "raised KeyError" in message


def test_a_wrong_signature_is_reported():
    message = rejected(wrong_signature)
    assert "raised TypeError" in message
    assert "run_stage(inbox, outbox, process, workers)" in message


def test_the_error_is_an_assertion_error_with_the_cause_attached():
    with pytest.raises(AssertionError) as info:
        check_pipeline(stub)
    assert isinstance(info.value.__cause__, NotImplementedError)


# ----------------------------------------------------------------- bad input
def test_run_stage_must_be_callable():
    with pytest.raises(TypeError, match=r"run_stage must be callable.*42"):
        check_pipeline(42)


@pytest.mark.parametrize("timeout, error", [(0, ValueError), (-1, ValueError), (601, ValueError),
                                            (float("nan"), ValueError), ("1", TypeError), (True, TypeError)])
def test_timeout_must_be_a_number_in_range(timeout, error):
    with pytest.raises(error, match=r"timeout must be a (finite )?number from 0.001 to 600"):
        check_pipeline(right, timeout=timeout)


def test_timeout_is_keyword_only():
    with pytest.raises(TypeError):
        check_pipeline(right, 5)


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


def test_the_echo_thread_really_is_another_thread():
    seen = []
    real_loop = _queues._echo_loop

    def spying_loop(inbox, outbox, timeout):
        seen.append(threading.current_thread())
        real_loop(inbox, outbox, timeout)

    _queues._echo_loop, saved = spying_loop, _queues._echo_loop
    try:
        tk.handoff_round_trip_us("SimpleQueue", rounds=5, repeats=1)
    finally:
        _queues._echo_loop = saved
    assert len(seen) == 1 and seen[0] is not threading.current_thread()
    assert seen[0].name.startswith(_queues.ECHO_THREAD_PREFIX)


def test_a_wrong_echo_is_caught():
    def lying_loop(inbox, outbox, timeout):
        while (item := inbox.get(timeout=timeout)) is not STOP:
            outbox.put(0)

    _queues._echo_loop, saved = lying_loop, _queues._echo_loop
    try:
        with pytest.raises(AssertionError, match="round 1: the echo thread sent back a different item"):
            tk.handoff_round_trip_us("Queue", rounds=5, repeats=1)
    finally:
        _queues._echo_loop = saved


def test_a_silent_echo_times_out_instead_of_hanging():
    def silent_loop(inbox, outbox, timeout):
        while inbox.get(timeout=T) is not STOP:  # takes items, never answers
            pass

    _queues._echo_loop, saved = silent_loop, _queues._echo_loop
    start = time.perf_counter()
    try:
        with pytest.raises(queue.Empty):
            tk.handoff_round_trip_us("SimpleQueue", rounds=5, repeats=1, timeout=0.2)
    finally:
        _queues._echo_loop = saved
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
