"""Draw a :class:`~threadkit.Recording` as a timeline: one lane per thread.

:func:`draw` returns a :class:`matplotlib.figure.Figure` made with the object
API (never pyplot), so it is safe to call from any cell and leaks no figure.
In Jupyter, a figure left as the last expression of a cell is shown as an
image: :func:`draw` makes sure IPython knows how to render a bare ``Figure``
even when pyplot was never imported (see :func:`_enable_notebook_rendering`).

How to read a timeline:

* one horizontal lane per thread, the main thread at the top;
* a *working* span (running a task, holding a lock, running a callback) is a
  solid bar; a *waiting* span (blocked on a result, waiting for a lock, a
  queue, an event or a join) is a lighter, hatched bar, so the picture also
  reads in greyscale;
* inside each running span a dark bar rises from the bottom: its height is the
  share of that span the thread was actually on a CPU (a sleeping task shows
  almost none; two CPU-bound threads under the GIL show about half each);
* a span inside another span of the same thread (a lock held during a task, a
  callback inside a task) is drawn thinner, on top, so both stay visible;
* instants (submit, put, result set, exception, ...) are markers on the lane;
* an arrow is a hand-off: it starts where one thread produced something (a
  result, an error, a queue item, the end of its run) and ends where a thread
  received it (``result()`` returned or re-raised, the ``get``, ``join()``
  returned, a callback started); error arrows are vermilion and name the
  exception type; many arrows are drawn thinner, and past a cap only counted;
* a failed future whose error nobody retrieved ends in a "never retrieved"
  marker at the right end of the lane where it raised.

matplotlib is imported only when something is drawn.
"""

import math
import numbers
import sys
from typing import NamedTuple

from . import kinds as _kinds
from ._recording import Recording
from ._validate import _describe, check_instance
from ._display import enable_figure_display as _enable_notebook_rendering  # TEMPORARY (H2)

__all__ = [
    "draw",
    "draw_stacked",
    "summarize",
    "Summary",
    "KIND_COLORS",
    "CPU_COLOR",
    "INSTANT_MARKERS",
    "INSTANT_COLORS",
    "HANDOFF_STYLES",
    "MAX_HANDOFF_ARROWS",
    "DEFAULT_FIGSIZE",
]

# ------------------------------------------------------------------ styling
#: Figure size in inches for :func:`draw`; fixed, so a figure's text repr
#: (``<Figure size 1000x420 with 1 Axes>``) never depends on the recording.
DEFAULT_FIGSIZE = (10.0, 4.2)
#: Dots per inch of every figure (fixed: the inline backend would otherwise
#: change the figure's pixel size, and with it its text repr).
FIGURE_DPI = 100

#: Colour of each span kind: Paul Tol's colour-blind-safe "muted" scheme,
#: extended with two colours of his "light" scheme (orange, pink).
KIND_COLORS = {
    _kinds.RUN: "#88CCEE",  # cyan (light: the dark "on CPU" bar sits inside it)
    _kinds.QUEUED: "#BBBBBB",  # grey
    _kinds.BLOCKED_RESULT: "#CC6677",  # rose
    _kinds.JOIN_WAIT: "#882255",  # wine
    _kinds.LOCK_WAIT: "#DDCC77",  # sand
    _kinds.LOCK_HOLD: "#999933",  # olive
    _kinds.QUEUE_GET_WAIT: "#44AA99",  # teal
    _kinds.QUEUE_PUT_WAIT: "#117733",  # green
    _kinds.EVENT_WAIT: "#AA4499",  # purple
    _kinds.CALLBACK: "#EE8866",  # orange (Tol light)
    _kinds.SLEEP: "#FFAABB",  # pink (Tol light)
}
#: Colour of the "on CPU" bar drawn inside running spans (Tol muted indigo).
CPU_COLOR = "#332288"
#: Legend label (and collection ``gid``) of the "on CPU" bars.
CPU_LABEL = "on CPU"

#: Hatch pattern of each waiting kind (waits are hatched, work is solid).
KIND_HATCHES = {
    _kinds.QUEUED: "...",
    _kinds.BLOCKED_RESULT: "///",
    _kinds.JOIN_WAIT: "\\\\\\",
    _kinds.LOCK_WAIT: "xxx",
    _kinds.QUEUE_GET_WAIT: "---",
    _kinds.QUEUE_PUT_WAIT: "|||",
    _kinds.EVENT_WAIT: "+++",
    _kinds.SLEEP: "...",
}

