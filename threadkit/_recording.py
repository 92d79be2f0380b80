"""Recording: a thread-safe log of spans and instant events.

A :class:`Recording` collects what threads did while it was active.  The
traced twins in :mod:`threadkit.traced` append to the *active* recording (the
innermost ``with recording():`` block, seen by every thread); outside one they
record nothing.  Recording an event is one ``list.extend`` of a small tuple
onto the calling thread's own buffer (no lock, no contention between
threads, no garbage-collector work), so recording disturbs the demos it
measures as little as possible (``benchmarks/recorder_overhead.py`` measures it).

A recording also links *hand-offs*: a value, an error or an item produced in
one thread and received in another.  The producing end is stored on the thing
that travels (a future, a queue's item, a thread: see :class:`_Origin`); the
receiving thread records the link when it gets it (:attr:`Recording.handoffs`).
A failed future whose error nobody retrieved before the recording stopped is
listed in :attr:`Recording.never_retrieved`.
"""

import json
import os
import threading
from time import perf_counter_ns, thread_time_ns
from typing import NamedTuple, Optional

from . import kinds as _kinds
from ._validate import check_callable, check_choice, check_instance, check_int, check_number, check_str

__all__ = ["recording", "current_recording", "span", "mark", "best_of",
           "Recording", "Span", "Instant", "ThreadInfo", "Handoff", "NeverRetrieved"]

NS_PER_MS = 1_000_000
NS_PER_US = 1_000
MAIN_THREAD_NAME = "MainThread"
#: Process id written into exported Chrome traces (one process per recording).
TRACE_PID = 1
#: Category of the flow events (``ph: "s"``/``"f"``) that carry hand-offs in a Chrome trace.
FLOW_CATEGORY = "handoff"
_ALL_KINDS = _kinds.SPAN_KINDS + _kinds.INSTANT_KINDS


class Span(NamedTuple):
    """Time one thread spent in one kind of activity.

    Times are nanoseconds from the start of the recording.  ``cpu_ns`` is the
    CPU time the thread used during the span (``time.thread_time_ns``), or
    ``None`` when it was not measured (only running spans measure it).  A traced
    pool's task also counts the pool's own few microseconds before it started
    (see ``_pool_task`` in ``traced.py``).
    """

    lane: int
    thread_name: str
    kind: str
    label: str
    start_ns: int
    end_ns: int
    cpu_ns: Optional[int] = None

    @property
    def start_ms(self):
        return self.start_ns / NS_PER_MS

    @property
    def end_ms(self):
        return self.end_ns / NS_PER_MS

    @property
    def duration_ms(self):
        return (self.end_ns - self.start_ns) / NS_PER_MS

    @property
    def cpu_share(self):
        """Fraction of the span the thread spent on a CPU (0-1), or None."""
        if self.cpu_ns is None:
            return None
        wall = self.end_ns - self.start_ns
        return min(1.0, self.cpu_ns / wall) if wall > 0 else 0.0


class Instant(NamedTuple):
    """Something that happened at one moment in one thread."""

    lane: int
    thread_name: str
    kind: str
    label: str
    t_ns: int

    @property
    def t_ms(self):
        return self.t_ns / NS_PER_MS


class Handoff(NamedTuple):
    """Something one thread produced and a thread received: one arrow on a timeline.

    ``from_*`` is the producing end (a worker's ``set_result``, a raised
    exception, a ``put``, the end of a thread's run), ``to_*`` the receiving
    end (``result()`` returned or re-raised, the ``get`` that took the item,
    ``join()`` returned, a callback started).  Both ends can be in the same
    thread (a callback run by the worker that completed the future).  Times
    are nanoseconds from the start of the recording.
    """

    #: One of ``HANDOFF_KINDS``: result, error, item, join, callback.
    kind: str
    #: What travelled: the task's label, the queue's name or the thread's name.
    label: str
    #: The exception's type name for an error (or an exception sent as a queue item); "" otherwise.
    error: str
    from_lane: int
    from_thread: str
    #: Event at the producing end, e.g. ``SET_RESULT``, ``EXCEPTION``, ``PUT``, ``RUN_ENDED``.
    from_kind: str
    from_ns: int
    to_lane: int
    to_thread: str
    #: Event at the receiving end, e.g. ``RESULT_RETURNED``, ``RESULT_RAISED``, ``GET``, ``JOIN_RETURNED``.
    to_kind: str
    to_ns: int

    @property
    def from_ms(self):
        return self.from_ns / NS_PER_MS

    @property
    def to_ms(self):
        return self.to_ns / NS_PER_MS


