"""Recording: a log of what threads did, and of what they handed to each other.

The traced twins (:mod:`threadkit.traced`) add to the *active* recording (the innermost
``with recording():``, seen by every thread); outside one they record nothing. An event is one
``list.extend`` onto the calling thread's own flat buffer: no lock, no contention, no object
for the garbage collector (``benchmarks/recorder_overhead.py`` measures the cost). A hand-off's
producing end travels with the object (an :class:`_Origin`); the receiving thread records it.
"""

import contextlib
import json
import os
import threading
from time import perf_counter_ns, thread_time_ns
from typing import NamedTuple, Optional

from .kinds import INSTANT_KINDS, MARK, NEVER_RETRIEVED, RUN, SPAN_KINDS
from ._validate import A_CALLABLE, A_STR, accepts, an_int, describe, instance_of, make_spec, one_of, valid

__all__ = ["recording", "current_recording", "span", "mark", "best_of"]

NS_PER_MS = 1_000_000
NS_PER_US = 1_000
#: Process id written into exported Chrome traces (one process per recording).
TRACE_PID = 1
#: Category of the flow events (``ph: "s"``/``"f"``) that carry hand-offs in a Chrome trace.
FLOW_CATEGORY = "handoff"
#: Most runs :func:`best_of` accepts.
MAX_BEST_OF = 20
_A_PATH = instance_of((str, os.PathLike), "a str or path-like object")


