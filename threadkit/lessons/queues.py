"""Lesson helpers for notebook 03 (queues).

* :data:`STOP` is a sentinel: a unique object that means "no more items".
  Put it on a queue after the last item; a consumer that gets it stops.
* :func:`check_pipeline` checks the exercise: a pipeline stage
  ``run_stage(inbox, outbox, process, workers)`` that reads ``(index, item)``
  pairs from ``inbox`` until :data:`STOP`, processes them with ``workers``
  threads and puts ``(index, result_or_exception)`` pairs, then one
  :data:`STOP`, on ``outbox``.

The queue code itself (``Queue``, ``put``, ``get``, sentinels, worker
threads) is the lesson, so it lives in the notebook, not here.
"""

import math
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .._checking import DEFAULT_CHECK_TIMEOUT, CheckPassed, ExerciseError, call_with_timeout, grader
from .._validate import _describe, check_callable, check_choice, check_int, check_number, check_str
from .._workloads import TaskFailed

__all__ = ["STOP", "check_pipeline"]


class _StopType:
    """Type of :data:`STOP`: a single object with a readable repr."""

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "STOP"

    def __reduce__(self):
        return (_StopType, ())

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


#: The end-of-stream sentinel: put it on a queue after the last item; compare with ``is``.
STOP = _StopType()

# ------------------------------------------------------------ the check's data
#: Number of ``(index, item)`` pairs the check sends through the stage.
CHECK_ITEMS = 20
#: ``workers`` the check passes to ``run_stage``.
CHECK_WORKERS = 4
#: Indices of the items whose processing raises :class:`TaskFailed`.
CHECK_FAILING = (3, 11, 16)
#: The last ``LATE_ITEMS`` pairs (and the STOP) arrive while ``run_stage`` runs.
LATE_ITEMS = 4
#: Seconds before the first late pair arrives, and between late pairs.
LATE_FIRST_DELAY = 0.1
LATE_GAP = 0.005
#: Seconds the check lets threads end after ``run_stage`` returned (or hung).
THREAD_GRACE = 1.0
#: Longest ``timeout`` :func:`check_pipeline` accepts, in seconds.
MAX_TIMEOUT = 600.0
#: ``item = ITEM_BASE + index``, so an item is never mistaken for its index.
ITEM_BASE = 100

_CALL = f"run_stage(inbox, outbox, process, {CHECK_WORKERS})"
_CONTRACT = "run_stage(inbox, outbox, process, workers) -> None"


def _item(index):
    return ITEM_BASE + index


def _delay_s(index):
    """Processing time of item ``index``: 5-15 ms, in a scrambled order."""
    return (5 + (index * 7) % 11) / 1000


def _expected(index):
    return _item(index) ** 2


class _Process:
    """The ``process(item)`` the check hands to ``run_stage``; counts how it is used."""

    def __init__(self, failing):
        self._failing = frozenset(failing)
        self._index = {_item(i): i for i in range(CHECK_ITEMS)}
        self._lock = threading.Lock()
        self.calls = [0] * CHECK_ITEMS
        self.raised = {}
        self.threads = []
        self.bad_args = []
        self.in_flight = 0
        self.max_in_flight = 0

    def __call__(self, item):
        index = self._index.get(item) if isinstance(item, int) and not isinstance(item, bool) else None
        thread = threading.current_thread()
        with self._lock:
            if thread not in self.threads:
                self.threads.append(thread)
            if index is None:
                self.bad_args.append(item)
            else:
                self.calls[index] += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if index is None:
            raise TypeError(f"process() takes one item (an int from {_item(0)} to {_item(CHECK_ITEMS - 1)}), "
                            f"got {_describe(item)}")
        try:
            time.sleep(_delay_s(index))
        finally:
            with self._lock:
                self.in_flight -= 1
        if index in self._failing:
            error = TaskFailed(f"item {item} failed")
            with self._lock:
                self.raised.setdefault(index, error)
            raise error
        return _expected(index)


def _feed_late(inbox):
    """Put the last pairs and the STOP after a pause, as a live producer would."""
    time.sleep(LATE_FIRST_DELAY)
    for index in range(CHECK_ITEMS - LATE_ITEMS, CHECK_ITEMS):
        inbox.put((index, _item(index)))
        time.sleep(LATE_GAP)
    inbox.put(STOP)


