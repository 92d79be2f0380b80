"""A shared value whose reads and writes are recorded, and the lost updates they show.

Each read and write of ``Shared.value`` is recorded on its own, so ``total.value += price(item)`` races
as a plain variable would; :func:`lost_updates` finds the writes no later value was built on.
"""

import threading
from threading import current_thread
from time import perf_counter_ns
from typing import NamedTuple, Optional

from . import kinds as _kinds
from ._display import new_figure, short_name
from ._recording import current_recording
from ._timeline import CPU_COLOR, ERROR_COLOR, SPAN_STYLES, TIME_LABEL, _lane_axis, _poly_collection, _rect
from ._validate import A_STR, accepts, an_int, instance_of, valid

__all__ = ["Shared", "lost_updates", "draw_race"]

READ, WRITE = "read", "write"
_NS_PER_MS = 1_000_000
_NAN = float("nan")


class Access(NamedTuple):
    """One recorded read or write; ``seq`` orders all accesses of one value."""
    seq: int
    thread: str  # the thread's name
    kind: str  # READ or WRITE
    value: object
    t_ms: float  # since the recording started


class LostUpdate(NamedTuple):
    """A lost ``write``, the write ``by`` that overwrote it, and the read (or None) each was built on."""
    read: Optional[Access]
    write: Access
    by_read: Optional[Access]
    by: Access

    @property
    def missing(self):
        """What the lost write added, ``write.value - read.value`` (ValueError if it read nothing)."""
        if self.read is None:
            raise ValueError(f"write #{self.write.seq} of {self.write.thread!r} read nothing first")
        return self.write.value - self.read.value


class Shared:
    """A shared value: plain ``.value`` reads and writes, each recorded inside a recording.

    ``.recording`` is the recording of the latest ones (None before any).

    Args:
        name: the value's name, for pictures and messages.
        initial: the starting value.
    """
    __slots__ = ("name", "recording", "_value", "_guard", "_log")

    @accepts(name=A_STR)
    def __init__(self, name, initial=0):
        self.name, self._value, self._guard = name, initial, threading.Lock()
        self._log, self.recording = [], None  # _log is flat: kind, value, perf_counter_ns(), thread, kind, ...

    @property
    def value(self):
        """The shared value; reads and writes are recorded while a recording is active."""
        if (rec := current_recording()) is None:
            return self._value
        with self._guard:
            return self._logged(rec, READ, self._value)

    @value.setter
    def value(self, new):
        if (rec := current_recording()) is None:
            self._value = new
        else:
            with self._guard:
                self._value = self._logged(rec, WRITE, new)

    def _logged(self, rec, kind, value):
        if rec is not self.recording:  # a new recording: a new log
            self.recording, self._log = rec, []
        self._log.extend((kind, value, perf_counter_ns(), current_thread()))
        return value

    @property
    def accesses(self):
        """The reads and writes of the latest recording, as :class:`Access`, in order."""
        with self._guard:
            flat, rec = list(self._log), self.recording
        return [Access(seq, thread.name, kind, value, (t - rec.start_ns) / _NS_PER_MS)
                for seq, (kind, value, t, thread) in enumerate(zip(*[iter(flat)] * 4))]

    def __repr__(self):
        return f"<Shared {self.name!r} = {self._value!r}, {len(self._log) // 4} accesses recorded>"


class _Window(NamedTuple):
    read: Optional[Access]
    source: int  # seq of the write whose value ``read`` saw: -1 the initial value, -2 no read
    write: Access
    by: int  # a lost write: index of the window that overwrote it; else -1
    start = property(lambda self: (self.read or self.write).t_ms)


def _windows(log):
    """Each write with its thread's latest read, in order; the lost ones with their overwriter."""
    current, last_read, windows = -1, {}, []
    for access in log:
        if access.kind == READ:
            last_read[access.thread] = (access, current)
        else:
            windows.append(_Window(*last_read.get(access.thread, (None, -2)), access, -1))
            current = access.seq
    index = {w.write.seq: i for i, w in enumerate(windows)}
    kept, i = set(), len(windows) - 1
    while i >= 0:  # the chain of writes the final value is built on
        kept.add(i)
        i = index.get(windows[i].source, -1)
    # Every other write was lost, overwritten by the first later write computed from something older.
    by = {i: next(j for j in range(i + 1, len(windows)) if windows[j].source < windows[i].write.seq)
          for i in range(len(windows)) if i not in kept}
    return [w._replace(by=by.get(i, -1)) for i, w in enumerate(windows)]


