"""Recording twins of the standard library: import these instead of the originals.

::

    from threadkit.traced import ThreadPoolExecutor, Lock, Queue, Thread

Each twin has the standard library's API and behaviour (same return values,
exceptions and timeouts) and, while a :func:`threadkit.recording` is active,
also records what the calling thread spent its time on.  Outside a recording
they record nothing and add only an attribute lookup per call.

Worker-side events (a task running, a callback running) go to the recording
that was active when the work was set up (``submit``, ``start``,
``add_done_callback``).

Hand-offs: the twins also link what one thread produced to where another
received it (see :attr:`threadkit.Recording.handoffs`).  The producing end
travels with the object (a future's or a thread's ``_tk_origin``, a queue's
per-item record kept in step with its items); the receiving thread records
the link.
"""

import concurrent.futures as _cf
import itertools
import queue as _queue
import threading as _threading
from collections import deque as _deque
from time import perf_counter_ns, thread_time_ns

from concurrent.futures import (  # re-exported: one import line serves a lesson
    ALL_COMPLETED,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    CancelledError,
    InvalidStateError,
)
from queue import Empty, Full

from . import kinds as _kinds
from . import _recording
from ._recording import _Origin
from ._validate import check_callable, check_str

__all__ = [
    "ThreadPoolExecutor", "Future", "as_completed", "wait", "Thread", "Lock", "RLock", "Queue",
    "Event", "callback", "ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION",
    "CancelledError", "InvalidStateError", "Empty", "Full",
]

# Bound once: the hot paths below run for every task and every lock operation.
_RUN = _kinds.RUN
_QUEUED = _kinds.QUEUED
_EXCEPTION = _kinds.EXCEPTION
_SET_RESULT = _kinds.SET_RESULT
_LOCK_WAIT = _kinds.LOCK_WAIT
_LOCK_HOLD = _kinds.LOCK_HOLD
_BLOCKED_RESULT = _kinds.BLOCKED_RESULT
_PUT = _kinds.PUT
_SUBMIT = _kinds.SUBMIT
_GET = _kinds.GET
_EXCEPTHOOK = _kinds.EXCEPTHOOK
_RUN_ENDED = _kinds.RUN_ENDED
_HANDOFF_RESULT = _kinds.HANDOFF_RESULT
_HANDOFF_ERROR = _kinds.HANDOFF_ERROR
_HANDOFF_ITEM = _kinds.HANDOFF_ITEM
_RESULT_RETURNED = _kinds.RESULT_RETURNED
#: States of a done future (concurrent.futures._base); a done future stays done.
_DONE_STATES = frozenset(
    {_cf._base.CANCELLED, _cf._base.CANCELLED_AND_NOTIFIED, _cf._base.FINISHED}
)


def _name_of(fn):
    """A label for ``fn``: its qualified name, else its name, else its type's name (always a str)."""
    for attribute in ("__qualname__", "__name__"):
        name = getattr(fn, attribute, None)
        if name and isinstance(name, str):
            return name.rpartition("<locals>.")[2]  # a nested function reads as its own name
    return type(fn).__name__


def _run_thread(rec, label, run, origin):
    """Run a thread's ``run`` as a RUN span (with CPU time) in ``rec``; fill in ``origin``.

    The end of the run is the producing end of the thread's hand-off to
    ``join()``.  An exception leaving ``run`` is an ``EXCEPTION`` instant and,
    unless it is ``SystemExit`` (which ``threading.excepthook`` ignores), an
    ``EXCEPTHOOK`` instant labelled with its type: the thread then hands it to
    ``threading.excepthook``.
    """
    add_span, add_instant = rec._appenders()
    seen = rec._seen_here()
    c0 = thread_time_ns()
    t0 = perf_counter_ns()
    try:
        run()
    except BaseException as exc:
        t1 = perf_counter_ns()
        add_span((_RUN, label, t0, t1, thread_time_ns() - c0))
        if isinstance(exc, SystemExit):
            add_instant((_EXCEPTION, label, t1))
        else:
            add_instant((_EXCEPTION, label, t1, _EXCEPTHOOK, type(exc).__name__, t1))
        origin.kind, origin.t, origin.error = _EXCEPTION, t1, None  # (join does not carry it)
        origin.seen = seen
        raise
    t1 = perf_counter_ns()
    add_span((_RUN, label, t0, t1, thread_time_ns() - c0))
    origin.kind, origin.t, origin.error = _RUN_ENDED, t1, None
    origin.seen = seen