def _drain(q):
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def _short(value):
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def _raise(problems, hint, cause=None):
    lines = ["Not yet:"] + [f"  - {p}" for p in problems]
    if hint:
        lines.append(f"Hint: {hint}")
    raise ExerciseError("\n".join(lines)) from cause


@grader
def check_pipeline(run_stage, *, timeout=DEFAULT_CHECK_TIMEOUT):
    """Check the exercise ``run_stage(inbox, outbox, process, workers) -> None``.

    The check calls ``run_stage(inbox, outbox, process, 4)`` once, in a helper
    thread with a timeout.  ``inbox`` is a ``queue.Queue`` holding 20
    ``(index, item)`` pairs (indices 0-19, items 100-119); the last 4 pairs and
    then one :data:`STOP` arrive about 0.1 s after the call starts, so the
    stage must wait for the STOP rather than stop when the inbox looks empty.
    ``process(item)`` sleeps 5-15 ms and returns ``item ** 2``, or raises
    :class:`TaskFailed` for 3 of the items.  The contract:

    * every item is processed exactly once, by at most 4 threads other than
      the caller's, more than one at a time;
    * ``outbox`` receives one ``(index, result)`` pair per item, where
      ``result`` is what ``process`` returned or the very exception it
      raised, and then exactly one :data:`STOP`, after the last pair;
    * ``run_stage`` returns only after every thread it started has finished,
      and it does not hang.

    Args:
        run_stage: the learner's function.
        timeout: seconds to wait before calling it a hang, > 0 and <= 600.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: something is wrong; the message lists every problem found.
        TypeError, ValueError: ``run_stage`` is not callable, or ``timeout`` is
            not a number in range.
    """
    check_callable("run_stage", run_stage)
    timeout = check_number("timeout", timeout, minimum=0.001, maximum=MAX_TIMEOUT)
    inbox, outbox = queue.Queue(), queue.Queue()
    process = _Process(CHECK_FAILING)
    before = set(threading.enumerate())
    for index in range(CHECK_ITEMS - LATE_ITEMS):
        inbox.put((index, _item(index)))
    feeder = threading.Thread(target=_feed_late, args=(inbox,), name="threadkit-feeder", daemon=True)
    feeder.start()

    error = None
    try:
        call_with_timeout(run_stage, inbox, outbox, process, CHECK_WORKERS, timeout=timeout, what=_CALL)
    except Exception as exc:  # a hang (ExerciseError) or whatever run_stage raised
        error = exc
    # Alive right when run_stage returned (or hung). Not after waiting for the feeder:
    # by then the workers of a stage that returns without joining them may have ended
    # (seen on a busy machine), and the check would miss that they were left running.
    running = _new_threads(before)
    feeder.join(LATE_FIRST_DELAY + 1.0)
    results = _drain(outbox)
    left_in_inbox = [x for x in _drain(inbox) if x is not STOP]
    stuck = _release(inbox, running)

    if isinstance(error, ExerciseError):
        _raise(_hang_problems(process, timeout, stuck), _hang_hint(process), error)
    if isinstance(error, NotImplementedError):
        _raise([f"{_CALL} raised NotImplementedError: it is not written yet."],
               "start `workers` threads that each loop: get a pair from inbox, stop at STOP, "
               "put (index, result or exception) on outbox.", error)
    if isinstance(error, TaskFailed):
        _raise([f"{_CALL} raised {error!r}: an error from process escaped instead of travelling "
                "through the outbox."],
               "wrap the call in try/except Exception as exc and put (index, exc) on outbox.", error)
    if error is not None:
        _raise([f"{_CALL} raised {type(error).__name__}: {error}"],
               f"read the traceback above this message; the contract is {_CONTRACT}.", error)

    if process.bad_args:  # every result is then wrong for the same reason: report only the cause
        problems = _usage_problems(process, left_in_inbox)[:1]
    else:
        problems = _outbox_problems(results, process)
        problems += _usage_problems(process, left_in_inbox)
    problems += _thread_problems(running, stuck)
    if problems:
        _raise(problems, _hint_for(problems))
    return CheckPassed(
        f"Passed: {CHECK_ITEMS} items processed once each by {CHECK_WORKERS} worker threads, "
        f"{len(CHECK_FAILING)} errors delivered as exceptions, one STOP after the last result, "
        "no thread left running."
    )


