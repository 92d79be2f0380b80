"""Recording twins of the standard library (``from threadkit.traced import ThreadPoolExecutor``).

Each twin has the standard library's API and behaviour (same results, exceptions and timeouts)
and, inside ``with threadkit.recording():``, also records what the calling thread spent its time
on and links what one thread produced to where another received it (hand-offs); outside one it
adds an attribute lookup per call. Worker-side events go to the recording active when the work
was set up (``submit``, ``start``, ``add_done_callback``).
"""

import concurrent.futures as _cf
import itertools
import queue as _queue
import threading as _threading
from collections import deque as _deque
from time import perf_counter_ns, thread_time_ns

# Re-exported: one import line serves a lesson.
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, CancelledError, InvalidStateError
from queue import Empty, Full

from . import _recording
from ._recording import _Origin
from ._validate import A_STR, accepts
from .kinds import (
    AS_COMPLETED_YIELDED, BLOCKED_RESULT, CALLBACK, CALLBACK_STARTED, CANCEL, EVENT_SET, EVENT_WAIT, EXCEPTHOOK,
    EXCEPTION, EXCEPTION_RETURNED, GET, HANDOFF_CALLBACK, HANDOFF_ERROR, HANDOFF_ITEM, HANDOFF_JOIN, HANDOFF_RESULT,
    JOIN_RETURNED, JOIN_WAIT, LOCK_HOLD, LOCK_WAIT, PUT, QUEUE_GET_WAIT, QUEUE_PUT_WAIT, QUEUED, RESULT_RAISED,
    RESULT_RETURNED, RUN, RUN_ENDED, SET_RESULT, SUBMIT,
)

__all__ = [
    "ThreadPoolExecutor", "Future", "as_completed", "wait", "Thread", "Lock", "Queue", "Event",
    "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION", "CancelledError", "InvalidStateError", "Empty", "Full",
]

#: States of a done future (concurrent.futures._base); a done future stays done.
_DONE_STATES = frozenset({_cf._base.CANCELLED, _cf._base.CANCELLED_AND_NOTIFIED, _cf._base.FINISHED})


def _name_of(fn):
    """A label for ``fn``: its qualified name, else its name, else its type's name."""
    for attribute in ("__qualname__", "__name__"):
        name = getattr(fn, attribute, None)
        if name and isinstance(name, str):
            return name.rpartition("<locals>.")[2]  # a nested function reads as its own name
    return type(fn).__name__


def _link(rec, origin, kind, to_kind, t, error=None):
    """Record in the calling thread the hand-off from ``origin`` (if produced), received at ``t``."""
    if origin.seen is not None:
        error = origin.error if error is None else error
        rec._local.link((kind, origin.label, error or "", origin.seen, origin.kind, origin.t, to_kind, t))


def _take(rec, holder, kind, to_kind, t):
    """Link ``holder``'s (a future's or thread's) origin produced in ``rec`` to the caller, once."""
    origin = holder._tk_origin
    if origin is not None and not origin.taken and origin.rec is rec and origin.seen is not None:
        origin.taken = True
        _link(rec, origin, kind, to_kind, t)


def _waited(rec, kind, label, call, *args, **kwargs):
    """``call(*args, **kwargs)``, recorded in ``rec`` as a ``kind`` span of the calling thread."""
    t0 = perf_counter_ns()
    try:
        return call(*args, **kwargs)
    finally:
        rec._local.span((kind, label, t0, perf_counter_ns(), None))


def _run_thread(rec, label, run, origin):
    """Run a thread's ``run`` as a RUN span in ``rec`` and fill in ``origin``; an exception is an
    ``EXCEPTION`` instant and (unless ``SystemExit``, which excepthook ignores) an ``EXCEPTHOOK`` one."""
    here = rec._local
    c0 = thread_time_ns()
    t0 = perf_counter_ns()
    try:
        run()
    except BaseException as exc:
        t1 = perf_counter_ns()
        here.span((RUN, label, t0, t1, thread_time_ns() - c0))
        hook = () if isinstance(exc, SystemExit) else (EXCEPTHOOK, type(exc).__name__, t1)
        here.instant((EXCEPTION, label, t1, *hook))
        origin.kind, origin.t, origin.error = EXCEPTION, t1, None  # (join does not carry it)
        origin.seen = here.seen
        raise
    t1 = perf_counter_ns()
    here.span((RUN, label, t0, t1, thread_time_ns() - c0))
    origin.kind, origin.t, origin.error = RUN_ENDED, t1, None
    origin.seen = here.seen


