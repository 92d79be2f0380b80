"""Unit tests for threadkit.lessons.races: the interleaving explorer, its drawing and widget,
the schedule replay. The Account exercise's grader (check_account) is tested in
tests/test_exercise_02.py."""

import threading
import time
from collections import Counter

import pytest

import threadkit as tk
from threadkit._build import PythonBuild
from threadkit.lessons import races as _races
from threadkit.lessons.races import (
    STEPS,
    Interleavings,
    Schedule,
    Stepper,
    draw_schedule,
    interleavings,
    replay,
    step_through,
)

RAW = ["read", "add", "write"]
LOCKED = ["acquire", "read", "add", "write", "release"]


# ---------------------------------------------------------------- explorer
def test_public_names_are_exported():
    for name in _races.__all__:
        assert getattr(tk, name) is getattr(_races, name)
    assert set(STEPS) == {"read", "add", "write", "acquire", "release"}


def test_two_read_add_write_threads_have_6_schedules_4_losing():
    s = interleavings({"A": RAW, "B": RAW})
    assert isinstance(s, Interleavings) and all(isinstance(x, Schedule) for x in s)
    assert len(s) == 6
    assert len(s.losing) == 4
    assert [x.final for x in s] == [2, 1, 1, 1, 1, 2]
    assert [x.number for x in s] == [1, 2, 3, 4, 5, 6]
    assert all(x.total == 6 and x.expected == 2 and x.start == 0 for x in s)
    assert [x.lost_updates for x in s] == [0, 1, 1, 1, 1, 0]


def test_schedule_order_steps_and_overwrites():
    s = interleavings({"A": RAW, "B": RAW})
    second = s[1]
    assert second.steps == (("A", "read"), ("A", "add"), ("B", "read"), ("B", "add"), ("A", "write"),
                            ("B", "write"))
    assert second.order == ("A", "A", "B", "B", "A", "B")
    assert second.overwrites == (None, None, None, None, None, "A")
    assert [st.x for st in second.states] == [0, 0, 0, 0, 1, 1]
    assert second.states[3].tmp == (("A", 1), ("B", 1))
    assert "B.write overwrites A's update" in second.describe()
    assert str(second).startswith("schedule 2 of 6: A.read A.add B.read")


def test_add_runs_right_after_the_step_before_it():
    for schedule in interleavings({"A": RAW, "B": RAW}):
        steps = schedule.steps
        for i, (thread, step) in enumerate(steps):
            if step == "add":
                assert steps[i - 1] == (thread, "read")


def test_lock_leaves_only_the_serial_orders():
    s = interleavings({"A": LOCKED, "B": LOCKED})
    assert len(s) == 2 and not s.losing
    assert s[0].order == ("A",) * 5 + ("B",) * 5
    assert s[1].order == ("B",) * 5 + ("A",) * 5
    assert all(x.final == 2 for x in s)
    assert [st.lock_owner for st in s[0].states] == ["A"] * 4 + [None] + ["B"] * 4 + [None]


def test_output_is_deterministic_text():
    a = str(interleavings({"A": RAW, "B": RAW}))
    b = repr(interleavings({"A": RAW, "B": RAW}))
    assert a == b
    assert a.splitlines()[0] == "A: read add write"
    assert "2. A.read A.add B.read B.add A.write B.write  ->  x = 1  LOST: B.write overwrites A's update" in a
    assert a.splitlines()[-1] == ("4 of 6 schedules lose an update "
                                  "(running the threads one after another gives x = 2).")


def test_start_value_and_three_threads():
    s = interleavings({"A": RAW, "B": RAW, "C": RAW}, start=10)
    assert len(s) == 90  # 6! / (2! 2! 2!)
    assert {x.final for x in s} == {11, 12, 13}
    assert all(x.expected == 13 for x in s)
    assert sum(1 for x in s if not x.lost_updates) == 6  # the 3! serial orders
    assert all((x.lost_updates > 0) == (x.final < 13) for x in s)
    assert max(x.lost_updates for x in s) == 2


def test_single_thread_and_partial_programs():
    s = interleavings({"solo": ["read", "write"]}, start=5)
    assert len(s) == 1 and s[0].final == 5 and not s.losing
    # a write without add loses no *value* but still overwrites
    s = interleavings({"A": ["read", "write"], "B": ["read", "add", "write"]})
    assert len(s) == 6
    assert {x.final for x in s} == {0, 1}


def test_lock_only_in_one_thread_does_not_help():
    s = interleavings({"A": LOCKED, "B": RAW})
    assert s.losing, "a lock only one thread takes protects nothing"