def _new_threads(before):
    """Threads alive now that were not in ``before`` (the check's own helpers excluded)."""
    me = threading.current_thread()
    return [
        t for t in threading.enumerate()
        if t not in before and t is not me and not t.name.startswith("threadkit-") and t.is_alive()
    ]


def _release(inbox, threads):
    """Unblock threads waiting on the inbox (extra STOPs), give them a grace period.

    Returns:
        list[threading.Thread]: the threads still alive after the grace period.
    """
    if not threads:
        return []
    for _ in range(len(threads) + CHECK_WORKERS):
        inbox.put(STOP)
    deadline = time.monotonic() + THREAD_GRACE
    for thread in threads:
        try:
            thread.join(max(0.0, deadline - time.monotonic()))
        except RuntimeError:  # e.g. a dummy thread
            pass
    return [t for t in threads if t.is_alive()]


def _hang_problems(process, timeout, stuck):
    done = sum(1 for c in process.calls if c)
    problems = [f"{_CALL} did not return within {timeout:g} s: it hangs."]
    if done == CHECK_ITEMS:
        problems.append(
            f"all {CHECK_ITEMS} items were processed, so the stage hung while stopping: the inbox holds one "
            f"STOP for {CHECK_WORKERS} workers, and a worker still waiting in inbox.get() never gets one."
        )
    else:
        problems.append(f"only {done} of {CHECK_ITEMS} items were processed before it stopped making progress.")
    if stuck:
        problems.append(f"{len(stuck)} of its threads were still running even after the check put extra "
                        "STOPs in the inbox.")
    return problems


def _hang_hint(process):
    if all(process.calls):
        return ("a worker that gets STOP should put it back on inbox (inbox.put(tk.STOP)) before it returns, "
                "so that the next worker sees it too; then join the workers and put one STOP on outbox.")
    return ("every blocking call needs a timeout or a matching put: does each worker loop until it gets STOP, "
            "and does run_stage start its threads before joining them?")


def _outbox_problems(results, process):
    problems = []
    stops = [i for i, x in enumerate(results) if x is STOP]
    pairs = []
    malformed = []
    for x in results:
        if x is STOP:
            continue
        if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], int) and 0 <= x[0] < CHECK_ITEMS:
            pairs.append(x)
        else:
            malformed.append(x)
    if malformed:
        problems.append(
            f"outbox holds {len(malformed)} entr{'y' if len(malformed) == 1 else 'ies'} that "
            f"{'is' if len(malformed) == 1 else 'are'} neither an (index, result) pair with an index from "
            f"0 to {CHECK_ITEMS - 1} nor STOP, e.g. {_short(malformed[0])}."
        )
    if not stops:
        problems.append("outbox does not end with STOP: put exactly one STOP on outbox after the last result, "
                        "so the next stage knows the stream is over.")
    elif len(stops) > 1:
        problems.append(f"outbox holds {len(stops)} STOPs; put exactly one, after all workers are done "
                        "(a consumer stops at the first one and loses every result behind it).")
    elif stops[0] != len(results) - 1:
        problems.append(f"{len(results) - 1 - stops[0]} result(s) came after the STOP on outbox: join the "
                        "workers first, then put STOP.")

    seen = {}
    for index, value in pairs:
        seen.setdefault(index, []).append(value)
    lost = [i for i in range(CHECK_ITEMS) if i not in seen]
    twice = [i for i, values in sorted(seen.items()) if len(values) > 1]
    if lost and set(lost) <= set(CHECK_FAILING):  # exactly the failing items are missing: errors swallowed
        problems.append(f"lost errors: outbox has no pair for index(es) {', '.join(map(str, lost))}, the items whose "
                        "process raised: an error must travel on as (index, exc), not be swallowed.")
    elif lost:
        problems.append(f"lost results: outbox has no pair for {len(lost)} index(es), e.g. index {lost[0]}.")
    if twice:
        problems.append(f"{len(twice)} index(es) appear more than once on outbox, e.g. index {twice[0]} "
                        f"({len(seen[twice[0]])} times).")
    wrong, lost_errors, error_text, other_error = [], [], [], []
    for index, values in sorted(seen.items()):
        value = values[0]
        if index in CHECK_FAILING:
            raised = process.raised.get(index)
            if raised is not None and value is raised:
                continue
            if value is None:
                lost_errors.append(index)
            elif isinstance(value, str):
                error_text.append((index, value))
            elif isinstance(value, BaseException):
                other_error.append((index, value))
            else:
                wrong.append((index, value, "the TaskFailed exception that process raised"))
        elif value != _expected(index):
            wrong.append((index, value, repr(_expected(index))))
    if lost_errors:
        problems.append(f"lost error: processing index {lost_errors[0]} raised TaskFailed, but outbox got "
                        f"({lost_errors[0]}, None).")
    if error_text:
        index, value = error_text[0]
        problems.append(f"outbox got ({index}, {_short(value)}): put the exception object itself, "
                        "not its text, so the consumer can re-raise it with its traceback.")
    if other_error:
        index, value = other_error[0]
        problems.append(f"outbox got ({index}, {_short(value)}): put the exception that process raised "
                        "(the same object), not a new one.")
    for index, value, want in wrong[:3]:
        hint = " (that is the item itself: did you forget to call process?)" if value == _item(index) else ""
        problems.append(f"outbox got ({index}, {_short(value)}) but expected ({index}, {want}){hint}.")
    return problems


