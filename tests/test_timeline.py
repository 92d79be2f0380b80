"""Tests of threadkit._timeline: the structure of drawn timelines, never pixels."""

import subprocess
import sys
import time

import pytest

import threadkit as tk
from threadkit import kinds as _kinds
from threadkit._recording import Recording
from threadkit._timeline import CPU_LABEL, INSTANT_STYLES, SPAN_STYLES, Summary
from threadkit.traced import Lock, Thread, ThreadPoolExecutor

US_PER_MS = 1000
FIGURE_REPR = "<Figure size 1000x420 with 1 Axes>"
#: Generous bound for drawing a 32-lane, 200-task timeline on a loaded 2-core machine.
BIG_DRAW_SECONDS = 10.0


# ------------------------------------------------------------------ helpers
def make_recording(threads, spans=(), instants=(), duration_ms=None, name="synthetic"):
    """Build a Recording deterministically from Chrome trace events.

    Args:
        threads: thread names, lane order (the first is the main thread if named MainThread).
        spans: (lane, kind, label, start_ms, end_ms[, cpu_ms]) tuples.
        instants: (lane, kind, label, t_ms) tuples.
    """
    events = [
        {"ph": "M", "pid": 1, "tid": lane, "name": "thread_name",
         "args": {"name": thread, "ident": 1000 + lane, "is_main": thread == "MainThread"}}
        for lane, thread in enumerate(threads)
    ]
    for lane, kind, label, start, end, *cpu in spans:
        args = {"kind": kind, "label": label}
        if cpu:
            args["cpu_ns"] = int(cpu[0] * 1_000_000)
        events.append({"ph": "X", "pid": 1, "tid": lane, "name": label, "cat": kind,
                       "ts": start * US_PER_MS, "dur": (end - start) * US_PER_MS, "args": args})
    for lane, kind, label, t in instants:
        events.append({"ph": "i", "s": "t", "pid": 1, "tid": lane, "name": label, "cat": kind,
                       "ts": t * US_PER_MS, "args": {"kind": kind, "label": label}})
    other = {"recording": name}
    if duration_ms is not None:
        other["duration_ns"] = int(duration_ms * 1_000_000)
    return Recording.from_chrome_trace({"traceEvents": events, "otherData": other})


def pool_recording():
    """Main thread waits for 4 tasks on 2 workers; task 3 fails; worker 1 holds a lock."""
    return make_recording(
        ["MainThread", "ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"],
        spans=[
            (0, _kinds.BLOCKED_RESULT, "task #1", 1, 50),
            (0, _kinds.JOIN_WAIT, "shutdown", 50, 60),
            (1, _kinds.QUEUED, "task #1", 0.5, 1),
            (1, _kinds.RUN, "task #1", 1, 20, 10),
            (1, _kinds.LOCK_HOLD, "lock", 5, 10),
            (1, _kinds.RUN, "task #3", 20, 40, 1),
            (2, _kinds.QUEUED, "task #2", 0.6, 1.2),
            (2, _kinds.RUN, "task #2", 1.2, 25, 12),
            (2, _kinds.LOCK_WAIT, "lock", 6, 10),
            (2, _kinds.RUN, "task #4", 25, 55, 0),
            (1, _kinds.QUEUED, "task #3", 0.7, 20),
            (2, _kinds.QUEUED, "task #4", 0.8, 25),
        ],
        instants=[
            (0, _kinds.SUBMIT, "task #1", 0.5), (0, _kinds.SUBMIT, "task #2", 0.6),
            (0, _kinds.SUBMIT, "task #3", 0.7), (0, _kinds.SUBMIT, "task #4", 0.8),
            (1, _kinds.SET_RESULT, "task #1", 20), (2, _kinds.SET_RESULT, "task #2", 25),
            (1, _kinds.EXCEPTION, "task #3", 40), (2, _kinds.SET_RESULT, "task #4", 55),
        ],
        duration_ms=60,
    )


def collections_by_gid(ax):
    return {c.get_gid(): c for c in ax.collections}


def bar_count(collection):
    return len(collection.get_paths())


def bar_heights(collection):
    return [p.vertices[:, 1].max() - p.vertices[:, 1].min() for p in collection.get_paths()]


