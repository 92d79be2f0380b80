"""A shared value whose reads and writes are recorded, and the lost updates they show.

Notebook 02's race stays plain Python: the shared total is a :class:`Shared`
and the lesson code reads and writes its ``value`` attribute::

    total = tk.Shared("total", 0)

    def checkout(start):
        start.wait()
        for item in BASKET:
            total.value += price(item)      # read total.value ... price() ... write total.value

    with tk.recording("checkouts") as rec:
        ...                                 # start the threads, join them
    lost = tk.lost_updates(total)
    assert len(lost) == EXPECTED_COUNT - total.value     # for +1 updates
    tk.draw_race(total)

While a recording is active, each read and each write of ``value`` is recorded
(thread, read or write, the value, a sequence number and the time).  Only the
single read or the single write is made atomic with its record, by a lock
held for that one step; the window between a thread's read and its write,
where ``price()`` runs, stays open, so the race is exactly the lesson's race.
Outside a recording ``value`` is a plain attribute.

:func:`lost_updates` finds, from the recorded values alone, every write whose
update was lost and the write that overwrote it; :func:`draw_race` draws the
run: every thread's read-to-write windows, the lost ones in vermilion, lost
updates per stretch of time, and a zoom on one lost update.

matplotlib is imported only when something is drawn.
"""

import threading
from threading import current_thread
from time import perf_counter_ns
from typing import NamedTuple, Optional

from . import kinds as _kinds
from . import _recording
from ._timeline import CPU_COLOR, FIGURE_DPI, INSTANT_COLORS, KIND_COLORS, KIND_HATCHES, _enable_notebook_rendering
from ._validate import _describe, check_instance, check_int, check_str

__all__ = [
    "READ",
    "WRITE",
    "Access",
    "LostUpdate",
    "Shared",
    "lost_updates",
    "draw_race",
    "RACE_FIGSIZE",
]

#: Kind of an :class:`Access` that read the shared value.
READ = "read"
#: Kind of an :class:`Access` that wrote the shared value.
WRITE = "write"
_ACCESS_KINDS = (READ, WRITE)
_FIELDS = 4  # items per access in a Shared's flat log
_NS_PER_MS = 1_000_000


class Access(NamedTuple):
    """One recorded read or write of a :class:`Shared` value.

    ``seq`` orders all accesses of one value (0, 1, 2, ...: the order in
    which they really happened); ``t_ns`` is nanoseconds from the start of the
    recording that was active.
    """

    seq: int
    thread: str
    ident: Optional[int]
    kind: str
    value: object
    t_ns: int

    @property
    def t_ms(self):
        return self.t_ns / _NS_PER_MS


class LostUpdate(NamedTuple):
    """A write whose update was lost, and the write that overwrote it.

    ``write`` stored a value that no later value was built on: ``by`` (another
    write) replaced it with a value computed from something read *before*
    ``write`` happened.  ``read`` and ``by_read`` are the reads the two writes
    were computed from (``by_read`` is None if ``by``'s thread wrote without
    reading first).
    """

    read: Optional[Access]
    write: Access
    by_read: Optional[Access]
    by: Access

    @property
    def thread(self):
        """Name of the thread whose update was lost."""
        return self.write.thread

    @property
    def missing(self):
        """What the lost write added: ``write.value - read.value`` (needs numbers and a read).

        For updates that add something (``x.value += n``), the sum of
        ``missing`` over all lost updates equals the expected final value
        minus the real one.

        Raises:
            ValueError: the lost write was not computed from a read.
        """
        if self.read is None:
            raise ValueError(f"write #{self.write.seq} of {self.thread!r} read nothing first: nothing to subtract")
        return self.write.value - self.read.value


