"""Lesson helpers for notebook 03 (queues): the :data:`STOP` sentinel and :func:`check_pipeline`."""

import queue
import threading
import time

from .._checking import DEFAULT_CHECK_TIMEOUT, CheckPassed, ExerciseError, Hang, call_with_timeout, fail, grader, new_threads
from .._validate import A_CALLABLE, a_number, accepts, describe
from .._workloads import TaskFailed

__all__ = ["STOP", "check_pipeline"]


class _Stop:
    def __repr__(self):  # in messages that show an item
        return "STOP"


#: The end-of-stream sentinel: put it on a queue after the last item; compare with ``is``.
STOP = _Stop()

#: The check sends CHECK_ITEMS pairs ``(index, ITEM_BASE + index)`` to ``run_stage(..., CHECK_WORKERS)``;
#: processing the items at CHECK_FAILING raises TaskFailed.
CHECK_ITEMS, ITEM_BASE, CHECK_WORKERS, CHECK_FAILING = 20, 100, 4, (3, 11, 16)
#: The last LATE_ITEMS pairs, then STOP, arrive LATE_FIRST_DELAY s after the call, LATE_GAP s apart.
LATE_ITEMS, LATE_FIRST_DELAY, LATE_GAP = 4, 0.1, 0.005
#: Seconds that threads run_stage left running get to end once freed; the longest timeout accepted.
THREAD_GRACE, MAX_TIMEOUT = 1.0, 600.0

_CALL = f"run_stage(inbox, outbox, process, {CHECK_WORKERS})"
_CONTRACT = "run_stage(inbox, outbox, process, workers) -> None"
_TRY_HINT = ("in each worker: try: result = process(item) / except Exception as exc: result = exc; then put "
             "(index, result).")
_STOP_HINT = ("the workers pass the inbox's STOP on to each other; run_stage itself puts the one STOP on outbox, "
              "after joining every worker.")
_START_HINT = ("start all `workers` threads first, each looping `pair = inbox.get(...)` until STOP; join them only "
               "after all have started.")
#: What ``run_stage`` raised -> (problem, or None for "<call> raised <error>"; hint).
_RAISED = {
    TaskFailed: (f"{_CALL} raised TaskFailed: an error from process escaped instead of travelling through the outbox.",
                 "wrap the call in try/except Exception as exc and put (index, exc) on outbox."),
    Exception: (None, f"read the traceback above this message; the contract is {_CONTRACT}."),
}


class _Process:
    """The ``process(item)`` the check hands to ``run_stage``; records how it is used."""

    def __init__(self):
        self._lock = threading.Lock()
        self.calls, self.raised, self.threads, self.bad_args = [0] * CHECK_ITEMS, {}, set(), []
        self.in_flight = self.max_in_flight = 0

    def __call__(self, item):
        index = item - ITEM_BASE if type(item) is int and 0 <= item - ITEM_BASE < CHECK_ITEMS else None
        with self._lock:
            self.threads.add(threading.current_thread())
            if index is None:
                self.bad_args.append(item)
                raise TypeError(f"process() takes one item (an int from {ITEM_BASE} to "
                                f"{ITEM_BASE + CHECK_ITEMS - 1}), got {describe(item)}")
            self.calls[index] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep((5 + (index * 7) % 11) / 1000)  # 5-15 ms, in a scrambled order
        with self._lock:
            self.in_flight -= 1
        if index in CHECK_FAILING:
            raise self.raised.setdefault(index, TaskFailed(f"item {item} failed"))
        return item ** 2


def _feed_late(inbox):
    time.sleep(LATE_FIRST_DELAY)
    for index in range(CHECK_ITEMS - LATE_ITEMS, CHECK_ITEMS):
        inbox.put((index, ITEM_BASE + index))
        time.sleep(LATE_GAP)
    inbox.put(STOP)


@grader
@accepts(run_stage=A_CALLABLE, timeout=a_number(0.001, MAX_TIMEOUT))
def check_pipeline(run_stage, *, timeout=DEFAULT_CHECK_TIMEOUT):
    """Check the exercise ``run_stage(inbox, outbox, process, workers) -> None``.

    It calls ``run_stage`` once with 20 ``(index, item)`` pairs, the last 4 and the :data:`STOP` arriving
    0.1 s late, and a ``process`` that raises :class:`TaskFailed` for 3 items.

    Args:
        run_stage: the learner's function.
        timeout: seconds to wait before calling it a hang, 0.001 to 600.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: the message lists every problem found.
        TypeError, ValueError: an argument is not valid.
    """
    inbox, outbox, process = queue.Queue(), queue.Queue(), _Process()
    for index in range(CHECK_ITEMS - LATE_ITEMS):
        inbox.put((index, ITEM_BASE + index))
    feeder = threading.Thread(target=_feed_late, args=(inbox,), name="threadkit-feeder", daemon=True)
    feeder.start()
    before, refusal = threading.enumerate(), None
    try:
        call_with_timeout(run_stage, inbox, outbox, process, CHECK_WORKERS, timeout=timeout, what=_CALL, raised=_RAISED)
    except ExerciseError as exc:
        refusal = exc
    running = new_threads(before)  # right away: workers it did not join may end any moment now
    feeder.join(LATE_FIRST_DELAY + 1.0)
    with outbox.mutex, inbox.mutex:
        results, left = list(outbox.queue), [x for x in inbox.queue if x is not STOP]
    if running:  # free the workers waiting on the inbox, so that none outlives the check
        for _ in range(len(running) + CHECK_WORKERS):
            inbox.put(STOP)
        new_threads(before, grace=THREAD_GRACE)
    if isinstance(refusal, Hang) and all(process.calls):  # it hung while stopping
        fail([f"{_CALL} did not return within {timeout:g} s: it hangs.",
              (f"all {CHECK_ITEMS} items were processed, so the stage hung while stopping: the inbox holds one STOP "
               f"for {CHECK_WORKERS} workers, and a worker still waiting in inbox.get() never gets one.",
               "a worker that gets STOP should put it back on inbox (inbox.put(STOP)) before it returns, so that the "
               "next worker sees it too; then join the workers and put one STOP on outbox.")])
    if refusal is not None:
        raise refusal
    problems = []
    if process.bad_args:  # every result is then wrong for the same reason: report only the cause
        problems.append((f"process was called with {describe(process.bad_args[0])}, not an item: unpack each pair "
                         "as `index, item = pair` and call process(item).",
                         "each inbox entry is a pair: `index, item = pair`, then `process(item)`, then put "
                         "`(index, result)`."))
    if running:
        problems.append((f"{len(running)} thread(s) started by run_stage were still running when it returned (e.g. "
                         f"{', '.join(t.name for t in running[:3])}): join every worker before returning.",
                         "keep the Thread objects in a list and call join() on each before putting STOP on outbox."))
    if not process.bad_args:
        problems += _outbox_problems(results, left, process)
    if problems:
        fail(problems, f"the contract is {_CONTRACT}.")
    return CheckPassed(f"Passed: {CHECK_ITEMS} items processed once each by {CHECK_WORKERS} worker threads, "
                       f"{len(CHECK_FAILING)} errors delivered as exceptions, one STOP after the last result, "
                       "no thread left running.")