class NeverRetrieved(NamedTuple):
    """A future that failed and whose error nobody retrieved before the recording stopped.

    Neither ``result()`` nor ``exception()`` returned the error inside the
    recording (a callback that reads ``exception()`` retrieves it): the
    silent-failure trap.  ``t_ns`` is when the task raised.
    """

    lane: int
    thread_name: str
    label: str
    #: The exception's type name.
    error: str
    t_ns: int

    @property
    def t_ms(self):
        return self.t_ns / NS_PER_MS


class _Origin:
    """The producing end of a hand-off, stored on the object that travels.

    A traced pool makes one per task (its worker fills it in when the task
    ends), a traced ``Future`` one when it is completed, a traced ``Thread``
    one when it starts (filled in when its run ends).  The receiving thread
    reads it and records the link; ``taken`` says a result or error link was
    recorded (so an error counts as retrieved, and a future read twice gives
    one arrow).
    """

    __slots__ = ("rec", "label", "seen", "kind", "t", "error", "taken")

    def __init__(self, rec, label):
        # (Only what is read before the origin is produced: made once per task.)
        self.rec = rec
        self.label = label
        self.seen = None  # the producing thread's _SeenThread, once produced
        self.taken = False
        # The producer sets kind, t and error (the exception type name, or
        # None) before seen: a set seen means all three are there.


class ThreadInfo(NamedTuple):
    """One thread seen by a recording; ``lane`` 0 is the main thread if it appears."""

    lane: int
    name: str
    ident: Optional[int]
    is_main: bool


class _SeenThread:
    """One thread as seen by one recording, with the events it recorded.

    Only that thread adds to ``spans`` and ``instants`` (its own buffers), so
    adding needs no lock and threads do not contend; readers copy the lists.
    The buffers are *flat*: a span is 5 consecutive items, an instant 3, a
    received hand-off 8 (its producer as that thread's ``_SeenThread``), added
    with one ``list.extend`` of a temporary tuple.  They hold only str, int and
    None, which the garbage collector does not track, so recording creates no
    new objects for it to track (stored tuples would: each stays tracked until
    a collection visits it, and their number triggers more collections).
    Names are read when the recording is read (a thread may rename itself).
    """

    __slots__ = ("thread", "name", "ident", "is_main", "first_ns", "spans", "instants", "links", "cpu_mark")

    def __init__(self, thread, name, ident, is_main, first_ns):
        self.thread = thread
        self.name = name
        self.ident = ident
        self.is_main = is_main
        self.first_ns = first_ns
        self.spans = []  # kind, label, t0, t1, cpu_ns or None, ... (absolute perf_counter_ns)
        self.instants = []  # kind, label, t, ...
        # Hand-offs received by this thread: kind, label, error, from_seen, from_kind, from_t, to_kind, to_t, ...
        self.links = []
        # This thread's CPU clock (``thread_time_ns``) when its last pool task ended or its
        # last traced callback returned, else when it joined the recording: a traced pool's
        # task reads the clock once, at its end, and charges the difference (made in the
        # registering thread, so it is that thread's clock).
        self.cpu_mark = thread_time_ns()

    def current_name(self):
        return self.thread.name if self.thread is not None else self.name


def _records(buffer, width):
    """The complete records of a flat buffer, as tuples of ``width`` items.

    The copy is taken at once; its length is cut to whole records (records
    are added whole, but a copy could in principle end inside one).
    """
    flat = list(buffer)
    del flat[len(flat) - len(flat) % width :]
    return list(zip(*[iter(flat)] * width))