class Shared:
    """A shared value: plain ``.value`` reads and writes, recorded inside a recording.

    Inside ``with tk.recording():`` every read and write of :attr:`value`, from
    any thread, is recorded as an :class:`Access`.  A new recording starts a
    new log (the value it finds is the log's :attr:`initial` value).  Only the
    single read or write is atomic with its record; nothing holds a thread's
    read and its later write together, so races happen as they would with a
    plain variable.

    Args:
        name: the value's name, for pictures and messages.
        initial: the starting value.

    Raises:
        TypeError: ``name`` is not a str.
    """

    __slots__ = ("name", "_value", "_guard", "_log", "_rec", "_initial")

    def __init__(self, name, initial=0):
        self.name = check_str("name", name)
        self._value = initial
        self._guard = threading.Lock()
        # Flat, as the recording's buffers: kind, value, perf_counter_ns(), thread, kind, ...
        # An access's seq is its position; no tuple is made per access.
        self._log = []
        self._rec = None
        self._initial = initial

    @property
    def value(self):
        """The shared value; a read is recorded while a recording is active."""
        rec = _recording._current
        if rec is None:
            return self._value
        with self._guard:
            value = self._value
            if rec is not self._rec:
                self._restart(rec)
            self._log.extend((READ, value, perf_counter_ns(), current_thread()))
        return value

    @value.setter
    def value(self, new):
        rec = _recording._current
        if rec is None:
            self._value = new
            return
        with self._guard:
            if rec is not self._rec:
                self._restart(rec)
            self._log.extend((WRITE, new, perf_counter_ns(), current_thread()))
            self._value = new

    def _restart(self, rec):
        """A new recording: a new log (the caller holds ``_guard``)."""
        self._rec = rec
        self._log = []
        self._initial = self._value

    @property
    def accesses(self):
        """The reads and writes recorded in the latest recording, as :class:`Access`, in order."""
        with self._guard:
            flat = list(self._log)
            rec = self._rec
        start = rec.start_ns if rec is not None else 0
        return [Access(seq, thread.name, thread.ident, kind, value, t - start)
                for seq, (kind, value, t, thread) in enumerate(zip(*[iter(flat)] * _FIELDS))]

    @property
    def initial(self):
        """The value the latest recording found when it first read or wrote this one."""
        return self._initial

    @property
    def recording(self):
        """The recording the accesses belong to (None before any recorded access)."""
        return self._rec

    def __repr__(self):
        return f"<Shared {self.name!r} = {self._value!r}, {len(self._log) // _FIELDS} accesses recorded>"


# ------------------------------------------------------------------ analysis
class _Window(NamedTuple):
    """One write with the read it was computed from, and what became of it."""

    read: Optional[Access]
    write: Access
    source: int  # seq of the write whose value ``read`` saw; -1: the initial value; -2: no read
    lost: bool


_INITIAL = -1
_NO_READ = -2


def _accesses_of(source, name="source"):
    """The accesses of a Shared or of a hand-made sequence, checked and sorted by seq."""
    if isinstance(source, Shared):
        log = source.accesses
        if not log:
            raise ValueError(
                f"{name} {source.name!r} has no recorded reads or writes: use it inside "
                f"`with tk.recording():` (outside one it records nothing)"
            )
        return log
    if not isinstance(source, (list, tuple)):
        raise TypeError(f"{name} must be a threadkit Shared or a list of Access records, got {_describe(source)}")
    for i, access in enumerate(source):
        check_instance(f"{name}[{i}]", access, Access, "an Access record")
        if access.kind not in _ACCESS_KINDS:
            raise ValueError(f"{name}[{i}].kind must be {READ!r} or {WRITE!r}, got {access.kind!r}")
    log = sorted(source, key=lambda a: a.seq)
    seqs = [a.seq for a in log]
    if len(set(seqs)) != len(seqs):
        raise ValueError(f"{name} holds two accesses with the same seq: seqs {seqs!r}")
    last_write = None
    for access in log:
        if access.kind == WRITE:
            last_write = access
        elif last_write is not None and not _same(access.value, last_write.value):
            raise ValueError(
                f"{name}: the read with seq {access.seq} saw {access.value!r}, but the write before it "
                f"(seq {last_write.seq}) wrote {last_write.value!r}; a read sees the latest write"
            )
    return log


def _same(a, b):
    try:
        return a is b or bool(a == b)
    except Exception:  # values whose == raises or gives no truth value (e.g. arrays)
        return False


def _thread_key(access):
    return (access.thread, access.ident)


