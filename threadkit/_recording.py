"""Recording: a thread-safe log of spans and instant events.

A :class:`Recording` collects what threads did while it was active.  The
traced twins in :mod:`threadkit.traced` append to the *active* recording (the
innermost ``with recording():`` block, seen by every thread); outside one they
record nothing.  Appending is a ``list.append`` of a tuple, which is
thread-safe and costs little, so recording disturbs the demos it measures as
little as possible (``benchmarks/recorder_overhead.py`` measures it).
"""

import json
import threading
from time import perf_counter_ns, thread_time_ns
from typing import NamedTuple, Optional

from . import _kinds
from ._validate import check_choice, check_instance, check_str

NS_PER_MS = 1_000_000
NS_PER_US = 1_000
MAIN_THREAD_NAME = "MainThread"
#: Process id written into exported Chrome traces (one process per recording).
TRACE_PID = 1
_ALL_KINDS = _kinds.SPAN_KINDS + _kinds.INSTANT_KINDS


class Span(NamedTuple):
    """Time one thread spent in one kind of activity.

    Times are nanoseconds from the start of the recording.  ``cpu_ns`` is the
    CPU time the thread used during the span (``time.thread_time_ns``), or
    ``None`` when it was not measured (only running spans measure it).
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


class ThreadInfo(NamedTuple):
    """One thread seen by a recording; ``lane`` 0 is the main thread if it appears."""

    lane: int
    name: str
    ident: Optional[int]
    is_main: bool


class _SeenThread:
    """Identity of a thread as seen by one recording (names are read at the end)."""

    __slots__ = ("thread", "name", "ident", "is_main", "first_ns")

    def __init__(self, thread, name, ident, is_main, first_ns):
        self.thread = thread
        self.name = name
        self.ident = ident
        self.is_main = is_main
        self.first_ns = first_ns

    def current_name(self):
        return self.thread.name if self.thread is not None else self.name


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
        self._local = threading.local()
        self._seen = []
        self._seen_lock = threading.Lock()
        self._spans = []
        self._instants = []
        self.start_ns = perf_counter_ns()
        self.end_ns = None

    # ----------------------------------------------------------------- adding
    def _register(self):
        """First event from the calling thread: remember who it is."""
        thread = threading.current_thread()
        seen = _SeenThread(
            thread, thread.name, thread.ident, thread is threading.main_thread(), perf_counter_ns()
        )
        with self._seen_lock:
            self._seen.append(seen)
        self._local.seen = seen
        return seen

    def _add_span(self, kind, label, t0, cpu_ns=None):
        """Fast path for the twins: a span of the calling thread from ``t0`` to now."""
        t1 = perf_counter_ns()
        try:
            seen = self._local.seen
        except AttributeError:
            seen = self._register()
        self._spans.append((seen, kind, label, t0, t1, cpu_ns))

    def _add_span_at(self, kind, label, t0, t1, cpu_ns=None):
        """Fast path for the twins: a span of the calling thread from ``t0`` to ``t1``."""
        try:
            seen = self._local.seen
        except AttributeError:
            seen = self._register()
        self._spans.append((seen, kind, label, t0, t1, cpu_ns))

    def _add_instant(self, kind, label):
        """Fast path for the twins: an instant of the calling thread, now."""
        t = perf_counter_ns()
        try:
            seen = self._local.seen
        except AttributeError:
            seen = self._register()
        self._instants.append((seen, kind, label, t))

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
        """Mark the end of the recording (idempotent); :func:`recording` calls it."""
        if self.end_ns is None:
            self.end_ns = perf_counter_ns()

    # ---------------------------------------------------------------- reading
    def _lanes(self):
        with self._seen_lock:
            seen = list(self._seen)
        order = sorted(seen, key=lambda s: (not s.is_main, s.first_ns))
        return {id(s): lane for lane, s in enumerate(order)}, order

    @property
    def threads(self):
        """Threads seen, as :class:`ThreadInfo`, main thread first, then by first event."""
        _, order = self._lanes()
        return [ThreadInfo(lane, s.current_name(), s.ident, s.is_main) for lane, s in enumerate(order)]

    @property
    def spans(self):
        """All spans, as :class:`Span`, sorted by start time."""
        lanes, _ = self._lanes()
        out = [
            Span(lanes[id(s)], s.current_name(), kind, label, t0 - self.start_ns, t1 - self.start_ns, cpu)
            for s, kind, label, t0, t1, cpu in list(self._spans)
        ]
        out.sort(key=lambda sp: (sp.start_ns, sp.lane))
        return out

    @property
    def instants(self):
        """All instants, as :class:`Instant`, sorted by time."""
        lanes, _ = self._lanes()
        out = [
            Instant(lanes[id(s)], s.current_name(), kind, label, t - self.start_ns)
            for s, kind, label, t in list(self._instants)
        ]
        out.sort(key=lambda ev: (ev.t_ns, ev.lane))
        return out

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
            thread: ``None`` for all threads, a thread name (str) or a lane (int).

        Raises:
            ValueError: ``kind`` is not a span kind, or ``thread`` names no thread seen.
            TypeError: ``thread`` is neither None, a str nor an int.
        """
        check_choice("kind", kind, _kinds.SPAN_KINDS)
        spans = self._spans_of(thread)
        return sum(sp.end_ns - sp.start_ns for sp in spans if sp.kind == kind) / NS_PER_MS

    def count(self, kind, thread=None):
        """Number of spans or instants of ``kind``, optionally of one thread.

        Raises:
            ValueError: unknown ``kind`` or ``thread``.
        """
        check_choice("kind", kind, _ALL_KINDS)
        if kind in _kinds.SPAN_KINDS:
            return sum(1 for sp in self._spans_of(thread) if sp.kind == kind)
        lane = self._lane_of(thread)
        return sum(1 for ev in self.instants if ev.kind == kind and (lane is None or ev.lane == lane))

    def _lane_of(self, thread):
        if thread is None:
            return None
        if isinstance(thread, bool) or not isinstance(thread, (str, int)):
            raise TypeError(f"thread must be None, a thread name (str) or a lane number (int), got {thread!r}")
        infos = self.threads
        for info in infos:
            if thread == (info.name if isinstance(thread, str) else info.lane):
                return info.lane
        names = ", ".join(repr(i.name) for i in infos) or "none yet"
        raise ValueError(f"thread {thread!r} was not seen by this recording; threads seen: {names}")

    def _spans_of(self, thread):
        lane = self._lane_of(thread)
        return [sp for sp in self.spans if lane is None or sp.lane == lane]

    def __repr__(self):
        return (
            f"<Recording {self.name!r}: {len(self._spans)} spans, {len(self._instants)} instants, "
            f"{len(self._seen)} threads>"
        )

    # ------------------------------------------------------- Chrome trace I/O
    def to_chrome_trace(self):
        """Return the recording in Chrome's trace-event format (opens in Perfetto).

        Spans become complete events (``ph: "X"``), instants ``ph: "i"``, and
        thread names metadata events (``ph: "M"``).  Times are microseconds.

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
        duration_ns = None if self.end_ns is None else self.end_ns - self.start_ns
        return {"traceEvents": events, "displayTimeUnit": "ms",
                "otherData": {"recording": self.name, "duration_ns": duration_ns, "tool": "threadkit"}}

    def save(self, path):
        """Write :meth:`to_chrome_trace` as JSON to ``path`` (str or path-like)."""
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_chrome_trace(), fh)

    @classmethod
    def from_chrome_trace(cls, trace):
        """Build a Recording from Chrome trace-event data.

        Accepts what :meth:`to_chrome_trace` writes, and also traces from other
        tools: events without a threadkit kind get kind ``RUN`` (spans) or
        ``MARK`` (instants); unknown phases are skipped.

        Args:
            trace: a dict with ``"traceEvents"``, or a list of events.

        Returns:
            Recording: a stopped recording with the same threads, spans and instants.

        Raises:
            TypeError: ``trace`` is neither a dict nor a list of dicts.
            ValueError: an event lacks a field it needs (``ts``, ``tid``, ``dur``).
        """
        if isinstance(trace, dict):
            check_instance("trace['traceEvents']", trace.get("traceEvents"), list, "a list of events")
            events, other = trace["traceEvents"], trace.get("otherData") or {}
        else:
            check_instance("trace", trace, list, "a dict with 'traceEvents' or a list of trace events")
            events, other = trace, {}
        rec = cls(str(other.get("recording", "")))
        rec.start_ns = 0
        seen = {}

        def lane_thread(event):
            tid = event.get("tid")
            if tid is None:
                raise ValueError(f"trace event has no 'tid': {event!r}")
            if tid not in seen:
                seen[tid] = _SeenThread(None, f"thread {tid}", None, False, 0)
            return seen[tid]

        for i, event in enumerate(events):
            if not isinstance(event, dict):
                raise TypeError(f"trace event {i} must be a dict, got {type(event).__name__}")
            ph = event.get("ph")
            args = event.get("args") or {}
            if ph == "M" and event.get("name") == "thread_name":
                th = lane_thread(event)
                th.name = str(args.get("name", th.name))
                th.ident = args.get("ident")
                th.is_main = bool(args.get("is_main", th.name == MAIN_THREAD_NAME))
            elif ph in ("X", "i", "I"):
                if "ts" not in event:
                    raise ValueError(f"trace event {i} has no 'ts': {event!r}")
                th = lane_thread(event)
                t0 = round(event["ts"] * NS_PER_US)
                if ph == "X":
                    if "dur" not in event:
                        raise ValueError(f"trace event {i} has phase 'X' but no 'dur': {event!r}")
                    kind = args.get("kind", event.get("cat"))
                    kind = kind if kind in _kinds.SPAN_KINDS else _kinds.RUN
                    label = args.get("label", event.get("name", ""))
                    t1 = t0 + round(event["dur"] * NS_PER_US)
                    rec._spans.append((th, kind, str(label), t0, t1, args.get("cpu_ns")))
                else:
                    kind = args.get("kind", event.get("cat"))
                    kind = kind if kind in _kinds.INSTANT_KINDS else _kinds.MARK
                    label = args.get("label", event.get("name", ""))
                    rec._instants.append((th, kind, str(label), t0))
        for tid in sorted(seen, key=lambda t: (not seen[t].is_main, t if isinstance(t, int) else 0)):
            seen[tid].first_ns = len(rec._seen)
            rec._seen.append(seen[tid])
        duration = other.get("duration_ns")
        if duration is None:
            ends = [t1 for _, _, _, _, t1, _ in rec._spans] + [t for _, _, _, t in rec._instants]
            duration = max(ends, default=0)
        rec.end_ns = int(duration)
        return rec

    @classmethod
    def load(cls, path):
        """Read a Chrome trace JSON file written by :meth:`save` (or another tool)."""
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
        with _stack_lock:
            _stack.append(self._rec)
            _current = self._rec
        self._rec.start_ns = perf_counter_ns()
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


