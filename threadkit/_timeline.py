"""Draw recordings as timelines, one lane per thread, and summarize them.

Work is a solid bar and a wait a lighter, hatched one (so it reads in greyscale too); inside
each running span a dark bar rises to the share of it spent on a CPU; a nested span is thinner,
on top. Instants are markers. A hand-off is an arrow from where one thread produced something to
where another received it (errors vermilion, labelled with their type); a failed future whose
error nobody retrieved ends in a marker at the end of its lane.
"""

import math
from typing import NamedTuple

from . import kinds as _kinds
from ._display import enable_figure_display, new_figure, short_name
from ._recording import Recording
from ._validate import A_STR, accepts, instance_of, optional, valid

__all__ = ["draw", "summarize"]


#: Size in inches of a one-recording figure; fixed, so its repr never depends on the recording.
DEFAULT_FIGSIZE = (10.0, 4.2)
#: Several recordings: the figure is this base height plus this height per recording (inches).
STACK_HEIGHT = (1.2, 2.2)

#: Span kind -> (colour, hatch), in drawing order (containers first, so a nested bar is never
#: hidden under its parent; waits, which contain nothing, last). Paul Tol's colour-blind-safe
#: "muted" scheme plus two of his "light" colours; waits are hatched and drawn lighter.
SPAN_STYLES = {
    _kinds.RUN: ("#88CCEE", None),
    _kinds.CALLBACK: ("#EE8866", None),
    _kinds.LOCK_HOLD: ("#999933", None),
    _kinds.SLEEP: ("#FFAABB", "..."),
    _kinds.BLOCKED_RESULT: ("#CC6677", "///"),
    _kinds.JOIN_WAIT: ("#882255", "\\\\\\"),
    _kinds.LOCK_WAIT: ("#DDCC77", "xxx"),
    _kinds.QUEUE_GET_WAIT: ("#44AA99", "---"),
    _kinds.QUEUE_PUT_WAIT: ("#117733", "|||"),
    _kinds.EVENT_WAIT: ("#AA4499", "+++"),
}
#: Colour of errors (exceptions, error hand-offs, errors never retrieved) and of lost updates.
ERROR_COLOR = "#D55E00"
#: Colour and legend label of the "on CPU" bars inside running spans.
CPU_COLOR, CPU_LABEL = "#332288", "on CPU"
#: Instant kind -> (matplotlib marker, colour).
INSTANT_STYLES = {
    _kinds.SUBMIT: (">", "#444444"),
    _kinds.PUT: ("v", "#117733"),
    _kinds.GET: ("^", "#44AA99"),
    _kinds.SET_RESULT: ("o", "#222222"),
    _kinds.EXCEPTION: ("X", ERROR_COLOR),
    _kinds.CANCEL: ("s", "#777777"),
    _kinds.EVENT_SET: ("D", "#AA4499"),
    _kinds.MARK: ("*", "#000000"),
    _kinds.EXCEPTHOOK: ("P", ERROR_COLOR),
}
#: Hand-off kind -> (colour, line style, legend text); told apart by line style in greyscale.
HANDOFF_STYLES = {
    _kinds.HANDOFF_RESULT: ("#222222", "solid", "result handed back"),
    _kinds.HANDOFF_ERROR: (ERROR_COLOR, "solid", "error handed back"),
    _kinds.HANDOFF_ITEM: ("#117733", "solid", "item handed over"),
    _kinds.HANDOFF_JOIN: ("#882255", "dashed", "run ended \u2192 join()"),
    _kinds.HANDOFF_CALLBACK: ("#AA4499", "dotted", "done \u2192 callback"),
}
#: At most this many hand-off arrows are drawn (errors first, the others spread over the run).
MAX_HANDOFF_ARROWS = 40
_NEVER_LEGEND = "error never retrieved"
_BIG_MARKERS, _BIG_MARKER_SIZE, _MARKER_SIZE = {_kinds.EXCEPTION, _kinds.MARK, _kinds.EXCEPTHOOK}, 64, 30
_EXCEPTHOOK_RISE = 0.3  # above the lane's centre, so an EXCEPTION marker there stays visible
_MARKER_SHARE_OF_LANE = 0.7  # markers are at most this share of a lane's height
_MIN_SAME_LANE_FRACTION = 0.02  # shorter same-lane hand-offs (share of the axis) are not drawn
_LABEL_EDGE_FRACTION = 0.08  # error labels this close to an edge are aligned inwards
_THIN_ARROWS_ABOVE, _ARROW_WIDTH, _THIN_ARROW_WIDTH = 12, 1.1, 0.6
_MAX_ERROR_LABELS = 8
_NEVER_INSET = 0.012  # "never retrieved" markers sit this share of the axis left of its end
# Lane geometry in lane units: lane i is centred on y = i, y grows downwards.
_BAR_HEIGHT, _NESTED_SHRINK, _WAIT_SHRINK, _MIN_BAR_HEIGHT = 0.72, 0.6, 0.8, 0.12
_MIN_BAR_FRACTION = 0.0015  # narrower bars (share of the time axis) are widened to this
_EDGE_WIDTH, _MIX_LIGHT, _MIX_DARK = 0.5, 0.45, 0.35  # waits: mixed with white; edges: with black
_Z_RUN, _Z_CPU, _Z_OTHER, _Z_STEP, _Z_ARROWS, _Z_INSTANTS, _Z_LABELS = 1.5, 1.6, 2.0, 0.01, 3.5, 4.0, 5.0
_LABEL_FONT_RANGE, _POINTS_PER_LANE_FONT, _AXES_HEIGHT_SHARE = (4.5, 9.0), 0.7, 0.7
_TITLE_FONT, _LEGEND_FONT, _SMALL_FONT, _LEGEND_MAX_COLUMNS = 11, 8, 6.5, 8
_BAR_LABEL_MIN_FRACTION, _BAR_LABEL_MAX_COUNT = 0.08, 40
TIME_LABEL = "time since the recording started (ms)"
_NS_PER_MS = 1_000_000