def _windows(log):
    """Pair every write with its thread's latest read; mark the lost writes.

    Returns:
        (windows, overwriter): the windows in write order, and for each lost
        write's seq the window of the write that overwrote it.
    """
    current = _INITIAL  # seq of the write whose value the shared variable holds
    last_read = {}  # thread -> (read access, seq of the write it saw)
    windows = []
    for access in log:
        key = _thread_key(access)
        if access.kind == READ:
            last_read[key] = (access, current)
        else:
            read, source = last_read.get(key, (None, _NO_READ))
            windows.append(_Window(read, access, source, False))
            current = access.seq
    by_seq = {w.write.seq: i for i, w in enumerate(windows)}
    kept = set()
    i = len(windows) - 1
    while i >= 0:
        kept.add(i)
        source = windows[i].source
        i = by_seq[source] if source >= 0 else -1
    windows = [w if i in kept else w._replace(lost=True) for i, w in enumerate(windows)]
    overwriter = {}
    for i, w in enumerate(windows):
        if w.lost:
            # The first later write computed from something older than this write (one exists:
            # the chain from the final write passes over this one).
            seq = w.write.seq
            j = i + 1
            while windows[j].source >= seq:
                j += 1
            overwriter[seq] = windows[j]
    return windows, overwriter


def lost_updates(source):
    """Find every lost update in a recorded run, from the recorded values alone.

    Each write is computed from the value its thread last read, which is the
    value of some earlier write (or the initial value).  Following that chain
    back from the final write gives the writes the final value is built on;
    every other write was lost.  The write that overwrote a lost write is the
    first later write computed from something read before it.

    This is exact for any update, not only ``+ 1``.  For ``x.value += 1``
    the number of lost updates equals the expected final value minus the real
    one.  Two shortcuts get it wrong: counting, for each write, the other
    threads' writes between its read and it overcounts (A, B and C all read 0,
    then B, C, A write 1: 3 counted, 2 lost); flagging each write that had
    another write inside its read-to-write window flags the overwriting write,
    not the lost one, and undercounts when one window covers two lost writes.

    Args:
        source: a :class:`Shared` used inside a recording, or a list or tuple
            of :class:`Access` records (e.g. made by hand for a test).

    Returns:
        list[LostUpdate]: in the order the lost writes happened.

    Raises:
        TypeError: ``source`` is neither a Shared nor a list/tuple of Access.
        ValueError: the Shared recorded nothing, or (in a hand-made list)
            an Access has an unknown kind or a repeated seq, or a read saw a
            value other than the latest write's.
    """
    log = _accesses_of(source)
    windows, overwriter = _windows(log)
    out = []
    for w in windows:
        if w.lost:
            by = overwriter[w.write.seq]
            out.append(LostUpdate(w.read, w.write, by.read, by.write))
    return out


# ------------------------------------------------------------------ drawing
#: Figure size in inches of :func:`draw_race`; fixed, so its text repr never changes.
RACE_FIGSIZE = (10.0, 7.0)
#: Number of stretches of time the "lost per stretch" bars divide the run into.
DEFAULT_BUCKETS = 40
MAX_BUCKETS = 500
#: Windows shown in the zoom when no update was lost.
_CALM_WINDOWS = 6
#: Colours (colour-blind safe; the timeline's palette): windows whose update
#: was kept, lost, and the write that overwrote a lost one.
KEPT_COLOR = KIND_COLORS[_kinds.RUN]
KEPT_EDGE = "#4477AA"
LOST_COLOR = INSTANT_COLORS[_kinds.EXCEPTION]
LOST_EDGE = "#7A3600"
OVERWRITER_COLOR = CPU_COLOR
OVERWRITER_EDGE = "#1A1144"
WAIT_COLOR = KIND_COLORS[_kinds.LOCK_WAIT]
WAIT_EDGE = "#8A7F4A"
WAIT_HATCH = KIND_HATCHES[_kinds.LOCK_WAIT]
_RUN_PAD = 0.02  # share of the run added on each side of the overview
_ZOOM_PAD = 0.25  # share of the zoomed stretch added on each side
_WRITES_GAP_SCALE = 4  # in a zoom on a lost update, the two writes are at least 1/4 of it apart
_MIN_ZOOM_MS = 0.05  # shortest stretch of time a zoom shows
_BAR_HEIGHT = 0.42  # zoom bars, in lane units, a little below the lane's centre
_BAR_OFFSET = 0.14  # leaves room above each bar for its values
_WAIT_HEIGHT = 0.3
_LABEL_GAP = 0.03  # between a bar and its value labels, in lane units
_MIN_BAR_SHARE = 0.004  # zoom bars are at least this share of the zoom wide
_POINTS_PER_INCH = 72
_ZOOM_WIDTH_SHARE = 0.7  # about the share of the figure's width the zoom's axes get
_CHAR_WIDTH = 0.6  # average character width, in font sizes
_LABEL_SPACE_PT = 8  # room between a window's "read" and "wrote" labels
_TITLE_FONT = 10
_TEXT_FONT = 7.5
_MAX_NAME = 28


