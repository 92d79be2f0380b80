"""Unit tests for threadkit.lessons.races: the interleaving explorer, its drawing and widget, the
schedule replay, the lost-updates plot and the counter verdict. The grader (check_account) is
tested in tests/test_exercise_02.py; bad arguments that a message names are in test_validation.py."""

import threading
import time
from collections import Counter

import pytest

from threadkit import python_build
from threadkit._build import PythonBuild
from threadkit.lessons import races
from threadkit.lessons.races import (
    Interleavings,
    Schedule,
    Stepper,
    counter_verdict,
    draw_lost_updates,
    draw_schedule,
    interleavings,
    replay,
    step_through,
)

RAW = ["read", "add", "write"]
LOCKED = ["acquire", "read", "add", "write", "release"]


def title(fig):
    return fig.axes[0].get_title(loc="left")


# ---------------------------------------------------------------- explorer
def test_the_lesson_exports_what_notebook_02_imports():
    assert races.__all__ == ["interleavings", "draw_schedule", "step_through", "replay", "draw_lost_updates",
                             "counter_verdict", "check_account"]


def test_two_read_add_write_threads_have_6_schedules_4_losing():
    s = interleavings({"A": RAW, "B": RAW})
    assert isinstance(s, Interleavings) and all(isinstance(x, Schedule) for x in s)
    assert [x.final for x in s] == [2, 1, 1, 1, 1, 2]
    assert [x.number for x in s] == [1, 2, 3, 4, 5, 6]
    assert all(x.total == 6 and x.start == 0 for x in s)
    assert [x.lost_updates for x in s] == [0, 1, 1, 1, 1, 0]
    assert s.losing == tuple(s[1:5])


def test_schedule_order_steps_and_overwrites():
    second = interleavings({"A": RAW, "B": RAW})[1]
    assert second.steps == (("A", "read"), ("A", "add"), ("B", "read"), ("B", "add"), ("A", "write"),
                            ("B", "write"))
    assert second.order == ("A", "A", "B", "B", "A", "B")
    assert second.overwrites == (None, None, None, None, None, "A")
    assert [st.x for st in second.states] == [0, 0, 0, 0, 1, 1]
    assert second.states[3].tmp == (("A", 1), ("B", 1))
    assert str(second) == ("schedule 2 of 6: A.read A.add B.read B.add A.write B.write  ->  x = 1  "
                           "LOST: B.write overwrites A's update")


def test_add_runs_right_after_the_step_before_it():
    for schedule in interleavings({"A": RAW, "B": RAW}):
        for i, (thread, step) in enumerate(schedule.steps):
            if step == "add":
                assert schedule.steps[i - 1] == (thread, "read")


def test_lock_leaves_only_the_serial_orders():
    s = interleavings({"A": LOCKED, "B": LOCKED})
    assert len(s) == 2 and not s.losing
    assert [x.order for x in s] == [("A",) * 5 + ("B",) * 5, ("B",) * 5 + ("A",) * 5]
    assert all(x.final == 2 for x in s)


def test_the_schedules_print_one_per_line():
    s = interleavings({"A": RAW, "B": RAW})
    assert repr(s) == str(s) == "\n".join(str(x) for x in s)
    assert len(str(s).splitlines()) == 6


@pytest.mark.parametrize(
    "programs, start, count, finals, losing, most_lost",
    [
        ({"A": RAW, "B": RAW, "C": RAW}, 10, 90, {11, 12, 13}, 84, 2),  # 6! / (2! 2! 2!); 3! serial orders
        ({"solo": ["read", "write"]}, 5, 1, {5}, 0, 0),
        ({"A": ["read", "write"], "B": RAW}, 0, 6, {0, 1}, 4, 1),  # a write without add still overwrites
        ({"A": LOCKED, "B": RAW}, 0, 15, {1, 2}, 9, 1),  # a lock only one thread takes protects nothing
    ],
)
def test_schedules_finals_and_losses(programs, start, count, finals, losing, most_lost):
    s = interleavings(programs, start=start)
    assert (len(s), {x.final for x in s}, len(s.losing)) == (count, finals, losing)
    assert max(x.lost_updates for x in s) == most_lost


