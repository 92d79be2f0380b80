"""Work with a known shape, for demos: sleeping (I/O), computing (CPU), failing.

* :func:`io_task` sleeps, like a thread waiting for a network reply: it
  releases the GIL, so many of them overlap even on one core.
* :func:`cpu_task` loops in pure Python: it holds the GIL while it runs, so
  on a GIL build two of them take turns instead of running in parallel.
* :func:`flaky_task` fails on demand with :class:`TaskFailed`;
  :func:`failure_plan` picks *which* tasks fail, reproducibly.
"""

import random
import time

from ._validate import check_int, check_number

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