def draw_race(source, *, zoom=0, buckets=DEFAULT_BUCKETS, title=None):
    """Draw a recorded race: the whole run, lost updates over time, and one lost update up close.

    Three panels, one time axis each (milliseconds since the recording started):

    1. the whole run: one lane per thread, each read-to-write window a thin
       line, vermilion if its update was lost; waits for a traced ``Lock``
       (from the Shared's recording) as sand lines in the same lane;
    2. lost updates per stretch of time (``buckets`` stretches);
    3. a zoom on lost update number ``zoom`` (0 is the first): the windows
       around it as bars, read and written values written on them, the lost
       write in vermilion with an arrow to the write that overwrote it (indigo).
       With no lost update, the zoom shows the first few windows and their waits.

    Args:
        source: a :class:`Shared` used inside a recording, or a list or tuple
            of :class:`Access` records.
        zoom: index of the lost update to zoom on, from 0 to the number of
            lost updates minus 1 (0 when none was lost).
        buckets: number of stretches of time for panel 2, from 1 to 500.
        title: text above the figure; defaults to a line with the counts.

    Returns:
        matplotlib.figure.Figure: 3 Axes, always ``RACE_FIGSIZE``.

    Raises:
        TypeError: ``source`` is neither a Shared nor a list/tuple of Access,
            ``zoom`` or ``buckets`` is not an int, or ``title`` is not a str.
        ValueError: the Shared recorded nothing, ``zoom`` is out of range, or
            ``buckets`` is outside 1 to 500.
    """
    log = _accesses_of(source)
    windows, overwriter = _windows(log)
    n_lost = sum(w.lost for w in windows)
    zoom = check_int("zoom", zoom, minimum=0, maximum=max(0, n_lost - 1))
    buckets = check_int("buckets", buckets, minimum=1, maximum=MAX_BUCKETS)
    if title is not None:
        check_str("title", title)
    waits = _lock_waits(source) if isinstance(source, Shared) else []
    name = source.name if isinstance(source, Shared) else "value"

    from matplotlib.figure import Figure

    fig = Figure(figsize=RACE_FIGSIZE, dpi=FIGURE_DPI, layout="constrained")
    ax_run, ax_count, ax_zoom = _axes(fig)
    lanes = _lanes(log)
    t_first = min([a.t_ms for a in log] + [t0 for _, t0, _ in waits])
    t_last = max([a.t_ms for a in log] + [t1 for _, _, t1 in waits])
    # The run, from a little before the first access (threads take a while to start).
    span_ms = max(t_last - t_first, _MIN_ZOOM_MS)
    t_start = max(0.0, t_first - span_ms * _RUN_PAD)
    t_end = t_last + span_ms * _RUN_PAD
    lost_windows = [w for w in windows if w.lost]
    zoomed = lost_windows[zoom] if lost_windows else None
    _draw_overview(ax_run, windows, waits, lanes, t_start, t_end)
    _draw_counts(ax_count, lost_windows, t_start, t_end, buckets)
    span = _draw_zoom(ax_zoom, windows, waits, lanes, zoomed, overwriter, zoom, n_lost, name)
    if span is not None:
        for ax in (ax_run, ax_count):
            ax.axvspan(*span, color="#BBBBBB", alpha=0.35, linewidth=0, zorder=0, gid="zoomed stretch")
    n_writes = len(windows)
    if title is None:
        title = (f"{len(lanes)} threads used {name}: {n_writes} writes, "
                 f"{n_lost} update{'s' if n_lost != 1 else ''} lost")
        if waits:
            title += f"; together they waited {sum(b - a for _, a, b in waits):.1f} ms for the lock"
    fig.suptitle(title, fontsize=_TITLE_FONT + 1)
    _enable_notebook_rendering()
    return fig