def _take(rec, holder, kind, to_kind, t):
    """Link ``holder``'s producing end (a future's or thread's) to the caller, at ``t``, once.

    Only for an origin produced inside ``rec`` and not taken yet: a future
    read twice, or by ``as_completed`` and then ``result()``, gives one link.
    """
    origin = holder._tk_origin
    if origin is None or origin.taken or origin.rec is not rec or origin.seen is None:
        return
    origin.taken = True
    rec._add_link(kind, origin, to_kind, t)


def _link_callback(rec, args, t0):
    """A callback called with a traced future: link the future's completion to this start."""
    if args and isinstance(args[0], Future):
        origin = args[0]._tk_origin
        if origin is not None and origin.rec is rec:
            rec._add_link(_kinds.HANDOFF_CALLBACK, origin, _kinds.CALLBACK_STARTED, t0, error="")


def callback(fn, label=None):
    """Wrap ``fn`` so that each call is recorded as a ``CALLBACK`` span.

    The span lands in the lane of whichever thread makes the call, which is
    the point: a callback runs in the thread that calls it.  Called with a
    traced :class:`Future` as its first argument (as ``add_done_callback``
    does), it also records a ``HANDOFF_CALLBACK`` link from the future's
    completion.  Outside a recording the wrapper just calls ``fn``.

    Args:
        fn: the callback.
        label: text for the timeline; defaults to ``fn``'s name.

    Returns:
        A function with the same arguments and return value as ``fn``.

    Raises:
        TypeError: ``fn`` is not callable, or ``label`` is not a str.
    """
    check_callable("fn", fn)
    label = _name_of(fn) if label is None else check_str("label", label)

    def recorded_callback(*args, **kwargs):
        rec = _recording._current
        if rec is None:
            return fn(*args, **kwargs)
        t0 = perf_counter_ns()
        _link_callback(rec, args, t0)
        try:
            return fn(*args, **kwargs)
        finally:
            rec._add_span(_kinds.CALLBACK, label, t0)
            rec._seen_here().cpu_mark = thread_time_ns()  # not charged to the next pool task

    recorded_callback.__wrapped__ = fn
    recorded_callback.__name__ = getattr(fn, "__name__", "callback")
    return recorded_callback


def _bound_callback(fn, rec):
    """Wrap ``fn`` to record each call as a ``CALLBACK`` span in ``rec`` (set up now, run later)."""
    label = _name_of(fn)

    def recorded_callback(*args, **kwargs):
        t0 = perf_counter_ns()
        _link_callback(rec, args, t0)
        try:
            return fn(*args, **kwargs)
        finally:
            rec._add_span(_kinds.CALLBACK, label, t0)
            rec._seen_here().cpu_mark = thread_time_ns()  # not charged to the next pool task

    recorded_callback.__wrapped__ = fn
    recorded_callback.__name__ = getattr(fn, "__name__", "callback")
    return recorded_callback