def _callback(fn, rec):
    """Wrap ``fn`` to record each call as a ``CALLBACK`` span in ``rec``, linked from the completion
    of the traced future it is called with (as ``add_done_callback`` does)."""
    label = _name_of(fn)

    def recorded_callback(*args, **kwargs):
        t0 = perf_counter_ns()
        origin = args[0]._tk_origin if args and isinstance(args[0], Future) else None
        if origin is not None and origin.rec is rec:
            _link(rec, origin, HANDOFF_CALLBACK, CALLBACK_STARTED, t0, error="")
        here = rec._local
        try:
            return fn(*args, **kwargs)
        finally:
            here.span((CALLBACK, label, t0, perf_counter_ns(), None))
            here.seen.cpu_mark = thread_time_ns()  # not charged to the worker's next pool task

    recorded_callback.__wrapped__ = fn
    recorded_callback.__name__ = getattr(fn, "__name__", "callback")
    return recorded_callback


class Future(_cf.Future):
    """``concurrent.futures.Future`` that records waits (``BLOCKED_RESULT``), completions (an
    instant), callbacks (a ``CALLBACK`` span where they run) and hand-offs: the first delivery of
    the value or the error (``result()``, ``exception()``, ``as_completed``), each callback run.
    """

    _tk_label = "future"
    _tk_from_pool = False
    #: Producing end (_Origin) once completed inside a recording; set by a traced pool at submit.
    _tk_origin = None

    def result(self, timeout=None):
        rec = _recording._current
        if rec is None:
            return _cf.Future.result(self, timeout)
        # (_state read without the lock: a done future never becomes undone.)
        t0 = None if self._state in _DONE_STATES else perf_counter_ns()
        try:
            value = _cf.Future.result(self, timeout)
        except BaseException as exc:
            t1 = perf_counter_ns()
            if t0 is not None:
                rec._local.span((BLOCKED_RESULT, self._tk_label, t0, t1, None))
            if exc is self._exception:  # the task's error, re-raised here
                _take(rec, self, HANDOFF_ERROR, RESULT_RAISED, t1)
            raise
        t1 = perf_counter_ns()
        here = rec._local
        if t0 is not None:
            here.span((BLOCKED_RESULT, self._tk_label, t0, t1, None))
        # (_take inlined: this runs for every result read in a recording.)
        origin = self._tk_origin
        if origin is not None and not origin.taken and origin.rec is rec and origin.seen is not None:
            origin.taken = True
            here.link((HANDOFF_RESULT, origin.label, "", origin.seen, origin.kind, origin.t, RESULT_RETURNED, t1))
        return value

    def exception(self, timeout=None):
        rec = _recording._current
        if rec is None or self._state in _DONE_STATES:
            error = _cf.Future.exception(self, timeout)
        else:
            error = _waited(rec, BLOCKED_RESULT, self._tk_label, _cf.Future.exception, self, timeout)
        if error is not None and rec is not None:
            _take(rec, self, HANDOFF_ERROR, EXCEPTION_RETURNED, perf_counter_ns())
        return error

    def add_done_callback(self, fn):
        rec = _recording._current
        return super().add_done_callback(fn if rec is None or not callable(fn) else _callback(fn, rec))

    def set_result(self, result):
        rec = _recording._current
        if rec is None or self._tk_from_pool:  # (a traced pool's worker records its own end)
            return super().set_result(result)
        self._tk_complete(rec, SET_RESULT, None, super().set_result, result)

    def set_exception(self, exception):
        rec = _recording._current
        if rec is None or self._tk_from_pool:
            return super().set_exception(exception)
        self._tk_complete(rec, EXCEPTION, type(exception).__name__, super().set_exception, exception)

    def _tk_complete(self, rec, kind, error, complete, value):
        """``complete(value)`` with the calling thread, now, as the producing end (set first)."""
        origin = _Origin(rec, self._tk_label)
        origin.kind, origin.error, origin.t = kind, error, perf_counter_ns()
        origin.seen = rec._local.seen
        previous, self._tk_origin = self._tk_origin, origin
        try:
            complete(value)
        except BaseException:
            self._tk_origin = previous  # already done: this call produced nothing
            raise
        if error is not None:
            rec._failures.append(origin)
        rec._local.instant((kind, self._tk_label, origin.t))

    def cancel(self):
        cancelled = super().cancel()
        rec = _recording._current
        if cancelled and rec is not None:
            rec._local.instant((CANCEL, self._tk_label, perf_counter_ns()))
        return cancelled


