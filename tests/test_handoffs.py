"""Hand-offs: what the twins link, what Recording reports, how it is exported and drawn.

Structure only (which thread, which kind of event, order in time), never absolute
times or pixels.  Threads that must wait are held by Events, never by sleeping.
"""

import json
import queue
import threading

import pytest

import threadkit as tk
from threadkit import kinds as _kinds, traced
from threadkit._recording import Recording
from threadkit._timeline import MAX_HANDOFF_ARROWS

WAIT = 10  # seconds: every blocking call has a timeout


class Boom(Exception):
    pass


def fail():
    raise Boom("no")


def names_of(rec):
    return {t.lane: t.name for t in rec.threads}


def ends(h):
    """(kind, from thread, from event, to thread, to event) of a hand-off."""
    return (h.kind, h.from_thread, h.from_kind, h.to_thread, h.to_kind)


def in_time_order(h):
    return 0 <= h.from_ns <= h.to_ns


# ------------------------------------------------------------------ futures
def test_a_result_goes_from_the_worker_set_result_to_where_result_returned():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1, thread_name_prefix="w") as pool:
            future = pool.submit(pow, 2, 5)
            assert future.result(timeout=WAIT) == 32
            assert future.result(timeout=WAIT) == 32  # read twice: still one hand-off
    [h] = rec.handoffs
    assert ends(h) == (_kinds.HANDOFF_RESULT, "w_0", _kinds.SET_RESULT, "MainThread", _kinds.RESULT_RETURNED)
    assert h.label == "pow #1" and h.error == ""
    assert in_time_order(h)
    set_result = next(ev for ev in rec.instants if ev.kind == _kinds.SET_RESULT)
    assert (h.from_lane, h.from_ns) == (set_result.lane, set_result.t_ns)  # starts at the worker's instant
    assert h.to_lane == 0 and h.from_lane != h.to_lane
    assert rec.never_retrieved == []


def test_an_error_goes_from_where_the_task_raised_to_where_result_re_raised():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1, thread_name_prefix="w") as pool:
            future = pool.submit(fail)
            with pytest.raises(Boom):
                future.result(timeout=WAIT)
    [h] = rec.handoffs
    assert ends(h) == (_kinds.HANDOFF_ERROR, "w_0", _kinds.EXCEPTION, "MainThread", _kinds.RESULT_RAISED)
    assert h.error == "Boom" and h.label == "fail #1"
    assert in_time_order(h)
    assert rec.never_retrieved == []  # retrieved


def test_exception_returning_the_error_retrieves_it():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(fail)
            assert isinstance(future.exception(timeout=WAIT), Boom)
            with pytest.raises(Boom):
                future.result()  # already retrieved: no second arrow
    [h] = rec.handoffs
    assert (h.kind, h.to_kind, h.error) == (_kinds.HANDOFF_ERROR, _kinds.EXCEPTION_RETURNED, "Boom")
    assert rec.never_retrieved == []


def test_an_error_nobody_retrieves_is_never_retrieved_at_the_end_of_the_recording():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1, thread_name_prefix="w") as pool:
            ok = pool.submit(pow, 2, 2)
            lost = pool.submit(fail)
            assert ok.result(timeout=WAIT) == 4
            cf_done = traced.wait([lost], timeout=WAIT)  # waiting is not retrieving
            assert lost in cf_done.done
    [nr] = rec.never_retrieved
    assert (nr.thread_name, nr.label, nr.error) == ("w_0", "fail #2", "Boom")
    raised = next(ev for ev in rec.instants if ev.kind == _kinds.EXCEPTION)
    assert (nr.lane, nr.t_ns) == (raised.lane, raised.t_ns)
    assert [h.kind for h in rec.handoffs] == [_kinds.HANDOFF_RESULT]
    assert isinstance(lost.exception(), Boom)  # retrieved after the end: the recording does not change
    assert len(rec.never_retrieved) == 1


def test_never_retrieved_while_the_recording_runs_lists_the_ones_not_retrieved_yet():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(fail)
            traced.wait([future], timeout=WAIT)
            assert [nr.error for nr in rec.never_retrieved] == ["Boom"]
            future.exception()
            assert rec.never_retrieved == []
    assert rec.never_retrieved == []