@pytest.mark.parametrize(
    "programs, exc, words",
    [
        ([RAW, RAW], TypeError, "programs must be a dict"),
        ({}, ValueError, "1 to 4 threads"),
        ({str(i): RAW for i in range(5)}, ValueError, "1 to 4 threads"),
        ({"A": "read add write"}, TypeError, "programs['A'] must be a list"),
        ({"A": []}, ValueError, "1 to 8 steps"),
        ({"A": ["read"] * 9}, ValueError, "1 to 8 steps"),
        ({"A": ["read", "increment"]}, ValueError, "unknown step 'increment'"),
        ({1: RAW}, TypeError, "thread name must be a non-empty str"),
        ({"": RAW}, TypeError, "thread name must be a non-empty str"),
        ({"A": ["add", "write"]}, ValueError, "uses tmp before any 'read'"),
        ({"A": ["write"]}, ValueError, "uses tmp before any 'read'"),
        ({"A": ["acquire", "acquire", "release"]}, ValueError, "acquires the lock it already holds"),
        ({"A": ["read", "release"]}, ValueError, "releases the lock without holding it"),
        ({"A": ["acquire", "read"]}, ValueError, "ends holding the lock"),
        ({n: ["read", "write"] * 4 for n in "ABCD"}, ValueError, "at most 5000"),
    ],
)
def test_interleavings_rejects_bad_programs(programs, exc, words):
    with pytest.raises(exc, match=None) as info:
        interleavings(programs)
    assert words in str(info.value)


@pytest.mark.parametrize("start, exc", [("0", TypeError), (1.5, TypeError), (True, TypeError)])
def test_interleavings_rejects_bad_start(start, exc):
    with pytest.raises(exc, match="start must be an int"):
        interleavings({"A": RAW}, start=start)


# ------------------------------------------------------------------ drawing
def test_draw_schedule_has_a_fixed_size():
    from matplotlib.figure import Figure

    two = interleavings({"A": RAW, "B": RAW})
    three = interleavings({"A": LOCKED, "B": LOCKED, "C": ["read", "write"]})
    reprs = set()
    for schedule in (two[0], two[1], three[0]):
        for upto in (None, 0, 2):
            fig = draw_schedule(schedule, upto)
            assert isinstance(fig, Figure)
            reprs.add(repr(fig))
    assert reprs == {"<Figure size 900x280 with 1 Axes>"}


def test_draw_schedule_title_tells_what_happened():
    s = interleavings({"A": RAW, "B": RAW})
    assert "lost: B.write (step 6) overwrites A's update" in draw_schedule(s[1]).axes[0].get_title(loc="left")
    assert "no update lost" in draw_schedule(s[0]).axes[0].get_title(loc="left")
    assert "after step 3 of 6: x = 0" in draw_schedule(s[1], upto=3).axes[0].get_title(loc="left")
    assert "lost" not in draw_schedule(s[1], upto=5).axes[0].get_title(loc="left")


def test_draw_schedule_rejects_bad_arguments():
    s = interleavings({"A": RAW, "B": RAW})
    with pytest.raises(TypeError, match="schedule must be a threadkit Schedule"):
        draw_schedule(list(s[0]))
    with pytest.raises(ValueError, match="upto must be an int from 0 to 6, got 7"):
        draw_schedule(s[0], 7)
    with pytest.raises(TypeError, match="upto must be an int"):
        draw_schedule(s[0], "3")


# ------------------------------------------------------------------- widget
def test_step_through_builds_a_working_widget():
    s = interleavings({"A": RAW, "B": RAW})
    stepper = step_through(s, number=3, upto=2)
    assert isinstance(stepper, Stepper)
    assert stepper.schedule is s[2]
    assert stepper.step_slider.value == 2 and stepper.step_slider.max == 6
    assert "after step 2 of 6" in stepper.figure.axes[0].get_title(loc="left")
    stepper.step_slider.value = 6
    assert "A.write (step 6) overwrites B's update" in stepper.figure.axes[0].get_title(loc="left")
    stepper.schedule_picker.value = 1
    assert stepper.schedule is s[0] and "no update lost" in stepper.figure.axes[0].get_title(loc="left")
    assert repr(stepper) == "<Stepper over 6 schedules>"
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"] == "<Stepper over 6 schedules>"
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_step_through_adjusts_the_slider_to_the_schedule_length():
    mixed = interleavings({"A": LOCKED, "B": RAW})
    lengths = {len(x.steps) for x in mixed}
    assert lengths == {8}
    stepper = step_through(interleavings({"A": RAW, "B": RAW}))
    assert stepper.step_slider.value == 6  # all steps by default