class Recording:
    """A thread-safe log of spans and instants, with times relative to its start.

    Use :func:`recording` to create one and make it active; or create one
    directly and add to it with :meth:`span` and :meth:`instant`.

    Args:
        name: a label for the recording (shown as the timeline title).

    Raises:
        TypeError: ``name`` is not a str.
    """

    def __init__(self, name=""):
        self.name = check_str("name", name)
        # Per thread: .seen (its _SeenThread), .add_span and .add_instant (its buffers' extend).
        self._local = threading.local()
        self._seen = []
        self._seen_lock = threading.Lock()
        self.start_ns = perf_counter_ns()
        self.end_ns = None
        # True for imported recordings: lanes keep the order of the file.
        self._fixed_lanes = False
        # _Origin of every failed future (appended by the failing thread), and
        # once stopped, the never-retrieved ones: (seen, label, error, t).
        self._failures = []
        self._lost = None

    # ----------------------------------------------------------------- adding
    def _register(self):
        """First event from the calling thread: remember who it is, give it buffers."""
        thread = threading.current_thread()
        seen = _SeenThread(
            thread, thread.name, thread.ident, thread is threading.main_thread(), perf_counter_ns()
        )
        with self._seen_lock:
            self._seen.append(seen)
        local = self._local
        local.seen = seen
        local.add_span = seen.spans.extend
        local.add_instant = seen.instants.extend
        local.add_link = seen.links.extend
        return seen

    def _seen_here(self):
        """The calling thread's ``_SeenThread`` (registering it on its first event)."""
        try:
            return self._local.seen
        except AttributeError:
            return self._register()

    def _add_link(self, kind, origin, to_kind, to_t, error=None):
        """Record a hand-off received by the calling thread now-ish, from ``origin``'s end.

        ``error`` overrides the origin's exception type name (a queue item that
        is an exception).  Nothing is recorded for an origin not produced yet.
        """
        seen = origin.seen
        if seen is None:
            return
        try:
            add = self._local.add_link
        except AttributeError:
            add = self._register().links.extend
        error = origin.error if error is None else error
        add((kind, origin.label, error or "", seen, origin.kind, origin.t, to_kind, to_t))

    def _appenders(self):
        """``(add_span, add_instant)`` of the calling thread, for twins recording several events.

        ``add_span((kind, label, t0, t1, cpu_ns))`` and ``add_instant((kind, label, t))``
        take absolute ``perf_counter_ns()`` times; a tuple may hold several whole
        records one after the other (5 items per span, 3 per instant).
        """
        local = self._local
        try:
            return local.add_span, local.add_instant
        except AttributeError:
            seen = self._register()
            return seen.spans.extend, seen.instants.extend

    def _add_span(self, kind, label, t0, cpu_ns=None):
        """Fast path for the twins: a span of the calling thread from ``t0`` to now."""
        t1 = perf_counter_ns()
        try:
            add = self._local.add_span
        except AttributeError:
            add = self._register().spans.extend
        add((kind, label, t0, t1, cpu_ns))

    def _add_span_at(self, kind, label, t0, t1, cpu_ns=None):
        """Fast path for the twins: a span of the calling thread from ``t0`` to ``t1``."""
        try:
            add = self._local.add_span
        except AttributeError:
            add = self._register().spans.extend
        add((kind, label, t0, t1, cpu_ns))

    def _add_instant(self, kind, label):
        """Fast path for the twins: an instant of the calling thread, now."""
        t = perf_counter_ns()
        try:
            add = self._local.add_instant
        except AttributeError:
            add = self._register().instants.extend
        add((kind, label, t))

    def _add_instant_at(self, kind, label, t):
        """Fast path for the twins: an instant of the calling thread at ``t``."""
        try:
            add = self._local.add_instant
        except AttributeError:
            add = self._register().instants.extend
        add((kind, label, t))

    def span(self, kind, label=""):
        """Return a context manager recording a span of the calling thread.

        Running spans (``kind == RUN``) also measure the thread's CPU time.

        Args:
            kind: one of the span kinds (``RUN``, ``LOCK_WAIT``, ...).
            label: free text, e.g. the task's name.

        Raises:
            ValueError: ``kind`` is not a span kind.
            TypeError: ``label`` is not a str.
        """
        check_choice("kind", kind, _kinds.SPAN_KINDS)
        check_str("label", label)
        return _SpanContext(self, kind, label)

    def instant(self, kind, label=""):
        """Record an instant event of the calling thread, now.

        Args:
            kind: one of the instant kinds (``SUBMIT``, ``PUT``, ``MARK``, ...).
            label: free text.

        Raises:
            ValueError: ``kind`` is not an instant kind.
            TypeError: ``label`` is not a str.
        """
        check_choice("kind", kind, _kinds.INSTANT_KINDS)
        check_str("label", label)
        self._add_instant(kind, label)

    def stop(self):
        """Mark the end of the recording (idempotent); :func:`recording` calls it.

        Failed futures whose error was not retrieved by now are fixed as
        :attr:`never_retrieved` (retrieving one later does not change that).
        """
        if self.end_ns is None:
            self.end_ns = perf_counter_ns()
            self._lost = self._lost_records()

    def _lost_records(self):
        """``[(seen, label, error, t)]`` of failed futures whose error nobody retrieved (yet)."""
        if self._lost is not None:
            return self._lost
        return [(o.seen, o.label, o.error, o.t) for o in list(self._failures)
                if not o.taken and o.seen is not None]

    # ---------------------------------------------------------------- reading
    def _snapshot(self):
        """Copy of what was recorded so far: ``[(seen, spans, instants), ...]``."""
        with self._seen_lock:
            seen = list(self._seen)
        return [(s, _records(s.spans, 5), _records(s.instants, 3)) for s in seen]

    def _lanes(self, snapshot=None):
        """Lane of every thread seen: the main thread first, then by first event.

        A thread's first event is its earliest span start or instant (not the
        moment it first appended: a span is appended when it ends).  An imported
        recording keeps the lanes of the file it came from.

        Returns:
            ``({id(seen): lane}, [seen in lane order])``.
        """
        if snapshot is None:
            snapshot = self._snapshot()
        if self._fixed_lanes:
            order = sorted((s for s, _, _ in snapshot), key=lambda s: (not s.is_main, s.first_ns))
        else:

            def first_event(entry):
                s, spans, instants = entry
                first = min((sp[2] for sp in spans), default=s.first_ns)
                first = min([first] + [ev[2] for ev in instants])
                return (not s.is_main, first, s.first_ns)

            order = [s for s, _, _ in sorted(snapshot, key=first_event)]
        return {id(s): lane for lane, s in enumerate(order)}, order

    @property
    def threads(self):
        """Threads seen, as :class:`ThreadInfo`, main thread first, then by first event."""
        _, order = self._lanes()
        return [ThreadInfo(lane, s.current_name(), s.ident, s.is_main) for lane, s in enumerate(order)]

    @property
    def spans(self):
        """All spans, as :class:`Span`, sorted by start time."""
        snapshot = self._snapshot()
        lanes, _ = self._lanes(snapshot)
        start = self.start_ns
        out = []
        for s, spans, _ in snapshot:
            lane, name = lanes[id(s)], s.current_name()
            out.extend(
                Span(lane, name, kind, label, t0 - start, t1 - start, cpu) for kind, label, t0, t1, cpu in spans
            )
        out.sort(key=lambda sp: (sp.start_ns, sp.lane))
        return out

    @property
    def instants(self):
        """All instants, as :class:`Instant`, sorted by time."""
        snapshot = self._snapshot()
        lanes, _ = self._lanes(snapshot)
        start = self.start_ns
        out = []
        for s, _, instants in snapshot:
            lane, name = lanes[id(s)], s.current_name()
            out.extend(Instant(lane, name, kind, label, t - start) for kind, label, t in instants)
        out.sort(key=lambda ev: (ev.t_ns, ev.lane))
        return out

    @property
    def handoffs(self):
        """Hand-offs between threads, as :class:`Handoff`, sorted by the producing end's time.

        One per value, error or item received: a future read several times
        gives one (the first ``result()``, ``exception()`` or ``as_completed``
        that delivered it; an error only by ``result()`` or ``exception()``);
        a callback gives one per run; a thread one per ``join()`` that saw it end.
        """
        with self._seen_lock:
            seen = list(self._seen)
        lanes, _ = self._lanes()
        start = self.start_ns
        out = []
        for s in seen:
            to_lane = lanes.get(id(s))
            if to_lane is None:  # registered after the lanes were read
                continue
            to_name = s.current_name()
            for kind, label, error, src, from_kind, from_t, to_kind, to_t in _records(s.links, 8):
                from_lane = lanes.get(id(src))
                if from_lane is None:
                    continue
                out.append(Handoff(kind, label, error, from_lane, src.current_name(), from_kind, from_t - start,
                                   to_lane, to_name, to_kind, to_t - start))
        out.sort(key=lambda h: (h.from_ns, h.to_ns, h.from_lane, h.to_lane))
        return out

    @property
    def never_retrieved(self):
        """Failed futures whose error nobody retrieved, as :class:`NeverRetrieved`, by time.

        Fixed when the recording stops; while it runs, the ones not retrieved so far.
        """
        lanes, _ = self._lanes()
        start = self.start_ns
        out = [NeverRetrieved(lanes[id(s)], s.current_name(), label, error, t - start)
               for s, label, error, t in self._lost_records() if id(s) in lanes]
        out.sort(key=lambda lost: (lost.t_ns, lost.lane))
        return out

    def _event_counts(self):
        with self._seen_lock:
            seen = list(self._seen)
        return sum(len(s.spans) // 5 for s in seen), sum(len(s.instants) // 3 for s in seen), len(seen)

    @property
    def duration_ms(self):
        """Wall time from the start to :meth:`stop` (or to now if still running)."""
        end = self.end_ns if self.end_ns is not None else perf_counter_ns()
        return (end - self.start_ns) / NS_PER_MS

    def time_in(self, kind, thread=None):
        """Total milliseconds spent in spans of ``kind``, optionally of one thread.

        Overlapping spans of the same thread are not merged (they do not occur
        for a single thread's waits).

        Args:
            kind: a span kind.
            thread: ``None`` for all threads, a thread name (str; every lane
                with that name) or a lane number (int).

        Raises:
            ValueError: ``kind`` is not a span kind, or ``thread`` names no thread seen.
            TypeError: ``thread`` is neither None, a str nor an int.
        """
        check_choice("kind", kind, _kinds.SPAN_KINDS)
        total = 0
        for _, spans, _ in self._selected(thread):
            total += sum(t1 - t0 for k, _, t0, t1, _ in spans if k == kind)
        return total / NS_PER_MS

    def count(self, kind, thread=None):
        """Number of spans or instants of ``kind``, optionally of one thread.

        Args:
            kind: a span or instant kind.
            thread: ``None`` for all threads, a thread name (str; every lane
                with that name) or a lane number (int).

        Raises:
            ValueError: unknown ``kind`` or ``thread``.
            TypeError: ``thread`` is neither None, a str nor an int.
        """
        check_choice("kind", kind, _ALL_KINDS)
        is_span = kind in _kinds.SPAN_KINDS
        return sum(
            sum(1 for event in (spans if is_span else instants) if event[0] == kind)
            for _, spans, instants in self._selected(thread)
        )

    def _selected(self, thread):
        """Snapshot entries ``(seen, spans, instants)`` of the threads selected by ``thread``."""
        snapshot = self._snapshot()
        lanes, order = self._lanes(snapshot)
        wanted = self._lanes_of(thread, order)
        return [entry for entry in snapshot if wanted is None or lanes[id(entry[0])] in wanted]

    def _lanes_of(self, thread, order=None):
        """Lanes selected by a ``thread`` argument: None (all), a name, or a lane number."""
        if thread is None:
            return None
        if isinstance(thread, bool) or not isinstance(thread, (str, int)):
            raise TypeError(
                f"thread must be None, a thread name (str) or a lane number (int), "
                f"got {thread!r} (type {type(thread).__name__})"
            )
        if order is None:
            _, order = self._lanes()
        names = [s.current_name() for s in order]
        if isinstance(thread, str):
            lanes = {lane for lane, name in enumerate(names) if name == thread}
        else:
            lanes = {thread} if 0 <= thread < len(order) else set()
        if not lanes:
            seen = ", ".join(f"{lane}: {name!r}" for lane, name in enumerate(names)) or "none yet"
            raise ValueError(f"thread {thread!r} was not seen by this recording; threads seen (lane: name): {seen}")
        return lanes

    def _lane_of(self, thread):
        """First lane selected by ``thread`` (None for all threads); see :meth:`_lanes_of`."""
        lanes = self._lanes_of(thread)
        return None if lanes is None else min(lanes)

    def _spans_of(self, thread):
        """Spans (as :class:`Span`) of the threads selected by ``thread``."""
        lanes = self._lanes_of(thread)
        return [sp for sp in self.spans if lanes is None or sp.lane in lanes]

    def __repr__(self):
        spans, instants, threads = self._event_counts()
        return f"<Recording {self.name!r}: {spans} spans, {instants} instants, {threads} threads>"

    # ------------------------------------------------------- Chrome trace I/O
    def to_chrome_trace(self):
        """Return the recording in Chrome's trace-event format (opens in Perfetto).

        Spans become complete events (``ph: "X"``), instants ``ph: "i"``, and
        thread names metadata events (``ph: "M"``).  Each hand-off is a pair
        of flow events with the same ``id``: ``ph: "s"`` at the producing end,
        ``ph: "f"`` (``bp: "e"``) at the receiving end, so Perfetto draws the
        same arrows; each never-retrieved error is an instant named
        ``never retrieved: <exception type>`` at the end of the recording.
        Times are microseconds.

        Returns:
            dict: ``{"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}``.
        """
        events = []
        for info in self.threads:
            events.append(
                {"ph": "M", "pid": TRACE_PID, "tid": info.lane, "name": "thread_name",
                 "args": {"name": info.name, "ident": info.ident, "is_main": info.is_main}}
            )
            events.append(
                {"ph": "M", "pid": TRACE_PID, "tid": info.lane, "name": "thread_sort_index",
                 "args": {"sort_index": info.lane}}
            )
        for sp in self.spans:
            args = {"kind": sp.kind}
            if sp.cpu_ns is not None:
                args["cpu_ns"] = sp.cpu_ns
            events.append(
                {"ph": "X", "pid": TRACE_PID, "tid": sp.lane, "name": sp.label or sp.kind, "cat": sp.kind,
                 "ts": sp.start_ns / NS_PER_US, "dur": (sp.end_ns - sp.start_ns) / NS_PER_US,
                 "args": args | {"label": sp.label}}
            )
        for ev in self.instants:
            events.append(
                {"ph": "i", "s": "t", "pid": TRACE_PID, "tid": ev.lane, "name": ev.label or ev.kind,
                 "cat": ev.kind, "ts": ev.t_ns / NS_PER_US, "args": {"kind": ev.kind, "label": ev.label}}
            )
        for flow_id, h in enumerate(self.handoffs, start=1):
            args = {"handoff": h.kind, "label": h.label, "error": h.error,
                    "from_kind": h.from_kind, "to_kind": h.to_kind}
            name = f"{h.kind}: {h.error or h.label}"
            events.append({"ph": "s", "id": flow_id, "pid": TRACE_PID, "tid": h.from_lane, "name": name,
                           "cat": FLOW_CATEGORY, "ts": h.from_ns / NS_PER_US, "args": args})
            events.append({"ph": "f", "bp": "e", "id": flow_id, "pid": TRACE_PID, "tid": h.to_lane, "name": name,
                           "cat": FLOW_CATEGORY, "ts": h.to_ns / NS_PER_US, "args": args})
        duration_ns = None if self.end_ns is None else self.end_ns - self.start_ns
        end_us = (perf_counter_ns() - self.start_ns if duration_ns is None else duration_ns) / NS_PER_US
        for lost in self.never_retrieved:
            events.append(
                {"ph": "i", "s": "t", "pid": TRACE_PID, "tid": lost.lane, "name": f"{_kinds.NEVER_RETRIEVED}: "
                 f"{lost.error}", "cat": _kinds.NEVER_RETRIEVED, "ts": end_us,
                 "args": {"kind": _kinds.NEVER_RETRIEVED, "label": lost.label, "error": lost.error,
                          "raised_ts": lost.t_ns / NS_PER_US}}
            )
        return {"traceEvents": events, "displayTimeUnit": "ms",
                "otherData": {"recording": self.name, "duration_ns": duration_ns, "tool": "threadkit"}}

    def save(self, path):
        """Write :meth:`to_chrome_trace` as JSON to ``path`` (str or path-like).

        Raises:
            TypeError: ``path`` is neither a str nor a path-like object.
        """
        check_instance("path", path, (str, os.PathLike), "a str or path-like object")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_chrome_trace(), fh)

    @classmethod
    def from_chrome_trace(cls, trace):
        """Build a Recording from Chrome trace-event data.

        Accepts what :meth:`to_chrome_trace` writes, and also traces from other
        tools: events without a threadkit kind get kind ``RUN`` (spans) or
        ``MARK`` (instants); unknown phases are skipped.  Flow events
        (``ph: "s"`` and ``"f"`` with the same ``cat`` and ``id``) become
        hand-offs (kind ``HANDOFF_ITEM`` unless the trace names one); a flow
        missing one of its ends is skipped.  Instants of category
        ``never retrieved`` become :attr:`never_retrieved` errors.

        Args:
            trace: a dict with ``"traceEvents"``, or a list of events.

        Returns:
            Recording: a stopped recording with the same threads, spans and instants.

        Raises:
            TypeError: ``trace`` is neither a dict nor a list of dicts.
            ValueError: an event lacks a field it needs (``ts``, ``tid``, ``dur``).

        Threads are told apart by ``(pid, tid)``.  A trace from another tool
        has its times shifted so that its first event is at 0.
        """
        if isinstance(trace, dict):
            check_instance("trace['traceEvents']", trace.get("traceEvents"), list, "a list of events")
            events, other = trace["traceEvents"], trace.get("otherData") or {}
        else:
            check_instance("trace", trace, list, "a dict with 'traceEvents' or a list of trace events")
            events, other = trace, {}
        if not isinstance(other, dict):
            other = {}
        rec = cls(str(other.get("recording", "")))
        rec.start_ns = 0
        rec._fixed_lanes = True
        seen = {}
        flows = {}  # (cat, id) -> {"s": (thread, t, args, name), "f": ...}
        lost = []

        def lane_thread(i, event):
            tid = event.get("tid")
            if tid is None:
                raise ValueError(f"trace event {i} has no 'tid': {event!r}")
            pid = event.get("pid", 0)
            try:
                key = (pid, tid)
                th = seen.get(key)
            except TypeError:  # unhashable pid or tid
                raise TypeError(f"trace event {i} has an unusable 'pid' or 'tid': {event!r}") from None
            if th is None:
                th = seen[key] = _SeenThread(None, f"thread {tid}", None, False, len(seen))
            return th

        def number(i, event, field):
            value = event.get(field)
            if value is None:
                raise ValueError(f"trace event {i} (phase {event.get('ph')!r}) has no {field!r}: {event!r}")
            return check_number(f"trace event {i} {field!r}", value)

        for i, event in enumerate(events):
            if not isinstance(event, dict):
                raise TypeError(f"trace event {i} must be a dict, got {type(event).__name__}")
            ph = event.get("ph")
            args = event.get("args")
            if not isinstance(args, dict):
                args = {}
            if ph in ("s", "f"):
                t = round(number(i, event, "ts") * NS_PER_US)
                try:
                    ends = flows.setdefault((str(event.get("cat", "")), event.get("id")), {})
                except TypeError:  # unhashable id
                    raise TypeError(f"trace event {i} has an unusable flow 'id': {event!r}") from None
                ends[ph] = (lane_thread(i, event), t, args, str(event.get("name", "")))
            elif ph in ("i", "I") and _kinds.NEVER_RETRIEVED in (args.get("kind"), event.get("cat")):
                t = round(number(i, event, "ts") * NS_PER_US)
                raised = args.get("raised_ts")
                if isinstance(raised, (int, float)) and not isinstance(raised, bool):
                    t = round(raised * NS_PER_US)
                name = str(event.get("name", ""))
                error = args.get("error", name.partition(": ")[2])
                lost.append((lane_thread(i, event), str(args.get("label", "")), str(error), t))
            elif ph == "M" and event.get("name") == "thread_name":
                th = lane_thread(i, event)
                th.name = str(args.get("name", th.name))
                th.ident = args.get("ident")
                th.is_main = bool(args.get("is_main", th.name == MAIN_THREAD_NAME))
            elif ph in ("X", "i", "I"):
                t0 = round(number(i, event, "ts") * NS_PER_US)
                th = lane_thread(i, event)
                kind = args.get("kind", event.get("cat"))
                label = str(args.get("label", event.get("name", "")))
                if ph == "X":
                    t1 = t0 + round(number(i, event, "dur") * NS_PER_US)
                    kind = kind if kind in _kinds.SPAN_KINDS else _kinds.RUN
                    cpu = args.get("cpu_ns")
                    cpu = cpu if isinstance(cpu, int) and not isinstance(cpu, bool) else None
                    th.spans.extend((kind, label, t0, t1, cpu))
                else:
                    kind = kind if kind in _kinds.INSTANT_KINDS else _kinds.MARK
                    th.instants.extend((kind, label, t0))

        def order(key):
            pid, tid = key
            return (not seen[key].is_main, pid if isinstance(pid, int) else 0,
                    tid if isinstance(tid, int) else 0, seen[key].first_ns)

        for key in sorted(seen, key=order):
            seen[key].first_ns = len(rec._seen)
            rec._seen.append(seen[key])
        flow_times = []
        for ends in flows.values():
            if "s" not in ends or "f" not in ends:
                continue
            (src, t0, args, name), (dst, t1, _, _) = ends["s"], ends["f"]
            kind = args.get("handoff")
            kind = kind if kind in _kinds.HANDOFF_KINDS else _kinds.HANDOFF_ITEM
            dst.links.extend((kind, str(args.get("label", name)), str(args.get("error", "") or ""), src,
                              str(args.get("from_kind", _kinds.MARK)), t0,
                              str(args.get("to_kind", _kinds.MARK)), t1))
            flow_times += [t0, t1]
        rec._lost = lost
        spans = [sp for th in rec._seen for sp in _records(th.spans, 5)]
        instants = [ev for th in rec._seen for ev in _records(th.instants, 3)]
        ends = [t1 for _, _, _, t1, _ in spans] + [t for _, _, t in instants] + flow_times
        if other.get("tool") != "threadkit":
            # A foreign trace: its times count from an arbitrary origin; start at its first event.
            starts = [t0 for _, _, t0, _, _ in spans] + [t for _, _, t in instants] + flow_times
            rec.start_ns = min(starts, default=0)
        duration = other.get("duration_ns")
        if not isinstance(duration, int) or isinstance(duration, bool):
            duration = max(ends, default=rec.start_ns) - rec.start_ns
        rec.end_ns = rec.start_ns + duration
        return rec

    @classmethod
    def load(cls, path):
        """Read a Chrome trace JSON file written by :meth:`save` (or another tool).

        Raises:
            TypeError: ``path`` is neither a str nor a path-like object.
        """
        check_instance("path", path, (str, os.PathLike), "a str or path-like object")
        with open(path, encoding="utf-8") as fh:
            return cls.from_chrome_trace(json.load(fh))