def test_as_completed_hands_over_results_but_errors_wait_for_result():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(pow, 3, 2), pool.submit(fail)]
            for future in traced.as_completed(futures, timeout=WAIT):
                if future.exception() is None:
                    assert future.result() == 9
    kinds = sorted((h.kind, h.to_kind) for h in rec.handoffs)
    assert kinds == [(_kinds.HANDOFF_ERROR, _kinds.EXCEPTION_RETURNED),
                     (_kinds.HANDOFF_RESULT, _kinds.AS_COMPLETED_YIELDED)]
    assert all(h.to_thread == "MainThread" and in_time_order(h) for h in rec.handoffs)


def test_pool_map_hands_back_each_result_and_the_error():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=2) as pool:
            with pytest.raises(ZeroDivisionError):
                list(pool.map(lambda x: 1 // x, [1, 2, 0], timeout=WAIT))
    taken = sorted(rec.handoffs, key=lambda h: h.to_ns)
    assert [(h.kind, h.error) for h in taken] == [
        (_kinds.HANDOFF_RESULT, ""), (_kinds.HANDOFF_RESULT, ""), (_kinds.HANDOFF_ERROR, "ZeroDivisionError")]
    assert all(h.to_thread == "MainThread" and in_time_order(h) for h in taken)


def test_a_plain_future_set_in_another_thread():
    future = traced.Future()
    go = threading.Event()

    def producer():
        go.wait(WAIT)
        future.set_result("x")

    with tk.recording() as rec:
        thread = threading.Thread(target=producer, name="producer")
        thread.start()
        go.set()
        assert future.result(timeout=WAIT) == "x"
        thread.join(WAIT)
    [h] = rec.handoffs
    assert ends(h) == (_kinds.HANDOFF_RESULT, "producer", _kinds.SET_RESULT, "MainThread", _kinds.RESULT_RETURNED)
    assert in_time_order(h)


def test_a_plain_future_set_twice_keeps_its_first_end():
    future = traced.Future()
    with tk.recording() as rec:
        future.set_exception(Boom("first"))
        with pytest.raises(traced.InvalidStateError):
            future.set_result(1)
        assert isinstance(future.exception(), Boom)
    [h] = rec.handoffs
    assert (h.kind, h.from_kind, h.error) == (_kinds.HANDOFF_ERROR, _kinds.EXCEPTION, "Boom")
    assert rec.never_retrieved == []


def test_nothing_is_linked_outside_a_recording():
    with traced.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(fail)
    with tk.recording() as rec:
        assert isinstance(future.exception(), Boom)
    assert rec.handoffs == [] and rec.never_retrieved == []


# ------------------------------------------------------------------ callbacks
def test_a_callback_is_linked_to_its_future_in_the_thread_that_ran_it():
    release = threading.Event()
    seen = []
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1, thread_name_prefix="w") as pool:
            running = pool.submit(release.wait, WAIT)
            running.add_done_callback(lambda f: seen.append(f.result()))  # runs in the worker
            failing = pool.submit(fail)
            failing.add_done_callback(lambda f: seen.append(type(f.exception()).__name__))
            release.set()
            traced.wait([running, failing], timeout=WAIT)
        late = running
        late.add_done_callback(lambda f: seen.append("late"))  # already done: runs here, now
    assert seen == [True, "Boom", "late"]
    callbacks = sorted((h for h in rec.handoffs if h.kind == _kinds.HANDOFF_CALLBACK), key=lambda h: h.to_ns)
    assert [(h.from_thread, h.to_thread, h.to_kind) for h in callbacks] == [
        ("w_0", "w_0", _kinds.CALLBACK_STARTED),
        ("w_0", "w_0", _kinds.CALLBACK_STARTED),
        ("w_0", "MainThread", _kinds.CALLBACK_STARTED),
    ]
    assert all(in_time_order(h) for h in callbacks)
    # The callbacks read the value and the error: both retrieved, in the worker.
    reads = sorted((h.kind, h.to_thread) for h in rec.handoffs if h.kind != _kinds.HANDOFF_CALLBACK)
    assert reads == [(_kinds.HANDOFF_ERROR, "w_0"), (_kinds.HANDOFF_RESULT, "w_0")]
    assert rec.never_retrieved == []
    starts = sorted(sp.start_ns for sp in rec.spans if sp.kind == _kinds.CALLBACK)
    assert sorted(h.to_ns for h in callbacks) == starts  # the arrow ends where the callback span starts


def test_a_callback_that_ignores_the_error_does_not_retrieve_it():
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(fail)
            future.add_done_callback(lambda f: None)
            traced.wait([future], timeout=WAIT)
    assert [h.kind for h in rec.handoffs] in ([_kinds.HANDOFF_CALLBACK], [])  # [] if it ran at add time, too short
    assert [nr.error for nr in rec.never_retrieved] == ["Boom"]


# ------------------------------------------------------------------ queues
def test_each_queue_item_goes_from_its_put_to_the_get_that_took_it():
    q = traced.Queue(name="jobs")

    def producer():
        for i in range(10):
            q.put(i)
        q.put(ValueError("sent as an item"))

    with tk.recording() as rec:
        thread = traced.Thread(target=producer, name="producer")
        thread.start()
        got = [q.get(timeout=WAIT) for _ in range(11)]
        thread.join(WAIT)
    assert got[:10] == list(range(10)) and isinstance(got[10], ValueError)
    items = [h for h in rec.handoffs if h.label == "jobs"]
    assert [h.kind for h in items] == [_kinds.HANDOFF_ITEM] * 10 + [_kinds.HANDOFF_ERROR]
    assert items[-1].error == "ValueError"
    assert all(ends(h)[1:] == ("producer", _kinds.PUT, "MainThread", _kinds.GET) for h in items)
    assert all(in_time_order(h) for h in items)
    puts = [ev.t_ns for ev in rec.instants if ev.kind == _kinds.PUT]
    gets = [ev.t_ns for ev in rec.instants if ev.kind == _kinds.GET]
    assert [h.from_ns for h in items] == puts  # FIFO: the i-th put's item is the i-th get's
    assert [h.to_ns for h in items] == gets


def test_a_queue_changed_behind_its_back_still_links_each_item_to_its_own_put():
    q = traced.Queue()
    with tk.recording() as rec:
        q.put("a")
        q.put("b")
        with q.mutex:
            q.queue.clear()  # a known idiom to drop everything
        q.put("c")
        assert q.get(timeout=WAIT) == "c"  # back in step: linked to its own put
        with q.mutex:
            q.queue.appendleft("sneaked in")
        q.put("d")
        assert [q.get(timeout=WAIT), q.get(timeout=WAIT)] == ["sneaked in", "d"]
        with pytest.raises(queue.Empty):
            q.get(timeout=0.01)
    puts = [ev.t_ns for ev in rec.instants if ev.kind == _kinds.PUT]
    assert [h.from_ns for h in rec.handoffs] == puts[2:]  # "c" and "d"; the sneaked item has no put


def test_items_put_outside_the_recording_are_not_linked():
    q = traced.Queue()
    q.put(1)
    with tk.recording() as rec:
        q.put(2)
        assert [q.get(), q.get()] == [1, 2]
    assert len(rec.handoffs) == 1


# ------------------------------------------------------------------ threads
def test_join_links_the_end_of_the_run_to_where_join_returned():
    box = {}
    release = threading.Event()

    def work():
        release.wait(WAIT)
        box["result"] = 42

    with tk.recording() as rec:
        thread = traced.Thread(target=work, name="worker")
        thread.start()
        thread.join(timeout=0.01)  # still running: no hand-off
        assert thread.is_alive()
        release.set()
        thread.join(WAIT)
        thread.join(WAIT)  # already ended: still one hand-off
    assert box == {"result": 42}
    [h] = rec.handoffs
    assert ends(h) == (_kinds.HANDOFF_JOIN, "worker", _kinds.RUN_ENDED, "MainThread", _kinds.JOIN_RETURNED)
    run = next(sp for sp in rec.spans if sp.kind == _kinds.RUN)
    assert h.from_ns == run.end_ns and in_time_order(h)


def test_a_thread_dying_with_an_exception_records_where_excepthook_took_it(monkeypatch):
    hooked = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_type))
    with tk.recording() as rec:
        thread = traced.Thread(target=fail, name="crasher")
        thread.start()
        thread.join(WAIT)
    assert hooked == [Boom]
    [hook] = [ev for ev in rec.instants if ev.kind == _kinds.EXCEPTHOOK]
    [raised] = [ev for ev in rec.instants if ev.kind == _kinds.EXCEPTION]
    assert (hook.thread_name, hook.label, hook.t_ns) == ("crasher", "Boom", raised.t_ns)
    [h] = rec.handoffs
    assert ends(h) == (_kinds.HANDOFF_JOIN, "crasher", _kinds.EXCEPTION, "MainThread", _kinds.JOIN_RETURNED)
    assert rec.never_retrieved == []  # that list is for futures