def _thread_or_lane(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        raise TypeError(f"{name} must be None, a thread name (str) or a lane number (int), got {describe(value)}")
    return value


_A_THREAD = make_spec("None, a thread name (str) or a lane number (int)", _thread_or_lane)


def _ms(field):
    """A property: the nanoseconds in ``field``, in milliseconds."""
    return property(lambda self: getattr(self, field) / NS_PER_MS)


class Span(NamedTuple):
    """Time one thread spent in one kind of activity (ns from the recording's start); ``cpu_ns``:
    its CPU time (``thread_time_ns``), for running spans only, else None."""

    lane: int
    thread_name: str
    kind: str
    label: str
    start_ns: int
    end_ns: int
    cpu_ns: Optional[int] = None
    start_ms = _ms("start_ns")
    end_ms = _ms("end_ns")

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
    t_ms = _ms("t_ns")


class Handoff(NamedTuple):
    """What one thread produced (``from_*``: set_result, a raise, a put, the end of a run) and a
    thread received (``to_*``: result() returned or raised, the get, join(), a callback started).

    ``kind`` is one of ``HANDOFF_KINDS``; ``error`` the exception's type name for an error, else "".
    """

    kind: str
    label: str
    error: str
    from_lane: int
    from_thread: str
    from_kind: str
    from_ns: int
    to_lane: int
    to_thread: str
    to_kind: str
    to_ns: int
    from_ms = _ms("from_ns")
    to_ms = _ms("to_ns")


class NeverRetrieved(NamedTuple):
    """A failed future whose error neither ``result()`` nor ``exception()`` returned in time
    (the silent-failure trap); ``t_ns`` is when the task raised, ``error`` the type name."""

    lane: int
    thread_name: str
    label: str
    error: str
    t_ns: int
    t_ms = _ms("t_ns")


class ThreadInfo(NamedTuple):
    """One thread seen by a recording; ``lane`` 0 is the main thread if it appears."""

    lane: int
    name: str
    ident: Optional[int]
    is_main: bool


class _Origin:
    """The producing end of a hand-off, stored on what travels (a future, a thread). The producer
    sets ``kind``, ``t`` and ``error`` (type name or None), then ``seen`` (its _SeenThread) last;
    ``taken`` marks a result or error link as recorded (once per future)."""

    __slots__ = ("rec", "label", "seen", "kind", "t", "error", "taken")

    def __init__(self, rec, label):
        self.rec, self.label, self.seen, self.taken = rec, label, None, False


class _SeenThread:
    """One thread as seen by one recording. Only that thread appends to its flat buffers (str, int
    and None: nothing for the garbage collector to track): a span is 5 items (kind, label, t0, t1,
    cpu_ns or None), an instant 3, a received hand-off 8 (kind, label, error, producer's
    _SeenThread, from_kind, from_t, to_kind, to_t). ``cpu_mark``: its CPU clock when its last
    pool task or traced callback ended."""

    __slots__ = ("thread", "name", "ident", "is_main", "first_ns", "spans", "instants", "links", "cpu_mark")

    def __init__(self, thread, name, ident, is_main, first_ns):
        self.thread, self.name, self.ident, self.is_main, self.first_ns = thread, name, ident, is_main, first_ns
        self.spans, self.instants, self.links, self.cpu_mark = [], [], [], thread_time_ns()

    def current_name(self):
        return self.thread.name if self.thread is not None else self.name


class _Here(threading.local):
    """A recording's view from the calling thread: ``seen`` and the appenders ``span``,
    ``instant`` and ``link`` (its buffers' ``extend``), made on the thread's first touch."""

    def __init__(self, rec):
        thread = threading.current_thread()
        self.seen = seen = _SeenThread(thread, thread.name, thread.ident, thread is threading.main_thread(),
                                       perf_counter_ns())
        self.span, self.instant, self.link = seen.spans.extend, seen.instants.extend, seen.links.extend
        with rec._seen_lock:
            rec._seen.append(seen)


def _records(buffer, width):
    """The whole records of a flat buffer (copied at once), as tuples of ``width`` items."""
    flat = list(buffer)
    del flat[len(flat) - len(flat) % width:]
    return list(zip(*[iter(flat)] * width))


class Recording:
    """What threads did while a ``with recording():`` block ran, with times from its start.

    Raises:
        TypeError: ``name`` (the timeline's title) is not a str.
    """

    @accepts(name=A_STR)
    def __init__(self, name=""):
        self.name, self.start_ns, self.end_ns = name, perf_counter_ns(), None
        self._seen, self._seen_lock = [], threading.Lock()
        self._fixed_lanes = False  # an imported recording keeps the lanes of its file
        self._failures = []  # _Origin of every failed future
        self._lost = None  # once stopped: the never-retrieved ones, (seen, label, error, t)
        self._local = _Here(self)  # (registers this thread: lanes skip threads with no events)

    def stop(self):
        """End the recording (idempotent): errors not retrieved by now stay :attr:`never_retrieved`."""
        if self.end_ns is None:
            self.end_ns = perf_counter_ns()
            self._lost = self._lost_records()

    def _lost_records(self):
        if self._lost is not None:
            return self._lost
        return [(o.seen, o.label, o.error, o.t) for o in list(self._failures) if not o.taken and o.seen is not None]

    def _snapshot(self):
        """``[(seen, spans, instants, links)]`` recorded so far, times from the start; live threads
        that recorded nothing are left out."""
        with self._seen_lock:
            seen = list(self._seen)
        start, out = self.start_ns, []
        for s in seen:
            links = [(k, label, error, src, fk, ft - start, tk, tt - start)
                     for k, label, error, src, fk, ft, tk, tt in _records(s.links, 8)]
            spans = [(k, label, t0 - start, t1 - start, cpu) for k, label, t0, t1, cpu in _records(s.spans, 5)]
            instants = [(k, label, t - start) for k, label, t in _records(s.instants, 3)]
            if spans or instants or links or s.thread is None:  # (all of an imported recording's)
                out.append((s, spans, instants, links))
        return out

    def _lanes(self, snapshot):
        """``({id(seen): lane}, [seen in lane order])``: main thread first, then by first event
        (a span is appended when it ends; its lane follows when it started)."""
        if self._fixed_lanes:
            order = sorted((entry[0] for entry in snapshot), key=lambda s: (not s.is_main, s.first_ns))
        else:
            def first_event(entry):
                s, spans, instants, _ = entry
                times = [sp[2] for sp in spans] + [ev[2] for ev in instants]
                return (not s.is_main, min(times, default=s.first_ns - self.start_ns), s.first_ns)

            order = [entry[0] for entry in sorted(snapshot, key=first_event)]
        return {id(s): lane for lane, s in enumerate(order)}, order

    def _events(self, which, make):
        snapshot = self._snapshot()
        lanes, _ = self._lanes(snapshot)
        out = [make(lanes[id(entry[0])], entry[0].current_name(), *event)
               for entry in snapshot for event in entry[which]]
        out.sort(key=lambda event: (event[4], event[0]))
        return out

    @property
    def threads(self):
        """Threads seen, as :class:`ThreadInfo`, main thread first, then by first event."""
        _, order = self._lanes(self._snapshot())
        return [ThreadInfo(lane, s.current_name(), s.ident, s.is_main) for lane, s in enumerate(order)]

    @property
    def spans(self):
        """All spans, as :class:`Span`, sorted by start time."""
        return self._events(1, Span)

    @property
    def instants(self):
        """All instants, as :class:`Instant`, sorted by time."""
        return self._events(2, Instant)

    @property
    def handoffs(self):
        """Hand-offs, as :class:`Handoff`, by the producing end's time: one per value, error or item
        received (a future read twice gives one), per callback run, per ``join()`` that saw the end."""
        snapshot = self._snapshot()
        lanes, _ = self._lanes(snapshot)
        out = [Handoff(kind, label, error, lanes[id(src)], src.current_name(), from_kind, from_t,
                       lanes[id(s)], s.current_name(), to_kind, to_t)
               for s, _, _, links in snapshot for kind, label, error, src, from_kind, from_t, to_kind, to_t in links
               if id(src) in lanes]
        out.sort(key=lambda h: (h.from_ns, h.to_ns, h.from_lane, h.to_lane))
        return out

    @property
    def never_retrieved(self):
        """Failed futures whose error nobody retrieved (so far, while running), as :class:`NeverRetrieved`."""
        lanes, _ = self._lanes(self._snapshot())
        out = [NeverRetrieved(lanes[id(s)], s.current_name(), label, error, t - self.start_ns)
               for s, label, error, t in self._lost_records() if id(s) in lanes]
        out.sort(key=lambda lost: (lost.t_ns, lost.lane))
        return out

    @property
    def duration_ms(self):
        """Wall time from the start to :meth:`stop` (or to now if still running)."""
        end = self.end_ns if self.end_ns is not None else perf_counter_ns()
        return (end - self.start_ns) / NS_PER_MS

    @accepts(kind=one_of(*SPAN_KINDS), thread=_A_THREAD)
    def time_in(self, kind, thread=None):
        """Total milliseconds in spans of ``kind`` (a span kind) of ``thread``: None (all), a thread
        name (every lane with that name) or a lane number.

        Raises:
            ValueError: ``kind`` is not a span kind, or ``thread`` names no thread seen.
            TypeError: ``thread`` is neither None, a str nor an int.
        """
        spans = (span for entry in self._selected(thread) for span in entry[1])
        return sum(t1 - t0 for k, _, t0, t1, _ in spans if k == kind) / NS_PER_MS

    @accepts(kind=one_of(*SPAN_KINDS, *INSTANT_KINDS), thread=_A_THREAD)
    def count(self, kind, thread=None):
        """Number of spans or instants of ``kind`` of ``thread`` (as for :meth:`time_in`).

        Raises:
            ValueError: unknown ``kind`` or ``thread``.
            TypeError: ``thread`` is neither None, a str nor an int.
        """
        which = 1 if kind in SPAN_KINDS else 2
        return sum(1 for entry in self._selected(thread) for event in entry[which] if event[0] == kind)

    def _selected(self, thread):
        """Snapshot entries of the threads ``thread`` selects (None: all)."""
        snapshot = self._snapshot()
        if thread is None:
            return snapshot
        lanes, order = self._lanes(snapshot)
        names = [s.current_name() for s in order]
        if isinstance(thread, str):
            wanted = {lane for lane, name in enumerate(names) if name == thread}
        else:
            wanted = {thread} if 0 <= thread < len(order) else set()
        if not wanted:
            seen = ", ".join(f"{lane}: {name!r}" for lane, name in enumerate(names)) or "none yet"
            raise ValueError(f"thread {thread!r} was not seen by this recording; threads seen (lane: name): {seen}")
        return [entry for entry in snapshot if lanes[id(entry[0])] in wanted]

    def __repr__(self):
        snapshot = self._snapshot()
        spans, instants = (sum(len(entry[which]) for entry in snapshot) for which in (1, 2))
        return f"<Recording {self.name!r}: {spans} spans, {instants} instants, {len(snapshot)} threads>"

    def to_chrome_trace(self):
        """Return the recording as a dict in Chrome's trace-event format (opens in Perfetto).

        Spans are ``ph: "X"`` events, instants ``"i"``, thread names ``"M"``; a hand-off is a pair
        of flow events (``"s"``, ``"f"``) with one ``id``; a never-retrieved error is an instant at
        the end. Times are microseconds.
        """
        def event(ph, lane, name, cat, t_ns, args, **extra):
            return {"ph": ph, "pid": TRACE_PID, "tid": lane, "name": name, "cat": cat, "ts": t_ns / NS_PER_US,
                    "args": args, **extra}

        events = []
        for info in self.threads:
            events += [{"ph": "M", "pid": TRACE_PID, "tid": info.lane, "name": "thread_name",
                        "args": {"name": info.name, "ident": info.ident, "is_main": info.is_main}},
                       {"ph": "M", "pid": TRACE_PID, "tid": info.lane, "name": "thread_sort_index",
                        "args": {"sort_index": info.lane}}]
        for sp in self.spans:
            cpu = {} if sp.cpu_ns is None else {"cpu_ns": sp.cpu_ns}
            events.append(event("X", sp.lane, sp.label or sp.kind, sp.kind, sp.start_ns, {"kind": sp.kind, **cpu,
                                "label": sp.label}, dur=(sp.end_ns - sp.start_ns) / NS_PER_US))
        for ev in self.instants:
            events.append(event("i", ev.lane, ev.label or ev.kind, ev.kind, ev.t_ns,
                                {"kind": ev.kind, "label": ev.label}, s="t"))
        for flow_id, h in enumerate(self.handoffs, start=1):
            args = {"handoff": h.kind, "label": h.label, "error": h.error, "from_kind": h.from_kind,
                    "to_kind": h.to_kind}
            name = f"{h.kind}: {h.error or h.label}"
            events.append(event("s", h.from_lane, name, FLOW_CATEGORY, h.from_ns, args, id=flow_id))
            events.append(event("f", h.to_lane, name, FLOW_CATEGORY, h.to_ns, args, id=flow_id, bp="e"))
        duration_ns = None if self.end_ns is None else self.end_ns - self.start_ns
        end_ns = perf_counter_ns() - self.start_ns if duration_ns is None else duration_ns
        for lost in self.never_retrieved:
            events.append(event("i", lost.lane, f"{NEVER_RETRIEVED}: {lost.error}", NEVER_RETRIEVED, end_ns,
                                {"kind": NEVER_RETRIEVED, "label": lost.label, "error": lost.error,
                                 "raised_ts": lost.t_ns / NS_PER_US}, s="t"))
        return {"traceEvents": events, "displayTimeUnit": "ms",
                "otherData": {"recording": self.name, "duration_ns": duration_ns, "tool": "threadkit"}}

    @accepts(path=_A_PATH)
    def save(self, path):
        """Write :meth:`to_chrome_trace` as JSON to ``path``.

        Raises:
            TypeError: ``path`` is neither a str nor a path-like object.
        """
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_chrome_trace(), fh)

    @classmethod
    @accepts(trace=instance_of(dict, "a dict with 'traceEvents' (what to_chrome_trace returns)"))
    def from_chrome_trace(cls, trace):
        """Build a stopped Recording from what :meth:`to_chrome_trace` returned (threadkit's own format).

        Raises:
            TypeError: ``trace`` is not a dict with a list of events.
            ValueError: an event is not one that :meth:`to_chrome_trace` writes.
        """
        events = valid("trace['traceEvents']", trace.get("traceEvents"), instance_of(list, "a list of events"))
        other = trace.get("otherData") or {}
        rec = cls(str(other.get("recording", "")))
        rec.start_ns, rec._fixed_lanes = 0, True
        seen, flows, lost, ends = {}, {}, [], [0]
        for i, ev in enumerate(events):
            try:
                ph, args, tid = ev["ph"], ev.get("args", {}), ev["tid"]
                th = seen.get(tid) or seen.setdefault(tid, _SeenThread(None, f"thread {tid}", None, False, tid))
                if ph == "M":
                    if ev["name"] == "thread_name":
                        th.name, th.ident, th.is_main = args["name"], args["ident"], args["is_main"]
                    continue
                t = round(ev["ts"] * NS_PER_US)
                ends.append(t)
                if ph in ("s", "f"):
                    flows.setdefault(ev["id"], {})[ph] = (th, t, args)
                elif args["kind"] == NEVER_RETRIEVED:
                    lost.append((th, args["label"], args["error"], round(args["raised_ts"] * NS_PER_US)))
                elif ph == "X":
                    ends[-1] = t1 = t + round(ev["dur"] * NS_PER_US)
                    th.spans.extend((args["kind"], args["label"], t, t1, args.get("cpu_ns")))
                else:
                    th.instants.extend((args["kind"], args["label"], t))
            except (KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"trace event {i} is not one threadkit writes: {describe(ev, 200)}") from exc
        for ends_of_flow in flows.values():
            if "s" in ends_of_flow and "f" in ends_of_flow:
                (src, t0, args), (dst, t1, _) = ends_of_flow["s"], ends_of_flow["f"]
                dst.links.extend((args["handoff"], args["label"], args["error"], src, args["from_kind"], t0,
                                  args["to_kind"], t1))
        rec._seen, rec._lost = list(seen.values()), lost
        duration = other.get("duration_ns")
        rec.end_ns = max(ends) if duration is None else duration
        return rec

    @classmethod
    @accepts(path=_A_PATH)
    def load(cls, path):
        """Read a Chrome trace JSON file written by :meth:`save`.

        Raises:
            TypeError: ``path`` is neither a str nor a path-like object.
        """
        with open(path, encoding="utf-8") as fh:
            return cls.from_chrome_trace(json.load(fh))