@pytest.mark.parametrize(
    "programs, exc, words",
    [
        ({}, ValueError, "1 to 4 threads"),
        ({str(i): RAW for i in range(5)}, ValueError, "1 to 4 threads"),
        ({"A": "read add write"}, TypeError, "programs['A'] must be a list"),
        ({"A": []}, ValueError, "1 to 8 steps"),
        ({"A": ["read"] * 9}, ValueError, "1 to 8 steps"),
        ({"A": ["read", "increment"]}, ValueError, "step 2 ('increment') is unknown"),
        ({"A": ["add", "write"]}, ValueError, "uses tmp before any 'read'"),
        ({"A": ["write"]}, ValueError, "uses tmp before any 'read'"),
        ({"A": ["acquire", "acquire", "release"]}, ValueError, "acquires the lock it already holds"),
        ({"A": ["read", "release"]}, ValueError, "releases the lock without holding it"),
        ({"A": ["acquire", "read"]}, ValueError, "ends holding the lock"),
        ({n: ["read", "write"] * 4 for n in "ABCD"}, ValueError, "at most 5000"),
    ],
)
def test_interleavings_rejects_bad_programs(programs, exc, words):
    with pytest.raises(exc) as info:
        interleavings(programs)
    assert words in str(info.value)


# ------------------------------------------------------------ drawing, widget
def test_draw_schedule_has_a_fixed_size():
    two = interleavings({"A": RAW, "B": RAW})
    three = interleavings({"A": LOCKED, "B": LOCKED, "C": ["read", "write"]})
    assert {repr(draw_schedule(schedule, upto)) for schedule in (two[0], two[1], three[0])
            for upto in (None, 0, 2)} == {"<Figure size 900x280 with 1 Axes>"}


@pytest.mark.parametrize(
    "number, upto, words",
    [
        (2, None, "lost: B.write (step 6) overwrites A's update"),
        (1, None, "no update lost"),
        (2, 3, "after step 3 of 6: x = 0"),
    ],
)
def test_draw_schedule_title_tells_what_happened(number, upto, words):
    assert words in title(draw_schedule(interleavings({"A": RAW, "B": RAW})[number - 1], upto))


def test_draw_schedule_title_is_silent_before_the_loss():
    assert "lost" not in title(draw_schedule(interleavings({"A": RAW, "B": RAW})[1], upto=5))


def test_step_through_builds_a_working_widget():
    s = interleavings({"A": RAW, "B": RAW})
    stepper = step_through(s, number=3, upto=2)
    assert isinstance(stepper, Stepper) and stepper.schedule_picker.value == 3
    assert stepper.step_slider.value == 2 and stepper.step_slider.max == 6
    assert "after step 2 of 6" in title(stepper.figure)
    stepper.step_slider.value = 6
    assert "A.write (step 6) overwrites B's update" in title(stepper.figure)
    stepper.schedule_picker.value = 1
    assert "no update lost" in title(stepper.figure)
    assert repr(stepper) == "<Stepper over 6 schedules>"
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"] == "<Stepper over 6 schedules>"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert step_through(s).step_slider.value == 6  # all steps by default


@pytest.mark.parametrize(
    "schedules, kwargs, words",
    [(interleavings({"A": RAW, "B": RAW}), {"upto": 7}, "upto must be an int from 0 to 6, got 7")],
)
def test_step_through_rejects_what_the_schedules_rule_out(schedules, kwargs, words):
    with pytest.raises(ValueError, match=words):
        step_through(schedules, **kwargs)


# ------------------------------------------------------------------- replay
def _real_programs(shared):
    def read(mine):
        mine["tmp"] = shared["x"]

    def add(mine):
        mine["tmp"] += 1

    def write(mine):
        shared["x"] = mine["tmp"]

    return {"A": [read, add, write], "B": [read, add, write]}


def test_replay_reproduces_every_schedule_with_real_threads():
    shared = {"x": 0}
    programs = _real_programs(shared)
    for schedule in interleavings({"A": RAW, "B": RAW}):
        finals = Counter()
        for _ in range(50):
            shared["x"] = 0
            replay(programs, schedule.order)
            finals[shared["x"]] += 1
        assert finals == {schedule.final: 50}, schedule