def legend_texts(fig):
    legends = fig.legends or [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(legends) == 1
    return [t.get_text() for t in legends[0].get_texts()]


def many_threads_recording(n_threads, tasks_per_thread=1):
    spans, instants = [], []
    for lane in range(1, n_threads):
        for i in range(tasks_per_thread):
            start = i * 2 + lane * 0.1
            spans.append((lane, _kinds.RUN, f"task {lane}.{i}", start, start + 1.5, 0.1))
            instants.append((lane, _kinds.SET_RESULT, f"task {lane}.{i}", start + 1.5))
    names = ["MainThread"] + [f"ThreadPoolExecutor-0_{i}" for i in range(n_threads - 1)]
    return make_recording(names, spans, instants)


# -------------------------------------------------------------------- draw
def test_one_lane_per_thread_main_first():
    rec = pool_recording()
    fig = tk.draw(rec)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["MainThread", "ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"]
    low, high = ax.get_ylim()
    assert low > high  # y grows downwards: lane 0 (main) is at the top
    assert ax.get_xlim() == (0, pytest.approx(rec.duration_ms))


def test_one_collection_per_present_kind_with_one_bar_per_span():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    assert bar_count(groups[_kinds.RUN]) == 4
    assert bar_count(groups[_kinds.BLOCKED_RESULT]) == 1
    assert bar_count(groups[_kinds.JOIN_WAIT]) == 1
    assert bar_count(groups[_kinds.LOCK_HOLD]) == 1
    assert bar_count(groups[_kinds.LOCK_WAIT]) == 1
    assert _kinds.QUEUED not in groups  # never drawn: SUBMIT markers show when tasks were queued
    span_groups = [gid for gid in groups if gid in _kinds.SPAN_KINDS]
    assert sorted(span_groups) == sorted(
        {_kinds.RUN, _kinds.BLOCKED_RESULT, _kinds.JOIN_WAIT, _kinds.LOCK_HOLD, _kinds.LOCK_WAIT})


def test_instants_are_one_marker_collection_per_kind():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    assert len(groups[_kinds.SUBMIT].get_offsets()) == 4
    assert len(groups[_kinds.SET_RESULT].get_offsets()) == 3
    assert len(groups[_kinds.EXCEPTION].get_offsets()) == 1
    # The exception marker sits on the lane of the worker that raised it.
    assert groups[_kinds.EXCEPTION].get_offsets()[0][1] == 1


def test_cpu_share_bars_inside_running_spans():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    runs, cpu = groups[_kinds.RUN], groups[CPU_LABEL]
    # Three of the four runs used CPU (the last one used none): one bar each.
    assert bar_count(cpu) == 3
    run_height = max(bar_heights(runs))
    shares = [10 / 19, 1 / 20, 12 / 23.8]
    assert sorted(bar_heights(cpu)) == pytest.approx(sorted(s * run_height for s in shares))


def test_nested_spans_are_thinner_than_their_parent():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    run_height = max(bar_heights(groups[_kinds.RUN]))
    assert max(bar_heights(groups[_kinds.LOCK_HOLD])) < run_height
    assert max(bar_heights(groups[_kinds.LOCK_WAIT])) < run_height


def test_waits_are_hatched_and_work_is_solid():
    groups = collections_by_gid(tk.draw(pool_recording()).axes[0])
    for kind in (_kinds.BLOCKED_RESULT, _kinds.JOIN_WAIT, _kinds.LOCK_WAIT):
        assert groups[kind].get_hatch()
    for kind in (_kinds.RUN, _kinds.LOCK_HOLD):
        assert not groups[kind].get_hatch()


def test_legend_lists_exactly_the_kinds_present_outside_the_axes():
    fig = tk.draw(pool_recording())
    assert legend_texts(fig) == [
        _kinds.RUN, CPU_LABEL, _kinds.LOCK_HOLD, _kinds.BLOCKED_RESULT, _kinds.JOIN_WAIT, _kinds.LOCK_WAIT,
        _kinds.SUBMIT, _kinds.SET_RESULT, _kinds.EXCEPTION,
    ]
    assert len(fig.axes) == 1 and fig.axes[0].get_legend() is None  # a figure legend, not on the bars


def test_legend_does_not_overlap_the_axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = tk.draw(pool_recording())
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend_box = fig.legends[0].get_window_extent(renderer)
    axes_box = fig.axes[0].get_window_extent(renderer)
    assert legend_box.y1 <= axes_box.y0


def test_every_span_kind_has_a_colour_and_every_instant_a_marker():
    assert set(SPAN_STYLES) == set(_kinds.SPAN_KINDS) - {_kinds.QUEUED}
    assert set(INSTANT_STYLES) == set(_kinds.INSTANT_KINDS)
    assert len({marker for marker, _ in INSTANT_STYLES.values()}) == len(INSTANT_STYLES)
    assert len({color for color, _ in SPAN_STYLES.values()}) == len(SPAN_STYLES)


def test_figure_repr_does_not_depend_on_the_recording():
    small = tk.draw(many_threads_recording(1))
    big = tk.draw(many_threads_recording(32, tasks_per_thread=7))
    assert repr(small) == repr(big) == FIGURE_REPR
    assert len(big.axes[0].get_yticklabels()) == 32


def test_many_lanes_get_smaller_labels():
    few = tk.draw(many_threads_recording(3)).axes[0].get_yticklabels()[0].get_fontsize()
    many = tk.draw(many_threads_recording(32)).axes[0].get_yticklabels()[0].get_fontsize()
    assert many < few


def test_long_thread_names_are_shortened_but_recognisable():
    name = "worker-for-the-very-long-download-job-number-17"
    fig = tk.draw(make_recording(["MainThread", name], [(1, _kinds.RUN, "x", 0, 1)]))
    label = fig.axes[0].get_yticklabels()[1].get_text()
    assert len(label) < len(name)
    assert label.startswith(name[:8]) and label.endswith("number-17")


def test_200_tasks_on_32_threads_draw_fast():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rec = many_threads_recording(32, tasks_per_thread=7)  # 217 tasks
    t0 = time.perf_counter()
    fig = tk.draw(rec)
    FigureCanvasAgg(fig).draw()
    assert time.perf_counter() - t0 < BIG_DRAW_SECONDS
    assert bar_count(collections_by_gid(fig.axes[0])[_kinds.RUN]) == 31 * 7
    assert len(fig.axes[0].collections) <= len(_kinds.SPAN_KINDS) + len(_kinds.INSTANT_KINDS) + 1


def test_empty_recording_draws_an_empty_timeline():
    fig = tk.draw(Recording("empty"))
    assert repr(fig) == FIGURE_REPR
    assert not fig.legends
    assert any("nothing was recorded" in t.get_text() for t in fig.axes[0].texts)


def test_title_defaults_to_the_recording_name():
    assert tk.draw(pool_recording()).axes[0].get_title() == "synthetic"
    assert tk.draw(pool_recording(), titles=["mine"]).axes[0].get_title() == "mine"


def test_real_pool_recording():
    with tk.recording("pool") as rec:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(tk.io_task, 0.01) for _ in range(6)]
            [f.result() for f in futures]
    fig = tk.draw(rec)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "MainThread" and 2 <= len(labels) <= 4
    groups = collections_by_gid(ax)
    assert bar_count(groups[_kinds.RUN]) == 6
    assert len(groups[_kinds.SUBMIT].get_offsets()) == 6
    # Sleeping tasks use little CPU: the CPU bars are much lower than the run bars.
    runs = rec.spans
    assert all(sp.cpu_share < 0.5 for sp in runs if sp.kind == _kinds.RUN)