_RECORDING = instance_of(Recording, "a threadkit Recording")


@accepts(recordings=instance_of((Recording, list, tuple), "a threadkit Recording or a list of them"),
         titles=optional(instance_of((list, tuple), "a list of str")))
def draw(recordings, *, titles=None):
    """Draw recordings as timelines: one lane per thread, one panel per recording.

    Several recordings share one time axis and one legend, to compare ways of doing the same
    work. In Jupyter, leave the figure as the last expression of a cell to see it.

    Args:
        recordings: a Recording, or a non-empty list of them (panels top to bottom).
        titles: one str per recording; by default the recordings' names.

    Returns:
        matplotlib.figure.Figure: 10 x 4.2 inches for one recording; 1.2 + 2.2 per recording high
        for several.

    Raises:
        TypeError: ``recordings`` is not a Recording or a list of them; a title is not a str.
        ValueError: the list is empty, or ``titles`` has not one entry per recording.
    """
    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    if not recs:
        raise ValueError("recordings must hold at least one threadkit Recording, got an empty list")
    for i, rec in enumerate(recs):
        valid(f"recordings[{i}]", rec, _RECORDING)
    if titles is not None and len(titles) != len(recs):
        raise ValueError(f"titles must have one entry per recording ({len(recs)}), got {len(titles)}: {titles!r}")
    titles = [rec.name for rec in recs] if titles is None else [
        valid(f"titles[{i}]", text, A_STR) for i, text in enumerate(titles)]
    n = len(recs)
    fig = new_figure(DEFAULT_FIGSIZE if n == 1 else (DEFAULT_FIGSIZE[0], STACK_HEIGHT[0] + STACK_HEIGHT[1] * n))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    snapshots = [_Snapshot(rec) for rec in recs]
    x_max = max(1e-3, *(s.duration_ms for s in snapshots))
    present = set()
    for ax, snap, title in zip(axes, snapshots, titles):
        present |= _draw_lanes(ax, snap, x_max, max(1, len(snap.lane_names)) * n)
        if n == 1:
            ax.set_title(title, fontsize=_TITLE_FONT)
        else:
            ax.set_title(title, fontsize=_TITLE_FONT - 1, loc="left")
    for ax in axes[:-1]:
        ax.set_xlabel("")
    handles = _legend_handles(present)
    if handles:
        rows = math.ceil(len(handles) / _LEGEND_MAX_COLUMNS)
        fig.legend(handles=handles, loc="outside lower center", ncols=math.ceil(len(handles) / rows),
                   fontsize=_LEGEND_FONT, frameon=False)
    return fig