def test_system_exit_in_a_thread_is_not_reported_as_going_to_excepthook(monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)

    def leave():
        raise SystemExit

    with tk.recording() as rec:
        thread = traced.Thread(target=leave)
        thread.start()
        thread.join(WAIT)
    assert rec.count(_kinds.EXCEPTION) == 1 and rec.count(_kinds.EXCEPTHOOK) == 0


# ------------------------------------------------------------ trace export
def mixed_recording(monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    q = traced.Queue(name="q")
    with tk.recording("mixed") as rec:
        with traced.ThreadPoolExecutor(max_workers=2, thread_name_prefix="w") as pool:
            ok, bad, lost = pool.submit(pow, 2, 3), pool.submit(fail), pool.submit(fail)
            assert ok.result(timeout=WAIT) == 8
            assert isinstance(bad.exception(timeout=WAIT), Boom)
            traced.wait([lost], timeout=WAIT)
        thread = traced.Thread(target=q.put, args=(1,), name="putter")
        thread.start()
        assert q.get(timeout=WAIT) == 1
        thread.join(WAIT)
    return rec


def test_chrome_trace_has_a_flow_pair_per_hand_off_and_a_never_retrieved_instant(monkeypatch):
    rec = mixed_recording(monkeypatch)
    trace = json.loads(json.dumps(rec.to_chrome_trace()))
    starts = {e["id"]: e for e in trace["traceEvents"] if e["ph"] == "s"}
    finishes = {e["id"]: e for e in trace["traceEvents"] if e["ph"] == "f"}
    assert len(starts) == len(finishes) == len(rec.handoffs) == 4
    assert set(starts) == set(finishes)
    for flow_id, start in starts.items():
        finish = finishes[flow_id]
        assert finish["bp"] == "e"
        assert (start["cat"], start["name"]) == (finish["cat"], finish["name"])
        assert start["ts"] <= finish["ts"]
    by_kind = {s["args"]["handoff"]: s for s in starts.values()}
    assert set(by_kind) == {_kinds.HANDOFF_RESULT, _kinds.HANDOFF_ERROR, _kinds.HANDOFF_ITEM, _kinds.HANDOFF_JOIN}
    lost = [e for e in trace["traceEvents"] if e["ph"] == "i" and e["name"].startswith("never retrieved")]
    assert len(lost) == 1 and "Boom" in lost[0]["name"]


def test_flows_and_never_retrieved_survive_a_round_trip(monkeypatch, tmp_path):
    rec = mixed_recording(monkeypatch)
    path = tmp_path / "trace.json"
    rec.save(path)
    back = Recording.load(path)
    assert back.handoffs == rec.handoffs
    assert back.never_retrieved == rec.never_retrieved
    assert back.instants == rec.instants  # the never-retrieved instant is not an ordinary instant
    assert back.to_chrome_trace() == rec.to_chrome_trace()


# ------------------------------------------------------------------ drawing
def arrows(fig, kind=None):
    ax = fig.axes[0]
    return [p for p in ax.patches if (p.get_gid() or "").startswith("handoff " + (kind or ""))]


def legend_texts(fig):
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_draw_shows_one_arrow_per_hand_off_and_a_never_retrieved_marker(monkeypatch):
    rec = mixed_recording(monkeypatch)
    fig = tk.draw(rec)
    assert repr(fig) == "<Figure size 1000x420 with 1 Axes>"
    assert len(arrows(fig)) == len(rec.handoffs) == 4
    assert len(arrows(fig, _kinds.HANDOFF_ERROR)) == 1
    ax = fig.axes[0]
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    assert texts["handoff error label"] == "Boom"
    assert texts["never retrieved label"] == "never retrieved: Boom"
    [marker] = [c for c in ax.collections if c.get_gid() == _kinds.NEVER_RETRIEVED]
    (x, y), = marker.get_offsets()
    assert y == rec.never_retrieved[0].lane and x > 0.95 * ax.get_xlim()[1]  # at the end of its lane
    legend = legend_texts(fig)
    for text in ("result handed back", "error handed back", "item handed over", "error never retrieved"):
        assert legend.count(text) == 1


def test_many_hand_offs_are_capped_spread_over_time_and_counted():
    n = MAX_HANDOFF_ARROWS * 3
    events = [{"ph": "M", "pid": 1, "tid": lane, "name": "thread_name",
               "args": {"name": name, "ident": lane, "is_main": lane == 0}}
              for lane, name in enumerate(["MainThread", "worker"])]
    for i in range(n):
        args = {"handoff": _kinds.HANDOFF_RESULT if i != n - 1 else _kinds.HANDOFF_ERROR, "label": "task",
                "error": "E", "from_kind": _kinds.SET_RESULT, "to_kind": _kinds.RESULT_RETURNED}
        events.append({"ph": "s", "pid": 1, "tid": 1, "id": i, "cat": "handoff", "ts": i * 100, "args": args})
        events.append({"ph": "f", "bp": "e", "pid": 1, "tid": 0, "id": i, "cat": "handoff", "ts": i * 100 + 50,
                       "args": args})
    rec = Recording.from_chrome_trace({"traceEvents": events})
    fig = tk.draw(rec)
    drawn = arrows(fig)
    assert len(drawn) == MAX_HANDOFF_ARROWS
    assert len(arrows(fig, _kinds.HANDOFF_ERROR)) == 1  # the error is kept
    xs = sorted(p._posA_posB[0][0] for p in drawn)
    assert xs[0] < 0.05 * n / 10 and xs[-1] > 0.9 * n / 10  # the whole run, not only its start (ms)
    assert max(p.get_linewidth() for p in drawn) < min(p.get_linewidth() for p in arrows(
        tk.draw(Recording.from_chrome_trace({"traceEvents": events[:2 + 2 * 3]}))))  # many: thinner
    [note] = [t for t in fig.axes[0].texts if t.get_gid() == "handoffs not drawn"]
    assert note.get_text() == f"+{n - MAX_HANDOFF_ARROWS} more hand-offs not drawn"
    assert repr(fig) == "<Figure size 1000x420 with 1 Axes>"


def test_excepthook_instants_are_drawn_with_their_exception_type(monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    with tk.recording() as rec:
        thread = traced.Thread(target=fail, name="crasher")
        thread.start()
        thread.join(WAIT)
    fig = tk.draw(rec)
    ax = fig.axes[0]
    assert _kinds.EXCEPTHOOK in {c.get_gid() for c in ax.collections}
    assert [t.get_text() for t in ax.texts if t.get_gid() == "excepthook label"] == ["excepthook: Boom"]
    assert "to excepthook" in legend_texts(fig)


def test_cancelled_futures_hand_nothing_over():
    release = threading.Event()
    with tk.recording() as rec:
        with traced.ThreadPoolExecutor(max_workers=1) as pool:
            blocker = pool.submit(release.wait, WAIT)
            pending = pool.submit(pow, 2, 2)
            assert pending.cancel()
            release.set()
            done = list(traced.as_completed([blocker, pending], timeout=WAIT))
            with pytest.raises(traced.CancelledError):
                pending.result()
    assert len(done) == 2
    assert [h.label for h in rec.handoffs] == [blocker._tk_label]
    assert rec.never_retrieved == []