#: The active recording, read by every thread (contextvars are not copied into threads).
_current = None
_stack = []
_stack_lock = threading.Lock()


def current_recording():
    """Return the active :class:`Recording`, or ``None`` outside ``with recording():``."""
    return _current


class recording:
    """Context manager: a new :class:`Recording`, active for the block (``with tk.recording("pool")
    as rec:``): every thread's traced calls go to it; on exit it stops, and the previous one (if
    nested) is active again.

    Raises:
        TypeError: ``name`` (the timeline's title) is not a str.
    """

    def __init__(self, name=""):
        self._rec = Recording(name)

    def __enter__(self):
        global _current
        self._rec.start_ns = perf_counter_ns()  # before publishing: no event precedes the start
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


@contextlib.contextmanager
def _span(rec, kind, label):
    c0 = thread_time_ns() if kind == RUN else None
    t0 = perf_counter_ns()
    try:
        yield
    finally:
        t1 = perf_counter_ns()
        rec._local.span((kind, label, t0, t1, None if c0 is None else thread_time_ns() - c0))


@accepts(kind=one_of(*SPAN_KINDS), label=A_STR)
def span(kind, label=""):
    """Context manager: a span of the calling thread in the active recording, if any, for a step
    no traced twin records (``with tk.span(tk.kinds.CALLBACK, "on_done"): on_done(result)``).
    A running span (``kinds.RUN``) also measures the thread's CPU time.

    Raises:
        ValueError: ``kind`` is not a span kind.
        TypeError: ``label`` is not a str.
    """
    rec = _current
    return contextlib.nullcontext() if rec is None else _span(rec, kind, label)


@accepts(label=A_STR)
def mark(label=""):
    """Record a ``MARK`` instant of the calling thread in the active recording, if any.

    Raises:
        TypeError: ``label`` is not a str.
    """
    rec = _current
    if rec is not None:
        rec._local.instant((MARK, label, perf_counter_ns()))


@accepts(runs=an_int(1, MAX_BEST_OF), fn=A_CALLABLE)
def best_of(runs, fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` ``runs`` times (1 to ``MAX_BEST_OF``), each in its own
    recording, in the calling thread; keep the fastest. A busy machine only ever adds time, so,
    as ``timeit`` does, a timing check looks at the fastest run. An exception propagates at once.

    Returns:
        tuple: ``(recording, value)`` of the run with the shortest ``duration_ms``.

    Raises:
        TypeError: ``runs`` is not an int, or ``fn`` is not callable.
        ValueError: ``runs`` is outside 1 to ``MAX_BEST_OF``.
    """
    best = None
    for index in range(runs):
        with recording(f"run {index + 1} of {runs}") as rec:
            value = fn(*args, **kwargs)
        if best is None or rec.duration_ms < best[0].duration_ms:
            best = (rec, value)
    return best
