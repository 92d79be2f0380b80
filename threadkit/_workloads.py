"""Work with a known shape, for demos: sleeping (I/O), computing (CPU), failing.

* :func:`io_task` sleeps, like a thread waiting for a network reply: it
  releases the GIL, so many of them overlap even on one core.
* :func:`cpu_task` loops in pure Python: it holds the GIL while it runs, so
  on a GIL build two of them take turns instead of running in parallel.
* :func:`flaky_task` fails on demand with :class:`TaskFailed`;
  :func:`failure_plan` picks *which* tasks fail, reproducibly.
"""

import math
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ._validate import check_choice, check_int, check_number, check_str

__all__ = ["TaskFailed", "io_task", "cpu_task", "flaky_task", "failure_plan", "ideal_makespan_ms",
           "ROUND_TRIP_KINDS", "handoff_round_trip_us"]

#: Longest delay a workload accepts, in seconds (demos use tens of milliseconds).
MAX_DELAY = 60.0
#: Largest iteration count for :func:`cpu_task` (about a minute of work).
MAX_CPU_ITERATIONS = 10**9
_CHECKSUM_MODULUS = 1_000_003


class TaskFailed(Exception):
    """The failure raised by :func:`flaky_task` (an ordinary ``Exception``)."""


def io_task(delay=0.05, value=None):
    """Sleep for ``delay`` seconds, then return ``value`` (``delay`` if None).

    Args:
        delay: seconds to sleep, 0 to ``MAX_DELAY``.
        value: what to return; defaults to ``delay``.

    Returns:
        ``value``, or ``delay`` when ``value`` is None.

    Raises:
        TypeError, ValueError: ``delay`` is not a number from 0 to ``MAX_DELAY``.
    """
    delay = check_number("delay", delay, minimum=0, maximum=MAX_DELAY)
    time.sleep(delay)
    return delay if value is None else value


def cpu_task(n=200_000):
    """Run ``n`` iterations of pure-Python arithmetic and return a checksum.

    The result depends only on ``n`` (``cpu_task(10) == 285``), so it can be
    checked.  About 10-20 ms per 200,000 iterations on a current CPU, with
    the GIL held throughout.

    Args:
        n: number of iterations, 0 to ``MAX_CPU_ITERATIONS``.

    Returns:
        int: ``sum(i * i for i in range(n)) % 1_000_003``.

    Raises:
        TypeError, ValueError: ``n`` is not an int in range.
    """
    n = check_int("n", n, minimum=0, maximum=MAX_CPU_ITERATIONS)
    total = 0
    for i in range(n):
        total = (total + i * i) % _CHECKSUM_MODULUS
    return total


def flaky_task(value, fail=False, delay=0.0):
    """Sleep ``delay`` seconds, then return ``value`` or raise :class:`TaskFailed`.

    Args:
        value: returned on success, and named in the error message.
        fail: True to fail.
        delay: seconds to sleep first, 0 to ``MAX_DELAY``.

    Returns:
        ``value`` when ``fail`` is false.

    Raises:
        TaskFailed: when ``fail`` is true (message ``"task <value> failed"``).
        TypeError, ValueError: ``fail`` is not a bool, or ``delay`` is out of range.
    """
    if not isinstance(fail, bool):
        raise TypeError(f"fail must be True or False, got {fail!r} (type {type(fail).__name__})")
    delay = check_number("delay", delay, minimum=0, maximum=MAX_DELAY)
    time.sleep(delay)
    if fail:
        raise TaskFailed(f"task {value!r} failed")
    return value


def failure_plan(tasks, rate, seed=0):
    """Choose which of ``tasks`` tasks fail: ``round(tasks * rate)`` of them.

    The same arguments always give the same choice, so a demo with a failure
    rate is reproducible.

    Args:
        tasks: number of tasks, >= 0.
        rate: fraction that fails, 0.0 to 1.0.
        seed: int seed for the choice.

    Returns:
        frozenset[int]: indices (0-based) of the tasks that fail.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range.
    """
    tasks = check_int("tasks", tasks, minimum=0)
    rate = check_number("rate", rate, minimum=0.0, maximum=1.0)
    seed = check_int("seed", seed)
    return frozenset(random.Random(seed).sample(range(tasks), round(tasks * rate)))


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


# ------------------------------------------------------- hand-off cost between threads
#: What :func:`handoff_round_trip_us` can measure: two ``queue.Queue`` objects, two
#: ``queue.SimpleQueue`` objects, or ``submit(...).result()`` on a one-worker pool.
ROUND_TRIP_KINDS = ("Queue", "SimpleQueue", "Future")
#: Round trips per timed run, by default, and the most accepted.
DEFAULT_ROUNDS = 2000
MAX_ROUNDS = 1_000_000
#: Timed runs (the fastest is kept), by default, and the most accepted.
DEFAULT_REPEATS = 3
MAX_REPEATS = 100
#: Seconds any one ``get``/``result``/``join`` inside the measurement may wait.
HANDOFF_TIMEOUT = 5.0
#: Longest ``timeout`` accepted, in seconds.
MAX_HANDOFF_TIMEOUT = 600.0
_STOP = object()  # tells the echo thread to end
#: Name prefix of the echo thread (or pool worker) the measurement starts and joins.
ECHO_THREAD_PREFIX = "threadkit-echo"