def _axes(fig):
    grid = fig.add_gridspec(3, 1, height_ratios=(2.2, 0.9, 3.2))
    ax_run = fig.add_subplot(grid[0])
    ax_count = fig.add_subplot(grid[1], sharex=ax_run)
    ax_zoom = fig.add_subplot(grid[2])
    return ax_run, ax_count, ax_zoom


def _lanes(log):
    """Lane of each thread (key: name, ident), in the order of their first access."""
    lanes = {}
    for access in log:
        lanes.setdefault(_thread_key(access), len(lanes))
    return lanes


def _lock_waits(shared):
    """``(thread key, start_ms, end_ms)`` of LOCK_WAIT spans in the Shared's recording."""
    rec = shared.recording
    if rec is None:
        return []
    idents = {info.lane: info.ident for info in rec.threads}
    return [((sp.thread_name, idents.get(sp.lane)), sp.start_ms, sp.end_ms)
            for sp in rec.spans if sp.kind == _kinds.LOCK_WAIT]


def _short(name):
    return name if len(name) <= _MAX_NAME else name[:_MAX_NAME - 1] + "\u2026"


def _lane_axis(ax, lanes):
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([_short(name) for name, _ in lanes], fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=8)
    for lane in range(1, len(lanes)):
        ax.axhline(lane - 0.5, color="#EEEEEE", linewidth=0.6, zorder=0)


def _draw_overview(ax, windows, waits, lanes, t_start, t_end):
    kept, lost = [], []
    for w in windows:
        lane = lanes[_thread_key(w.write)]
        start = w.read.t_ms if w.read is not None else w.write.t_ms
        (lost if w.lost else kept).append((start, w.write.t_ms, lane))
    wait_lines = [(t0, t1, lanes[key]) for key, t0, t1 in waits if key in lanes]
    _segments(ax, wait_lines, color=WAIT_COLOR, linewidth=2, gid="lock waits", label="waiting for the lock",
              zorder=1)
    _segments(ax, kept, color=KEPT_EDGE, linewidth=2.5, gid="kept windows", label="read ... write, update kept",
              zorder=2)
    _segments(ax, lost, color=LOST_COLOR, linewidth=4, gid="lost windows", label="read ... write, update lost",
              zorder=3)
    if lost:
        # A tick at each lost write, so that short windows still show.
        ax.scatter([x1 for _, x1, _ in lost], [y for _, _, y in lost], marker="|", s=60,
                   c=LOST_COLOR, linewidths=1.2, zorder=3, gid="lost writes")
    _lane_axis(ax, list(lanes))
    ax.set_xlim(t_start, t_end)
    ax.set_title("the whole run: every thread's read-to-write windows", fontsize=_TITLE_FONT, loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False)
    ax.tick_params(axis="x", labelbottom=False)


def _segments(ax, segments, **style):
    """Draw ``(x0, x1, y)`` segments as one line broken by NaNs (fast for many thousands)."""
    if not segments:
        return
    nan = float("nan")
    xs, ys = [], []
    for x0, x1, y in segments:
        xs += (x0, x1, nan)
        ys += (y, y, nan)
    ax.plot(xs, ys, solid_capstyle="butt", **style)


