"""Work with a known shape, for demos: sleeping (I/O), computing (CPU), failing, handing off.

:func:`io_task` sleeps and releases the GIL, so many overlap even on one core; :func:`cpu_task`
loops in pure Python and holds the GIL; :func:`flaky_task` fails on demand with
:class:`TaskFailed`, and :func:`failure_plan` picks which tasks fail, reproducibly.
"""

import contextlib
import math
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ._validate import A_BOOL, a_number, accepts, an_int, one_of

__all__ = ["io_task", "cpu_task", "flaky_task", "failure_plan", "TaskFailed", "ideal_makespan_ms",
           "handoff_round_trip_us"]

#: Longest delay a workload accepts, in seconds (demos use tens of milliseconds).
MAX_DELAY = 60.0
#: Largest iteration count for :func:`cpu_task` (about a minute of work).
MAX_CPU_ITERATIONS = 10**9
_CHECKSUM_MODULUS = 1_000_003


class TaskFailed(Exception):
    """The failure raised by :func:`flaky_task` (an ordinary ``Exception``)."""


@accepts(delay=a_number(0, MAX_DELAY))
def io_task(delay=0.05, value=None):
    """Sleep ``delay`` seconds (a number from 0 to ``MAX_DELAY``), then return ``value`` (``delay`` if None)."""
    time.sleep(delay)
    return delay if value is None else value


@accepts(n=an_int(0, MAX_CPU_ITERATIONS))
def cpu_task(n=200_000):
    """Run ``n`` (0 to ``MAX_CPU_ITERATIONS``) iterations of pure-Python arithmetic, holding the GIL
    (10-20 ms per 200,000), and return ``sum(i * i for i in range(n)) % 1_000_003``."""
    total = 0
    for i in range(n):
        total = (total + i * i) % _CHECKSUM_MODULUS
    return total


@accepts(fail=A_BOOL, delay=a_number(0, MAX_DELAY))
def flaky_task(value, fail=False, delay=0.0):
    """Sleep ``delay`` seconds (0 to ``MAX_DELAY``), then return ``value``, or if ``fail`` (a bool)
    raise :class:`TaskFailed` (``"task <value> failed"``)."""
    time.sleep(delay)
    if fail:
        raise TaskFailed(f"task {value!r} failed")
    return value


@accepts(tasks=an_int(0), rate=a_number(0, 1), seed=an_int())
def failure_plan(tasks, rate, seed=0):
    """The indices (a frozenset) of the ``round(tasks * rate)`` tasks that fail, the same for each ``seed``.

    ``tasks`` is an int >= 0, ``rate`` a number from 0 to 1.
    """
    return frozenset(random.Random(seed).sample(range(tasks), round(tasks * rate)))


@accepts(tasks=an_int(0), workers=an_int(1), delay_ms=a_number(0))
def ideal_makespan_ms(tasks, workers, delay_ms):
    """Ideal makespan, in ms, of ``tasks`` (>= 0) I/O tasks of ``delay_ms`` (>= 0) each on ``workers``
    (>= 1) threads: ``ceil(tasks / workers)`` rounds of one task (real runs add a few ms)."""
    return math.ceil(tasks / workers) * delay_ms


# ------------------------------------------------------- hand-off cost between threads
#: Seconds any one ``get``/``result``/``join`` inside the measurement may wait, by default.
HANDOFF_TIMEOUT = 5.0
#: Name of every thread the measurement starts (and joins).
ECHO_THREAD_PREFIX = "threadkit-echo"
_STOP = object()  # tells the echo thread to end


def _echo_loop(inbox, outbox, timeout):
    """Put back every item got, until _STOP (or nothing comes for ``timeout`` s)."""
    with contextlib.suppress(queue.Empty):  # the main side gave up: end rather than wait forever
        while (item := inbox.get(timeout=timeout)) is not _STOP:
            outbox.put(item)


def _in_a_thread(item, timeout):
    got = []
    thread = threading.Thread(target=got.append, args=(item,), name=ECHO_THREAD_PREFIX, daemon=True)
    thread.start()
    thread.join(timeout)
    return got[0] if got else None


@contextlib.contextmanager
def _round_trip(kind, timeout):
    """A function that hands an item to another thread and returns what came back."""
    if kind == "Thread":
        yield lambda item: _in_a_thread(item, timeout)
    elif kind == "Future":
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=ECHO_THREAD_PREFIX) as pool:
            yield lambda item: pool.submit(int, item).result(timeout=timeout)
    else:
        ping, pong = getattr(queue, kind)(), getattr(queue, kind)()
        echo = threading.Thread(target=_echo_loop, args=(ping, pong, timeout), name=ECHO_THREAD_PREFIX, daemon=True)
        echo.start()
        try:
            yield lambda item: ping.put(item) or pong.get(timeout=timeout)
        finally:
            ping.put(_STOP)
            echo.join(timeout)


def _timed_run(kind, rounds, timeout):
    with _round_trip(kind, timeout) as there_and_back:
        there_and_back(-1)  # warm-up: the other thread exists and waits before the clock starts
        start = time.perf_counter()
        for i in range(rounds):
            if there_and_back(i) != i:
                raise AssertionError(f"round {i}: {kind} handed back a different item")
        return time.perf_counter() - start


@accepts(kind=one_of("Queue", "SimpleQueue", "Future", "Thread"), rounds=an_int(1, 1_000_000),
         repeats=an_int(1, 100), timeout=a_number(0.001, 600))
def handoff_round_trip_us(kind, rounds=2000, *, repeats=3, timeout=HANDOFF_TIMEOUT):
    """Microseconds one round trip to another thread and back costs, from the fastest of ``repeats``.

    One item at a time, so each hand-off wakes a waiting thread (a put-then-get loop in one
    thread measures only the data structure). ``"Queue"``/``"SimpleQueue"``: an echo thread gets
    ``i`` from one queue and puts it on another; ``"Future"``: ``submit(int, i).result()`` on a
    one-worker pool; ``"Thread"``: a new thread started and joined per item. Items are checked on
    their way back; helper threads are joined before returning. Standard classes, not the twins.

    Args:
        rounds: round trips per timed run, 1 to 1,000,000; ``repeats``: timed runs, 1 to 100.
        timeout: seconds any single wait may take, 0.001 to 600.

    Raises:
        queue.Empty, TimeoutError, AssertionError: an item did not come back within ``timeout``.
    """
    return min(_timed_run(kind, rounds, timeout) for _ in range(repeats)) / rounds * 1e6
