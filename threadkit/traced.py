"""Recording twins of the standard library: import these instead of the originals.

::

    from threadkit.traced import ThreadPoolExecutor, Lock, Queue, Thread

Each has the same API and behaviour as the standard-library class of the same
name and records into the active :func:`threadkit.recording` (and records
nothing outside one).  The constants and exceptions of ``concurrent.futures``
and ``queue`` are re-exported so one import line serves a lesson.
"""

from concurrent.futures import (
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    CancelledError,
    InvalidStateError,
)
from queue import Empty, Full

from ._traced import (
    Event,
    Future,
    Lock,
    Queue,
    RLock,
    Thread,
    ThreadPoolExecutor,
    as_completed,
    callback,
    wait,
)

__all__ = [
    "ThreadPoolExecutor",
    "Future",
    "as_completed",
    "wait",
    "Thread",
    "Lock",
    "RLock",
    "Queue",
    "Event",
    "callback",
    "ALL_COMPLETED",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "CancelledError",
    "InvalidStateError",
    "Empty",
    "Full",
]