# ------------------------------------------------------------------ futures
class Future(_cf.Future):
    """``concurrent.futures.Future`` whose waits and completions are recorded.

    ``result()`` and ``exception()`` record a ``BLOCKED_RESULT`` span when
    they have to wait; ``set_result``/``set_exception`` record an instant;
    callbacks added with ``add_done_callback`` record a ``CALLBACK`` span in
    the thread that runs them.

    Hand-offs: the first ``result()`` that returns the value (or
    ``as_completed`` that yields the future) records a ``HANDOFF_RESULT``
    link from the completion; the first ``result()`` that re-raises the error
    or ``exception()`` that returns it records a ``HANDOFF_ERROR`` link (the
    error is then *retrieved*; one nobody retrieved is listed in
    ``Recording.never_retrieved``); each callback run records a
    ``HANDOFF_CALLBACK`` link.
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
                rec._add_span_at(_BLOCKED_RESULT, self._tk_label, t0, t1)
            if exc is self._exception:  # the task's error, re-raised here
                _take(rec, self, _HANDOFF_ERROR, _kinds.RESULT_RAISED, t1)
            raise
        t1 = perf_counter_ns()
        # (The common case inlined: this runs for every result read in a recording.)
        local = rec._local
        try:
            add_span, add_link = local.add_span, local.add_link
        except AttributeError:
            rec._register()
            add_span, add_link = local.add_span, local.add_link
        if t0 is not None:
            add_span((_BLOCKED_RESULT, self._tk_label, t0, t1, None))
        origin = self._tk_origin
        if origin is not None and not origin.taken and origin.rec is rec and origin.seen is not None:
            origin.taken = True
            add_link((_HANDOFF_RESULT, origin.label, "", origin.seen, origin.kind, origin.t, _RESULT_RETURNED, t1))
        return value

    def exception(self, timeout=None):
        rec = _recording._current
        if rec is None:
            return _cf.Future.exception(self, timeout)
        t0 = None if self._state in _DONE_STATES else perf_counter_ns()
        try:
            error = _cf.Future.exception(self, timeout)
        finally:
            t1 = perf_counter_ns()
            if t0 is not None:
                rec._add_span_at(_BLOCKED_RESULT, self._tk_label, t0, t1)
        if error is not None:
            _take(rec, self, _HANDOFF_ERROR, _kinds.EXCEPTION_RETURNED, t1)
        return error

    def add_done_callback(self, fn):
        rec = _recording._current
        if rec is None or not callable(fn):
            return super().add_done_callback(fn)
        return super().add_done_callback(_bound_callback(fn, rec))

    def set_result(self, result):
        rec = _recording._current
        if rec is None or self._tk_from_pool:  # (a traced pool's worker records its own end)
            return super().set_result(result)
        origin, previous = self._tk_produce(rec, _SET_RESULT, None)
        try:
            super().set_result(result)
        except BaseException:
            self._tk_origin = previous  # already done: this call produced nothing
            raise
        rec._add_instant_at(_SET_RESULT, self._tk_label, origin.t)

    def set_exception(self, exception):
        rec = _recording._current
        if rec is None or self._tk_from_pool:
            return super().set_exception(exception)
        origin, previous = self._tk_produce(rec, _EXCEPTION, type(exception).__name__)
        try:
            super().set_exception(exception)
        except BaseException:
            self._tk_origin = previous
            raise
        rec._failures.append(origin)
        rec._add_instant_at(_EXCEPTION, self._tk_label, origin.t)

    def _tk_produce(self, rec, kind, error):
        """Make the calling thread, now, this future's producing end (before waking any waiter).

        Returns:
            ``(new origin, previous origin)``.
        """
        origin = _Origin(rec, self._tk_label)
        origin.kind, origin.error, origin.t = kind, error, perf_counter_ns()
        origin.seen = rec._seen_here()
        previous, self._tk_origin = self._tk_origin, origin
        return origin, previous

    def cancel(self):
        cancelled = super().cancel()
        rec = _recording._current
        if cancelled and rec is not None:
            rec._add_instant(_kinds.CANCEL, self._tk_label)
        return cancelled


class ThreadPoolExecutor(_cf.ThreadPoolExecutor):
    """``concurrent.futures.ThreadPoolExecutor`` that records its tasks.

    Inside a recording, ``submit`` records a ``SUBMIT`` instant; the worker
    records the task's ``QUEUED`` time (submit to start), its ``RUN`` span
    with CPU time, and a ``SET_RESULT`` or ``EXCEPTION`` instant, which is
    also the producing end of the future's hand-off.  Futures are
    :class:`Future` twins, so waiting on them is recorded too, and so is the
    wait in ``shutdown(wait=True)`` (the end of a ``with`` block).
    """

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
            # (The task's own arguments are passed flat, so a pending task keeps
            # no more objects alive than an unrecorded one: less work for the GC.)
            future = super().submit(_pool_task, rec, origin, t_submit, fn, *args, **kwargs)
            # Recorded once submit succeeded (it raises after shutdown), at the submit time.
            try:
                add_instant = rec._local.add_instant
            except AttributeError:
                add_instant = rec._appenders()[1]
            add_instant((_SUBMIT, label, t_submit))
        # Become a traced Future under the future's own lock, so that a
        # set_result racing with this line sees either class consistently.
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
        t0 = perf_counter_ns()
        try:
            return super().shutdown(wait, cancel_futures=cancel_futures)
        finally:
            rec._add_span(_kinds.JOIN_WAIT, "shutdown", t0)


def _pool_task(rec, origin, t_submit, fn, /, *args, **kwargs):
    """What a traced pool's worker runs: record queueing, the task, its outcome.

    The outcome's instant is also the producing end of the future's hand-off:
    it is written into ``origin`` (which the future carries) before the pool
    completes the future, so whoever the future wakes finds it.  A failure is
    registered with the recording, to be reported if nobody retrieves it.
    (This runs once per task, so it stays lean.)

    The task's CPU time reads the thread's CPU clock once, when the task ends,
    and subtracts the worker's ``cpu_mark`` (the end of its previous task or
    traced callback): it includes the pool's own few microseconds between two
    tasks, and saves a clock read, a system call (0.7 us on the course's VM,
    a fifth of what recording adds to a small task).
    """
    local = rec._local
    try:
        add_span, add_instant, seen = local.add_span, local.add_instant, local.seen
    except AttributeError:
        add_span, add_instant = rec._appenders()
        seen = local.seen
    label = origin.label
    c0 = seen.cpu_mark
    t0 = perf_counter_ns()
    try:
        result = fn(*args, **kwargs)
    except BaseException as exc:
        t1 = perf_counter_ns()
        seen.cpu_mark = c1 = thread_time_ns()
        # Two spans in one go: queued (submit to start), then running.
        add_span((_QUEUED, label, t_submit, t0, None, _RUN, label, t0, t1, c1 - c0))
        add_instant((_EXCEPTION, label, t1))
        origin.kind, origin.t, origin.error = _EXCEPTION, t1, type(exc).__name__
        origin.seen = seen  # (last: a set seen marks the origin as produced)
        rec._failures.append(origin)
        raise
    t1 = perf_counter_ns()
    seen.cpu_mark = c1 = thread_time_ns()
    add_span((_QUEUED, label, t_submit, t0, None, _RUN, label, t0, t1, c1 - c0))
    add_instant((_SET_RESULT, label, t1))
    origin.kind, origin.t, origin.error = _SET_RESULT, t1, None
    origin.seen = seen
    return result


def wait(fs, timeout=None, return_when=_cf.ALL_COMPLETED):
    """``concurrent.futures.wait`` that records the caller's wait as ``BLOCKED_RESULT``."""
    rec = _recording._current
    if rec is None:
        return _cf.wait(fs, timeout, return_when)
    t0 = perf_counter_ns()
    try:
        return _cf.wait(fs, timeout, return_when)
    finally:
        rec._add_span(_kinds.BLOCKED_RESULT, "wait", t0)