def _lost(log):
    windows = _windows(log)
    return [LostUpdate(w.read, w.write, windows[w.by].read, windows[w.by].write) for w in windows if w.by >= 0]


def _log_of(shared):
    if not (log := shared.accesses):
        raise ValueError("shared must be used inside `with tk.recording():` (outside one it records "
                         f"nothing), but {shared.name!r} recorded no read or write")
    return log


@accepts(shared=instance_of(Shared, "a threadkit Shared"))
def lost_updates(shared):
    """Find every lost update of a recorded run: each write the final value is not built on.

    Args:
        shared: a Shared used inside a recording.

    Returns:
        list[LostUpdate]: in the order the lost writes happened.

    Raises:
        ValueError: it recorded nothing.
    """
    return _lost(_log_of(shared))


#: Figure size in inches of :func:`draw_race`; fixed, so its repr never changes.
RACE_FIGSIZE = (10.0, 7.0)
_BUCKETS = 40  # the middle panel counts lost updates in this many stretches of the run
_CALM_WINDOWS = 6  # windows the zoom shows when no update was lost
_WAIT_COLOR, _WAIT_HATCH = SPAN_STYLES[_kinds.LOCK_WAIT]
#: Label -> (face colour, edge colour, hatch, line colour in the overview, legend text).
_ROLES = {
    "lock waits": (_WAIT_COLOR, "#8A7F4A", _WAIT_HATCH, _WAIT_COLOR, "waiting for the lock"),
    "kept windows": (SPAN_STYLES[_kinds.RUN][0], "#4477AA", None, "#4477AA", "read ... write, update kept"),
    "lost windows": (ERROR_COLOR, "#7A3600", None, ERROR_COLOR, "read ... write, update lost"),
    "overwriter windows": (CPU_COLOR, "#1A1144", None, CPU_COLOR, "the write that overwrote it"),
}
_RUN_PAD, _ZOOM_PAD, _MIN_ZOOM_MS = 0.02, 0.25, 0.05  # pads: shares of the run or zoom, each side
_WRITES_GAP_SCALE = 4  # zoomed on a lost update, its two writes are at least 1/4 of the zoom apart
_BAR_HEIGHT, _BAR_OFFSET, _WAIT_HEIGHT, _LABEL_GAP = 0.42, 0.14, 0.3, 0.03  # lane units
_MIN_BAR_SHARE = 0.004  # zoom bars are at least this share of the zoom wide
_ZOOM_POINTS = RACE_FIGSIZE[0] * 72 * 0.7  # about the zoom axes' width in points
_TITLE_FONT, _TEXT_FONT = 10, 7.5
_CHAR_POINTS, _LABEL_SPACE_PT = _TEXT_FONT * 0.6, 8  # rough width of a label's character; room between two


@accepts(shared=instance_of(Shared, "a threadkit Shared"), zoom=an_int(0))
def draw_race(shared, *, zoom=0):
    """Draw a recorded race: the whole run, lost updates over time, and one lost update up close.

    Args:
        shared: a Shared used inside a recording.
        zoom: which lost update to zoom on, from 0 (the first).

    Returns:
        matplotlib.figure.Figure: 3 Axes, always 10 x 7 inches.

    Raises:
        ValueError: the Shared recorded nothing, or ``zoom`` is not below the number of lost updates.
    """
    log = _log_of(shared)  # first: without a log there is no recording either
    waits = [(sp.thread_name, sp.start_ms, sp.end_ms) for sp in shared.recording.spans if sp.kind == _kinds.LOCK_WAIT]
    return _draw(log, waits, shared.name, zoom)