class Summary(NamedTuple):
    """Numbers that describe a recording, in milliseconds; made by :func:`summarize`."""

    makespan_ms: float  # wall time of the whole recording
    main_blocked_ms: float  # time the main thread spent in waiting kinds
    tasks: int  # RUN spans
    failures: int  # EXCEPTION instants
    threads: int
    cpu_ms: float  # CPU time of all RUN spans together
    lock_wait_ms: float  # all threads together
    lock_hold_ms: float

    def format(self):
        """The summary as ``name: value`` lines, times rounded to 0.1 ms."""
        rows = [("makespan", _ms(self.makespan_ms)), ("main thread blocked", _ms(self.main_blocked_ms)),
                ("tasks run", str(self.tasks)), ("failures", str(self.failures)),
                ("threads", str(self.threads)), ("CPU time in tasks", _ms(self.cpu_ms))]
        if self.lock_wait_ms or self.lock_hold_ms:
            rows += [("waiting for locks", _ms(self.lock_wait_ms)), ("holding locks", _ms(self.lock_hold_ms))]
        width = max(len(name) for name, _ in rows) + 1
        return "\n".join(f"{name + ':':<{width}} {value}" for name, value in rows)


@accepts(recording=_RECORDING)
def summarize(recording):
    """Measure a recording: makespan, main-thread blocking, tasks, failures, CPU, locks.

    Args:
        recording: a Recording.

    Returns:
        Summary: the numbers; ``summary.format()`` gives readable text.

    Raises:
        TypeError: ``recording`` is not a Recording.
    """
    spans = recording.spans
    main_lanes = {t.lane for t in recording.threads if t.is_main}
    runs = [sp for sp in spans if sp.kind == _kinds.RUN]

    def total_ms(kind):
        return sum(sp.end_ns - sp.start_ns for sp in spans if sp.kind == kind) / _NS_PER_MS

    return Summary(
        makespan_ms=recording.duration_ms,
        main_blocked_ms=_union_ns([(sp.start_ns, sp.end_ns) for sp in spans
                                   if sp.lane in main_lanes and sp.kind in _kinds.WAITING_KINDS]) / _NS_PER_MS,
        tasks=len(runs),
        failures=recording.count(_kinds.EXCEPTION),
        threads=len(recording.threads),
        cpu_ms=sum(sp.cpu_ns or 0 for sp in runs) / _NS_PER_MS,
        lock_wait_ms=total_ms(_kinds.LOCK_WAIT),
        lock_hold_ms=total_ms(_kinds.LOCK_HOLD),
    )


def _ms(value):
    return f"{value:.1f} ms"


def _union_ns(intervals):
    """Total length of the union of ``(start, end)`` intervals."""
    total, cur_start, cur_end = 0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            total += 0 if cur_end is None else cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    return total + (0 if cur_end is None else cur_end - cur_start)


class _Snapshot:
    """One read of a recording (it may still be running); a name for every lane any event uses."""

    def __init__(self, recording):
        self.spans, self.instants = recording.spans, recording.instants
        self.handoffs, self.never_retrieved = recording.handoffs, recording.never_retrieved
        names = {t.lane: t.name for t in recording.threads}
        for event in (*self.spans, *self.instants, *self.never_retrieved):
            names.setdefault(event.lane, event.thread_name)
        for h in self.handoffs:
            names.setdefault(h.from_lane, h.from_thread)
            names.setdefault(h.to_lane, h.to_thread)
        self.lane_names = [names.get(lane, "") for lane in range(max(names, default=-1) + 1)]
        self.duration_ms = max([recording.duration_ms] + [sp.end_ms for sp in self.spans] +
                               [ev.t_ms for ev in self.instants] + [h.to_ms for h in self.handoffs])