class _SpanContext:
    """Context manager made by :meth:`Recording.span` (a class: cheaper than a generator)."""

    __slots__ = ("_rec", "_kind", "_label", "_t0", "_c0")

    def __init__(self, rec, kind, label):
        self._rec = rec
        self._kind = kind
        self._label = label

    def __enter__(self):
        self._c0 = thread_time_ns() if self._kind == _kinds.RUN else None
        self._t0 = perf_counter_ns()
        return self

    def __exit__(self, *exc_info):
        cpu = None if self._c0 is None else thread_time_ns() - self._c0
        self._rec._add_span(self._kind, self._label, self._t0, cpu)
        return False


class _NullContext:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


#: Most runs :func:`best_of` accepts.
MAX_BEST_OF = 20

_NULL = _NullContext()
#: The active recording, read by every thread (contextvars are not copied into threads).
_current = None
_stack = []
_stack_lock = threading.Lock()


def current_recording():
    """Return the active :class:`Recording`, or ``None`` outside ``with recording():``."""
    return _current


class recording:
    """Context manager: make a new :class:`Recording` active for its block.

    Every thread's traced calls inside the block go to it; on exit it is
    stopped and the previous one (if nested) becomes active again.

    Example::

        with tk.recording("pool") as rec:
            ...
        tk.draw(rec)

    Args:
        name: a label for the recording (the timeline's title).

    Raises:
        TypeError: ``name`` is not a str.
    """

    def __init__(self, name=""):
        self._rec = Recording(name)

    def __enter__(self):
        global _current
        # Start the clock before publishing the recording, so that no thread
        # can record an event that precedes its start.
        self._rec.start_ns = perf_counter_ns()
        with _stack_lock:
            _stack.append(self._rec)
            _current = self._rec
        return self._rec

    def __exit__(self, *exc_info):
        global _current
        self._rec.stop()
        with _stack_lock:
            if self._rec in _stack:
                _stack.remove(self._rec)
            _current = _stack[-1] if _stack else None
        return False