def as_completed(fs, timeout=None):
    """``concurrent.futures.as_completed`` that records each wait for the next future.

    Yielding a traced future that succeeded inside the recording records its
    ``HANDOFF_RESULT`` link (the caller now has the value: ``result()`` will
    not wait); a failed one is linked where ``result()`` or ``exception()``
    delivers its error.
    """
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
                    rec._add_span(_kinds.BLOCKED_RESULT, "as_completed", t0)
                raise
            if rec is not None:
                t1 = perf_counter_ns()
                rec._add_span_at(_kinds.BLOCKED_RESULT, "as_completed", t0, t1)
                origin = getattr(future, "_tk_origin", None) if isinstance(future, Future) else None
                if origin is not None and origin.seen is not None and origin.kind == _SET_RESULT:
                    _take(rec, future, _HANDOFF_RESULT, _kinds.AS_COMPLETED_YIELDED, t1)
            yield future
    finally:
        inner.close()


# ------------------------------------------------------------------ threads
class Thread(_threading.Thread):
    """``threading.Thread`` that records its run as a ``RUN`` span (with CPU time).

    An exception escaping ``run`` is recorded as an ``EXCEPTION`` instant and
    an ``EXCEPTHOOK`` instant (labelled with its type), and then reaches
    ``threading.excepthook`` exactly as with a plain thread.  Subclasses that
    override ``run`` are recorded too.  ``join`` records the caller's wait as
    ``JOIN_WAIT``.

    Hand-off: the first ``join()`` that returns after the run ended records a
    ``HANDOFF_JOIN`` link from the end of the run (the worker's last write to
    a shared variable) to where ``join()`` returned (where reading it is safe).
    """

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

        def recorded_run():
            _run_thread(rec, label, run, origin)

        self.run = recorded_run
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
                rec._add_span_at(_kinds.JOIN_WAIT, self.name, t0, t1)
        if not self.is_alive():  # (not after a timeout that expired)
            _take(rec, self, _kinds.HANDOFF_JOIN, _kinds.JOIN_RETURNED, t1)


# -------------------------------------------------------------------- locks
def _needs_plain_call(blocking, timeout):
    """True when a call must go straight to the real lock.

    That is a non-blocking call (it never waits), or any timeout other than
    -1 or an int/float from 0 to ``TIMEOUT_MAX``: the real lock then raises
    its own error (negative, NaN, None, too large, not a number) or accepts
    the value in its own way.
    """
    if not blocking:
        return True
    if timeout == -1:
        return False
    return type(timeout) not in (int, float) or not 0 <= timeout <= _threading.TIMEOUT_MAX