def _mix(color, other, share):
    """``color`` mixed with ``other`` (both hex), ``share`` of ``other``."""
    a, b = ([int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in (color, other))
    return "#" + "".join(f"{round(x + (y - x) * share):02X}" for x, y in zip(a, b))


def _style(kind):
    """(face colour, edge and hatch colour, hatch) of a span kind."""
    base, hatch = SPAN_STYLES[kind]
    return (_mix(base, "#FFFFFF", _MIX_LIGHT) if hatch else base), _mix(base, "#000000", _MIX_DARK), hatch


def _nesting(spans):
    """(depth, has_child) lists of one lane's spans: depth 0 is top level."""
    order = {kind: i for i, kind in enumerate(SPAN_STYLES)}
    depth, has_child, open_spans = [0] * len(spans), [False] * len(spans), []
    for i in sorted(range(len(spans)), key=lambda i: (spans[i].start_ns, -spans[i].end_ns, order[spans[i].kind])):
        while open_spans and open_spans[-1][0] <= spans[i].start_ns:
            open_spans.pop()
        depth[i] = len(open_spans)
        if open_spans:
            has_child[open_spans[-1][1]] = True
        open_spans.append((spans[i].end_ns, i))
    return depth, has_child


def _rect(x0, width, top, height):
    return ((x0, top), (x0 + width, top), (x0 + width, top + height), (x0, top + height))


def _poly_collection(polys, **kwargs):
    """A PolyCollection whose hatches take the edge colour (``hatchcolors`` needs matplotlib 3.10)."""
    from matplotlib.collections import PolyCollection

    try:
        return PolyCollection(polys, hatchcolors=kwargs["edgecolors"], **kwargs)
    except (TypeError, AttributeError):
        return PolyCollection(polys, **kwargs)


def _lane_axis(ax, names, fontsize):
    """Lanes top to bottom (lane i centred on y = i), labelled with the threads' names."""
    ax.set_ylim(max(1, len(names)) - 0.5, -0.5)
    ax.set_yticks(range(len(names)), [short_name(name) for name in names], fontsize=fontsize)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=8)
    for lane in range(1, len(names)):
        ax.axhline(lane - 0.5, color="#EEEEEE", linewidth=0.6, zorder=0)