def _echo_loop(inbox, outbox, timeout):
    """Echo thread: put back every item it gets, until _STOP (or nothing comes for ``timeout`` s)."""
    while True:
        try:
            item = inbox.get(timeout=timeout)
        except queue.Empty:  # the main side gave up: end rather than wait forever
            return
        if item is _STOP:
            return
        outbox.put(item)


def _queue_ping_pong(factory, rounds, timeout):
    """Seconds for ``rounds`` round trips main -> echo thread -> main through two queues."""
    ping, pong = factory(), factory()
    echo = threading.Thread(target=_echo_loop, args=(ping, pong, timeout), name=ECHO_THREAD_PREFIX, daemon=True)
    echo.start()
    try:
        ping.put(-1)  # warm-up: the echo thread is running and waiting before the clock starts
        pong.get(timeout=timeout)
        start = time.perf_counter()
        for i in range(rounds):
            ping.put(i)
            if pong.get(timeout=timeout) != i:
                raise AssertionError(f"round {i}: the echo thread sent back a different item")
        elapsed = time.perf_counter() - start
    finally:
        ping.put(_STOP)
        echo.join(timeout)
    if echo.is_alive():
        raise RuntimeError(f"the echo thread did not end within {timeout:g} s")
    return elapsed


def _identity(item):
    return item


def _future_ping_pong(rounds, timeout):
    """Seconds for ``rounds`` times ``submit(identity, i).result()`` on a one-worker pool."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=ECHO_THREAD_PREFIX) as pool:
        pool.submit(_identity, -1).result(timeout=timeout)  # warm-up: the worker thread exists
        start = time.perf_counter()
        for i in range(rounds):
            if pool.submit(_identity, i).result(timeout=timeout) != i:
                raise AssertionError(f"round {i}: the future returned a different item")
        return time.perf_counter() - start


_PING_PONG = {
    "Queue": lambda rounds, timeout: _queue_ping_pong(queue.Queue, rounds, timeout),
    "SimpleQueue": lambda rounds, timeout: _queue_ping_pong(queue.SimpleQueue, rounds, timeout),
    "Future": _future_ping_pong,
}


def handoff_round_trip_us(kind, rounds=DEFAULT_ROUNDS, *, repeats=DEFAULT_REPEATS, timeout=HANDOFF_TIMEOUT):
    """Microseconds one round trip to another thread and back costs: a two-thread ping-pong.

    One item at a time, so every hand-off wakes a thread that is waiting for it
    (which a put-then-get loop in one thread never does: that measures only the
    data structure).  For ``"Queue"`` and ``"SimpleQueue"`` the caller puts
    ``i`` on one queue, an echo thread gets it and puts it on a second queue,
    and the caller gets it back; for ``"Future"`` the caller does
    ``pool.submit(identity, i).result()`` on a one-worker
    ``ThreadPoolExecutor``.  Every item is checked on its way back, each run
    starts with one untimed round (so thread start-up is not counted), and the
    helper thread is joined before the function returns.  The standard classes
    are used, not the recording twins.  The number depends on the machine and
    its load; compare kinds measured in the same session.

    Args:
        kind: one of :data:`ROUND_TRIP_KINDS`: ``"Queue"``, ``"SimpleQueue"``, ``"Future"``.
        rounds: round trips per timed run, an int from 1 to 1,000,000.
        repeats: timed runs, an int from 1 to 100; the fastest one counts.
        timeout: seconds any single wait may take, > 0 and <= 600 (nothing hangs).

    Returns:
        float: microseconds per round trip (two hand-offs), from the fastest run.

    Raises:
        TypeError: ``kind`` is not a str, ``rounds``/``repeats`` not ints, ``timeout`` not a number.
        ValueError: ``kind`` is not one of :data:`ROUND_TRIP_KINDS`, or a number is out of range.
        queue.Empty, TimeoutError: an item did not come back within ``timeout``.
    """
    check_str("kind", kind)
    check_choice("kind", kind, ROUND_TRIP_KINDS)
    rounds = check_int("rounds", rounds, minimum=1, maximum=MAX_ROUNDS)
    repeats = check_int("repeats", repeats, minimum=1, maximum=MAX_REPEATS)
    timeout = check_number("timeout", timeout, minimum=0.001, maximum=MAX_HANDOFF_TIMEOUT)
    best = math.inf
    for _ in range(repeats):
        best = min(best, _PING_PONG[kind](rounds, timeout))
    return best / rounds * 1e6