def _usage_problems(process, left_in_inbox):
    problems = []
    if process.bad_args:
        problems.append(f"process was called with {_short(process.bad_args[0])}, not an item: "
                        "unpack each pair as `index, item = pair` and call process(item).")
    twice = [i for i, c in enumerate(process.calls) if c > 1]
    if twice:
        problems.append(f"{len(twice)} item(s) were processed more than once, e.g. index {twice[0]} "
                        f"({process.calls[twice[0]]} times): each pair must be taken from the inbox once.")
    if left_in_inbox:
        problems.append(f"{len(left_in_inbox)} pair(s) were never taken from the inbox, e.g. "
                        f"{_short(left_in_inbox[0])}: items can still arrive while the inbox looks empty; "
                        "only STOP means the input is over.")
    threads = process.threads
    callers = [t for t in threads if t.name == "threadkit-check"]
    if callers:
        problems.append("process ran in the thread that called run_stage, one item at a time: run it in "
                        "`workers` worker threads.")
    if len(threads) > CHECK_WORKERS:
        problems.append(f"process ran in {len(threads)} different threads; use exactly workers="
                        f"{CHECK_WORKERS} threads, each handling many items.")
    if process.max_in_flight > CHECK_WORKERS:
        problems.append(f"{process.max_in_flight} items were processed at once, more than workers="
                        f"{CHECK_WORKERS}.")
    elif process.max_in_flight == 1 and sum(process.calls) > 1 and not callers:
        problems.append("too slow: the items were processed one at a time; start all the workers before "
                        "joining any of them.")
    return problems


def _thread_problems(running, stuck):
    problems = []
    if running:
        names = ", ".join(sorted(t.name for t in running)[:3])
        problems.append(f"{len(running)} thread(s) started by run_stage were still running when it returned "
                        f"(e.g. {names}): join every worker before returning.")
    if stuck:
        problems.append(f"{len(stuck)} of them were still running {THREAD_GRACE:g} s later, even after the "
                        "check put extra STOPs in the inbox.")
    return problems


def _hint_for(problems):
    text = " ".join(problems)
    if "not an item" in text:
        return "each inbox entry is a pair: `index, item = pair`, then `process(item)`, then put `(index, result)`."
    if "still running" in text:
        return "keep the Thread objects in a list and call join() on each before putting STOP on outbox."
    if "STOPs;" in text or "came after the STOP" in text or "does not end with STOP" in text:
        return ("the workers pass the inbox's STOP on to each other; run_stage itself puts the one STOP on "
                "outbox, after joining every worker.")
    if "lost error" in text or "exception object itself" in text or "not a new one" in text:
        return ("in each worker: try: result = process(item) / except Exception as exc: result = exc; "
                "then put (index, result).")
    if "never taken from the inbox" in text:
        return "loop on `pair = inbox.get(timeout=...)` until `pair is tk.STOP`; do not test inbox.empty()."
    if "more than once" in text:
        return "each worker gets a pair, processes it and puts one result; never put a pair back on the inbox."
    if "different threads" in text or "thread that called" in text or "one at a time" in text or "at once" in text:
        return ("start all `workers` threads first, each looping `pair = inbox.get(...)` until STOP; "
                "join them only after all have started.")
    if "neither an (index, result) pair" in text:
        return "put pairs: outbox.put((index, result)), with the index that came with the item."
    return f"the contract is {_CONTRACT}."