class ThreadPoolExecutor(_cf.ThreadPoolExecutor):
    """``concurrent.futures.ThreadPoolExecutor`` that records ``SUBMIT``, each task's ``QUEUED``
    and ``RUN`` (with CPU time) spans and ``SET_RESULT`` or ``EXCEPTION`` instant, and the wait in
    ``shutdown`` (``JOIN_WAIT``); its futures are :class:`Future` twins."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tk_counter = itertools.count(1)

    def submit(self, fn, /, *args, **kwargs):
        rec = _recording._current
        origin = None
        if rec is None:
            future = super().submit(fn, *args, **kwargs)
            label = _name_of(fn) if callable(fn) else "task"
        else:
            label = f"{_name_of(fn)} #{next(self._tk_counter)}" if callable(fn) else "task"
            origin = _Origin(rec, label)  # the worker fills it in when the task ends
            t_submit = perf_counter_ns()
            # (The task's arguments are passed flat: a pending task keeps no more objects alive.)
            future = super().submit(_pool_task, rec, origin, t_submit, fn, *args, **kwargs)
            rec._local.instant((SUBMIT, label, t_submit))  # once submit succeeded (it raises after shutdown)
        # Become a traced Future under the future's own lock: a racing set_result sees one class.
        with future._condition:
            future.__class__ = Future
            future._tk_label = label
            future._tk_from_pool = True
            if origin is not None:
                future._tk_origin = origin
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        rec = _recording._current
        if rec is None or not wait:
            return super().shutdown(wait, cancel_futures=cancel_futures)
        return _waited(rec, JOIN_WAIT, "shutdown", super().shutdown, wait, cancel_futures=cancel_futures)


def _pool_task(rec, origin, t_submit, fn, /, *args, **kwargs):
    """What a traced pool's worker runs: record queueing, the task and its outcome, written into
    ``origin`` before the pool completes the future. CPU time: one clock read (a system call) when
    the task ends, minus the worker's ``cpu_mark`` (with the pool's own few microseconds)."""
    here = rec._local
    add_span, add_instant, seen = here.span, here.instant, here.seen
    label = origin.label
    c0 = seen.cpu_mark
    t0 = perf_counter_ns()
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        t1 = perf_counter_ns()
        seen.cpu_mark = c1 = thread_time_ns()
        add_span((QUEUED, label, t_submit, t0, None, RUN, label, t0, t1, c1 - c0))  # two spans in one go
        add_instant((EXCEPTION, label, t1))
        origin.kind, origin.t, origin.error = EXCEPTION, t1, type(exc).__name__
        origin.seen = seen  # (last: a set seen marks the origin as produced)
        rec._failures.append(origin)
        raise
    t1 = perf_counter_ns()
    seen.cpu_mark = c1 = thread_time_ns()
    add_span((QUEUED, label, t_submit, t0, None, RUN, label, t0, t1, c1 - c0))
    add_instant((SET_RESULT, label, t1))
    origin.kind, origin.t, origin.error = SET_RESULT, t1, None
    origin.seen = seen
    return result


def wait(fs, timeout=None, return_when=_cf.ALL_COMPLETED):
    """``concurrent.futures.wait`` that records the caller's wait as ``BLOCKED_RESULT``."""
    rec = _recording._current
    if rec is None:
        return _cf.wait(fs, timeout, return_when)
    return _waited(rec, BLOCKED_RESULT, "wait", _cf.wait, fs, timeout, return_when)