def _outbox_problems(results, left_in_inbox, process):
    stops = [n for n, x in enumerate(results) if x is STOP]
    is_pair = lambda x: isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], int) and 0 <= x[0] < CHECK_ITEMS
    pairs = [x for x in results if x is not STOP and is_pair(x)]
    malformed = [x for x in results if x is not STOP and not is_pair(x)]
    problems = []
    if malformed:
        problems.append((f"outbox holds entries that are neither an (index, result) pair with an index from 0 to "
                         f"{CHECK_ITEMS - 1} nor STOP ({len(malformed)} of them), e.g. {describe(malformed[0])}.",
                         "put pairs: outbox.put((index, result)), with the index that came with the item."))
    if not stops:
        problems.append(("outbox does not end with STOP: put exactly one STOP on outbox after the last result, so "
                         "the next stage knows the stream is over.", _STOP_HINT))
    elif len(stops) > 1:
        problems.append((f"outbox holds {len(stops)} STOPs; put exactly one, after all workers are done (a consumer "
                         "stops at the first one and loses every result behind it).", _STOP_HINT))
    elif stops[0] != len(results) - 1:
        problems.append((f"{len(results) - 1 - stops[0]} result(s) came after the STOP on outbox: join the workers "
                         "first, then put STOP.", _STOP_HINT))
    seen = {}
    for index, value in pairs:
        seen.setdefault(index, []).append(value)
    lost = [i for i in range(CHECK_ITEMS) if i not in seen]
    twice = [i for i in sorted(seen) if len(seen[i]) > 1]
    if lost and set(lost) <= set(CHECK_FAILING):  # exactly the failing items are missing: errors swallowed
        problems.append((f"lost errors: outbox has no pair for index(es) {', '.join(map(str, lost))}, the items whose "
                         "process raised: an error must travel on as (index, exc), not be swallowed.", _TRY_HINT))
    elif lost:
        problems.append(f"lost results: outbox has no pair for {len(lost)} index(es), e.g. index {lost[0]}.")
    if twice:
        problems.append(f"{len(twice)} index(es) appear more than once on outbox, e.g. index {twice[0]} "
                        f"({len(seen[twice[0]])} times): put one result per item.")
    firsts = [(i, values[0]) for i, values in sorted(seen.items())]
    errors = [(i, v) for i, v in firsts if i in CHECK_FAILING and v is not process.raised.get(i)]
    wrong = [(i, v) for i, v in firsts if i not in CHECK_FAILING and v != (ITEM_BASE + i) ** 2]
    for i, v in errors[:1]:
        problems.append((f"outbox got ({i}, {describe(v)}) for an item whose process raised TaskFailed: put that "
                         "very exception object (not None, its text or a new one), so the consumer can re-raise it.",
                         _TRY_HINT))
    for i, v in wrong[:1]:
        problems.append(f"outbox got ({i}, {describe(v)}) but expected ({i}, {(ITEM_BASE + i) ** 2}).")
    threads, calls = process.threads, process.calls
    in_caller = any(t.name == "threadkit-check" for t in threads)
    rows = (
        (left_in_inbox, f"{len(left_in_inbox)} pair(s) were never taken from the inbox, e.g. "
                        f"{', '.join(describe(x) for x in left_in_inbox[:1])}: items can still arrive while the inbox "
                        "looks empty; only STOP means the input is over.",
         "loop on `pair = inbox.get(timeout=...)` until `pair is STOP`; do not test inbox.empty()."),
        (in_caller, "process ran in the thread that called run_stage, one item at a time: run it in `workers` worker "
                    "threads.", _START_HINT),
        (len(threads) > CHECK_WORKERS, f"process ran in {len(threads)} different threads; use exactly workers="
                                       f"{CHECK_WORKERS} threads, each handling many items.", _START_HINT),
        (process.max_in_flight == 1 and sum(calls) > 1 and not in_caller,
         "too slow: the items were processed one at a time; start all the workers before joining any of them.",
         _START_HINT),
    )
    return problems + [(problem, hint) for bad, problem, hint in rows if bad]