def test_cpu_bound_threads_share_the_cpu():
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        pytest.skip("free-threaded build: CPU-bound threads really run in parallel")
    with tk.recording("cpu") as rec:
        threads = [Thread(target=tk.cpu_task, args=(300_000,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    runs = [sp for sp in rec.spans if sp.kind == _kinds.RUN]
    assert len(runs) == 2
    # Under the GIL both threads together get at most about one CPU.
    overlap = min(r.end_ns for r in runs) - max(r.start_ns for r in runs)
    total_cpu = sum(r.cpu_ns for r in runs)
    span_union = max(r.end_ns for r in runs) - min(r.start_ns for r in runs)
    assert overlap > 0
    assert total_cpu <= span_union * 1.15
    assert bar_count(collections_by_gid(tk.draw(rec).axes[0])[CPU_LABEL]) == 2


def test_lock_contention_recording():
    lock = Lock(name="shared")

    def worker():
        for _ in range(3):
            with lock:
                time.sleep(0.002)

    with tk.recording("locks") as rec:
        threads = [Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    groups = collections_by_gid(tk.draw(rec).axes[0])
    assert bar_count(groups[_kinds.LOCK_HOLD]) == 9
    assert bar_count(groups[_kinds.RUN]) == 3


# --------------------------------------------------- several recordings
def test_several_recordings_share_the_time_axis():
    short = make_recording(["MainThread"], [(0, _kinds.RUN, "a", 0, 10)], duration_ms=10, name="short")
    long = pool_recording()
    fig = tk.draw([short, long])
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert top.get_shared_x_axes().joined(top, bottom)
    assert top.get_xlim() == bottom.get_xlim() == (0, pytest.approx(60))
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["short", "synthetic"]
    assert len(fig.legends) == 1
    assert _kinds.LOCK_HOLD in legend_texts(fig) and _kinds.RUN in legend_texts(fig)


def test_several_recordings_titles_and_size():
    recs = [pool_recording(), pool_recording(), pool_recording()]
    fig = tk.draw(recs, titles=["a", "b", "c"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["a", "b", "c"]
    assert repr(fig) == "<Figure size 1000x780 with 3 Axes>"


# -------------------------------------------------------------- summarize
def test_summarize_synthetic_recording():
    summary = tk.summarize(pool_recording())
    assert isinstance(summary, Summary)
    assert summary.makespan_ms == pytest.approx(60)
    assert summary.main_blocked_ms == pytest.approx(59)  # result wait 1-50 + join 50-60
    assert summary.tasks == 4
    assert summary.failures == 1
    assert summary.threads == 3
    assert summary.cpu_ms == pytest.approx(23)
    assert summary.lock_wait_ms == pytest.approx(4)
    assert summary.lock_hold_ms == pytest.approx(5)


def test_summarize_merges_overlapping_main_thread_waits():
    waits = [(0, _kinds.BLOCKED_RESULT, "a", 0, 10), (0, _kinds.BLOCKED_RESULT, "b", 5, 12)]
    rec = make_recording(["MainThread"], waits)
    assert tk.summarize(rec).main_blocked_ms == pytest.approx(12)


def test_summary_format_is_short_and_rounded():
    text = tk.summarize(pool_recording()).format()
    lines = text.splitlines()
    assert lines[0] == "makespan:            60.0 ms"
    assert "failures:            1" in lines
    assert "waiting for locks:   4.0 ms" in lines
    assert 6 <= len(lines) <= 8
    assert "locks" not in tk.summarize(make_recording(["MainThread"])).format()


# ----------------------------------------------------- imports and IPython
def test_importing_threadkit_does_not_import_matplotlib_or_ipywidgets():
    code = "import sys, threadkit; print(sorted(m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_draw_teaches_ipython_to_render_bare_figures():
    """In IPython without pyplot, a Figure would only show as text; draw() fixes that."""
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from matplotlib.figure import Figure\n"
        "import threadkit as tk\n"
        "shell = InteractiveShell.instance()\n"
        "before = sorted(shell.display_formatter.format(Figure())[0])\n"
        "from threadkit._recording import Recording\n"
        "fig = tk.draw(Recording('x'))\n"
        "after = sorted(shell.display_formatter.format(fig)[0])\n"
        "import sys\n"
        "print(before, after, 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['text/plain'] ['image/png', 'text/plain'] False"


def test_nested_bars_are_drawn_above_their_parents():
    rec = make_recording(
        ["MainThread", "worker"],
        [(1, _kinds.RUN, "task", 0, 10, 5), (1, _kinds.CALLBACK, "cb", 2, 8), (1, _kinds.LOCK_HOLD, "lock", 3, 7),
         (1, _kinds.LOCK_WAIT, "lock2", 4, 5)],
    )
    groups = collections_by_gid(tk.draw(rec).axes[0])
    z = [groups[kind].get_zorder() for kind in (_kinds.RUN, _kinds.CALLBACK, _kinds.LOCK_HOLD, _kinds.LOCK_WAIT)]
    assert z == sorted(z) and len(set(z)) == 4
    nested = (_kinds.RUN, _kinds.CALLBACK, _kinds.LOCK_HOLD, _kinds.LOCK_WAIT)
    heights = [max(bar_heights(groups[kind])) for kind in nested]
    assert heights == sorted(heights, reverse=True)


def test_draw_while_the_recording_is_still_running():
    with tk.recording("live") as rec:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(tk.io_task, 0.005) for _ in range(3)]
            fig = tk.draw(rec)  # tasks still running: only what was recorded so far
            [f.result() for f in futures]
    assert repr(fig) == FIGURE_REPR
    assert fig.axes[0].get_yticklabels()[0].get_text() == "MainThread"
    assert tk.draw(rec).axes[0].get_xlim()[1] == pytest.approx(rec.duration_ms)