class Lock:
    """``threading.Lock`` that records waiting for it and holding it.

    ``acquire`` records ``LOCK_WAIT`` only when the lock was taken by another
    thread; the time from acquiring to ``release`` is a ``LOCK_HOLD`` span.

    Args:
        name: keyword-only label for the timeline (an addition to the stdlib API).
    """

    __slots__ = ("_lock", "name", "_hold_t0", "_hold_rec", "__weakref__")

    def __init__(self, *, name="lock"):
        self.name = check_str("name", name)
        self._lock = _threading.Lock()
        self._hold_t0 = 0
        self._hold_rec = None

    def acquire(self, blocking=True, timeout=-1):
        rec = _recording._current
        lock = self._lock
        if rec is None:
            return lock.acquire(blocking, timeout)  # (and _hold_rec stays None)
        if timeout != -1 and _needs_plain_call(blocking, timeout) or not blocking:
            got = lock.acquire(blocking, timeout)
        elif lock.acquire(False):
            got = True
        else:
            t0 = perf_counter_ns()
            try:
                got = lock.acquire(True, timeout)
            finally:
                rec._add_span(_LOCK_WAIT, self.name, t0)
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
        try:
            add = rec._local.add_span
        except AttributeError:
            add = rec._appenders()[0]
        add((_LOCK_HOLD, self.name, t0, t1, None))

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
        state = "locked" if self._lock.locked() else "unlocked"
        return f"<{state} threadkit.traced.Lock {self.name!r}>"


class RLock:
    """``threading.RLock`` that records waiting for it and holding it.

    Re-entering it from the owning thread never waits; the ``LOCK_HOLD`` span
    runs from the first acquire to the last release.  Works with
    ``threading.Condition``.

    Args:
        name: keyword-only label for the timeline (an addition to the stdlib API).
    """

    def __init__(self, *, name="rlock"):
        self.name = check_str("name", name)
        self._lock = _threading.RLock()
        self._owner = None
        self._count = 0
        self._hold_t0 = 0
        self._hold_rec = None

    def acquire(self, blocking=True, timeout=-1):
        rec = _recording._current
        me = _threading.get_ident()
        if rec is None or self._owner == me or _needs_plain_call(blocking, timeout):
            got = self._lock.acquire(blocking, timeout)
        elif self._lock.acquire(False):
            got = True
        else:
            t0 = perf_counter_ns()
            try:
                got = self._lock.acquire(True, timeout)
            finally:
                rec._add_span(_kinds.LOCK_WAIT, self.name, t0)
        if got:
            if self._count == 0:
                self._owner = me
                self._hold_rec = rec
                self._hold_t0 = perf_counter_ns()
            self._count += 1
        return got

    def release(self):
        if self._owner != _threading.get_ident():
            self._lock.release()  # raises RuntimeError like the stdlib RLock
            return
        self._count -= 1
        rec, t0, t1 = None, self._hold_t0, perf_counter_ns()
        if self._count == 0:
            self._owner = None
            rec, self._hold_rec = self._hold_rec, None
        self._lock.release()
        if rec is not None:
            rec._add_span_at(_kinds.LOCK_HOLD, self.name, t0, t1)

    __enter__ = acquire

    def __exit__(self, *exc_info):
        self.release()

    # New in 3.14 (and used by threading.Condition there): only where the stdlib RLock has it.
    if hasattr(_threading.RLock(), "locked"):

        def locked(self):
            """True if the lock is held (by any thread), as ``threading.RLock.locked`` (3.14+)."""
            return self._lock.locked()

    # Used by threading.Condition (its wait() releases the lock completely).
    def _is_owned(self):
        return self._owner == _threading.get_ident()

    def _release_save(self):
        count, rec, t0, t1 = self._count, self._hold_rec, self._hold_t0, perf_counter_ns()
        self._count, self._owner, self._hold_rec = 0, None, None
        inner = self._lock._release_save()
        if rec is not None:
            rec._add_span_at(_kinds.LOCK_HOLD, self.name, t0, t1)
        return inner, count

    def _acquire_restore(self, state):
        inner, count = state
        self._lock._acquire_restore(inner)
        self._owner, self._count = _threading.get_ident(), count
        self._hold_rec = _recording._current
        self._hold_t0 = perf_counter_ns()

    def __repr__(self):
        owner = "unlocked" if self._owner is None else f"locked by {self._owner} count={self._count}"
        return f"<threadkit.traced.RLock {self.name!r} {owner}>"