def test_step_through_rejects_bad_arguments():
    s = interleavings({"A": RAW, "B": RAW})
    with pytest.raises(TypeError, match="schedules must be the result of tk.interleavings"):
        step_through(list(s))
    with pytest.raises(ValueError, match="number must be an int from 1 to 6, got 7"):
        step_through(s, number=7)
    with pytest.raises(ValueError, match="upto must be an int from 0 to 6, got -1"):
        step_through(s, upto=-1)
    with pytest.raises(ValueError, match="at least one schedule"):
        step_through(Interleavings([], {}, 0))


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

    def noop(mine):
        pass

    before = set(threading.enumerate())
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="did not run or finish within"):
        # B must take the lock while A holds it: B's step blocks
        replay({"A": [take, give], "B": [noop, take, give]}, ["A", "B", "B", "A", "B"], timeout=0.2)
    assert time.monotonic() - start < 2
    lock.release()  # A's thread took it and ended; B's blocked step then gets it
    for thread in set(threading.enumerate()) - before:  # B waits for a turn that never comes, then ends
        thread.join(5)
        assert not thread.is_alive()


@pytest.mark.parametrize(
    "programs, order, kwargs, exc, words",
    [
        ([], ["A"], {}, TypeError, "programs must be a dict"),
        ({}, [], {}, ValueError, "at least one thread"),
        ({"A": "read"}, ["A"], {}, TypeError, "programs['A'] must be a list"),
        ({"A": [1]}, ["A"], {}, TypeError, "must be callable"),
        ({"A": [print]}, "A", {}, TypeError, "order must be a list or tuple"),
        ({"A": [print]}, ["B"], {}, ValueError, "thread 'B', which is not in programs"),
        ({"A": [print, print]}, ["A"], {}, ValueError, "once per step (2 times), got 1"),
        ({"A": [print]}, ["A"], {"timeout": 0}, ValueError, "timeout must be a finite number"),
        ({"A": [print]}, ["A"], {"timeout": "1"}, TypeError, "timeout must be a number"),
    ],
)
def test_replay_rejects_bad_arguments(programs, order, kwargs, exc, words):
    with pytest.raises(exc) as info:
        replay(programs, order, **kwargs)
    assert words in str(info.value)


# ---------------------------------------------------------- the switch-interval cliff
LOSSES = {1_000: [0.0, 0.0, 0.0], 10_000: [0.0, 0.0, 0.25], 200_000: [0.41, 0.37, 0.52]}


def test_draw_lost_updates_has_a_fixed_size_and_marks_the_switch_interval():
    fig = tk.draw_lost_updates(LOSSES, switch_iterations=40_000)
    assert repr(fig) == "<Figure size 900x320 with 1 Axes>"
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1,000", "10,000", "200,000"]
    assert any(list(line.get_xdata()) == [40_000, 40_000] for line in ax.get_lines())
    means = [line for line in ax.get_lines() if len(line.get_xdata()) == 3][0]
    assert list(means.get_ydata()) == pytest.approx([0, 25 / 3, 100 * 1.3 / 3])
    assert len(tk.draw_lost_updates(LOSSES).axes[0].get_lines()) == 1  # no switch line


@pytest.mark.parametrize(
    "losses, kwargs, error, words",
    [
        ([0.1], {}, TypeError, "losses"),
        ({}, {}, ValueError, "empty"),
        ({0: [0.1]}, {}, ValueError, "iteration count"),
        ({10: []}, {}, TypeError, r"losses\[10\]"),
        ({10: [1.5]}, {}, ValueError, "fraction"),
        (LOSSES, {"switch_iterations": 0}, ValueError, "switch_iterations"),
        (LOSSES, {"title": 3}, TypeError, "title"),
    ],
)
def test_draw_lost_updates_validates(losses, kwargs, error, words):
    with pytest.raises(error, match=words):
        tk.draw_lost_updates(losses, **kwargs)


# ---------------------------------------------------------- counter += 1, per build
STANDARD = PythonBuild("3.11.7", free_threaded=False, gil_enabled=True)
FREE_THREADED = PythonBuild("3.15.0", free_threaded=True, gil_enabled=False)
FREE_THREADED_GIL_ON = PythonBuild("3.15.0", free_threaded=True, gil_enabled=True)


@pytest.mark.parametrize("build", [STANDARD, FREE_THREADED_GIL_ON])
def test_counter_loses_nothing_with_the_gil(build):
    assert tk.counter_verdict(0, 400_000, build).as_expected
    lost = tk.counter_verdict(239_277, 400_000, build)
    assert not lost.as_expected and "239,277 of 400,000" in lost.measured


def test_counter_loses_updates_without_the_gil():
    verdict = tk.counter_verdict(239_277, 400_000, FREE_THREADED)
    assert verdict.as_expected and "cpython#125646" in verdict.expected
    assert not tk.counter_verdict(0, 400_000, FREE_THREADED).as_expected


@pytest.mark.parametrize(
    "args, error, words",
    [
        ((-1, 10), ValueError, "lost"),
        ((11, 10), ValueError, "lost"),
        ((0, 0), ValueError, "total"),
        ((0.5, 10), TypeError, "lost"),
        ((0, 10, "3.11"), TypeError, "build"),
    ],
)
def test_counter_verdict_validates(args, error, words):
    with pytest.raises(error, match=words):
        tk.counter_verdict(*args)