def _draw(log, waits, name, zoom):
    """The race figure of ``log``, with lock ``waits`` as ``(thread, start_ms, end_ms)``."""
    windows = _windows(log)
    lost = [w for w in windows if w.by >= 0]
    zoom = valid("zoom", zoom, an_int(0, max(0, len(lost) - 1)))
    fig = new_figure(RACE_FIGSIZE)
    grid = fig.add_gridspec(3, 1, height_ratios=(2.2, 0.9, 3.2))
    ax_run = fig.add_subplot(grid[0])
    ax_count, ax_zoom = fig.add_subplot(grid[1], sharex=ax_run), fig.add_subplot(grid[2])
    lanes = {thread: lane for lane, thread in enumerate(dict.fromkeys(a.thread for a in log))}
    waits = [(lanes[thread], t0, t1) for thread, t0, t1 in waits if thread in lanes]
    times = [a.t_ms for a in log] + [t for _, t0, t1 in waits for t in (t0, t1)]
    pad = max(max(times) - min(times), _MIN_ZOOM_MS) * _RUN_PAD
    ax_run.set_xlim(max(0.0, min(times) - pad), max(times) + pad)
    lines = {"lock waits": waits, "kept windows": [], "lost windows": []}
    for w in windows:
        lines["lost windows" if w.by >= 0 else "kept windows"].append((lanes[w.write.thread], w.start, w.write.t_ms))
    for z, (label, segments) in enumerate(lines.items()):
        if segments:  # one line broken by NaNs: fast for thousands of windows
            ax_run.plot([x for _, x0, x1 in segments for x in (x0, x1, _NAN)],
                        [y for lane, _, _ in segments for y in (lane, lane, _NAN)], color=_ROLES[label][3],
                        linewidth=(2, 2.5, 4)[z], solid_capstyle="butt", gid=label, label=_ROLES[label][4], zorder=z)
    if lost:  # a tick at each lost write, so that short windows still show
        ax_run.scatter([w.write.t_ms for w in lost], [lanes[w.write.thread] for w in lost], marker="|", s=60,
                       c=ERROR_COLOR, linewidths=1.2, zorder=3, gid="lost writes")
    ax_run.set_title("the whole run: every thread's read-to-write windows", fontsize=_TITLE_FONT, loc="left")
    ax_run.tick_params(axis="x", labelbottom=False)
    counts, edges, _ = ax_count.hist([w.write.t_ms for w in lost], bins=_BUCKETS, range=ax_run.get_xlim(), rwidth=0.9,
                                     color=ERROR_COLOR, gid="lost per stretch")
    ax_count.set_ylim(0, max(1, *counts) * 1.15)
    ax_count.set_ylabel(f"lost per\n{edges[1] - edges[0]:.2g} ms", fontsize=8)
    ax_count.yaxis.get_major_locator().set_params(integer=True)
    ax_count.tick_params(labelsize=8)
    ax_count.grid(axis="x", color="#EEEEEE", linewidth=0.6)
    if not lost:
        ax_count.text(0.5, 0.5, "no update lost", transform=ax_count.transAxes, ha="center", va="center",
                      fontsize=_TITLE_FONT, color="#555555", gid="none lost")
    by, text = None, f"no update lost: each write built on the one before it (the first {len(windows[:_CALM_WINDOWS])}"
    text += " writes)"
    if lost:
        w, by = lost[zoom], windows[lost[zoom].by]
        how = (f"had read {by.read.value!r} before that and then wrote {by.write.value!r} over it" if by.read
               else f"then wrote {by.write.value!r} without reading")
        text = (f"lost update {zoom + 1} of {len(lost)} (marked \u2716): {short_name(w.write.thread)} "
                f"{f'read {w.read.value!r}, ' if w.read else ''}wrote {w.write.value!r};\n"
                f"{short_name(by.write.thread)} {how} (arrow)")
    ax_zoom.set_title(text, fontsize=_TITLE_FONT, loc="left")
    if windows:
        zoomed = _draw_zoom(ax_zoom, windows, waits, lanes, lost[zoom] if lost else None, by)
        for ax in (ax_run, ax_count):
            ax.axvspan(*zoomed, color="#BBBBBB", alpha=0.35, linewidth=0, zorder=0, gid="zoomed stretch")
    for ax in (ax_run, ax_zoom):
        _lane_axis(ax, list(lanes), 8)
        if ax.has_data():
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False)
    for ax in (ax_count, ax_zoom):
        ax.set_xlabel(TIME_LABEL, fontsize=8)
    title = f"{len(lanes)} threads used {name}: {len(windows)} writes, {len(lost)} update{'s' * (len(lost) != 1)} lost"
    if waits:
        title += f"; together they waited {sum(t1 - t0 for _, t0, t1 in waits):.1f} ms for the lock"
    fig.suptitle(title, fontsize=_TITLE_FONT + 1)
    return fig