# --------------------------------------------------------- queues and events
#: Per thread: the put record of the item this thread's last ``Queue._get`` took.
_taken = _threading.local()


class Queue(_queue.Queue):
    """``queue.Queue`` that records blocked ``get``/``put`` calls and hand-offs.

    ``get`` records ``QUEUE_GET_WAIT`` only when the queue was empty, ``put``
    records ``QUEUE_PUT_WAIT`` only when a bounded queue was full; every item
    handed over records a ``PUT`` and a ``GET`` instant, and a
    ``HANDOFF_ITEM`` link from the one to the other (``HANDOFF_ERROR``,
    labelled with its type, when the item is an exception sent to be
    re-raised by the consumer).  Which put brought which item is kept in a
    deque in step with the items (both changed under the queue's own lock).

    Args:
        maxsize: as for ``queue.Queue`` (0 or less: unbounded).
        name: keyword-only label for the timeline (an addition to the stdlib API).
    """

    def __init__(self, maxsize=0, *, name="queue"):
        self.name = check_str("name", name)
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
        local = rec._local
        try:
            seen, add_instant = local.seen, local.add_instant
        except AttributeError:
            seen = rec._register()
            add_instant = local.add_instant
        puts.append((rec, seen, t))
        add_instant((_PUT, self.name, t))

    def _get(self):
        items = self.queue
        item = items.popleft()
        puts = self._tk_puts
        if len(puts) != len(items) + 1:
            puts.clear()
            put = None
        else:
            put = puts.popleft()
        if _recording._current is not None:
            _taken.put = put  # for get(), which records the GET once its wait ended
        return item

    def put(self, item, block=True, timeout=None):
        rec = _recording._current
        if rec is None or self.maxsize <= 0 or not block or (timeout is not None and timeout < 0):
            super().put(item, block, timeout)  # (an unbounded queue never blocks nor checks timeout)
        else:
            try:
                super().put(item, False)
            except _queue.Full:
                t0 = perf_counter_ns()
                try:
                    super().put(item, True, timeout)
                finally:
                    rec._add_span(_kinds.QUEUE_PUT_WAIT, self.name, t0)
        # (The PUT instant is recorded by _put, under the queue's lock.)

    def get(self, block=True, timeout=None):
        rec = _recording._current
        if rec is None or not block or (timeout is not None and timeout < 0):
            item = super().get(block, timeout)
        else:
            try:
                item = super().get(False)
            except _queue.Empty:
                t0 = perf_counter_ns()
                try:
                    item = super().get(True, timeout)
                finally:
                    rec._add_span(_kinds.QUEUE_GET_WAIT, self.name, t0)
        if rec is not None:
            t = perf_counter_ns()
            local = rec._local
            try:
                add_instant = local.add_instant
            except AttributeError:
                rec._register()
                add_instant = local.add_instant
            add_instant((_GET, self.name, t))
            put, _taken.put = _taken.put, None
            if put is not None and put[0] is rec:
                error = type(item).__name__ if isinstance(item, BaseException) else ""
                local.add_link((_HANDOFF_ERROR if error else _HANDOFF_ITEM, self.name, error,
                                put[1], _PUT, put[2], _GET, t))
        return item

    def join(self):
        rec = _recording._current
        if rec is None or not self.unfinished_tasks:
            return super().join()
        t0 = perf_counter_ns()
        try:
            return super().join()
        finally:
            rec._add_span(_kinds.JOIN_WAIT, f"{self.name}.join", t0)


class Event(_threading.Event):
    """``threading.Event`` that records ``wait`` as ``EVENT_WAIT`` and ``set`` as an instant.

    Args:
        name: keyword-only label for the timeline (an addition to the stdlib API).
    """

    def __init__(self, *, name="event"):
        super().__init__()
        self.name = check_str("name", name)

    def wait(self, timeout=None):
        rec = _recording._current
        if rec is None or self.is_set():
            return super().wait(timeout)
        t0 = perf_counter_ns()
        try:
            return super().wait(timeout)
        finally:
            rec._add_span(_kinds.EVENT_WAIT, self.name, t0)

    def set(self):
        super().set()
        rec = _recording._current
        if rec is not None:
            rec._add_instant(_kinds.EVENT_SET, self.name)
