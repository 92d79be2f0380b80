"""Unit tests of threadkit's Recording: thread safety, times, lanes, activation, export.

Structure only (counts, order, overlap, which thread), never absolute times.
"""

import json
import threading
import time

import pytest

import threadkit as tk
from threadkit import kinds, recording
from threadkit._recording import Recording, ThreadInfo

SPAN_KINDS_NOT_RUN = [k for k in kinds.SPAN_KINDS if k != kinds.RUN]


def run_threads(targets, names=None):
    threads = [
        threading.Thread(target=t, name=None if names is None else names[i]) for i, t in enumerate(targets)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
        assert not t.is_alive()
    return threads


# ------------------------------------------------------------ thread safety
def test_concurrent_appends_lose_nothing():
    threads, per_thread = 16, 2000
    barrier = threading.Barrier(threads)

    def worker(k):
        def run():
            barrier.wait()
            for i in range(per_thread):
                if i % 2:
                    with tk.span(kinds.SLEEP, f"{k}:{i}"):
                        pass
                else:
                    tk.mark(f"{k}:{i}")

        return run

    with recording("stress") as rec:
        run_threads([worker(k) for k in range(threads)], names=[f"w{k}" for k in range(threads)])
    spans, instants = rec.spans, rec.instants
    assert len(spans) + len(instants) == threads * per_thread
    labels = [sp.label for sp in spans] + [ev.label for ev in instants]
    assert len(set(labels)) == threads * per_thread
    assert {info.name for info in rec.threads} == {f"w{k}" for k in range(threads)}
    for k in range(threads):
        assert rec.count(kinds.SLEEP, thread=f"w{k}") == per_thread // 2
        assert rec.count(kinds.MARK, thread=f"w{k}") == per_thread // 2
    # Every event is in the lane of the thread whose label it carries.
    lane_name = {info.lane: info.name for info in rec.threads}
    for sp in spans:
        assert lane_name[sp.lane] == f"w{sp.label.split(':')[0]}" == sp.thread_name


def test_concurrent_appends_through_the_twin_fast_path():
    threads, per_thread = 16, 2000
    barrier = threading.Barrier(threads)
    with recording() as rec:

        def run():
            barrier.wait()
            for _ in range(per_thread):
                t0 = time.perf_counter_ns()
                rec._local.span((kinds.LOCK_HOLD, "x", t0, time.perf_counter_ns(), None))

        run_threads([run] * threads)
    assert len(rec.spans) == threads * per_thread
    assert len(rec.threads) == threads
    assert all(rec.count(kinds.LOCK_HOLD, thread=i) == per_thread for i in range(threads))


def test_reading_while_threads_record_sees_only_whole_events():
    stop = threading.Event()
    writers_done = threading.Barrier(5)

    def writer():
        for i in range(3000):
            with tk.span(kinds.SLEEP, str(i)):
                pass
            tk.mark(str(i))
        try:
            writers_done.wait(30)
        except threading.BrokenBarrierError:
            pass

    threads = [threading.Thread(target=writer) for _ in range(4)]
    snapshots = 0
    with recording() as rec:
        for t in threads:
            t.start()
        try:
            while not stop.is_set():
                spans, instants = rec.spans, rec.instants
                assert all(sp.kind == kinds.SLEEP and sp.start_ns <= sp.end_ns and sp.cpu_ns is None for sp in spans)
                assert all(ev.kind == kinds.MARK and isinstance(ev.t_ns, int) for ev in instants)
                assert rec.count(kinds.SLEEP) >= len(spans)
                snapshots += 1
                if writers_done.n_waiting == 4:
                    stop.set()
                time.sleep(0)
            writers_done.wait(30)
        finally:
            writers_done.abort()  # never leave a writer waiting, even when an assertion failed
            for t in threads:
                t.join(30)
    assert snapshots >= 1
    assert rec.count(kinds.SLEEP) == rec.count(kinds.MARK) == 4 * 3000


# -------------------------------------------------------------------- times
def test_times_are_relative_to_the_start_and_not_negative():
    with recording() as rec:
        with tk.span(kinds.RUN, "first"):
            tk.mark("inside")
        run_threads([lambda: tk.mark("worker")])
    assert rec.spans and rec.instants
    for sp in rec.spans:
        assert 0 <= sp.start_ns <= sp.end_ns
        assert sp.start_ms == sp.start_ns / 1e6 and sp.end_ms == sp.end_ns / 1e6
        assert sp.duration_ms == (sp.end_ns - sp.start_ns) / 1e6
    for ev in rec.instants:
        assert ev.t_ns >= 0 and ev.t_ms == ev.t_ns / 1e6
    last = max([sp.end_ns for sp in rec.spans] + [ev.t_ns for ev in rec.instants])
    assert last <= rec.duration_ms * 1e6


def test_no_event_precedes_the_start_while_recordings_begin():
    """A thread recording while another enters recording() never sees a negative time."""
    stop = threading.Event()
    recs = []

    def hammer():
        while not stop.is_set():
            tk.mark("tick")
            time.sleep(0)

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        for _ in range(300):
            with recording() as rec:
                time.sleep(0)  # let the other thread run
            recs.append(rec)
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    assert any(rec.instants for rec in recs)
    assert all(ev.t_ns >= 0 for rec in recs for ev in rec.instants)


def test_spans_and_instants_are_sorted_by_time():
    with recording() as rec:
        for i in range(50):
            with tk.span(kinds.SLEEP, str(i)):
                tk.mark(str(i))
    assert [sp.start_ns for sp in rec.spans] == sorted(sp.start_ns for sp in rec.spans)
    assert [int(sp.label) for sp in rec.spans] == list(range(50))
    assert [int(ev.label) for ev in rec.instants] == list(range(50))


def test_duration_ms_runs_until_stop_then_stays():
    with recording() as rec:
        d1 = rec.duration_ms
        with tk.span(kinds.SLEEP, "some work"):
            tk.io_task(0.002)
        d2 = rec.duration_ms
        assert rec.end_ns is None
    assert 0 <= d1 <= d2
    final = rec.duration_ms
    assert final >= rec.spans[0].end_ms
    assert rec.duration_ms == final == (rec.end_ns - rec.start_ns) / 1e6
    rec.stop()  # idempotent
    assert rec.duration_ms == final


def test_run_spans_carry_cpu_time_and_others_none():
    with recording() as rec:
        with tk.span(kinds.RUN, "compute"):
            tk.cpu_task(20_000)
        for kind in SPAN_KINDS_NOT_RUN:
            with tk.span(kind, kind):
                pass
    for sp in rec.spans:
        if sp.kind == kinds.RUN:
            assert 0.0 <= sp.cpu_share <= 1.0
        else:
            assert sp.cpu_ns is None and sp.cpu_share is None
    assert rec.count(kinds.RUN) == 1 and rec.count(kinds.SLEEP) == 1
    assert [sp.cpu_ns for sp in rec.spans if sp.kind == kinds.RUN][0] > 0


# -------------------------------------------------------------------- lanes
def test_main_thread_is_lane_zero_even_when_it_records_last():
    with recording() as rec:
        run_threads([lambda: tk.mark("worker first")], names=["early-worker"])
        tk.mark("main later")
    threads = rec.threads
    assert [t.name for t in threads] == [threading.main_thread().name, "early-worker"]
    assert [t.lane for t in threads] == [0, 1]
    assert threads[0].is_main and not threads[1].is_main
    assert threads[0].ident == threading.main_thread().ident
    assert {ev.label: ev.lane for ev in rec.instants} == {"worker first": 1, "main later": 0}


def test_lanes_follow_the_first_event_not_the_first_append():
    """A span is appended when it ends; its lane still follows when it started."""
    a_started, b_done = threading.Event(), threading.Event()

    def a():
        with tk.span(kinds.RUN, "long"):  # starts first, ends last
            a_started.set()
            assert b_done.wait(30)

    def b():
        assert a_started.wait(30)
        tk.mark("b")  # appended before a's span
        b_done.set()

    with recording() as rec:  # (made in the main thread, which records nothing: no lane)
        run_threads([a, b], names=["A", "B"])
    assert [t.name for t in rec.threads] == ["A", "B"]
    assert not any(t.is_main for t in rec.threads)


def test_threads_reusing_an_os_ident_get_distinct_lanes():
    with recording() as rec:
        idents = []
        for attempt in range(40):
            t = threading.Thread(target=tk.mark, args=(f"run {attempt}",), name=f"T{attempt}")
            t.start()
            t.join()
            idents.append(t.ident)
            if len(idents) >= 2 and len(set(idents)) < len(idents):
                break
    if len(set(idents)) == len(idents):
        pytest.skip("the OS never reused a thread ident in 40 sequential threads")
    threads = rec.threads
    assert len(threads) == len(idents)
    assert len({t.lane for t in threads}) == len(idents)
    assert [t.name for t in threads] == [f"T{i}" for i in range(len(idents))]
    assert [t.ident for t in threads] == idents
    for ev in rec.instants:
        assert ev.thread_name == f"T{ev.label.split()[1]}"


def test_thread_names_are_read_when_the_recording_is_read():
    with recording() as rec:
        t = threading.Thread(target=tk.mark, args=("x",), name="before")
        t.start()
        t.join()
        t.name = "after"
    assert [info.name for info in rec.threads] == ["after"]
    assert rec.instants[0].thread_name == "after"


# -------------------------------------------------------- active recording
def test_current_recording_is_none_outside():
    assert tk.current_recording() is None
    with recording("r") as rec:
        assert tk.current_recording() is rec
        assert isinstance(rec, Recording) and rec.name == "r"
    assert tk.current_recording() is None


def test_nested_recordings_restore_the_previous_one():
    with recording("outer") as outer:
        tk.mark("outer 1")
        with recording("inner") as inner:
            assert tk.current_recording() is inner
            tk.mark("inner")
        assert tk.current_recording() is outer
        tk.mark("outer 2")
    assert tk.current_recording() is None
    assert [ev.label for ev in outer.instants] == ["outer 1", "outer 2"]
    assert [ev.label for ev in inner.instants] == ["inner"]
    assert inner.end_ns is not None and outer.end_ns is not None
    assert outer.start_ns <= inner.start_ns <= inner.end_ns <= outer.end_ns


def test_recording_restores_the_previous_one_after_an_exception():
    with recording("outer") as outer:
        with pytest.raises(KeyError):
            with recording("inner"):
                raise KeyError("boom")
        assert tk.current_recording() is outer
    assert tk.current_recording() is None


def test_recordings_exited_out_of_order():
    a_cm, b_cm = recording("a"), recording("b")
    a = a_cm.__enter__()
    b = b_cm.__enter__()
    a_cm.__exit__(None, None, None)
    assert tk.current_recording() is b
    b_cm.__exit__(None, None, None)
    assert tk.current_recording() is None
    assert a.end_ns is not None and b.end_ns is not None


def test_the_active_recording_is_seen_by_every_thread():
    seen = []
    with recording() as rec:
        run_threads([lambda: seen.append(tk.current_recording())] * 3)
    assert seen == [rec] * 3


def test_module_span_and_mark_record_nothing_outside_a_recording():
    idle = Recording("not active")
    cm = tk.span(kinds.RUN, "outside")
    with cm as value:
        tk.mark("outside")
    assert value is None
    assert idle.spans == [] and idle.instants == [] and idle.threads == []
    with recording() as rec:
        with tk.span(kinds.CALLBACK, "inside"):
            tk.mark("inside")
    assert [(sp.kind, sp.label) for sp in rec.spans] == [(kinds.CALLBACK, "inside")]
    assert [(ev.kind, ev.label) for ev in rec.instants] == [(kinds.MARK, "inside")]


def test_span_records_even_when_the_block_raises():
    with recording() as rec, pytest.raises(ZeroDivisionError):
        with tk.span(kinds.RUN, "fails"):
            1 / 0
    assert rec.count(kinds.RUN) == 1


# --------------------------------------------------------- time_in / count
def two_thread_recording():
    """Main: 2 SLEEP + 1 RUN + 1 MARK; worker 'w': 3 SLEEP + 2 MARK."""

    def worker():
        for _ in range(3):
            with tk.span(kinds.SLEEP, "w"):
                pass
        tk.mark("q")
        tk.mark("q")

    with recording() as rec:
        for _ in range(2):
            with tk.span(kinds.SLEEP, "main"):
                pass
        with tk.span(kinds.RUN, "main"):
            pass
        tk.mark()
        run_threads([worker], names=["w"])
    return rec


def test_count_with_and_without_a_thread_filter():
    rec = two_thread_recording()
    assert rec.count(kinds.SLEEP) == 5
    assert rec.count(kinds.SLEEP, thread="MainThread") == rec.count(kinds.SLEEP, thread=0) == 2
    assert rec.count(kinds.SLEEP, thread="w") == rec.count(kinds.SLEEP, thread=1) == 3
    assert rec.count(kinds.MARK) == 3 and rec.count(kinds.MARK, thread="w") == 2
    assert rec.count(kinds.MARK, thread=0) == 1
    assert rec.count(kinds.PUT) == 0
    assert rec.count(kinds.LOCK_WAIT) == 0


def test_time_in_with_and_without_a_thread_filter():
    rec = two_thread_recording()
    by_lane = {}
    for sp in rec.spans:
        if sp.kind == kinds.SLEEP:
            by_lane[sp.lane] = by_lane.get(sp.lane, 0) + (sp.end_ns - sp.start_ns)
    assert rec.time_in(kinds.SLEEP) == pytest.approx(sum(by_lane.values()) / 1e6)
    assert rec.time_in(kinds.SLEEP, thread=0) == pytest.approx(by_lane[0] / 1e6)
    assert rec.time_in(kinds.SLEEP, thread="w") == pytest.approx(by_lane[1] / 1e6)
    assert rec.time_in(kinds.LOCK_WAIT) == 0
    assert rec.time_in(kinds.SLEEP, thread="w") >= 0


def test_a_thread_name_selects_every_lane_with_that_name():
    with recording() as rec:
        run_threads([lambda: tk.mark("1"), lambda: tk.mark("2")], names=["same", "same"])
    assert len(rec.threads) == 2
    assert rec.count(kinds.MARK, thread="same") == 2
    assert rec.count(kinds.MARK, thread=0) == rec.count(kinds.MARK, thread=1) == 1


@pytest.mark.parametrize("method", ["count", "time_in"])
def test_unknown_thread_is_an_error(method):
    rec = two_thread_recording()
    with pytest.raises(ValueError, match=r"thread 'ghost' was not seen.*'MainThread'.*'w'"):
        getattr(rec, method)(kinds.SLEEP, thread="ghost")
    with pytest.raises(ValueError, match=r"thread 7 was not seen"):
        getattr(rec, method)(kinds.SLEEP, thread=7)
    with pytest.raises(TypeError, match=r"thread must be None, a thread name \(str\) or a lane number \(int\)"):
        getattr(rec, method)(kinds.SLEEP, thread=1.0)
    with pytest.raises(TypeError, match=r"got True"):
        getattr(rec, method)(kinds.SLEEP, thread=True)
    with pytest.raises(ValueError, match=r"none yet"):
        getattr(Recording(), method)(kinds.SLEEP, thread="ghost")


def test_unknown_kind_is_an_error():
    rec = two_thread_recording()
    with pytest.raises(ValueError, match="kind must be one of"):
        rec.count("sleeping!")
    with pytest.raises(ValueError, match="kind must be one of"):
        rec.time_in(kinds.PUT)  # an instant kind has no duration


def test_repr_counts_events():
    rec = two_thread_recording()
    assert repr(rec) == "<Recording '': 6 spans, 3 instants, 2 threads>"


# ----------------------------------------------------- Chrome trace format
def busy_recording():
    with recording("busy") as rec:
        with tk.span(kinds.RUN, "main work"):
            tk.cpu_task(2000)
        tk.mark("m")

        def worker():
            with tk.span(kinds.QUEUED, "job"):
                pass
            with tk.span(kinds.RUN):
                pass
            tk.mark("done")

        run_threads([worker, worker], names=["worker-1", "worker-2"])
    return rec


def test_chrome_trace_is_valid_trace_event_json():
    rec = busy_recording()
    trace = json.loads(json.dumps(rec.to_chrome_trace()))
    events = trace["traceEvents"]
    assert trace["displayTimeUnit"] == "ms"
    assert {ev["ph"] for ev in events} == {"X", "i", "M"}
    for ev in events:
        assert isinstance(ev["pid"], int) and isinstance(ev["tid"], int) and isinstance(ev["name"], str)
    meta = [ev for ev in events if ev["ph"] == "M" and ev["name"] == "thread_name"]
    assert [(ev["tid"], ev["args"]["name"]) for ev in meta] == [(t.lane, t.name) for t in rec.threads]
    complete = [ev for ev in events if ev["ph"] == "X"]
    assert len(complete) == len(rec.spans)
    for ev, sp in zip(complete, rec.spans):
        assert ev["tid"] == sp.lane and ev["cat"] == sp.kind
        assert ev["ts"] == sp.start_ns / 1000 and ev["dur"] == (sp.end_ns - sp.start_ns) / 1000  # microseconds
        assert ev["dur"] >= 0 and ev["ts"] >= 0
        assert ("cpu_ns" in ev["args"]) == (sp.kind == kinds.RUN)
    instants = [ev for ev in events if ev["ph"] == "i"]
    assert len(instants) == len(rec.instants)
    for ev, inst in zip(instants, rec.instants):
        assert ev["s"] == "t" and ev["ts"] == inst.t_ns / 1000 and ev["tid"] == inst.lane
    assert trace["otherData"]["duration_ns"] == rec.end_ns - rec.start_ns


def test_save_and_load_round_trip_exactly(tmp_path):
    rec = busy_recording()
    path = tmp_path / "trace.json"
    rec.save(path)
    back = Recording.load(str(path))
    assert back.name == rec.name == "busy"
    assert back.threads == [ThreadInfo(t.lane, t.name, t.ident, t.is_main) for t in rec.threads]
    assert back.spans == rec.spans
    assert back.instants == rec.instants
    assert back.duration_ms == rec.duration_ms
    assert back.count(kinds.RUN, thread="worker-2") == 1
    # And once more: export of the import is the same trace.
    assert back.to_chrome_trace() == rec.to_chrome_trace()


def test_round_trip_of_an_unstopped_and_an_empty_recording():
    with recording("live") as rec:
        tk.mark("x")
        back = Recording.from_chrome_trace(rec.to_chrome_trace())
    assert back.instants == rec.instants and back.threads[0].name == "MainThread"
    empty = Recording.from_chrome_trace(Recording("e").to_chrome_trace())
    assert empty.spans == [] and empty.instants == [] and empty.threads == [] and empty.duration_ms == 0


@pytest.mark.parametrize(
    "trace, error, pattern",
    [
        ([], TypeError, r"trace must be a dict with 'traceEvents' .*, got \[\]"),
        ({"traceEvents": "x"}, TypeError, r"trace\['traceEvents'\] must be a list of events, got 'x'"),
        ({"traceEvents": [3]}, ValueError, r"trace event 0 is not one threadkit writes: 3"),
        ({"traceEvents": [{"ph": "X", "tid": 1, "ts": 1, "args": {"kind": "running", "label": ""}}]}, ValueError,
         r"trace event 0 is not one threadkit writes: \{'ph': 'X'"),
    ],
)
def test_importing_bad_traces(trace, error, pattern):
    with pytest.raises(error, match=pattern):
        Recording.from_chrome_trace(trace)


# -- best_of -----------------------------------------------------------------------------
def test_best_of_keeps_the_fastest_run_and_its_value():
    delays = iter([0.03, 0.001, 0.02])
    calls = []

    def scenario(label, *, scale):
        delay = next(delays)
        calls.append((label, scale, tk.current_recording()))
        with tk.span(kinds.RUN, label):
            time.sleep(delay * scale)
        return delay

    rec, value = tk.best_of(3, scenario, "step", scale=1)
    assert value == 0.001  # the second run was the fastest
    assert [c[:2] for c in calls] == [("step", 1)] * 3
    assert len({id(c[2]) for c in calls}) == 3 and all(c[2] is not None for c in calls)  # own recordings
    assert rec is calls[1][2] and rec.name == "run 2 of 3"
    assert rec.count(kinds.RUN) == 1 and rec.duration_ms < 20
    assert tk.current_recording() is None


def test_best_of_one_run_and_errors_propagate():
    rec, value = tk.best_of(1, lambda: 42)
    assert value == 42 and isinstance(rec, Recording)
    runs = []

    def fails():
        runs.append(1)
        raise KeyError("boom")

    with pytest.raises(KeyError):
        tk.best_of(3, fails)
    assert runs == [1] and tk.current_recording() is None