def test_replay_runs_each_step_in_its_own_thread_and_returns_registers():
    seen = []

    def who(mine):
        seen.append(threading.current_thread().name)
        mine["n"] = mine.get("n", 0) + 1

    mine = replay({"A": [who, who], "B": [who]}, ["B", "A", "A"])
    assert seen == ["replay B", "replay A", "replay A"]
    assert mine == {"A": {"n": 2}, "B": {"n": 1}}
    assert not any(t.name.startswith("replay ") for t in threading.enumerate())


def test_replay_reraises_a_step_error():
    def boom(mine):
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        replay({"A": [boom, boom], "B": [lambda mine: None]}, ["A", "B", "A"])


def test_replay_times_out_when_a_lock_blocks_the_order():
    lock = threading.Lock()

    def take(mine):
        lock.acquire(timeout=2)

    def give(mine):
        lock.release()

    before = set(threading.enumerate())
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="step 3 .thread 'B'. did not run or finish within"):
        # B must take the lock while A holds it: B's step blocks
        replay({"A": [take, give], "B": [lambda mine: None, take, give]}, ["A", "B", "B", "A", "B"], timeout=0.2)
    assert time.monotonic() - start < 2
    lock.release()  # A's thread took it and ended; B's blocked step then gets it
    for thread in set(threading.enumerate()) - before:  # B waits for a turn that never comes, then ends
        thread.join(5)
        assert not thread.is_alive()


@pytest.mark.parametrize(
    "programs, order, words",
    [
        ({"A": "read"}, ["A"], "programs['A'] must be a list"),
        ({"A": [1]}, ["A"], "must be callable"),
        ({"A": [print]}, ["B"], "once per step of its program ('A': 1), got ['B']"),
        ({"A": [print, print], "B": [print]}, ["A", "B"], "('A': 2, 'B': 1), got ['A', 'B']"),
    ],
)
def test_replay_rejects_an_order_that_does_not_fit(programs, order, words):
    with pytest.raises((TypeError, ValueError)) as info:
        replay(programs, order)
    assert words in str(info.value)


# ------------------------------------------------------- lost updates, counter verdict
LOSSES = {1_000: [0.0, 0.0, 0.0], 10_000: [0.0, 0.0, 0.25], 200_000: [0.41, 0.37, 0.52]}


def test_draw_lost_updates_has_a_fixed_size_and_marks_the_switch_interval():
    ax = draw_lost_updates(LOSSES, switch_iterations=40_000).axes[0]
    assert repr(ax.figure) == "<Figure size 900x320 with 1 Axes>"
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1,000", "10,000", "200,000"]
    assert any(list(line.get_xdata()) == [40_000, 40_000] for line in ax.get_lines())
    means = [line for line in ax.get_lines() if len(line.get_xdata()) == 3][0]
    assert list(means.get_ydata()) == pytest.approx([0, 25 / 3, 100 * 1.3 / 3])
    assert len(draw_lost_updates(LOSSES).axes[0].get_lines()) == 1  # no switch line


STANDARD = PythonBuild("3.11.7", free_threaded=False, gil_enabled=True)
FREE_THREADED = PythonBuild("3.15.0", free_threaded=True, gil_enabled=False)
FREE_THREADED_GIL_ON = PythonBuild("3.15.0", free_threaded=True, gil_enabled=True)


@pytest.mark.parametrize(
    "build, loses",
    [(STANDARD, False), (FREE_THREADED_GIL_ON, False), (FREE_THREADED, True)],
)
def test_counter_verdict_expects_losses_only_without_the_gil(build, loses):
    lost, none = counter_verdict(239_277, 400_000, build), counter_verdict(0, 400_000, build)
    assert (lost.as_expected, none.as_expected) == (loses, not loses)
    assert "239,277 of 400,000" in lost.measured
    assert ("cpython#125646" in lost.expected) == loses


def test_counter_verdict_judges_the_running_build_by_default():
    assert counter_verdict(0, 10).build == python_build().describe()