def _draw_lanes(ax, snap, x_max, lanes_in_figure):
    """Draw one recording's lanes into ``ax``; return the legend keys of what was drawn."""
    lane_pt = ax.figure.get_figheight() * 72 * _AXES_HEIGHT_SHARE / lanes_in_figure
    marker_cap = (lane_pt * _MARKER_SHARE_OF_LANE) ** 2
    rects, cpu_rects, labels, by_lane = {}, [], [], {}
    for sp in snap.spans:
        if sp.kind != _kinds.QUEUED:
            by_lane.setdefault(sp.lane, []).append(sp)
    for spans in by_lane.values():
        for sp, depth, parent in zip(spans, *_nesting(spans)):
            width = max(sp.end_ms - sp.start_ms, x_max * _MIN_BAR_FRACTION)
            shrink = _NESTED_SHRINK ** depth * (_WAIT_SHRINK if SPAN_STYLES[sp.kind][1] else 1)
            height = max(_MIN_BAR_HEIGHT, _BAR_HEIGHT * shrink)
            top = sp.lane - height / 2
            rects.setdefault(sp.kind, []).append(_rect(sp.start_ms, width, top, height))
            if sp.kind == _kinds.RUN and sp.cpu_share:
                cpu_rects.append(_rect(sp.start_ms, width, top + height * (1 - sp.cpu_share), height * sp.cpu_share))
            if sp.kind == _kinds.RUN and depth == 0 and not parent and sp.label:
                labels.append((sp.start_ms, sp.end_ms, sp.lane, sp.label))
    present = set()
    for step, kind in enumerate(SPAN_STYLES):
        if kind in rects:
            face, edge, hatch = _style(kind)
            ax.add_collection(_poly_collection(
                rects[kind], facecolors=face, edgecolors=edge, hatch=hatch, linewidths=_EDGE_WIDTH, label=kind,
                gid=kind, zorder=_Z_RUN if kind == _kinds.RUN else _Z_OTHER + step * _Z_STEP))
            present.add(kind)
    if cpu_rects:
        ax.add_collection(_poly_collection(cpu_rects, facecolors=CPU_COLOR, edgecolors="none", linewidths=0,
                                           label=CPU_LABEL, gid=CPU_LABEL, zorder=_Z_CPU))
        present.add(CPU_LABEL)
    points = {}
    for ev in snap.instants:
        rise = _EXCEPTHOOK_RISE if ev.kind == _kinds.EXCEPTHOOK else 0
        points.setdefault(ev.kind, []).append((ev.t_ms, ev.lane - rise))
    for kind, (marker, color) in INSTANT_STYLES.items():
        if kind in points:
            xs, ys = zip(*points[kind])
            ax.scatter(xs, ys, marker=marker, s=min(_BIG_MARKER_SIZE if kind in _BIG_MARKERS else _MARKER_SIZE,
                                                    marker_cap),
                       c=color, edgecolors="white", linewidths=0.6, zorder=_Z_INSTANTS, label=kind, gid=kind)
            present.add(kind)
    for ev in [ev for ev in snap.instants if ev.kind == _kinds.EXCEPTHOOK][:_MAX_ERROR_LABELS]:
        ax.annotate(f"excepthook: {ev.label}" if ev.label else "excepthook", (ev.t_ms, ev.lane - _EXCEPTHOOK_RISE),
                    xytext=(5, 0), textcoords="offset points", ha="left", va="center", fontsize=_SMALL_FONT,
                    color=ERROR_COLOR, zorder=_Z_LABELS, gid="excepthook label", annotation_clip=True)
    present |= _draw_handoffs(ax, snap.handoffs, x_max)
    present |= _draw_never_retrieved(ax, snap.never_retrieved, x_max, marker_cap)
    wide = [item for item in labels if item[1] - item[0] >= x_max * _BAR_LABEL_MIN_FRACTION]
    for x0, x1, lane, text in wide if len(labels) <= _BAR_LABEL_MAX_COUNT else []:
        ax.text((x0 + x1) / 2, lane - _BAR_HEIGHT / 4, text, ha="center", va="center", fontsize=_SMALL_FONT,
                color="#222222", clip_on=True, zorder=_Z_LABELS, gid="task label")
    ax.set_xlim(0, x_max)
    low, high = _LABEL_FONT_RANGE
    _lane_axis(ax, snap.lane_names, max(low, min(high, lane_pt * _POINTS_PER_LANE_FONT)))
    ax.set_xlabel(TIME_LABEL, fontsize=9)
    ax.grid(axis="x", color="#E6E6E6", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    if not snap.lane_names:
        ax.text(0.5, 0.5, "nothing was recorded", transform=ax.transAxes, ha="center", va="center", color="#777777")
    return present


def _chosen_handoffs(handoffs, x_max):
    """(hand-offs to draw, how many the cap left out): errors first, the others evenly over time.

    Same-lane hand-offs too short to see are left out, and not counted.
    """
    visible = [h for h in handoffs
               if h.from_lane != h.to_lane or h.to_ms - h.from_ms >= x_max * _MIN_SAME_LANE_FRACTION]
    if len(visible) <= MAX_HANDOFF_ARROWS:
        return visible, 0
    errors = [h for h in visible if h.kind == _kinds.HANDOFF_ERROR][:MAX_HANDOFF_ARROWS]
    others = [h for h in visible if h.kind != _kinds.HANDOFF_ERROR]
    room = MAX_HANDOFF_ARROWS - len(errors)
    step = (len(others) - 1) / max(1, room - 1)  # >= 1: picks never repeat
    picked = [others[int(i * step + 0.5)] for i in range(room)]
    return errors + picked, len(visible) - len(errors) - len(picked)


def _draw_handoffs(ax, handoffs, x_max):
    """Draw hand-offs as arrows, producer to receiver; return the legend keys drawn."""
    from matplotlib.patches import FancyArrowPatch

    chosen, hidden = _chosen_handoffs(handoffs, x_max)
    width = _THIN_ARROW_WIDTH if len(chosen) > _THIN_ARROWS_ABOVE else _ARROW_WIDTH
    present, error_labels = set(), 0
    for h in chosen:
        color, style, _ = HANDOFF_STYLES.get(h.kind, HANDOFF_STYLES[_kinds.HANDOFF_ITEM])
        ax.add_patch(FancyArrowPatch(
            (h.from_ms, h.from_lane), (h.to_ms, h.to_lane), arrowstyle="-|>", mutation_scale=8, color=color,
            linestyle=style, linewidth=width, alpha=0.85, shrinkA=0, shrinkB=1, zorder=_Z_ARROWS,
            connectionstyle="arc3,rad=-0.35" if h.from_lane == h.to_lane else "arc3,rad=0", gid=f"handoff {h.kind}"))
        present.add(("handoff", h.kind))
        if h.error and error_labels < _MAX_ERROR_LABELS:
            error_labels += 1
            x, edge = (h.from_ms + h.to_ms) / 2, x_max * _LABEL_EDGE_FRACTION
            ax.text(x, (h.from_lane + h.to_lane) / 2, h.error, ha="right" if x > x_max - edge else
                    "left" if x < edge else "center", va="center", fontsize=_SMALL_FONT, color=color,
                    zorder=_Z_LABELS, gid="handoff error label", clip_on=True, bbox=_LABEL_BOX)
    if hidden:
        ax.annotate(f"+{hidden} more hand-offs not drawn", (1.0, 1.0), xycoords="axes fraction", xytext=(0, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=_SMALL_FONT + 0.5,
                    color="#444444", gid="handoffs not drawn").set_in_layout(False)
    return present


_LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}


def _draw_never_retrieved(ax, lost, x_max, marker_cap):
    """Mark failed futures nobody retrieved at the end of their lane; return the legend keys drawn."""
    if not lost:
        return set()
    x_end = x_max * (1 - _NEVER_INSET)
    by_lane = {}
    for item in lost:
        by_lane.setdefault(item.lane, []).append(item)
    for lane, items in by_lane.items():
        errors = ", ".join(sorted({item.error for item in items}))
        for item in items[:_MAX_ERROR_LABELS]:
            ax.plot([item.t_ms, x_end], [lane, lane], color=ERROR_COLOR, linestyle=(0, (1, 2)),
                    linewidth=_THIN_ARROW_WIDTH, zorder=_Z_ARROWS, gid="never retrieved line")
        ax.annotate(f"never retrieved: {errors}" + (f" \u00d7{len(items)}" if len(items) > 1 else ""), (x_end, lane),
                    xytext=(-6, 0), textcoords="offset points", ha="right", va="center", fontsize=_SMALL_FONT,
                    color=ERROR_COLOR, zorder=_Z_LABELS, gid="never retrieved label", bbox=_LABEL_BOX)
    ax.scatter([x_end] * len(by_lane), list(by_lane), marker="o", s=min(48, marker_cap), facecolors="white",
               edgecolors=ERROR_COLOR, linewidths=1.5, zorder=_Z_INSTANTS, gid=_kinds.NEVER_RETRIEVED)
    return {_kinds.NEVER_RETRIEVED}


def _legend_handles(present):
    """Legend entries for the keys in ``present``: spans, instants, hand-offs, in table order."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for kind in SPAN_STYLES:
        if kind in present:
            face, edge, hatch = _style(kind)
            handles.append(Patch(facecolor=face, edgecolor=edge, hatch=hatch, linewidth=_EDGE_WIDTH, label=kind))
        if kind == _kinds.RUN and CPU_LABEL in present:
            handles.append(Patch(facecolor=CPU_COLOR, edgecolor="none", label=CPU_LABEL))
    handles += [Line2D([], [], linestyle="none", marker=marker, color=color, markeredgecolor="white", markersize=7,
                       label=kind) for kind, (marker, color) in INSTANT_STYLES.items() if kind in present]
    handles += [Line2D([], [], color=color, linestyle=style, linewidth=_ARROW_WIDTH, marker=">", markersize=4,
                       label=text) for kind, (color, style, text) in HANDOFF_STYLES.items()
                if ("handoff", kind) in present]
    if _kinds.NEVER_RETRIEVED in present:
        handles.append(Line2D([], [], color=ERROR_COLOR, linestyle=(0, (1, 2)), marker="o", markerfacecolor="white",
                              markersize=6, label=_NEVER_LEGEND))
    return handles