def as_completed(fs, timeout=None):
    """``concurrent.futures.as_completed`` that records each wait for the next future, and the
    ``HANDOFF_RESULT`` of one that succeeded (a failed one's error is delivered by ``result()``)."""
    inner = _cf.as_completed(fs, timeout)
    try:
        while True:
            rec = _recording._current
            t0 = perf_counter_ns()
            try:
                future = next(inner)
            except StopIteration:
                return  # all futures were yielded: nothing was waited for
            except BaseException:
                if rec is not None:  # e.g. TimeoutError: the caller did wait
                    rec._local.span((BLOCKED_RESULT, "as_completed", t0, perf_counter_ns(), None))
                raise
            if rec is not None:
                t1 = perf_counter_ns()
                rec._local.span((BLOCKED_RESULT, "as_completed", t0, t1, None))
                origin = future._tk_origin if isinstance(future, Future) else None
                if origin is not None and origin.seen is not None and origin.kind == SET_RESULT:
                    _take(rec, future, HANDOFF_RESULT, AS_COMPLETED_YIELDED, t1)
            yield future
    finally:
        inner.close()


class Thread(_threading.Thread):
    """``threading.Thread`` that records its run (an overridden one too) as a ``RUN`` span with CPU
    time, an escaping exception as instants (it still reaches ``threading.excepthook``), the wait
    in ``join`` (``JOIN_WAIT``) and a ``HANDOFF_JOIN`` link from the end of the run."""

    _tk_origin = None

    def start(self):
        rec = _recording._current
        if rec is None:
            return super().start()
        had_own_run = "run" in self.__dict__
        previous = self.__dict__.get("run")
        run = self.run
        target = getattr(self, "_target", None)
        label = _name_of(target) if target is not None else f"{type(self).__name__}.run"
        origin = _Origin(rec, self.name)
        self.run = lambda: _run_thread(rec, label, run, origin)
        self._tk_origin = origin
        try:
            super().start()
        except BaseException:  # not started (e.g. started twice): leave run as it was
            if had_own_run:
                self.run = previous
            else:
                del self.run
            raise

    def join(self, timeout=None):
        rec = _recording._current
        if rec is None or self is _threading.current_thread():
            return super().join(timeout)  # (joining itself raises RuntimeError at once)
        t0 = perf_counter_ns() if self.is_alive() else None
        try:
            super().join(timeout)
        finally:
            t1 = perf_counter_ns()
            if t0 is not None:
                rec._local.span((JOIN_WAIT, self.name, t0, t1, None))
        if not self.is_alive():  # (not after a timeout that expired)
            _take(rec, self, HANDOFF_JOIN, JOIN_RETURNED, t1)


class Lock:
    """``threading.Lock`` that records waiting for it (``LOCK_WAIT``, only when another thread
    holds it) and holding it (``LOCK_HOLD``); ``name=`` labels it on the timeline."""

    __slots__ = ("_lock", "name", "_hold_t0", "_hold_rec", "__weakref__")

    @accepts(name=A_STR)
    def __init__(self, *, name="lock"):
        self.name, self._lock, self._hold_t0, self._hold_rec = name, _threading.Lock(), 0, None

    def acquire(self, blocking=True, timeout=-1):
        rec = _recording._current
        lock = self._lock
        if rec is None:
            return lock.acquire(blocking, timeout)  # (and _hold_rec stays None)
        # A call that never waits, or a timeout the real lock must judge (bad ones raise there).
        if not blocking or timeout != -1 and (type(timeout) not in (int, float)
                                              or not 0 <= timeout <= _threading.TIMEOUT_MAX):
            got = lock.acquire(blocking, timeout)
        elif lock.acquire(False):
            got = True
        else:
            got = _waited(rec, LOCK_WAIT, self.name, lock.acquire, True, timeout)
        if got:
            self._hold_rec = rec
            self._hold_t0 = perf_counter_ns()
        return got

    def release(self):
        rec = self._hold_rec
        if rec is None:
            self._lock.release()  # an unlocked lock raises RuntimeError
            return
        t0 = self._hold_t0
        t1 = perf_counter_ns()
        self._hold_rec = None
        self._lock.release()
        rec._local.span((LOCK_HOLD, self.name, t0, t1, None))

    __enter__ = acquire

    def __exit__(self, *exc_info):
        self.release()

    def locked(self):
        """True if the lock is held (by any thread), as ``threading.Lock.locked``."""
        return self._lock.locked()

    # The C lock's undocumented old aliases (still there in 3.15): same names, same methods.
    if hasattr(_threading.Lock(), "acquire_lock"):
        acquire_lock, release_lock, locked_lock = acquire, release, locked

    def __repr__(self):
        return f"<{'locked' if self._lock.locked() else 'unlocked'} threadkit.traced.Lock {self.name!r}>"