#: Marker of each instant kind (matplotlib marker codes).
INSTANT_MARKERS = {
    _kinds.SUBMIT: ">",
    _kinds.PUT: "v",
    _kinds.GET: "^",
    _kinds.SET_RESULT: "o",
    _kinds.EXCEPTION: "X",
    _kinds.CANCEL: "s",
    _kinds.EVENT_SET: "D",
    _kinds.MARK: "*",
    _kinds.EXCEPTHOOK: "P",
}
#: Colour of each instant kind's marker (dark; exceptions stand out in vermilion).
INSTANT_COLORS = {
    _kinds.SUBMIT: "#444444",
    _kinds.PUT: "#117733",
    _kinds.GET: "#44AA99",
    _kinds.SET_RESULT: "#222222",
    _kinds.EXCEPTION: "#D55E00",
    _kinds.CANCEL: "#777777",
    _kinds.EVENT_SET: "#AA4499",
    _kinds.MARK: "#000000",
    _kinds.EXCEPTHOOK: "#D55E00",
}
_INSTANT_SIZE = {_kinds.EXCEPTION: 64, _kinds.MARK: 64, _kinds.EXCEPTHOOK: 64}
#: EXCEPTHOOK markers sit this far above the lane's centre (lane units), so the
#: EXCEPTION marker at the same moment stays visible, with the exception type beside them.
_EXCEPTHOOK_RISE = 0.3

#: Colour and line style of each hand-off kind's arrows (colour-blind safe, and
#: told apart by line style in greyscale too): results dark, errors vermilion.
HANDOFF_STYLES = {
    _kinds.HANDOFF_RESULT: ("#222222", "solid"),
    _kinds.HANDOFF_ERROR: ("#D55E00", "solid"),
    _kinds.HANDOFF_ITEM: ("#117733", "solid"),
    _kinds.HANDOFF_JOIN: ("#882255", "dashed"),
    _kinds.HANDOFF_CALLBACK: ("#AA4499", "dotted"),
}
#: Legend text of each hand-off kind.
_HANDOFF_LEGEND = {
    _kinds.HANDOFF_RESULT: "result handed back",
    _kinds.HANDOFF_ERROR: "error handed back",
    _kinds.HANDOFF_ITEM: "item handed over",
    _kinds.HANDOFF_JOIN: "run ended \u2192 join()",
    _kinds.HANDOFF_CALLBACK: "done \u2192 callback",
}
#: At most this many hand-off arrows are drawn (errors first, the others picked evenly
#: over time so the drawn ones show the whole run); the rest are counted.
MAX_HANDOFF_ARROWS = 40
#: A hand-off within one lane (a callback run by the thread that completed the
#: future) shorter than this share of the time axis is not drawn: the callback's
#: own span already shows where it ran.
_MIN_SAME_LANE_FRACTION = 0.02
#: Error labels this close (share of the time axis) to an edge are aligned inwards.
_LABEL_EDGE_FRACTION = 0.08
#: With more arrows than this, they are drawn thinner.
_THIN_ARROWS_ABOVE = 12
_ARROW_WIDTH, _THIN_ARROW_WIDTH = 1.1, 0.6
_ARROW_HEAD = 8  # mutation scale of the arrow heads, in points
_ARROW_ALPHA = 0.85
#: A callback run in the thread that completed the future bends above the lane.
_SAME_LANE_BEND = "arc3,rad=-0.35"
#: Error arrows carry their exception type, up to this many labels.
_MAX_ERROR_LABELS = 8
_HANDOFF_FONT = 6.5
#: Colour of "never retrieved" markers and text (the error colour).
NEVER_RETRIEVED_COLOR = "#D55E00"
_NEVER_LEGEND = "error never retrieved"
#: "Never retrieved" markers sit this share of the time axis left of its right end.
_NEVER_INSET = 0.012
_NEVER_MARKER_SIZE = 48
_DEFAULT_INSTANT_SIZE = 30
#: Markers are at most this share of a lane's height (many lanes: smaller markers).
_MARKER_SHARE_OF_LANE = 0.7

# Lane geometry, in lane units (lane i is centred on y = i; y grows downwards).
_BAR_HEIGHT = 0.72  # a top-level span
_NESTED_SHRINK = 0.6  # each level of nesting is this much thinner
_MIN_BAR_HEIGHT = 0.12
_WAIT_HEIGHT_FACTOR = 0.8  # waits are also a little thinner than work
_QUEUED_TOP = -0.49  # QUEUED spans: a thin strip along the top of the lane
_QUEUED_HEIGHT = 0.1
#: Bars narrower than this fraction of the time axis are widened to it (about 1.5 px).
_MIN_BAR_FRACTION = 0.0015
_EDGE_WIDTH = 0.5
_MIX_LIGHT = 0.45  # waits: base colour mixed with this much white
_MIX_DARK = 0.35  # edges and hatches: base colour mixed with this much black
# Drawing order: running spans, their CPU bars, other spans on top, then instants, labels.
_Z_RUN, _Z_CPU, _Z_OTHER, _Z_STEP, _Z_INSTANTS, _Z_LABELS = 1.5, 1.6, 2.0, 0.01, 4.0, 5.0
_Z_ARROWS = 3.5  # above the spans, below the instants' markers
# Each kind is one collection, so nesting cannot set the order bar by bar: kinds
# that usually contain others are drawn first, waits (which contain nothing,
# the thread is blocked) last, so a nested bar is never hidden under its parent.
_DRAW_ORDER = (
    _kinds.QUEUED,
    _kinds.RUN,
    _kinds.CALLBACK,
    _kinds.LOCK_HOLD,
    _kinds.SLEEP,
    _kinds.BLOCKED_RESULT,
    _kinds.JOIN_WAIT,
    _kinds.LOCK_WAIT,
    _kinds.QUEUE_GET_WAIT,
    _kinds.QUEUE_PUT_WAIT,
    _kinds.EVENT_WAIT,
)
# Kinds drawn first (underneath) when spans start together.
_KIND_ORDER = {kind: i for i, kind in enumerate(_kinds.SPAN_KINDS)}