def _draw_zoom(ax, windows, waits, lanes, zoomed, by):
    """Draw the zoom on ``zoomed`` (overwritten by ``by``), or on the first windows; return its (start, end) ms."""
    focus = [zoomed, by] if zoomed else windows[:_CALM_WINDOWS]
    writes = [w.write.t_ms for w in focus]
    t0, t1 = min([w.start for w in focus] + writes), max(writes)
    if zoomed:  # keep the two writes apart: if the reads came long before, start later
        t0 = max(t0, t1 - max((t1 - min(writes)) * _WRITES_GAP_SCALE, _MIN_ZOOM_MS))
    pad = max((t1 - t0) * _ZOOM_PAD, _MIN_ZOOM_MS)
    lo, hi = t0 - pad, t1 + pad
    shown = [w for w in windows if w.start <= hi and w.write.t_ms >= lo]
    rects = {label: [] for label in _ROLES}
    rects["lock waits"] = [_rect(a, b - a, lane + _BAR_OFFSET - _WAIT_HEIGHT / 2, _WAIT_HEIGHT)
                           for lane, a, b in waits if a <= hi and b >= lo]
    for w in shown:
        label = "overwriter windows" if w is by else "lost windows" if w.by >= 0 else "kept windows"
        rects[label].append(_rect(w.start, max(w.write.t_ms - w.start, (hi - lo) * _MIN_BAR_SHARE),
                                  lanes[w.write.thread] + _BAR_OFFSET - _BAR_HEIGHT / 2, _BAR_HEIGHT))
    for label, (face, edge, hatch, _, text) in _ROLES.items():
        if rects[label]:
            ax.add_collection(_poly_collection(rects[label], facecolors=face, edgecolors=edge, hatch=hatch,
                                               linewidths=0.6, gid=label, label=text, zorder=1 + (hatch is None)))
    # Above each window what it read and wrote, on a short one both ("3\u21926"), or nothing if that does not fit.
    arrow_from_above = by is not None and lanes[by.write.thread] > lanes[zoomed.write.thread]
    for w in shown:
        y = lanes[w.write.thread] + _BAR_OFFSET - _BAR_HEIGHT / 2 - _LABEL_GAP
        strong = w is by or w is zoomed
        font = {"fontsize": _TEXT_FONT, "fontweight": "bold" if strong else "normal", "clip_on": True,
                "color": "#000000" if strong else "#444444", "gid": "value label"}
        x0, x1 = max(w.start, lo), min(w.write.t_ms, hi)
        read = ("\u25c2 " if w.start < lo else "") + (f"read {w.read.value!r}" if w.read else "(no read)")
        wrote, both = f"wrote {w.write.value!r}", (repr(w.read.value) if w.read else "") + f"\u2192{w.write.value!r}"
        width_pt = (x1 - x0) * _ZOOM_POINTS / (hi - lo)
        if width_pt >= len(read + wrote) * _CHAR_POINTS + _LABEL_SPACE_PT:
            ax.text(x0, y, read, ha="left", va="bottom", **font)
            under = w is by and arrow_from_above  # the arrow comes in from above: the label goes under the bar
            if w.write.t_ms <= hi:
                ax.text(x1, y + under * (_BAR_HEIGHT + 2 * _LABEL_GAP), wrote, ha="right",
                        va="top" if under else "bottom", **font)
        elif strong or width_pt >= len(both) * _CHAR_POINTS:
            ax.text((x0 + x1) / 2, y, both, ha="center", va="bottom", **font)
    if by is not None:
        a = (zoomed.write.t_ms, lanes[zoomed.write.thread] + _BAR_OFFSET)
        ax.annotate("", xy=(by.write.t_ms, lanes[by.write.thread] + _BAR_OFFSET), xytext=a, gid="overwritten by",
                    zorder=5, arrowprops={"arrowstyle": "-|>", "color": CPU_COLOR, "linewidth": 1.8, "shrinkA": 4,
                                          "shrinkB": 2, "connectionstyle": "arc3,rad=-0.3"})
        ax.scatter(*a, marker="X", s=70, c=ERROR_COLOR, edgecolors="white", linewidths=0.8, zorder=6,
                   gid="lost write", label="the lost write")
        ax.plot([], [], color=CPU_COLOR, linewidth=1.8, marker=">", markevery=[1], label="overwritten by")
    ax.set_xlim(lo, hi)
    return lo, hi