class Queue(_queue.Queue):
    """``queue.Queue`` that records a ``get`` that waited (``QUEUE_GET_WAIT``), a ``put`` that
    waited (``QUEUE_PUT_WAIT``), and per item a ``PUT`` and a ``GET`` instant linked by a
    ``HANDOFF_ITEM`` (``HANDOFF_ERROR`` for an exception sent as an item); ``name=`` labels it.
    Which put brought which item is kept in a deque in step with the items (under its lock).
    """

    @accepts(name=A_STR)
    def __init__(self, maxsize=0, *, name="queue"):
        self.name = name
        super().__init__(maxsize)

    # The stdlib calls these three with self.mutex held; _put and _get do what
    # queue.Queue's do (a FIFO deque), directly: they run for every item.
    def _init(self, maxsize):
        super()._init(maxsize)
        self._tk_puts = _deque()  # per item: (rec, seen, t) of its put, or None

    def _put(self, item):
        items = self.queue
        items.append(item)
        puts = self._tk_puts
        if len(puts) != len(items) - 1:  # items added or removed behind our back (q.queue)
            puts.clear()
            puts.extend([None] * (len(items) - 1))
        rec = _recording._current
        if rec is None:
            puts.append(None)
            return
        t = perf_counter_ns()
        here = rec._local
        puts.append((rec, here.seen, t))
        here.instant((PUT, self.name, t))

    def _get(self):
        items = self.queue
        item = items.popleft()
        puts = self._tk_puts
        if len(puts) != len(items) + 1:
            puts.clear()
            put = None
        else:
            put = puts.popleft()
        rec = _recording._current
        if rec is not None:
            t = perf_counter_ns()
            here = rec._local
            here.instant((GET, self.name, t))
            if put is not None and put[0] is rec:
                error = type(item).__name__ if isinstance(item, BaseException) else ""
                here.link((HANDOFF_ERROR if error else HANDOFF_ITEM, self.name, error, put[1], PUT, put[2], GET, t))
        return item

    def put(self, item, block=True, timeout=None):
        rec = _recording._current
        if rec is None or self.maxsize <= 0 or not block or (timeout is not None and timeout < 0):
            return super().put(item, block, timeout)  # (an unbounded queue never blocks nor checks timeout)
        try:
            super().put(item, False)
        except _queue.Full:
            _waited(rec, QUEUE_PUT_WAIT, self.name, super().put, item, True, timeout)

    def get(self, block=True, timeout=None):
        rec = _recording._current
        if rec is None or not block or (timeout is not None and timeout < 0):
            return super().get(block, timeout)
        try:
            return super().get(False)
        except _queue.Empty:
            return _waited(rec, QUEUE_GET_WAIT, self.name, super().get, True, timeout)

    def join(self):
        rec = _recording._current
        if rec is None or not self.unfinished_tasks:
            return super().join()
        return _waited(rec, JOIN_WAIT, f"{self.name}.join", super().join)


class Event(_threading.Event):
    """``threading.Event`` that records ``wait`` as ``EVENT_WAIT`` and ``set`` as an instant;
    ``name=`` labels it on the timeline."""

    @accepts(name=A_STR)
    def __init__(self, *, name="event"):
        super().__init__()
        self.name = name

    def wait(self, timeout=None):
        rec = _recording._current
        if rec is None or self.is_set():
            return super().wait(timeout)
        return _waited(rec, EVENT_WAIT, self.name, super().wait, timeout)

    def set(self):
        super().set()
        rec = _recording._current
        if rec is not None:
            rec._local.instant((EVENT_SET, self.name, perf_counter_ns()))