def span(kind, label=""):
    """Record a span of the calling thread into the active recording, if any.

    Outside ``with recording():`` this records nothing.  Use it to show a
    step that no traced twin records, e.g. a callback called by hand::

        with tk.span(tk.CALLBACK, "on_done"):
            on_done(result)

    Raises:
        ValueError: ``kind`` is not a span kind.
        TypeError: ``label`` is not a str.
    """
    check_choice("kind", kind, _kinds.SPAN_KINDS)
    check_str("label", label)
    rec = _current
    return _NULL if rec is None else _SpanContext(rec, kind, label)


def mark(label=""):
    """Record a ``MARK`` instant of the calling thread in the active recording, if any.

    Raises:
        TypeError: ``label`` is not a str.
    """
    check_str("label", label)
    rec = _current
    if rec is not None:
        rec._add_instant(_kinds.MARK, label)




def best_of(runs, fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` ``runs`` times, each in its own recording; keep the fastest.

    Timing on a shared machine is noisy in one direction only: a busy core, a
    browser redrawing next to the kernel or a late wake-up from ``sleep`` can add
    tens of milliseconds to a run, never remove them. So, as ``timeit`` does, a
    check about how long something takes looks at the fastest of a few runs.
    Every run must return normally; an exception from ``fn`` propagates at once.

    Example::

        rec, result = tk.best_of(3, scenario, workers=4)
        assert rec.duration_ms < 100

    Args:
        runs: how many times to run ``fn``, an int from 1 to ``MAX_BEST_OF`` (20).
        fn: the callable to run (not called inside another thread: the caller's).
        *args, **kwargs: passed to ``fn`` on every run.

    Returns:
        tuple: ``(recording, value)``: the :class:`Recording` of the run with the
        shortest ``duration_ms`` and what ``fn`` returned in that run.

    Raises:
        TypeError: ``runs`` is not an int, or ``fn`` is not callable.
        ValueError: ``runs`` is outside 1 to ``MAX_BEST_OF``.
    """
    runs = check_int("runs", runs, minimum=1, maximum=MAX_BEST_OF)
    check_callable("fn", fn)
    best = None
    for index in range(runs):
        with recording(f"run {index + 1} of {runs}") as rec:
            value = fn(*args, **kwargs)
        if best is None or rec.duration_ms < best[0].duration_ms:
            best = (rec, value)
    return best