# Lane labels.
_MAX_LABEL_CHARS = 32
_LABEL_FONT_MAX = 9.0
_LABEL_FONT_MIN = 4.5
_LABEL_POINTS_PER_LANE = 0.7  # font size as a share of a lane's height in points
_AXES_HEIGHT_SHARE = 0.7  # rough share of the figure height the axes get
_TITLE_FONT = 11
_LEGEND_FONT = 8
_LEGEND_MAX_COLUMNS = 8
_TIME_LABEL = "time since the recording started (ms)"
_EMPTY_TEXT = "nothing was recorded"
# draw_stacked: figure height = base + per-recording height (inches).
_STACK_WIDTH = DEFAULT_FIGSIZE[0]
_STACK_BASE_HEIGHT = 1.2
_STACK_HEIGHT_PER_AXES = 2.2
# Task labels written on bars wide enough for them.
_BAR_LABEL_MIN_FRACTION = 0.08
_BAR_LABEL_MAX_COUNT = 40
_BAR_LABEL_FONT = 6.5


# ------------------------------------------------------------------ public
def draw(
    recording,
    *,
    title=None,
    show_queued=False,
    show_instants=True,
    handoffs=True,
    figsize=DEFAULT_FIGSIZE,
    ax=None,
):
    """Draw ``recording`` as a timeline with one lane per thread.

    In Jupyter, leave the result as the last expression of a cell to see it::

        tk.draw(rec)

    Args:
        recording: a :class:`threadkit.Recording`.
        title: text above the timeline; defaults to the recording's name.
        show_queued: also draw ``QUEUED`` spans (from ``submit`` until a worker
            starts the task) as a thin strip along the top of the worker lane.
        show_instants: draw instants (submit, put, exception, ...) as markers.
        handoffs: draw hand-offs as arrows from the producing event to the
            receiving one (at most ``MAX_HANDOFF_ARROWS``, errors first; the
            rest counted as "+N more"), and errors never retrieved as markers
            at the end of their lane.
        figsize: ``(width, height)`` in inches, both positive; fixed by
            default so the figure does not change size with the recording
            (ignored when ``ax`` is given).
        ax: draw into this matplotlib ``Axes`` instead of a new figure (the
            legend then goes to the right of it).

    Returns:
        matplotlib.figure.Figure: the figure (``ax``'s figure if ``ax`` is given).

    Raises:
        TypeError: ``recording`` is not a Recording, ``title`` is not a str,
            ``show_queued``/``show_instants``/``handoffs`` is not a bool, ``figsize`` is not
            a pair of numbers, or ``ax`` is not a matplotlib Axes.
        ValueError: ``figsize`` holds a number that is not positive and finite.
    """
    _check_recording("recording", recording)
    title = _check_title("title", title)
    show_queued = _check_bool("show_queued", show_queued)
    show_instants = _check_bool("show_instants", show_instants)
    handoffs = _check_bool("handoffs", handoffs)
    figsize = _check_figsize("figsize", figsize)
    from matplotlib.figure import Figure

    if ax is not None:
        from matplotlib.axes import Axes

        check_instance("ax", ax, Axes, "a matplotlib Axes or None")
        fig = _root_figure(ax)
    else:
        fig = Figure(figsize=figsize, dpi=FIGURE_DPI, layout="constrained")
        ax = fig.add_subplot()
    snapshot = _Snapshot(recording)
    present = _draw_lanes(ax, snapshot, snapshot.duration_ms, show_queued, show_instants, handoffs=handoffs)
    ax.set_title(recording.name if title is None else title, fontsize=_TITLE_FONT)
    handles = _legend_handles(present)
    if handles:
        if fig.axes == [ax] and fig.get_layout_engine() is not None:
            _figure_legend(fig, handles)
        else:
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=_LEGEND_FONT,
                frameon=False,
            )
    _enable_notebook_rendering()
    return fig


