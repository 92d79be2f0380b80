"""Tests of threadkit._timeline: the structure of drawn timelines, never pixels."""

import subprocess
import sys
import time

import pytest

import threadkit as tk
from threadkit import kinds as _kinds
from threadkit._timeline import CPU_LABEL, DEFAULT_FIGSIZE, INSTANT_MARKERS, KIND_COLORS
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
    return tk.Recording.from_chrome_trace({"traceEvents": events, "otherData": other})


def pool_recording():
    """Main thread waits for 4 tasks on 2 workers; task 3 fails; worker 1 holds a lock."""
    return make_recording(
        ["MainThread", "ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"],
        spans=[
            (0, tk.BLOCKED_RESULT, "task #1", 1, 50),
            (0, tk.JOIN_WAIT, "shutdown", 50, 60),
            (1, tk.QUEUED, "task #1", 0.5, 1),
            (1, tk.RUN, "task #1", 1, 20, 10),
            (1, tk.LOCK_HOLD, "lock", 5, 10),
            (1, tk.RUN, "task #3", 20, 40, 1),
            (2, tk.QUEUED, "task #2", 0.6, 1.2),
            (2, tk.RUN, "task #2", 1.2, 25, 12),
            (2, tk.LOCK_WAIT, "lock", 6, 10),
            (2, tk.RUN, "task #4", 25, 55, 0),
            (1, tk.QUEUED, "task #3", 0.7, 20),
            (2, tk.QUEUED, "task #4", 0.8, 25),
        ],
        instants=[
            (0, tk.SUBMIT, "task #1", 0.5), (0, tk.SUBMIT, "task #2", 0.6),
            (0, tk.SUBMIT, "task #3", 0.7), (0, tk.SUBMIT, "task #4", 0.8),
            (1, tk.SET_RESULT, "task #1", 20), (2, tk.SET_RESULT, "task #2", 25),
            (1, tk.EXCEPTION, "task #3", 40), (2, tk.SET_RESULT, "task #4", 55),
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
            spans.append((lane, tk.RUN, f"task {lane}.{i}", start, start + 1.5, 0.1))
            instants.append((lane, tk.SET_RESULT, f"task {lane}.{i}", start + 1.5))
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
    assert bar_count(groups[tk.RUN]) == 4
    assert bar_count(groups[tk.BLOCKED_RESULT]) == 1
    assert bar_count(groups[tk.JOIN_WAIT]) == 1
    assert bar_count(groups[tk.LOCK_HOLD]) == 1
    assert bar_count(groups[tk.LOCK_WAIT]) == 1
    assert tk.QUEUED not in groups  # hidden unless show_queued=True
    span_groups = [gid for gid in groups if gid in _kinds.SPAN_KINDS]
    assert sorted(span_groups) == sorted({tk.RUN, tk.BLOCKED_RESULT, tk.JOIN_WAIT, tk.LOCK_HOLD, tk.LOCK_WAIT})


def test_show_queued_adds_the_queued_collection():
    fig = tk.draw(pool_recording(), show_queued=True)
    assert bar_count(collections_by_gid(fig.axes[0])[tk.QUEUED]) == 4
    assert tk.QUEUED in legend_texts(fig)


def test_instants_are_one_marker_collection_per_kind():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    assert len(groups[tk.SUBMIT].get_offsets()) == 4
    assert len(groups[tk.SET_RESULT].get_offsets()) == 3
    assert len(groups[tk.EXCEPTION].get_offsets()) == 1
    # The exception marker sits on the lane of the worker that raised it.
    assert groups[tk.EXCEPTION].get_offsets()[0][1] == 1


def test_show_instants_false_draws_no_markers():
    fig = tk.draw(pool_recording(), show_instants=False)
    gids = set(collections_by_gid(fig.axes[0]))
    assert not gids & set(_kinds.INSTANT_KINDS)
    assert not set(legend_texts(fig)) & set(_kinds.INSTANT_KINDS)


def test_cpu_share_bars_inside_running_spans():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    runs, cpu = groups[tk.RUN], groups[CPU_LABEL]
    # Three of the four runs used CPU (the last one used none): one bar each.
    assert bar_count(cpu) == 3
    run_height = max(bar_heights(runs))
    shares = [10 / 19, 1 / 20, 12 / 23.8]
    assert sorted(bar_heights(cpu)) == pytest.approx(sorted(s * run_height for s in shares))


def test_nested_spans_are_thinner_than_their_parent():
    fig = tk.draw(pool_recording())
    groups = collections_by_gid(fig.axes[0])
    run_height = max(bar_heights(groups[tk.RUN]))
    assert max(bar_heights(groups[tk.LOCK_HOLD])) < run_height
    assert max(bar_heights(groups[tk.LOCK_WAIT])) < run_height


def test_waits_are_hatched_and_work_is_solid():
    groups = collections_by_gid(tk.draw(pool_recording()).axes[0])
    for kind in (tk.BLOCKED_RESULT, tk.JOIN_WAIT, tk.LOCK_WAIT):
        assert groups[kind].get_hatch()
    for kind in (tk.RUN, tk.LOCK_HOLD):
        assert not groups[kind].get_hatch()


def test_legend_lists_exactly_the_kinds_present_outside_the_axes():
    fig = tk.draw(pool_recording())
    assert legend_texts(fig) == [
        tk.RUN, CPU_LABEL, tk.BLOCKED_RESULT, tk.JOIN_WAIT, tk.LOCK_WAIT, tk.LOCK_HOLD,
        tk.SUBMIT, tk.SET_RESULT, tk.EXCEPTION,
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
    assert set(KIND_COLORS) == set(_kinds.SPAN_KINDS)
    assert set(INSTANT_MARKERS) == set(_kinds.INSTANT_KINDS)
    assert len(set(INSTANT_MARKERS.values())) == len(INSTANT_MARKERS)
    assert len(set(KIND_COLORS.values())) == len(KIND_COLORS)


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
    fig = tk.draw(make_recording(["MainThread", name], [(1, tk.RUN, "x", 0, 1)]))
    label = fig.axes[0].get_yticklabels()[1].get_text()
    assert len(label) < len(name)
    assert label.startswith(name[:8]) and label.endswith("number-17")


def test_200_tasks_on_32_threads_draw_fast():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rec = many_threads_recording(32, tasks_per_thread=7)  # 217 tasks
    t0 = time.perf_counter()
    fig = tk.draw(rec, show_queued=True)
    FigureCanvasAgg(fig).draw()
    assert time.perf_counter() - t0 < BIG_DRAW_SECONDS
    assert bar_count(collections_by_gid(fig.axes[0])[tk.RUN]) == 31 * 7
    assert len(fig.axes[0].collections) <= len(_kinds.SPAN_KINDS) + len(_kinds.INSTANT_KINDS) + 1


def test_empty_recording_draws_an_empty_timeline():
    fig = tk.draw(tk.Recording("empty"))
    assert repr(fig) == FIGURE_REPR
    assert not fig.legends
    assert any("nothing was recorded" in t.get_text() for t in fig.axes[0].texts)


def test_title_defaults_to_the_recording_name():
    assert tk.draw(pool_recording()).axes[0].get_title() == "synthetic"
    assert tk.draw(pool_recording(), title="mine").axes[0].get_title() == "mine"


def test_draw_into_given_axes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert tk.draw(pool_recording(), ax=ax) is fig
    assert len(fig.axes) == 1
    assert ax.get_legend() is not None


def test_custom_figsize():
    assert repr(tk.draw(pool_recording(), figsize=(6, 2.2))) == "<Figure size 600x220 with 1 Axes>"


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
    assert bar_count(groups[tk.RUN]) == 6
    assert len(groups[tk.SUBMIT].get_offsets()) == 6
    # Sleeping tasks use little CPU: the CPU bars are much lower than the run bars.
    runs = rec.spans
    assert all(sp.cpu_share < 0.5 for sp in runs if sp.kind == tk.RUN)


def test_cpu_bound_threads_share_the_cpu():
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        pytest.skip("free-threaded build: CPU-bound threads really run in parallel")
    with tk.recording("cpu") as rec:
        threads = [Thread(target=tk.cpu_task, args=(300_000,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    runs = [sp for sp in rec.spans if sp.kind == tk.RUN]
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
    assert bar_count(groups[tk.LOCK_HOLD]) == 9
    assert bar_count(groups[tk.RUN]) == 3


# ------------------------------------------------------------ draw_stacked
def test_draw_stacked_shares_the_time_axis():
    short = make_recording(["MainThread"], [(0, tk.RUN, "a", 0, 10)], duration_ms=10, name="short")
    long = pool_recording()
    fig = tk.draw_stacked([short, long])
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert top.get_shared_x_axes().joined(top, bottom)
    assert top.get_xlim() == bottom.get_xlim() == (0, pytest.approx(60))
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["short", "synthetic"]
    assert len(fig.legends) == 1
    assert tk.LOCK_HOLD in legend_texts(fig) and tk.RUN in legend_texts(fig)


def test_draw_stacked_titles_and_size():
    recs = [pool_recording(), pool_recording(), pool_recording()]
    fig = tk.draw_stacked(recs, titles=["a", "b", "c"])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["a", "b", "c"]
    assert repr(tk.draw_stacked(recs, figsize=(8, 6))) == "<Figure size 800x600 with 3 Axes>"


# -------------------------------------------------------------- summarize
def test_summarize_synthetic_recording():
    summary = tk.summarize(pool_recording())
    assert isinstance(summary, tk.Summary)
    assert summary.makespan_ms == pytest.approx(60)
    assert summary.main_blocked_ms == pytest.approx(59)  # result wait 1-50 + join 50-60
    assert summary.tasks == 4
    assert summary.failures == 1
    assert summary.threads == 3
    assert summary.cpu_ms == pytest.approx(23)
    assert summary.lock_wait_ms == pytest.approx(4)
    assert summary.lock_hold_ms == pytest.approx(5)


def test_summarize_merges_overlapping_main_thread_waits():
    rec = make_recording(["MainThread"], [(0, tk.BLOCKED_RESULT, "a", 0, 10), (0, tk.BLOCKED_RESULT, "b", 5, 12)])
    assert tk.summarize(rec).main_blocked_ms == pytest.approx(12)


def test_summary_format_is_short_and_rounded():
    text = tk.summarize(pool_recording()).format()
    lines = text.splitlines()
    assert lines[0] == "makespan:            60.0 ms"
    assert "failures:            1" in lines
    assert "waiting for locks:   4.0 ms" in lines
    assert 6 <= len(lines) <= 8
    assert "locks" not in tk.summarize(make_recording(["MainThread"])).format()


# -------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: tk.draw("x"), TypeError, "recording must be a threadkit Recording, got 'x' (type str)"),
        (lambda: tk.draw(pool_recording(), figsize=(0, 3)), ValueError, "figsize"),
        (lambda: tk.draw(pool_recording(), figsize=(-1, 3)), ValueError, "positive"),
        (lambda: tk.draw(pool_recording(), figsize=(float("nan"), 3)), ValueError, "finite"),
        (lambda: tk.draw(pool_recording(), figsize="big"), TypeError, "figsize must be a (width, height)"),
        (lambda: tk.draw(pool_recording(), figsize=(1, 2, 3)), TypeError, "figsize"),
        (lambda: tk.draw(pool_recording(), title=3), TypeError, "title must be None or a str, got 3"),
        (lambda: tk.draw(pool_recording(), show_queued="yes"), TypeError, "show_queued must be True or False"),
        (lambda: tk.draw(pool_recording(), show_instants=1), TypeError, "show_instants"),
        (lambda: tk.draw(pool_recording(), ax="ax"), TypeError, "ax must be a matplotlib Axes"),
        (lambda: tk.draw_stacked(pool_recording()), TypeError, "recordings must be a list or tuple"),
        (lambda: tk.draw_stacked([]), ValueError, "at least one"),
        (lambda: tk.draw_stacked([pool_recording(), 5]), TypeError, "recordings[1] must be a threadkit Recording"),
        (lambda: tk.draw_stacked([pool_recording()], titles=["a", "b"]), ValueError,
         "titles must have one entry per recording (1), got 2"),
        (lambda: tk.draw_stacked([pool_recording()], titles="a"), TypeError, "titles must be None or a list"),
        (lambda: tk.draw_stacked([pool_recording()], titles=[1]), TypeError, "titles[0]"),
        (lambda: tk.draw_stacked([pool_recording()], figsize=(3, 0)), ValueError, "figsize"),
        (lambda: tk.summarize(None), TypeError, "recording must be a threadkit Recording, got None"),
    ],
)
def test_bad_arguments_are_explained(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_default_figsize_is_fixed():
    assert DEFAULT_FIGSIZE == (10.0, 4.2)


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
        "fig = tk.draw(tk.Recording('x'))\n"
        "after = sorted(shell.display_formatter.format(fig)[0])\n"
        "import sys\n"
        "print(before, after, 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['text/plain'] ['image/png', 'text/plain'] False"


def test_nested_bars_are_drawn_above_their_parents():
    from threadkit._timeline import _DRAW_ORDER

    assert sorted(_DRAW_ORDER) == sorted(_kinds.SPAN_KINDS)
    rec = make_recording(
        ["MainThread", "worker"],
        [(1, tk.RUN, "task", 0, 10, 5), (1, tk.CALLBACK, "cb", 2, 8), (1, tk.LOCK_HOLD, "lock", 3, 7),
         (1, tk.LOCK_WAIT, "lock2", 4, 5)],
    )
    groups = collections_by_gid(tk.draw(rec).axes[0])
    z = [groups[kind].get_zorder() for kind in (tk.RUN, tk.CALLBACK, tk.LOCK_HOLD, tk.LOCK_WAIT)]
    assert z == sorted(z) and len(set(z)) == 4
    heights = [max(bar_heights(groups[kind])) for kind in (tk.RUN, tk.CALLBACK, tk.LOCK_HOLD, tk.LOCK_WAIT)]
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