def _draw_counts(ax, lost_windows, t_start, t_end, buckets):
    width = (t_end - t_start) / buckets
    counts = [0] * buckets
    for w in lost_windows:
        counts[min(buckets - 1, int((w.write.t_ms - t_start) / width))] += 1
    ax.bar([t_start + width * (i + 0.5) for i in range(buckets)], counts, width=width * 0.9, color=LOST_COLOR,
           gid="lost per stretch")
    ax.set_ylim(0, max(1, max(counts)) * 1.15)
    if not lost_windows:
        ax.text(0.5, 0.5, "no update lost", transform=ax.transAxes, ha="center", va="center",
                fontsize=_TITLE_FONT, color="#555555", gid="none lost")
    ax.set_ylabel(f"lost per\n{width:.2g} ms", fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("time since the recording started (ms)", fontsize=8)
    ax.set_xlim(t_start, t_end)
    ax.grid(axis="x", color="#EEEEEE", linewidth=0.6)


def _draw_zoom(ax, windows, waits, lanes, zoomed, overwriter, zoom, n_lost, name):
    """Draw the zoom panel; return the (start, end) ms it shows, or None if nothing was written."""
    from matplotlib.collections import PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not windows:
        _lane_axis(ax, list(lanes))
        ax.set_title(f"{name} was never written", fontsize=_TITLE_FONT, loc="left")
        return None
    by = overwriter[zoomed.write.seq] if zoomed is not None else None
    focus = [zoomed, by] if zoomed is not None else windows[:_CALM_WINDOWS]
    writes = [w.write.t_ms for w in focus]
    t0 = min([w.read.t_ms for w in focus if w.read is not None] + writes)
    t1 = max(writes)
    if zoomed is not None:
        # The two writes must stand apart: if the reads came long before, start the zoom
        # later (the windows then enter from the left edge, their reads labelled there).
        needed = max((t1 - min(writes)) * _WRITES_GAP_SCALE, _MIN_ZOOM_MS)
        t0 = max(t0, t1 - needed)
    pad = max((t1 - t0) * _ZOOM_PAD, _MIN_ZOOM_MS)
    lo, hi = t0 - pad, t1 + pad
    min_width = (hi - lo) * _MIN_BAR_SHARE

    def start_of(w):
        return w.read.t_ms if w.read is not None else w.write.t_ms

    shown = [w for w in windows if start_of(w) <= hi and w.write.t_ms >= lo]
    bars = {"kept": [], "lost": [], "overwriter": []}
    for w in shown:
        lane = lanes[_thread_key(w.write)]
        x0, x1 = start_of(w), w.write.t_ms
        role = "overwriter" if w is by else ("lost" if w.lost else "kept")
        bars[role].append(_rect(x0, max(x1 - x0, min_width), lane + _BAR_OFFSET - _BAR_HEIGHT / 2, _BAR_HEIGHT))
    waits_shown = [_rect(a, b - a, lanes[key] + _BAR_OFFSET - _WAIT_HEIGHT / 2, _WAIT_HEIGHT)
                   for key, a, b in waits if key in lanes and a <= hi and b >= lo]
    handles = []
    if waits_shown:
        style = {"facecolor": WAIT_COLOR, "edgecolor": WAIT_EDGE, "hatch": WAIT_HATCH, "linewidth": 0.5}
        ax.add_collection(PolyCollection(waits_shown, facecolors=WAIT_COLOR, edgecolors=WAIT_EDGE,
                                         hatch=WAIT_HATCH, linewidths=0.5, gid="lock waits", zorder=1))
        handles.append(Patch(label="waiting for the lock", **style))
    styles = {
        "kept": (KEPT_COLOR, KEPT_EDGE, "read ... write, update kept"),
        "lost": (LOST_COLOR, LOST_EDGE, "read ... write, update lost"),
        "overwriter": (OVERWRITER_COLOR, OVERWRITER_EDGE, "the write that overwrote it"),
    }
    for role, rects in bars.items():
        if rects:
            face, edge, label = styles[role]
            ax.add_collection(PolyCollection(rects, facecolors=face, edgecolors=edge, linewidths=0.6,
                                             gid=f"{role} windows", zorder=2))
            handles.append(Patch(facecolor=face, edgecolor=edge, linewidth=0.6, label=label))
    # Values above each window: what it read (at its start) and wrote (at its end); on a
    # short window both together ("3→6") in its middle, or nothing if even that does not fit.
    by_lane_below = by is not None and lanes[_thread_key(by.write)] > lanes[_thread_key(zoomed.write)]
    points_per_ms = RACE_FIGSIZE[0] * _POINTS_PER_INCH * _ZOOM_WIDTH_SHARE / (hi - lo)
    for w in shown:
        lane = lanes[_thread_key(w.write)]
        y = lane + _BAR_OFFSET - _BAR_HEIGHT / 2 - _LABEL_GAP
        strong = w is by or w is zoomed
        font = {"fontsize": _TEXT_FONT, "fontweight": "bold" if strong else "normal",
                "color": "#000000" if strong else "#444444", "clip_on": True, "gid": "value label"}
        read_text = f"read {w.read.value!r}" if w.read is not None else "(no read)"
        write_text = f"wrote {w.write.value!r}"
        shown_start = start_of(w)
        if shown_start < lo:  # read before the zoom starts: say so at the left edge
            shown_start = lo
            read_text = "\u25c2 " + read_text
        width_pt = (min(w.write.t_ms, hi) - shown_start) * points_per_ms
        if width_pt >= _text_points(read_text + write_text) + _LABEL_SPACE_PT:
            ax.text(shown_start, y, read_text, ha="left", va="bottom", **font)
            if w.write.t_ms <= hi and w is by and by_lane_below:  # the arrow comes in from above
                below = lane + _BAR_OFFSET + _BAR_HEIGHT / 2 + _LABEL_GAP
                ax.text(w.write.t_ms, below, write_text, ha="right", va="top", **font)
            elif w.write.t_ms <= hi:
                ax.text(w.write.t_ms, y, write_text, ha="right", va="bottom", **font)
        else:
            short = f"{w.read.value!r}→{w.write.value!r}" if w.read is not None else f"→{w.write.value!r}"
            if strong or width_pt >= _text_points(short):
                ax.text((shown_start + w.write.t_ms) / 2, y, short, ha="center", va="bottom", **font)
    if by is not None:
        a = (zoomed.write.t_ms, lanes[_thread_key(zoomed.write)] + _BAR_OFFSET)
        b = (by.write.t_ms, lanes[_thread_key(by.write)] + _BAR_OFFSET)
        ax.annotate("", xy=b, xytext=a, gid="overwritten by", zorder=5,
                    arrowprops={"arrowstyle": "-|>", "color": OVERWRITER_COLOR, "linewidth": 1.8,
                                "shrinkA": 4, "shrinkB": 2, "connectionstyle": "arc3,rad=-0.3"})
        ax.scatter([a[0]], [a[1]], marker="X", s=70, c=LOST_COLOR, edgecolors="white", linewidths=0.8,
                   zorder=6, gid="lost write")
        handles.append(Line2D([], [], linestyle="none", marker="X", markersize=9, color=LOST_COLOR,
                              markeredgecolor="white", label="the lost write"))
        handles.append(Line2D([], [], color=OVERWRITER_COLOR, linewidth=1.8, marker=">", markevery=[1],
                              label="overwritten by"))
        ax.set_title(_zoom_text(zoomed, by, zoom, n_lost), fontsize=_TITLE_FONT, loc="left")
    else:
        ax.set_title(f"no update lost: each write built on the one before it (the first {len(focus)} writes)",
                     fontsize=_TITLE_FONT, loc="left")
    _lane_axis(ax, list(lanes))
    ax.set_xlim(lo, hi)
    ax.set_xlabel("time since the recording started (ms)", fontsize=8)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False)
    return lo, hi


def _zoom_text(lost, by, zoom, n_lost):
    who, other = _short(lost.write.thread), _short(by.write.thread)
    if by.read is None:
        how = f"{other} then wrote {by.write.value!r} without reading"
    else:
        how = f"{other} had read {by.read.value!r} before that and then wrote {by.write.value!r} over it"
    read = f"read {lost.read.value!r}, " if lost.read is not None else ""
    return f"lost update {zoom + 1} of {n_lost} (marked \u2716): {who} {read}wrote {lost.write.value!r};\n{how} (arrow)"


def _text_points(text):
    """Rough width of ``text`` in points at the zoom's font size."""
    return len(text) * _TEXT_FONT * _CHAR_WIDTH


def _rect(x0, width, top, height):
    return ((x0, top), (x0 + width, top), (x0 + width, top + height), (x0, top + height))