def draw_stacked(recordings, *, titles=None, figsize=None):
    """Draw several recordings one above the other on a shared time axis.

    Use it to compare techniques: the same work done in different ways, each
    in its own panel, with one time scale and one legend.

    Args:
        recordings: a non-empty list or tuple of :class:`threadkit.Recording`.
        titles: one str per recording (defaults to the recordings' names).
        figsize: ``(width, height)`` in inches; by default 10 inches wide and
            a fixed height per recording.

    Returns:
        matplotlib.figure.Figure: one Axes per recording, top to bottom.

    Raises:
        TypeError: ``recordings`` is not a list/tuple of Recordings, ``titles``
            is not a list/tuple of str, or ``figsize`` is not a pair of numbers.
        ValueError: ``recordings`` is empty, ``titles`` has a different length,
            or ``figsize`` holds a number that is not positive and finite.
    """
    if not isinstance(recordings, (list, tuple)):
        raise TypeError(f"recordings must be a list or tuple of threadkit Recordings, got {_describe(recordings)}")
    if not recordings:
        raise ValueError("recordings must hold at least one threadkit Recording, got an empty " +
                         type(recordings).__name__)
    for i, rec in enumerate(recordings):
        _check_recording(f"recordings[{i}]", rec)
    if titles is None:
        titles = [rec.name for rec in recordings]
    else:
        if not isinstance(titles, (list, tuple)):
            raise TypeError(f"titles must be None or a list or tuple of str, got {_describe(titles)}")
        if len(titles) != len(recordings):
            raise ValueError(
                f"titles must have one entry per recording ({len(recordings)}), got {len(titles)}: {titles!r}"
            )
        for i, text in enumerate(titles):
            _check_title(f"titles[{i}]", text)
    if figsize is None:
        figsize = (_STACK_WIDTH, _STACK_BASE_HEIGHT + _STACK_HEIGHT_PER_AXES * len(recordings))
    figsize = _check_figsize("figsize", figsize)
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=FIGURE_DPI, layout="constrained")
    axes = fig.subplots(len(recordings), 1, sharex=True, squeeze=False)[:, 0]
    snapshots = [_Snapshot(rec) for rec in recordings]
    x_max = max(s.duration_ms for s in snapshots)
    present = set()
    for ax, snapshot, text in zip(axes, snapshots, titles):
        present |= _draw_lanes(ax, snapshot, x_max, False, True, lanes_in_figure=_lanes_share(snapshots, snapshot))
        ax.set_title(text, fontsize=_TITLE_FONT - 1, loc="left")
    for ax in axes[:-1]:
        ax.set_xlabel("")
    handles = _legend_handles(present)
    if handles:
        _figure_legend(fig, handles)
    _enable_notebook_rendering()
    return fig


class Summary(NamedTuple):
    """Numbers that describe a recording; made by :func:`summarize`.

    Times are milliseconds.
    """

    #: Wall time of the whole recording.
    makespan_ms: float
    #: Time the main thread spent in waiting kinds (``WAITING_KINDS``).
    main_blocked_ms: float
    #: Number of tasks run (``RUN`` spans).
    tasks: int
    #: Number of ``EXCEPTION`` instants.
    failures: int
    #: Number of threads seen (lanes).
    threads: int
    #: CPU time used by all ``RUN`` spans together.
    cpu_ms: float
    #: Time all threads together spent waiting for locks.
    lock_wait_ms: float
    #: Time all threads together spent holding locks.
    lock_hold_ms: float

    def format(self):
        """Return the summary as short lines of text, times rounded to 0.1 ms.

        Returns:
            str: one ``name: value`` line per field.
        """
        rows = [
            ("makespan", _ms(self.makespan_ms)),
            ("main thread blocked", _ms(self.main_blocked_ms)),
            ("tasks run", str(self.tasks)),
            ("failures", str(self.failures)),
            ("threads", str(self.threads)),
            ("CPU time in tasks", _ms(self.cpu_ms)),
        ]
        if self.lock_wait_ms or self.lock_hold_ms:
            rows.append(("waiting for locks", _ms(self.lock_wait_ms)))
            rows.append(("holding locks", _ms(self.lock_hold_ms)))
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name + ':':<{width + 1}} {value}" for name, value in rows)


