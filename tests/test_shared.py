"""Tests of threadkit._shared: recorded shared values, lost-update detection, the race drawing.

Lost updates are checked on hand-made logs (no threads), on simulated
interleavings against the arithmetic (expected minus final), and on real
threaded runs; drawings by their structure, never pixels.
"""

import random
import threading
import time

import pytest

import threadkit as tk
from threadkit import _shared, kinds
from threadkit._shared import READ, WRITE, Access
from threadkit.traced import Lock

US_IN_MS = 0.001


# ------------------------------------------------------------------ helpers
def log(*steps):
    """A hand-made log: steps ``(thread, "read"|"write", value)``, seq and time in step order."""
    return [Access(seq, thread, kind, value, seq * US_IN_MS) for seq, (thread, kind, value) in enumerate(steps)]


def r(thread, value):
    return (thread, READ, value)


def w(thread, value):
    return (thread, WRITE, value)


lost_in = _shared._lost  # lost_updates for a hand-made log


def lost_pairs(accesses):
    """``[(lost write's thread, overwriter's thread)]`` of a log."""
    return [(u.write.thread, u.by.thread) for u in lost_in(accesses)]


def simulate(programs, order, initial=0):
    """Run ``read, add, write`` programs in ``order`` (thread names); return (log, final value).

    ``programs`` maps a thread to the list of amounts it adds, one read-then-write per amount.
    """
    x = initial
    tmp = {}
    step = {name: 0 for name in programs}
    steps = []
    for name in order:
        i = step[name]
        if i % 2 == 0:
            tmp[name] = x
            steps.append(r(name, x))
        else:
            x = tmp[name] + programs[name][i // 2]
            steps.append(w(name, x))
        step[name] += 1
    return log(*steps), x


def random_order(programs, rng):
    left = {name: 2 * len(amounts) for name, amounts in programs.items()}
    order = []
    while any(left.values()):
        name = rng.choice([n for n, k in left.items() if k])
        order.append(name)
        left[name] -= 1
    return order


# ------------------------------------------------------- hand-made logs
def test_no_race_no_lost_update():
    assert lost_in(log(r("A", 0), w("A", 1), r("B", 1), w("B", 2))) == []


def test_empty_log_has_no_lost_update():
    assert lost_in([]) == []


def test_classic_two_thread_lost_update():
    accesses = log(r("A", 0), r("B", 0), w("A", 1), w("B", 1))
    (update,) = lost_in(accesses)
    assert (update.read, update.write, update.by_read, update.by) == (
        accesses[0], accesses[2], accesses[1], accesses[3])
    assert update.write.thread == "A" and update.missing == 1


def test_three_readers_lose_two_updates_not_three():
    # A, B, C all read 0; B, C, A write 1: the final 1 comes from A, B's and C's updates are lost.
    accesses = log(r("A", 0), r("B", 0), r("C", 0), w("B", 1), w("C", 1), w("A", 1))
    assert lost_pairs(accesses) == [("B", "C"), ("C", "A")]
    assert len(lost_in(accesses)) == 3 - 1  # expected minus final
    # Counting other threads' writes between each write's read and the write says 3.
    between = {}
    for i, a in enumerate(accesses):
        if a.kind == WRITE:
            my_read = max(j for j in range(i) if accesses[j].thread == a.thread and accesses[j].kind == READ)
            between[a.thread] = [accesses[j].thread for j in range(my_read, i)
                                 if accesses[j].kind == WRITE and accesses[j].thread != a.thread]
    assert sum(len(others) for others in between.values()) == 3
    # Flagging each write that had another write in its window picks A and C: A's write is the one kept.
    assert sorted(name for name, others in between.items() if others) == ["A", "C"]


def test_one_window_covering_two_lost_writes():
    # A writes twice while B's read-to-write window is open: both of A's updates are lost
    # (flagging "a write happened in my window" would flag B once).
    accesses = log(r("B", 0), r("A", 0), w("A", 1), r("A", 1), w("A", 2), w("B", 1))
    assert lost_pairs(accesses) == [("A", "B"), ("A", "B")]
    assert len(lost_in(accesses)) == 3 - 1


def test_a_later_write_built_on_a_write_keeps_it():
    # B builds on A's write, so while C has not written both updates count; C read before A wrote.
    accesses = log(r("C", 0), r("A", 0), w("A", 1), r("B", 1), w("B", 2))
    assert lost_in(accesses) == []
    accesses = log(r("C", 0), r("A", 0), w("A", 1), r("B", 1), w("B", 2), w("C", 1))
    assert lost_pairs(accesses) == [("A", "C"), ("B", "C")]


def test_updates_that_are_not_plus_one():
    accesses = log(r("A", 10), r("B", 10), w("A", 15), w("B", 12), r("C", 12), w("C", 19))
    (update,) = lost_in(accesses)
    assert (update.write.thread, update.by.thread, update.missing) == ("A", "B", 5)
    expected = 10 + 5 + 2 + 7
    assert sum(u.missing for u in lost_in(accesses)) == expected - 19


def test_values_need_not_be_numbers():
    accesses = log(r("A", ()), r("B", ()), w("A", ("a",)), w("B", ("b",)))
    (update,) = lost_in(accesses)
    assert update.write.value == ("a",) and update.by.value == ("b",)


def test_locked_run_has_no_false_positive():
    # Three threads, each read-write pair whole (as under a lock), in any order of turns.
    steps, x = [], 0
    for name in "ABCACBBAC":
        steps += [r(name, x), w(name, x + 1)]
        x += 1
    accesses = log(*steps)
    assert lost_in(accesses) == []
    # Reads by a thread that does not write (e.g. the main thread checking) change nothing.
    assert lost_in(log(r("main", 0), *steps, r("main", x))) == []


def test_a_write_without_a_read_overwrites():
    accesses = log(r("A", 0), w("A", 1), w("main", 0))
    (update,) = lost_in(accesses)
    assert (update.write.thread, update.by.thread, update.by_read) == ("A", "main", None)
    with pytest.raises(ValueError, match="read nothing first"):
        lost_in(log(w("main", 5), w("A", 1), r("B", 1), w("B", 2), w("main", 0)))[0].missing


@pytest.mark.parametrize("seed", range(40))
def test_lost_count_is_expected_minus_final_for_plus_one(seed):
    rng = random.Random(seed)
    programs = {name: [1] * rng.randint(1, 5) for name in "ABCD"[: rng.randint(2, 4)]}
    accesses, final = simulate(programs, random_order(programs, rng))
    expected = sum(len(amounts) for amounts in programs.values())
    assert len(lost_in(accesses)) == expected - final


@pytest.mark.parametrize("seed", range(40))
def test_missing_amounts_add_up_for_any_additions(seed):
    rng = random.Random(1000 + seed)
    programs = {name: [rng.randint(1, 9) for _ in range(rng.randint(1, 5))] for name in "ABC"}
    accesses, final = simulate(programs, random_order(programs, rng))
    expected = sum(sum(amounts) for amounts in programs.values())
    lost = lost_in(accesses)
    assert sum(u.missing for u in lost) == expected - final
    for u in lost:  # every overwriter came later and read before the lost write
        assert u.by.seq > u.write.seq and u.by_read.seq < u.write.seq


# ------------------------------------------------------------ Shared
def test_shared_outside_a_recording_is_a_plain_attribute():
    total = tk.Shared("total", 1)
    total.value += 2
    assert total.value == 3 and total.accesses == [] and total.recording is None


def test_shared_records_reads_and_writes_in_a_recording():
    total = tk.Shared("total", 5)
    with tk.recording() as rec:
        total.value += 1
        total.value = 0
    kinds = [(a.kind, a.value, a.thread) for a in total.accesses]
    assert kinds == [(READ, 5, "MainThread"), (WRITE, 6, "MainThread"), (WRITE, 0, "MainThread")]
    assert [a.seq for a in total.accesses] == [0, 1, 2]
    assert all(0 <= a.t_ms <= rec.duration_ms for a in total.accesses)
    assert total.recording is rec
    assert total.value == 0 and len(total.accesses) == 3  # read outside: not recorded
    with tk.recording() as rec2:
        total.value = 7  # a new recording starts a new log
    assert [(a.kind, a.value) for a in total.accesses] == [(WRITE, 7)]
    assert total.recording is rec2
    assert "total" in repr(total)


N_THREADS, N_UPDATES = 4, 25


def run_threads(worker):
    start = threading.Barrier(N_THREADS, timeout=5)
    threads = [threading.Thread(target=worker, args=(start,)) for _ in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)


def racy_run():
    count = tk.Shared("count", 0)

    def work(start):
        start.wait()
        for _ in range(N_UPDATES):
            tmp = count.value
            time.sleep(0.0002)                  # a call between the read and the write
            count.value = tmp + 1

    with tk.recording("racy"):
        run_threads(work)
    return count


def test_real_run_lost_count_equals_expected_minus_final():
    count = racy_run()
    lost = tk.lost_updates(count)
    assert len(lost) > 0
    assert len(lost) == N_THREADS * N_UPDATES - count.value
    assert len([a for a in count.accesses if a.kind == WRITE]) == N_THREADS * N_UPDATES


@pytest.mark.parametrize("lock_type", [threading.Lock, lambda: Lock(name="count lock")])
def test_real_run_with_a_lock_loses_nothing(lock_type):
    count = tk.Shared("count", 0)
    lock = lock_type()

    def work(start):
        start.wait()
        for _ in range(N_UPDATES):
            with lock:
                tmp = count.value
                time.sleep(0.0002)
                count.value = tmp + 1

    with tk.recording("locked"):
        run_threads(work)
    assert count.value == N_THREADS * N_UPDATES
    assert tk.lost_updates(count) == []


# ------------------------------------------------------------ drawing
def gids(ax):
    artists = list(ax.collections) + list(ax.texts) + list(ax.patches) + list(ax.lines)
    return {artist.get_gid(): artist for artist in artists if artist.get_gid()}


def n_segments(line):
    """Number of segments in a line drawn as x0, x1, NaN, x0, x1, NaN, ..."""
    xs = line.get_xdata()
    assert len(xs) % 3 == 0
    return len(xs) // 3


def test_draw_race_marks_every_lost_update():
    accesses = log(r("A", 0), r("B", 0), r("C", 0), w("B", 1), w("C", 1), w("A", 1), r("B", 1), w("B", 2))
    fig = _shared._draw(accesses, [], "value", 0)
    assert repr(fig) == "<Figure size 1000x700 with 3 Axes>"
    overview, counts, zoom = fig.axes
    assert n_segments(gids(overview)["lost windows"]) == 2
    assert n_segments(gids(overview)["kept windows"]) == 2
    assert sum(p.get_height() for p in counts.patches if p.get_gid() != "zoomed stretch") == 2
    assert "2 updates lost" in fig.get_suptitle()
    # Zoom 0: B's write, overwritten by C's.
    z = gids(zoom)
    assert len(z["lost write"].get_offsets()) == 1
    assert tuple(z["lost write"].get_offsets()[0])[0] == accesses[3].t_ms
    arrows = [a for a in zoom.texts if a.get_gid() == "overwritten by"]
    assert len(arrows) == 1 and arrows[0].xy[0] == accesses[4].t_ms
    assert zoom.get_title(loc="left").startswith("lost update 1 of 2")
    # Zoom 1: C's write, overwritten by A's.
    zoom1 = _shared._draw(accesses, [], "value", 1).axes[2]
    arrow = next(a for a in zoom1.texts if a.get_gid() == "overwritten by")
    assert arrow.xy[0] == accesses[5].t_ms and zoom1.get_title(loc="left").startswith("lost update 2 of 2")
    with pytest.raises(ValueError, match="zoom"):
        _shared._draw(accesses, [], "value", 2)


def test_draw_race_without_lost_updates():
    fig = _shared._draw(log(r("A", 0), w("A", 1), r("B", 1), w("B", 2)), [], "value", 0)
    overview, counts, zoom = fig.axes
    assert "lost windows" not in gids(overview) and "lost write" not in gids(zoom)
    assert "none lost" in gids(counts)
    assert "0 updates lost" in fig.get_suptitle() and zoom.get_title(loc="left").startswith("no update lost")
    assert repr(fig) == "<Figure size 1000x700 with 3 Axes>"


def test_draw_race_of_real_runs():
    count = racy_run()
    lost = tk.lost_updates(count)
    fig = tk.draw_race(count, zoom=len(lost) - 1)
    overview = fig.axes[0]
    assert n_segments(gids(overview)["lost windows"]) == len(lost)
    assert f"{len(lost)} updates lost" in fig.get_suptitle()
    assert [label.get_text() for label in overview.get_yticklabels()] == sorted(
        {a.thread for a in count.accesses}, key=[a.thread for a in count.accesses].index)
    # Locked with the traced Lock: the waits come from the Shared's recording.
    count = tk.Shared("count", 0)
    lock = Lock(name="count lock")

    def work(start):
        start.wait()
        for _ in range(5):
            with lock:
                count.value += (time.sleep(0.0002) or 1)

    with tk.recording("locked") as rec:
        run_threads(work)
    assert rec.count(kinds.LOCK_WAIT) > 0
    fig = tk.draw_race(count)
    overview, _, zoom = fig.axes
    assert n_segments(gids(overview)["lock waits"]) == rec.count(kinds.LOCK_WAIT)
    assert "lock waits" in gids(zoom) and "lost windows" not in gids(overview)
    assert "0 updates lost" in fig.get_suptitle() and "waited" in fig.get_suptitle()


def test_exports():
    assert _shared.__all__ == ["Shared", "lost_updates", "draw_race"]
    for name in _shared.__all__:
        assert getattr(tk, name) is getattr(_shared, name)