def summarize(recording):
    """Measure a recording: makespan, main-thread blocking, tasks, failures, CPU, locks.

    Args:
        recording: a :class:`threadkit.Recording`.

    Returns:
        Summary: the numbers; ``summary.format()`` gives readable text.

    Raises:
        TypeError: ``recording`` is not a Recording.
    """
    _check_recording("recording", recording)
    threads = recording.threads
    spans = recording.spans
    main_lanes = {t.lane for t in threads if t.is_main}
    main_waits = [(sp.start_ns, sp.end_ns) for sp in spans
                  if sp.lane in main_lanes and sp.kind in _kinds.WAITING_KINDS]
    runs = [sp for sp in spans if sp.kind == _kinds.RUN]
    return Summary(
        makespan_ms=recording.duration_ms,
        main_blocked_ms=_union_ns(main_waits) / _NS_PER_MS,
        tasks=len(runs),
        failures=sum(1 for ev in recording.instants if ev.kind == _kinds.EXCEPTION),
        threads=len(threads),
        cpu_ms=sum(sp.cpu_ns or 0 for sp in runs) / _NS_PER_MS,
        lock_wait_ms=sum(sp.end_ns - sp.start_ns for sp in spans if sp.kind == _kinds.LOCK_WAIT) / _NS_PER_MS,
        lock_hold_ms=sum(sp.end_ns - sp.start_ns for sp in spans if sp.kind == _kinds.LOCK_HOLD) / _NS_PER_MS,
    )


# --------------------------------------------------------------- internals
_NS_PER_MS = 1_000_000


def _ms(value):
    return f"{value:.1f} ms"


def _union_ns(intervals):
    """Total length of the union of ``(start, end)`` intervals."""
    total, cur_start, cur_end = 0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


class _Snapshot:
    """One read of a recording (it may still be running while it is drawn).

    ``lane_names`` has a name for every lane used by a span or instant, even
    one of a thread that appeared between reading the threads and the events.
    """

    def __init__(self, recording):
        self.threads = recording.threads
        self.spans = recording.spans
        self.instants = recording.instants
        self.handoffs = recording.handoffs
        self.never_retrieved = recording.never_retrieved
        names = {t.lane: t.name for t in self.threads}
        for event in (*self.spans, *self.instants, *self.never_retrieved):
            names.setdefault(event.lane, event.thread_name)
        for h in self.handoffs:
            names.setdefault(h.from_lane, h.from_thread)
            names.setdefault(h.to_lane, h.to_thread)
        self.lane_names = [names.get(lane, "") for lane in range(max(names, default=-1) + 1)]
        ends = [sp.end_ms for sp in self.spans] + [ev.t_ms for ev in self.instants] + [
            h.to_ms for h in self.handoffs]
        self.duration_ms = max([recording.duration_ms] + ends)


def _check_recording(name, value):
    return check_instance(name, value, Recording, "a threadkit Recording")


def _check_title(name, value):
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be None or a str, got {_describe(value)}")
    return value


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return value


def _check_figsize(name, value):
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value
    ):
        raise TypeError(f"{name} must be a (width, height) pair of numbers in inches, got {_describe(value)}")
    width, height = (float(v) for v in value)
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise ValueError(f"{name} must hold two positive, finite numbers (inches), got {tuple(value)!r}")
    return (width, height)


def _lanes_share(snapshots, snapshot):
    """Lane count a stacked panel should size its labels for.

    Each panel gets roughly ``1 / len(snapshots)`` of the figure's height, so
    its lanes are as tall as that many times more lanes in a whole figure.
    """
    return max(1, len(snapshot.lane_names)) * len(snapshots)


def _short_name(name):
    """Thread name for a lane label: long names keep their start and end."""
    if len(name) <= _MAX_LABEL_CHARS:
        return name
    keep = (_MAX_LABEL_CHARS - 1) // 2
    return name[:keep] + "\u2026" + name[-keep:]


def _mix(color, other, share):
    """``color`` mixed with ``other`` (both hex), ``share`` of ``other``."""
    a = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02X}" for x, y in zip(a, b))


def _style(kind):
    """(facecolor, edge/hatch colour, hatch) of a span kind."""
    base = KIND_COLORS[kind]
    hatch = KIND_HATCHES.get(kind)
    face = _mix(base, "#FFFFFF", _MIX_LIGHT) if hatch else base
    return face, _mix(base, "#000000", _MIX_DARK), hatch


def _nesting(spans):
    """Nesting of the spans of one lane, by index.

    Returns:
        (depth, has_child): lists; depth 0 is top level, and ``has_child[i]``
        is True when another span starts inside span ``i``.
    """
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start_ns, -spans[i].end_ns,
                                                     _KIND_ORDER.get(spans[i].kind, 0)))
    depth = [0] * len(spans)
    has_child = [False] * len(spans)
    open_spans = []  # (end_ns, index) of the spans enclosing the current one
    for i in order:
        sp = spans[i]
        while open_spans and open_spans[-1][0] <= sp.start_ns:
            open_spans.pop()
        depth[i] = len(open_spans)
        if open_spans:
            has_child[open_spans[-1][1]] = True
        open_spans.append((sp.end_ns, i))
    return depth, has_child


def _draw_lanes(ax, snapshot, x_max, show_queued, show_instants, lanes_in_figure=None, handoffs=True):
    """Draw the lanes of one recording into ``ax``; return the kinds drawn."""
    from matplotlib.collections import PolyCollection

    threads = snapshot.lane_names
    n_lanes = max(1, len(threads))
    lane_points = _lane_points(lanes_in_figure or n_lanes, _root_figure(ax).get_figheight())
    x_max = max(x_max, 1e-3)
    min_width = x_max * _MIN_BAR_FRACTION
    rects = {}  # kind -> list of polygons
    cpu_rects = []
    labels = []  # (x, y, text) for bars wide enough to carry their label

    by_lane = {}
    for sp in snapshot.spans:
        if sp.kind == _kinds.QUEUED and not show_queued:
            continue
        by_lane.setdefault(sp.lane, []).append(sp)

    for lane, spans in by_lane.items():
        nested = [sp for sp in spans if sp.kind != _kinds.QUEUED]
        depths, has_child = _nesting(nested)
        for sp in spans:
            if sp.kind == _kinds.QUEUED:
                width = max(sp.end_ms - sp.start_ms, min_width)
                rects.setdefault(sp.kind, []).append(_rect(sp.start_ms, width, lane + _QUEUED_TOP, _QUEUED_HEIGHT))
        for sp, depth, parent in zip(nested, depths, has_child):
            x0 = sp.start_ms
            width = max(sp.end_ms - x0, min_width)
            height = max(_MIN_BAR_HEIGHT, _BAR_HEIGHT * _NESTED_SHRINK ** depth)
            if sp.kind in KIND_HATCHES:
                height = max(_MIN_BAR_HEIGHT, height * _WAIT_HEIGHT_FACTOR)
            top = lane - height / 2
            rects.setdefault(sp.kind, []).append(_rect(x0, width, top, height))
            if sp.kind == _kinds.RUN and sp.cpu_share is not None and sp.cpu_share > 0:
                cpu_height = height * sp.cpu_share
                cpu_rects.append(_rect(x0, width, top + height - cpu_height, cpu_height))
            if sp.kind == _kinds.RUN and depth == 0 and not parent and sp.label:
                labels.append((x0, sp.end_ms, lane, sp.label))

    present = set()
    for order, kind in enumerate(_DRAW_ORDER):
        polys = rects.get(kind)
        if not polys:
            continue
        face, edge, hatch = _style(kind)
        ax.add_collection(_poly_collection(
            PolyCollection, polys, facecolors=face, edgecolors=edge, hatch=hatch,
            linewidths=_EDGE_WIDTH, label=kind, gid=kind,
            zorder=_Z_RUN if kind == _kinds.RUN else _Z_OTHER + order * _Z_STEP,
        ))
        present.add(kind)
        if kind == _kinds.RUN and cpu_rects:
            ax.add_collection(PolyCollection(
                cpu_rects, facecolors=CPU_COLOR, edgecolors="none", linewidths=0,
                label=CPU_LABEL, gid=CPU_LABEL, zorder=_Z_CPU,
            ))
            present.add(CPU_LABEL)

    if show_instants:
        by_kind = {}
        for ev in snapshot.instants:
            by_kind.setdefault(ev.kind, []).append((ev.t_ms, ev.lane))
        for kind in _kinds.INSTANT_KINDS:
            points = by_kind.get(kind)
            if not points:
                continue
            if kind == _kinds.EXCEPTHOOK:
                points = [(x, lane - _EXCEPTHOOK_RISE) for x, lane in points]
                _label_excepthooks(ax, snapshot.instants, x_max)
            xs, ys = zip(*points)
            ax.scatter(
                xs, ys, marker=INSTANT_MARKERS[kind],
                s=min(_INSTANT_SIZE.get(kind, _DEFAULT_INSTANT_SIZE), (lane_points * _MARKER_SHARE_OF_LANE) ** 2),
                c=INSTANT_COLORS[kind], edgecolors="white", linewidths=0.6, zorder=_Z_INSTANTS,
                label=kind, gid=kind,
            )
            present.add(kind)

    if handoffs:
        present |= _draw_handoffs(ax, snapshot.handoffs, x_max)
        present |= _draw_never_retrieved(ax, snapshot.never_retrieved, x_max, lane_points)
    _label_bars(ax, labels, x_max)
    # Axes: lanes top to bottom, time left to right.
    ax.set_xlim(0, x_max)
    ax.set_ylim(n_lanes - 0.5, -0.5)
    ax.set_yticks(range(len(threads)))
    font = max(_LABEL_FONT_MIN, min(_LABEL_FONT_MAX, lane_points * _LABEL_POINTS_PER_LANE))
    ax.set_yticklabels([_short_name(name) for name in threads], fontsize=font)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(_TIME_LABEL, fontsize=9)
    ax.grid(axis="x", color="#E6E6E6", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for lane in range(1, n_lanes):
        ax.axhline(lane - 0.5, color="#F0F0F0", linewidth=0.6, zorder=0)
    if not threads:
        ax.text(0.5, 0.5, _EMPTY_TEXT, transform=ax.transAxes, ha="center", va="center", color="#777777")
        ax.set_yticks([])
    return present


def _root_figure(ax):
    """The top-level Figure of ``ax`` (matplotlib < 3.10 has no ``root`` argument)."""
    try:
        return ax.get_figure(root=True)
    except TypeError:
        return ax.figure


def _poly_collection(cls, polys, **kwargs):
    """A PolyCollection whose hatches take the edge colour (``hatchcolors`` needs matplotlib 3.10)."""
    try:
        return cls(polys, hatchcolors=kwargs["edgecolors"], **kwargs)
    except (TypeError, AttributeError):
        return cls(polys, **kwargs)


def _rect(x0, width, top, height):
    return ((x0, top), (x0 + width, top), (x0 + width, top + height), (x0, top + height))


def _lane_points(n_lanes, fig_height_in):
    """Rough height of one lane in points, for sizing labels and markers."""
    return fig_height_in * 72 * _AXES_HEIGHT_SHARE / n_lanes


def _label_bars(ax, labels, x_max):
    """Write task labels on top-level running bars wide enough to hold them."""
    wide = [item for item in labels if item[1] - item[0] >= x_max * _BAR_LABEL_MIN_FRACTION]
    if not wide or len(labels) > _BAR_LABEL_MAX_COUNT:
        return
    for x0, x1, lane, text in wide:
        ax.text(
            (x0 + x1) / 2, lane - _BAR_HEIGHT / 4, text, ha="center", va="center", fontsize=_BAR_LABEL_FONT,
            color="#222222", clip_on=True, zorder=_Z_LABELS, gid="task label",
        )


def _label_excepthooks(ax, instants, x_max):
    """Write the exception type next to each EXCEPTHOOK marker (the first few)."""
    hooks = [ev for ev in instants if ev.kind == _kinds.EXCEPTHOOK][:_MAX_ERROR_LABELS]
    for ev in hooks:
        ax.annotate(
            f"excepthook: {ev.label}" if ev.label else "excepthook", (ev.t_ms, ev.lane - _EXCEPTHOOK_RISE),
            xytext=(5, 0), textcoords="offset points", ha="left", va="center", fontsize=_HANDOFF_FONT,
            color=INSTANT_COLORS[_kinds.EXCEPTHOOK], zorder=_Z_LABELS, gid="excepthook label",
            annotation_clip=True,
        )


def _chosen_handoffs(handoffs, x_max):
    """The hand-offs to draw, at most ``MAX_HANDOFF_ARROWS``: errors first, the others evenly over time.

    Hand-offs within one lane too short to see are left out (not counted as hidden).

    Returns:
        ``(chosen, hidden)``: the hand-offs to draw and how many were left out for the cap.
    """
    min_same_lane = x_max * _MIN_SAME_LANE_FRACTION
    visible = [h for h in handoffs if h.from_lane != h.to_lane or h.to_ms - h.from_ms >= min_same_lane]
    if len(visible) <= MAX_HANDOFF_ARROWS:
        return visible, 0
    errors = [h for h in visible if h.kind == _kinds.HANDOFF_ERROR][:MAX_HANDOFF_ARROWS]
    others = [h for h in visible if h.kind != _kinds.HANDOFF_ERROR]
    room = MAX_HANDOFF_ARROWS - len(errors)
    step = (len(others) - 1) / max(1, room - 1)  # >= 1: picks never repeat
    picked = [others[int(i * step + 0.5)] for i in range(room)] if room else []
    return errors + picked, len(visible) - len(errors) - len(picked)


def _draw_handoffs(ax, handoffs, x_max):
    """Draw hand-offs as arrows (producer -> receiver); return the legend keys drawn."""
    from matplotlib.patches import FancyArrowPatch

    chosen, hidden = _chosen_handoffs(handoffs, x_max)
    width = _THIN_ARROW_WIDTH if len(chosen) > _THIN_ARROWS_ABOVE else _ARROW_WIDTH
    present, error_labels = set(), 0
    for h in chosen:
        color, style = HANDOFF_STYLES.get(h.kind, HANDOFF_STYLES[_kinds.HANDOFF_ITEM])
        ax.add_patch(FancyArrowPatch(
            (h.from_ms, h.from_lane), (h.to_ms, h.to_lane), arrowstyle="-|>", mutation_scale=_ARROW_HEAD,
            color=color, linestyle=style, linewidth=width, alpha=_ARROW_ALPHA, shrinkA=0, shrinkB=1,
            connectionstyle=_SAME_LANE_BEND if h.from_lane == h.to_lane else "arc3,rad=0",
            zorder=_Z_ARROWS, gid=f"handoff {h.kind}",
        ))
        present.add(_handoff_key(h.kind))
        if h.error and error_labels < _MAX_ERROR_LABELS:
            error_labels += 1
            x = (h.from_ms + h.to_ms) / 2
            edge = x_max * _LABEL_EDGE_FRACTION
            ha = "right" if x > x_max - edge else "left" if x < edge else "center"
            ax.text(
                x, (h.from_lane + h.to_lane) / 2, h.error, ha=ha, va="center",
                fontsize=_HANDOFF_FONT, color=color, zorder=_Z_LABELS, gid="handoff error label", clip_on=True,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
            )
    if hidden > 0:
        note = ax.annotate(
            f"+{hidden} more hand-offs not drawn", (1.0, 1.0), xycoords="axes fraction", xytext=(0, 2),
            textcoords="offset points", ha="right", va="bottom", fontsize=_HANDOFF_FONT + 0.5, color="#444444",
            gid="handoffs not drawn",
        )
        note.set_in_layout(False)
    return present


def _handoff_key(kind):
    """Key of a hand-off kind in the set of things drawn (kept apart from span and instant kinds)."""
    return ("handoff", kind)


def _draw_never_retrieved(ax, lost, x_max, lane_points):
    """Mark failed futures nobody retrieved at the end of their lane; return the legend keys drawn."""
    if not lost:
        return set()
    x_end = x_max * (1 - _NEVER_INSET)
    by_lane = {}
    for item in lost:
        by_lane.setdefault(item.lane, []).append(item)
    for lane, items in by_lane.items():
        errors = sorted({item.error for item in items})
        text = f"never retrieved: {', '.join(errors)}" + (f" \u00d7{len(items)}" if len(items) > 1 else "")
        for item in items[:_MAX_ERROR_LABELS]:
            ax.plot([item.t_ms, x_end], [lane, lane], color=NEVER_RETRIEVED_COLOR, linestyle=(0, (1, 2)),
                    linewidth=_THIN_ARROW_WIDTH, zorder=_Z_ARROWS, gid="never retrieved line")
        ax.annotate(text, (x_end, lane), xytext=(-6, 0), textcoords="offset points", ha="right", va="center",
                    fontsize=_HANDOFF_FONT, color=NEVER_RETRIEVED_COLOR, zorder=_Z_LABELS, gid="never retrieved label",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
    xs = [x_end] * len(by_lane)
    ax.scatter(xs, list(by_lane), marker="o", s=min(_NEVER_MARKER_SIZE, (lane_points * _MARKER_SHARE_OF_LANE) ** 2),
               facecolors="white", edgecolors=NEVER_RETRIEVED_COLOR, linewidths=1.5, zorder=_Z_INSTANTS,
               label=_kinds.NEVER_RETRIEVED, gid=_kinds.NEVER_RETRIEVED)
    return {_kinds.NEVER_RETRIEVED}


def _legend_handles(present):
    """Legend entries (matplotlib artists) for the kinds in ``present``, in a fixed order."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for kind in _kinds.SPAN_KINDS:
        if kind in present:
            face, edge, hatch = _style(kind)
            handles.append(Patch(facecolor=face, edgecolor=edge, hatch=hatch, linewidth=_EDGE_WIDTH, label=kind))
        if kind == _kinds.RUN and CPU_LABEL in present:
            handles.append(Patch(facecolor=CPU_COLOR, edgecolor="none", label=CPU_LABEL))
    for kind in _kinds.INSTANT_KINDS:
        if kind in present:
            handles.append(Line2D(
                [], [], linestyle="none", marker=INSTANT_MARKERS[kind], color=INSTANT_COLORS[kind],
                markeredgecolor="white", markersize=7, label=kind,
            ))
    for kind in _kinds.HANDOFF_KINDS:
        if _handoff_key(kind) in present:
            color, style = HANDOFF_STYLES[kind]
            handles.append(Line2D([], [], color=color, linestyle=style, linewidth=_ARROW_WIDTH, marker=">",
                                  markersize=4, label=_HANDOFF_LEGEND[kind]))
    if _kinds.NEVER_RETRIEVED in present:
        handles.append(Line2D([], [], color=NEVER_RETRIEVED_COLOR, linestyle=(0, (1, 2)), marker="o",
                              markerfacecolor="white", markersize=6, label=_NEVER_LEGEND))
    return handles


def _figure_legend(fig, handles):
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=_legend_columns(len(handles)),
        fontsize=_LEGEND_FONT,
        frameon=False,
    )


def _legend_columns(n_entries):
    """Columns for a legend of ``n_entries``: as few rows as possible, rows balanced."""
    rows = math.ceil(n_entries / _LEGEND_MAX_COLUMNS)
    return math.ceil(n_entries / rows)
