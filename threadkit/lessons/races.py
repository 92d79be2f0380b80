"""Lesson helpers for notebook 02 (shared state, races and locks).

* :func:`interleavings` plays the scheduler: it takes tiny thread programs
  made of steps (``read``, ``add``, ``write``, ``acquire``, ``release``) and
  lists every order in which two or more threads can run them, with the final
  value of the shared variable and which write overwrote another thread's
  update.  Deterministic: the same programs always give the same table.
* :func:`draw_schedule` draws one schedule as lanes (one per thread plus the
  shared variable); :func:`step_through` wraps it in a widget that steps
  through any schedule.
* :func:`replay` runs real code in real threads in exactly the order of a
  schedule, by handing a turn from step to step with :class:`threading.Event`.
* :func:`draw_lost_updates` plots how much a live race lost against how long
  each thread's loop ran (the switch-interval cliff).
* :func:`counter_verdict` says whether ``counter += 1`` in threads should
  lose updates on the build the notebook runs on, and whether it did.
* :func:`check_account` checks the exercise's thread-safe ``Account``.

The race demos themselves (threads, the shared variable, the ``Lock``) are
the lesson, so they live in the notebook, not here.
"""

import math
import random
import threading
import time
from typing import NamedTuple, Optional

from .._checking import CheckPassed, ExerciseError, call_with_timeout, fail, grader
from .._explore import widget_mimebundle
from .._build import BuildVerdict, check_build
from .._validate import _describe, check_callable, check_instance, check_int, check_number

__all__ = [
    "STEPS",
    "Schedule",
    "Interleavings",
    "interleavings",
    "draw_schedule",
    "step_through",
    "Stepper",
    "replay",
    "draw_lost_updates",
    "counter_verdict",
    "check_account",
]

#: The steps a thread program may use, and what each one does.
STEPS = {
    "read": "tmp = x  (copy the shared x into the thread's own tmp)",
    "add": "tmp = tmp + 1  (only the thread's own tmp changes)",
    "write": "x = tmp  (store tmp into the shared x)",
    "acquire": "take the lock (waits while another thread holds it)",
    "release": "give the lock back",
}
#: Steps that touch only the thread's own ``tmp``: no other thread can see
#: where they run, so the explorer runs them right after the step before.
LOCAL_STEPS = ("add",)
#: Most threads and steps per program :func:`interleavings` accepts.
MAX_THREADS = 4
MAX_STEPS = 8
#: Most schedules :func:`interleavings` will list.
MAX_SCHEDULES = 5000

# Figure of :func:`draw_schedule`: fixed size, so its text repr never changes.
SCHEDULE_FIGSIZE = (9.0, 2.8)
_FIGURE_DPI = 100
_STEP_COLORS = {
    "read": "#88CCEE",
    "add": "#DDDDDD",
    "write": "#44AA99",
    "acquire": "#DDCC77",
    "release": "#DDCC77",
}
_LOST_COLOR = "#CC6677"
_FUTURE_FACE = "#FFFFFF"
_FUTURE_EDGE = "#BBBBBB"
_FUTURE_TEXT = "#AAAAAA"
_X_LANE_FACE = "#F4F4F4"


# ------------------------------------------------------------ the explorer
class State(NamedTuple):
    """What the explorer's little machine looks like after one step."""

    x: int
    tmp: tuple  # (thread name, tmp value or None) for every thread, in program order
    lock_owner: Optional[str]


class Schedule(NamedTuple):
    """One order in which the threads' steps run, and what it leads to.

    Attributes:
        number: 1-based position in its :class:`Interleavings`.
        total: how many schedules the programs have.
        steps: ``(thread, step)`` pairs in the order they run.
        states: the :class:`State` after each step (same length as ``steps``).
        start: the value of ``x`` before the first step.
        final: the value of ``x`` after the last step.
        expected: the value of ``x`` when the threads run one after another.
        overwrites: for each step, the thread whose update this write erased
            (a write of a thread that never read the other thread's write),
            or None.
    """

    number: int
    total: int
    steps: tuple
    states: tuple
    start: int
    final: int
    expected: int
    overwrites: tuple

    @property
    def order(self):
        """The thread name of each step, e.g. ``("A", "A", "B", "B", "A", "B")`` (for :func:`replay`)."""
        return tuple(thread for thread, _ in self.steps)

    @property
    def lost_updates(self):
        """Number of writes that erased another thread's update."""
        return sum(1 for who in self.overwrites if who is not None)

    def describe(self):
        """One line: the steps in order, the final ``x`` and what was lost."""
        text = f"{' '.join(f'{t}.{s}' for t, s in self.steps)}  ->  x = {self.final}"
        lost = [f"{t}.{s} overwrites {who}'s update"
                for (t, s), who in zip(self.steps, self.overwrites) if who is not None]
        return text + (f"  LOST: {'; '.join(lost)}" if lost else "")

    def __str__(self):
        return f"schedule {self.number} of {self.total}: {self.describe()}"


class Interleavings(tuple):
    """The schedules made by :func:`interleavings` (a tuple of :class:`Schedule`).

    ``print()`` it (or leave it as the last expression of a cell) to see a
    table; it is the same text every time.

    Attributes:
        programs: dict of thread name -> tuple of steps.
        start: the starting value of ``x``.
    """

    def __new__(cls, schedules, programs, start):
        self = super().__new__(cls, schedules)
        self.programs = programs
        self.start = start
        return self

    @property
    def losing(self):
        """The schedules in which at least one update is lost."""
        return tuple(s for s in self if s.lost_updates)

    def __str__(self):
        lines = [f"{name}: {' '.join(steps)}" for name, steps in self.programs.items()]
        lines.append(f"x starts at {self.start}; 'add' changes only the thread's own tmp, "
                     "so it runs right after the thread's step before it.")
        lines.append("")
        width = len(str(len(self)))
        for s in self:
            lines.append(f"{s.number:>{width}}. {s.describe()}")
        lines.append("")
        expected = self[0].expected if self else self.start
        lines.append(f"{len(self.losing)} of {len(self)} schedules lose an update "
                     f"(running the threads one after another gives x = {expected}).")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def interleavings(programs, start=0):
    """List every order in which the threads of ``programs`` can run their steps.

    Each thread has its own ``tmp``; all share ``x`` and one lock.  The steps:
    ``read`` (tmp = x), ``add`` (tmp = tmp + 1), ``write`` (x = tmp),
    ``acquire`` and ``release`` (the lock).  A thread cannot ``acquire``
    while another holds the lock, so with a lock only some orders remain.
    ``add`` touches only the thread's own ``tmp``, so where it runs does not
    matter: it runs right after the thread's step before it, and schedules
    differ only in the order of the steps other threads can see.

    Example::

        >>> s = interleavings({"A": ["read", "add", "write"], "B": ["read", "add", "write"]})
        >>> len(s), len(s.losing)
        (6, 4)

    Args:
        programs: dict of thread name (non-empty str) -> list of steps; 1 to
            ``MAX_THREADS`` threads, 1 to ``MAX_STEPS`` steps each.
        start: the starting value of ``x`` (an int).

    Returns:
        Interleavings: the schedules, in a fixed order (earlier threads first).

    Raises:
        TypeError: ``programs`` is not a dict of str -> list of str, or
            ``start`` is not an int.
        ValueError: an unknown step, a program that uses ``tmp`` before
            reading, takes the lock twice, releases a lock it does not hold or
            ends holding it, or more than ``MAX_SCHEDULES`` schedules.
    """
    programs = _check_programs(programs)
    start = check_int("start", start)
    moves = {name: _moves(steps) for name, steps in programs.items()}
    count = _count_orders([len(m) for m in moves.values()])
    if count > MAX_SCHEDULES:
        raise ValueError(f"programs give up to {count} schedules; at most {MAX_SCHEDULES} are listed: "
                         "use fewer threads or shorter programs")
    names = list(programs)
    found = []

    def explore(done, holder, picked):
        if all(done[n] == len(moves[n]) for n in names):
            found.append(list(picked))
            return
        for name in names:
            if done[name] == len(moves[name]):
                continue
            move = moves[name][done[name]]
            if move[0] == "acquire" and holder is not None:
                continue  # blocked: another thread holds the lock
            new_holder = name if move[0] == "acquire" else (None if move[0] == "release" else holder)
            done[name] += 1
            picked.extend((name, step) for step in move)
            explore(done, new_holder, picked)
            del picked[len(picked) - len(move):]
            done[name] -= 1

    explore({n: 0 for n in names}, None, [])
    expected = _run(programs, [(n, s) for n in names for s in programs[n]], start)[0][-1].x
    schedules = []
    for number, steps in enumerate(found, 1):
        states, overwrites = _run(programs, steps, start)
        schedules.append(Schedule(number, len(found), tuple(steps), tuple(states), start,
                                  states[-1].x if states else start, expected, tuple(overwrites)))
    return Interleavings(schedules, programs, start)


def _check_programs(programs):
    check_instance("programs", programs, dict, 'a dict of thread name -> list of steps, e.g. {"A": ["read", '
                   '"add", "write"], "B": ["read", "add", "write"]}')
    if not 1 <= len(programs) <= MAX_THREADS:
        raise ValueError(f"programs must have 1 to {MAX_THREADS} threads, got {len(programs)}")
    checked = {}
    for name, steps in programs.items():
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"programs: each thread name must be a non-empty str, got {_describe(name)}")
        if not isinstance(steps, (list, tuple)):
            raise TypeError(f"programs[{name!r}] must be a list of steps, got {_describe(steps)}")
        if not 1 <= len(steps) <= MAX_STEPS:
            raise ValueError(f"programs[{name!r}] must have 1 to {MAX_STEPS} steps, got {len(steps)}")
        for step in steps:
            if step not in STEPS:
                raise ValueError(f"programs[{name!r}]: unknown step {step!r}; steps are "
                                 f"{', '.join(repr(s) for s in STEPS)}")
        _check_one_program(name, steps)
        checked[name] = tuple(steps)
    return checked


def _check_one_program(name, steps):
    has_read, holding = False, False
    for i, step in enumerate(steps, 1):
        if step in ("add", "write") and not has_read:
            raise ValueError(f"programs[{name!r}]: step {i} ({step!r}) uses tmp before any 'read'")
        if step == "read":
            has_read = True
        elif step == "acquire":
            if holding:
                raise ValueError(f"programs[{name!r}]: step {i} acquires the lock it already holds "
                                 "(a plain Lock would wait for itself for ever)")
            holding = True
        elif step == "release":
            if not holding:
                raise ValueError(f"programs[{name!r}]: step {i} releases the lock without holding it")
            holding = False
    if holding:
        raise ValueError(f"programs[{name!r}] ends holding the lock: add a 'release'")


def _moves(steps):
    """Group each step with the local steps right after it (one scheduling choice each)."""
    moves = []
    for step in steps:
        if step in LOCAL_STEPS and moves:
            moves[-1].append(step)
        else:
            moves.append([step])
    return moves


def _count_orders(lengths):
    """Number of ways to interleave sequences of these lengths (ignoring the lock)."""
    return math.factorial(sum(lengths)) // math.prod(math.factorial(n) for n in lengths)


def _run(programs, steps, start):
    """Run ``steps`` on the little machine; return (states, overwrites)."""
    x, holder = start, None
    tmp = {name: None for name in programs}
    last_writer = None
    read_writer = {}  # thread -> whose write it saw at its last read
    states, overwrites = [], []
    for name, step in steps:
        erased = None
        if step == "read":
            tmp[name] = x
            read_writer[name] = last_writer
        elif step == "add":
            tmp[name] += 1
        elif step == "write":
            if last_writer is not None and last_writer != name and read_writer.get(name) != last_writer:
                erased = last_writer
            x = tmp[name]
            last_writer = name
        elif step == "acquire":
            holder = name
        elif step == "release":
            holder = None
        states.append(State(x, tuple(tmp.items()), holder))
        overwrites.append(erased)
    return states, overwrites


# ------------------------------------------------------------------ drawing
def draw_schedule(schedule, upto=None):
    """Draw ``schedule`` as lanes: one per thread, plus the shared ``x``.

    Each step is a box in its thread's lane at its position in time, labelled
    with what it did (``read`` / ``tmp = 0``); the bottom lane shows ``x``
    after each step.  A write that erases another thread's update is drawn
    in red.  Steps after ``upto`` are drawn as empty outlines.

    Args:
        schedule: a :class:`Schedule` (an item of :func:`interleavings`).
        upto: how many steps have run (0 to ``len(schedule.steps)``);
            None draws them all.

    Returns:
        matplotlib.figure.Figure: a figure of fixed size (``SCHEDULE_FIGSIZE``).

    Raises:
        TypeError: ``schedule`` is not a Schedule or ``upto`` is not an int.
        ValueError: ``upto`` is out of range.
    """
    check_instance("schedule", schedule, Schedule, "a threadkit Schedule (an item of tk.interleavings(...))")
    n = len(schedule.steps)
    upto = n if upto is None else check_int("upto", upto, minimum=0, maximum=n)
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    threads = [name for name, _ in schedule.states[0].tmp] if schedule.states else []
    lanes = threads + ["x"]
    fig = Figure(figsize=SCHEDULE_FIGSIZE, dpi=_FIGURE_DPI, layout="constrained")
    ax = fig.add_subplot()
    columns = n + 1  # column 0 shows the start
    font = 8 if n <= 8 else 7 if n <= 12 else 6
    for lane in range(len(lanes)):
        if lanes[lane] == "x":
            ax.add_patch(FancyBboxPatch((-0.45, lane - 0.42), columns - 0.1, 0.84,
                                        boxstyle="round,pad=0,rounding_size=0.08", facecolor=_X_LANE_FACE,
                                        edgecolor="none", zorder=0))
    ax.text(0, len(threads), f"{schedule.start}", ha="center", va="center", fontsize=font + 1, zorder=3)
    ax.text(0, -0.75, "start", ha="center", va="center", fontsize=font, color="#555555")
    x_before = schedule.start
    for i, ((name, step), state, erased) in enumerate(zip(schedule.steps, schedule.states, schedule.overwrites)):
        col, lane = i + 1, threads.index(name)
        ran = i < upto
        face = (_LOST_COLOR if erased else _STEP_COLORS[step]) if ran else _FUTURE_FACE
        edge = "#333333" if i == upto - 1 else ("#777777" if ran else _FUTURE_EDGE)
        ax.add_patch(FancyBboxPatch((col - 0.42, lane - 0.36), 0.84, 0.72,
                                    boxstyle="round,pad=0,rounding_size=0.08", facecolor=face, edgecolor=edge,
                                    linewidth=2.0 if i == upto - 1 else 0.8, zorder=2))
        ax.text(col, lane - 0.12, step, ha="center", va="center", fontsize=font,
                color="#111111" if ran else _FUTURE_TEXT, zorder=3)
        if ran:
            ax.text(col, lane + 0.17, _effect(name, step, state), ha="center", va="center",
                    fontsize=font - 1, color="#111111", zorder=3)
            changed = state.x != x_before
            ax.text(col, len(threads), f"{state.x}", ha="center", va="center", fontsize=font + 1,
                    fontweight="bold" if changed else "normal", color="#111111" if changed else "#777777",
                    zorder=3)
            x_before = state.x
        ax.text(col, -0.75, f"{i + 1}", ha="center", va="center", fontsize=font, color="#555555")
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(len(lanes) - 0.5, -1.0)
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([f"thread {t}" for t in threads] + ["shared x"], fontsize=9)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    state_x = schedule.states[upto - 1].x if upto else schedule.start
    title = f"schedule {schedule.number} of {schedule.total}, after step {upto} of {n}: x = {state_x}"
    lost = [f"{t}.{s} (step {i + 1}) overwrites {who}'s update"
            for i, ((t, s), who) in enumerate(zip(schedule.steps, schedule.overwrites)) if who and i < upto]
    if lost:
        title += "  |  lost: " + "; ".join(lost)
    elif upto == n:
        title += "  |  no update lost"
    ax.set_title(title, fontsize=10, loc="left")
    _enable_figure_display()
    return fig


def _effect(name, step, state):
    tmp = dict(state.tmp)[name]
    if step in ("read", "add"):
        return f"tmp = {tmp}"
    if step == "write":
        return f"x = {state.x}"
    return "holds lock" if step == "acquire" else "lock free"


def _enable_figure_display():
    """Let IPython show a bare matplotlib Figure (the timeline module knows how)."""
    from .. import _timeline

    _timeline._enable_notebook_rendering()


# ------------------------------------------------------------------ widget
class Stepper:
    """A widget stepping through the schedules of an :class:`Interleavings`; made by :func:`step_through`.

    Attributes:
        widget: the ``ipywidgets.VBox`` shown in the notebook.
        schedule_picker: the dropdown choosing a schedule.
        step_slider: the slider choosing how many steps have run.
        figure: the matplotlib Figure currently shown.
    """

    def __init__(self, schedules, number, upto):
        import ipywidgets as widgets

        self._schedules = schedules
        options = [(f"{s.number}: {' '.join(f'{t}.{st}' for t, st in s.steps if st not in LOCAL_STEPS)}"
                    f"{'  (lost)' if s.lost_updates else ''}", s.number) for s in schedules]
        self.schedule_picker = widgets.Dropdown(options=options, value=number, description="schedule",
                                                layout=widgets.Layout(width="520px"))
        steps = len(schedules[number - 1].steps)
        self.step_slider = widgets.IntSlider(min=0, max=steps, value=steps if upto is None else upto,
                                             description="steps run", continuous_update=False,
                                             layout=widgets.Layout(width="520px"))
        self._out = widgets.Output()
        self.widget = widgets.VBox([self.schedule_picker, self.step_slider, self._out])
        self.figure = None
        self.schedule_picker.observe(self._on_schedule, names="value")
        self.step_slider.observe(lambda _change: self._redraw(), names="value")
        self._redraw()

    @property
    def schedule(self):
        """The :class:`Schedule` currently chosen."""
        return self._schedules[self.schedule_picker.value - 1]

    def _on_schedule(self, _change):
        steps = len(self.schedule.steps)
        if self.step_slider.max != steps:
            self.step_slider.max = steps
        self.step_slider.value = min(self.step_slider.value, steps)
        self._redraw()

    def _redraw(self):
        self.figure = draw_schedule(self.schedule, self.step_slider.value)
        self._out.outputs = ({"output_type": "display_data", "data": _png_bundle(self.figure), "metadata": {}},)

    def _repr_mimebundle_(self, **kwargs):
        return widget_mimebundle(self, **kwargs)

    def __repr__(self):
        return f"<Stepper over {len(self._schedules)} schedules>"


def step_through(schedules, number=1, upto=None):
    """A widget: pick a schedule, then move a slider to run it step by step.

    Args:
        schedules: an :class:`Interleavings` (what :func:`interleavings` returns).
        number: the schedule shown first (1-based).
        upto: how many of its steps have run at first (None: all).

    Returns:
        Stepper: shows itself as the widget when it is the last expression of a cell.

    Raises:
        TypeError: ``schedules`` is not an Interleavings, or ``number``/``upto`` is not an int.
        ValueError: ``schedules`` is empty, or ``number``/``upto`` is out of range.
    """
    check_instance("schedules", schedules, Interleavings, "the result of tk.interleavings(...)")
    if not schedules:
        raise ValueError("schedules must hold at least one schedule, got none")
    number = check_int("number", number, minimum=1, maximum=len(schedules))
    if upto is not None:
        upto = check_int("upto", upto, minimum=0, maximum=len(schedules[number - 1].steps))
    return Stepper(schedules, number, upto)


def _png_bundle(figure):
    import base64
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_FIGURE_DPI)
    return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": repr(figure)}


# ------------------------------------------------------ the switch-interval cliff
LOSSES_FIGSIZE = (9.0, 3.2)
_RUN_COLOR = "#0077BB"
_MEAN_COLOR = "#333333"
_SWITCH_COLOR = "#EE7733"


def draw_lost_updates(losses, *, switch_iterations=None, title=None):
    """Plot the share of updates a live race lost, against the iterations per thread.

    Args:
        losses: dict of iterations per thread (int >= 1) -> list of the
            fractions lost in each run (numbers from 0 to 1), e.g.
            ``{1_000: [0.0, 0.0, 0.0], 200_000: [0.41, 0.37, 0.52]}``.
        switch_iterations: how many iterations one thread runs in one switch
            interval (``sys.getswitchinterval()``), drawn as a vertical line;
            None draws no line.
        title: the figure title (a str), or None for a default one.

    Returns:
        matplotlib.figure.Figure: of fixed size ``LOSSES_FIGSIZE``, x on a log scale.

    Raises:
        TypeError, ValueError: ``losses`` is empty or holds something else than
            the above, ``switch_iterations`` is not a positive number, ``title`` not a str.
    """
    checked = _check_losses(losses)
    if switch_iterations is not None:
        switch_iterations = check_number("switch_iterations", switch_iterations, minimum=1e-9)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {_describe(title)}")
    from matplotlib.figure import Figure

    fig = Figure(figsize=LOSSES_FIGSIZE, dpi=_FIGURE_DPI, layout="constrained")
    ax = fig.add_subplot()
    xs = sorted(checked)
    for n in xs:
        ax.scatter([n] * len(checked[n]), [100 * f for f in checked[n]], s=28, color=_RUN_COLOR,
                   alpha=0.8, zorder=3, label="one run" if n == xs[0] else None)
    ax.plot(xs, [100 * sum(checked[n]) / len(checked[n]) for n in xs], color=_MEAN_COLOR, linewidth=1.5,
            zorder=2, label="mean of the runs")
    if switch_iterations is not None:
        ax.axvline(switch_iterations, color=_SWITCH_COLOR, linestyle="--", linewidth=1.8, zorder=1,
                   label="a thread's loop lasts one switch interval")
    ax.set_xscale("log")
    ax.set_xticks(xs, [f"{n:,}" for n in xs])
    ax.minorticks_off()
    ax.set_xlim(min(xs) / 1.6, max(xs) * 1.6)
    ax.set_ylim(-4, 100)
    ax.set_xlabel("iterations per thread (log scale)")
    ax.set_ylabel("updates lost (%)")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(title or "tmp = x; f(); x = tmp + 1 in threads: updates lost per run", fontsize=10, loc="left")
    _enable_figure_display()
    return fig


def _check_losses(losses):
    example = "a dict of iterations -> list of fractions lost, e.g. {1000: [0.0, 0.0], 200000: [0.4, 0.5]}"
    check_instance("losses", losses, dict, example)
    if not losses:
        raise ValueError(f"losses must hold at least one iteration count, got an empty dict; {example}")
    checked = {}
    for n, runs in losses.items():
        check_int("each iteration count in losses", n, minimum=1)
        if not isinstance(runs, (list, tuple)) or not runs:
            raise TypeError(f"losses[{n!r}] must be a non-empty list of fractions, got {_describe(runs)}")
        checked[n] = [check_number(f"each fraction in losses[{n!r}]", f, minimum=0, maximum=1) for f in runs]
    return checked


# ------------------------------------------------------------------ counter += 1, per build
#: Documented outcome on a free-threaded build (cpython#125646; one published run on
#: 3.15 free-threaded, 4 threads x 100,000 increments).
FREE_THREADED_EXAMPLE = "160,723 of 400,000 kept on 3.15 free-threaded (cpython#125646)"


def counter_verdict(lost, total, build=None):
    """Judge ``counter += 1`` in threads: should it lose updates on this build, and did it?

    With the GIL on, CPython 3.10+ switches threads only at calls and backward
    jumps, and ``counter += 1`` (read, add, write, no call) loses nothing.
    With the GIL off (a free-threaded build), threads run at the same time and
    it loses updates (documented, ``FREE_THREADED_EXAMPLE``).

    Args:
        lost: updates lost in the run (int, 0 to ``total``).
        total: updates the threads made together (int >= 1).
        build: the :class:`PythonBuild` to judge for; None: the running one.

    Returns:
        BuildVerdict: expected versus measured; ``as_expected`` says whether they agree.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range.
    """
    total = check_int("total", total, minimum=1)
    lost = check_int("lost", lost, minimum=0, maximum=total)
    build = check_build(build)
    measured = f"{lost:,} of {total:,} updates lost"
    if build.threads_run_python_in_parallel:
        expected = f"updates lost: without the GIL threads really overlap (e.g. {FREE_THREADED_EXAMPLE})"
        return BuildVerdict(build.describe(), expected, measured, lost > 0)
    expected = "no update lost: with the GIL, 3.10+ switches threads only at calls and backward jumps"
    return BuildVerdict(build.describe(), expected, measured, lost == 0)


# ------------------------------------------------------------------ replay
def replay(programs, order, *, timeout=1.0):
    """Run real code in real threads, forcing the steps into exactly ``order``.

    One thread per program.  Each step is a function called with the
    thread's own dict (its private ``tmp``, say ``mine["tmp"]``).  Before a
    step, its thread waits for its *turn* (an Event); after the step it hands
    the turn to whichever thread runs the next step of ``order``.  So the
    threads really run concurrently, but the scheduler has no choice left::

        shared = {"x": 0}
        def read(mine):  mine["tmp"] = shared["x"]
        def add(mine):   mine["tmp"] += 1
        def write(mine): shared["x"] = mine["tmp"]
        tk.replay({"A": [read, add, write], "B": [read, add, write]},
                  ["A", "A", "B", "B", "A", "B"])       # x ends at 1, every time

    Args:
        programs: dict of thread name -> list of step functions ``f(mine)``.
        order: the thread name of each step (e.g. ``schedule.order``); each
            thread appears once per step of its program.
        timeout: seconds each step may take (0.001 to 60); a step that blocks
            longer (e.g. on a lock another thread holds) stops the replay.

    Returns:
        dict: thread name -> that thread's ``mine`` dict after the last step.

    Raises:
        TypeError, ValueError: bad ``programs``, ``order`` or ``timeout``.
        TimeoutError: a step did not get its turn or did not finish in time
            (the order cannot be followed, e.g. a lock blocks it).
        Exception: whatever a step raised, unchanged.
    """
    check_instance("programs", programs, dict, "a dict of thread name -> list of step functions")
    if not programs:
        raise ValueError("programs must have at least one thread, got an empty dict")
    for name, steps in programs.items():
        if not isinstance(steps, (list, tuple)):
            raise TypeError(f"programs[{name!r}] must be a list of step functions, got {_describe(steps)}")
        for step in steps:
            check_callable(f"each step of programs[{name!r}]", step)
    if not isinstance(order, (list, tuple)):
        raise TypeError(f"order must be a list or tuple of thread names, got {_describe(order)}")
    for name in order:
        if name not in programs:
            known = ", ".join(map(repr, programs))
            raise ValueError(f"order names thread {name!r}, which is not in programs ({known})")
    for name, steps in programs.items():
        if order.count(name) != len(steps):
            raise ValueError(f"order must name thread {name!r} once per step ({len(steps)} times), "
                             f"got {order.count(name)} times")
    timeout = check_number("timeout", timeout, minimum=0.001, maximum=60)

    # turn[i] is set when step i of the order may run; turn[-1] when all are done.
    turn = [threading.Event() for _ in range(len(order) + 1)]
    mine = {name: {} for name in programs}
    problems = []

    def run(name):
        my_positions = [i for i, who in enumerate(order) if who == name]
        for step, position in zip(programs[name], my_positions):
            # each step before this one may take up to `timeout`
            if not turn[position].wait(timeout * (position + 1)) or problems:
                return
            try:
                step(mine[name])
            except BaseException as exc:  # handed to the caller below
                problems.append(exc)
                for event in turn:  # stop the replay: wake every thread (they see the problem)
                    event.set()
                return
            turn[position + 1].set()  # hand the turn to whoever runs the next step

    threads = [threading.Thread(target=run, args=(name,), name=f"replay {name}", daemon=True) for name in programs]
    for thread in threads:
        thread.start()
    turn[0].set()
    finished = turn[-1].wait(timeout * (len(order) + 1))
    for thread in threads:
        thread.join(timeout)
    if problems:
        raise problems[0]
    if not finished or any(thread.is_alive() for thread in threads):
        # turn[i] is set once step i may run, so the first unset one follows the stuck step
        done = next((i for i, event in enumerate(turn) if not event.is_set()), len(turn)) - 1
        stuck = f"step {done + 1} (thread {order[done]!r})" if done < len(order) else "a thread"
        raise TimeoutError(f"replay stopped after step {done} of {len(order)}: {stuck} did not run or "
                           f"finish within {timeout:g} s; is it blocked, e.g. on a lock another thread holds?")
    return mine


# ---------------------------------------------------------------- exercise
#: Seconds the check pauses after each read of ``_balance`` (see :func:`check_account`).
READ_PAUSE = 0.0001
#: Each pause lasts READ_PAUSE times a random factor in this range, so that threads do not
#: run in lock-step (see MIXED_ROUNDS).
READ_PAUSE_SPREAD = (0.5, 1.5)
#: Threads and operations per thread the check uses.
CHECK_THREADS = 8
DEPOSITS_PER_THREAD = 20
WITHDRAW_ROUNDS = 3
MIXED_OPS_PER_THREAD = 15
#: Rounds of deposits and withdrawals at once.  One round missed an Account whose deposit and
#: withdraw take two different locks in 15 of 300 checks on 3.14 (5 of 300 with random pauses,
#: 0 of 400 on 3.11): the two threads can interleave without ever overlapping a read and a write.
MIXED_ROUNDS = 3
_PHASE_TIMEOUT = 10.0
_SINGLE_THREAD_TIMEOUT = 2.0


@grader
def check_account(account_class):
    """Check the exercise's thread-safe ``Account`` class.

    The class must offer ``Account(balance=0)``, ``deposit(amount)``,
    ``withdraw(amount) -> bool`` (refusing to overdraw: ``False`` and no
    change) and a ``balance`` property, and keep the balance in the attribute
    ``self._balance``.

    How the check makes races show every time: it uses a subclass in which
    reading ``self._balance`` pauses for 0.1 ms after the value was read, as
    if the balance lived in a database.  In that pause other threads run, so
    code that reads the balance and writes it back (or checks it and then
    debits it) without holding a lock across both loses deposits or
    overdraws, on every run.  Code that holds a lock across the read and the
    write is only slowed down.  Then ``CHECK_THREADS`` threads, started
    together by a Barrier, deposit at once, withdraw at once, and do both at
    once.

    Args:
        account_class: the learner's class.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: what is wrong (lost deposits, overdrafts, wrong
            results, a hang), with a hint.
        TypeError: ``account_class`` is not a class.
    """
    if not isinstance(account_class, type):
        raise TypeError(f"account_class must be a class (the Account class itself, not an instance), "
                        f"got {_describe(account_class)}")
    for cls in account_class.__mro__:
        attr = cls.__dict__.get("_balance")
        if attr is not None and type(attr).__name__ != "member_descriptor":
            fail([f"{cls.__name__} defines _balance itself ({type(attr).__name__}); the check needs a plain "
                  "attribute: set self._balance in __init__ and read and write it in the methods."],
                 "keep the interface of the stub: store the balance in self._balance.")
    probe = _probe_class(account_class)
    try:
        call_with_timeout(_check_single_thread, probe, timeout=_SINGLE_THREAD_TIMEOUT,
                          what="Account used by a single thread")
    except ExerciseError as exc:
        if "did not return" not in str(exc):
            raise
        fail([f"used by a single thread, the account did not answer within {_SINGLE_THREAD_TIMEOUT:g} s: "
              "a method waits for ever."],
             "a plain Lock cannot be taken twice by the same thread (e.g. withdraw holding the lock and "
             "reading self.balance, which takes it again): use an RLock, or read self._balance directly "
             "inside the lock.")
    problems = []
    problems += call_with_timeout(_check_deposits, probe, timeout=_PHASE_TIMEOUT,
                                  what="deposits from several threads")
    problems += call_with_timeout(_check_withdrawals, probe, timeout=_PHASE_TIMEOUT,
                                  what="withdrawals from several threads")
    if not problems:
        problems += call_with_timeout(_check_mixed, probe, timeout=_PHASE_TIMEOUT,
                                      what="deposits and withdrawals at the same time")
    if problems:
        fail(problems, "create one Lock in __init__ (self._lock) and hold it, in every method, from the read "
                       "of self._balance to the write: in withdraw, across the check and the debit.")
    return CheckPassed(f"Account is thread-safe: {CHECK_THREADS} threads depositing, withdrawing and both at once "
                       "lost no deposit and never overdrew it.")


def _probe_class(account_class):
    """A subclass whose ``_balance`` pauses after each read and remembers its lowest value."""

    class Probe(account_class):
        def _get_balance(self):
            try:
                value = self.__dict__["_tk_balance"]
            except KeyError:
                raise AttributeError("'Account' object has no attribute '_balance' (not set yet)") from None
            time.sleep(READ_PAUSE * random.uniform(*READ_PAUSE_SPREAD))  # other threads run here, between
            # a read and the write that follows; the random length keeps threads from running in lock-step
            return value

        def _set_balance(self, value):
            self.__dict__["_tk_balance"] = value
            lowest = self.__dict__.get("_tk_lowest")
            if lowest is None or value < lowest:
                self.__dict__["_tk_lowest"] = value

        _balance = property(_get_balance, _set_balance)

    Probe.__name__ = Probe.__qualname__ = account_class.__name__
    return Probe


def _new_account(probe, balance):
    try:
        account = probe(balance)
    except TypeError as exc:
        fail([f"Account({balance}) raised TypeError: {exc}"], "the constructor must be Account(balance=0).")
    if "_tk_balance" not in account.__dict__:
        fail([f"Account({balance}) did not set self._balance."],
             "store the balance in self._balance (the check watches that attribute).")
    return account


def _balance_of(account):
    try:
        return account.balance
    except Exception as exc:
        fail([f"reading account.balance raised {type(exc).__name__}: {exc}"],
             "balance must be a property returning the current balance.")


def _check_single_thread(probe):
    problems = []
    account = _new_account(probe, 100)
    if _balance_of(account) != 100:
        problems.append(f"Account(100).balance is {_balance_of(account)!r}, expected 100.")
    account.deposit(50)
    if _balance_of(account) != 150:
        problems.append(f"after deposit(50) on an account with 100, balance is {_balance_of(account)!r}, "
                        "expected 150.")
    else:
        refused = account.withdraw(200)
        if refused is not False:
            problems.append(f"withdraw(200) with a balance of 150 returned {refused!r}, expected False.")
        if _balance_of(account) != 150:
            problems.append(f"a refused withdraw(200) changed the balance from 150 to {_balance_of(account)!r}.")
        else:
            accepted = account.withdraw(150)
            if accepted is not True:
                problems.append(f"withdraw(150) with a balance of 150 returned {accepted!r}, expected True.")
            if _balance_of(account) != 0:
                problems.append(f"after withdraw(150) from 150, balance is {_balance_of(account)!r}, expected 0.")
    if problems:
        fail(problems, "get it right for one thread first: deposit adds, withdraw subtracts only when the "
                       "balance covers the amount and returns True or False.")


def _hammer(workers):
    """Run each function of ``workers`` in its own thread, all released at once; return errors."""
    start = threading.Barrier(len(workers), timeout=_PHASE_TIMEOUT)
    errors = []

    def run(work):
        try:
            start.wait()
            work()
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:  # reported by the check
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,), name=f"account-check-{i}", daemon=True)
               for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + _PHASE_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        fail([f"some threads did not finish within {_PHASE_TIMEOUT:g} s: a deadlock?"],
             "a plain Lock cannot be taken twice by the same thread (e.g. withdraw holding the lock and "
             "reading self.balance, which takes it again): use an RLock, or read self._balance directly "
             "inside the lock.")
    return [f"a thread's call raised {type(e).__name__}: {e}" for e in errors[:1]]


def _check_deposits(probe):
    account = _new_account(probe, 0)

    def depositor():
        for _ in range(DEPOSITS_PER_THREAD):
            account.deposit(1)

    problems = _hammer([depositor] * CHECK_THREADS)
    expected = CHECK_THREADS * DEPOSITS_PER_THREAD
    if not problems and _balance_of(account) != expected:
        problems.append(f"deposits were lost: {CHECK_THREADS} threads each deposited 1, "
                        f"{DEPOSITS_PER_THREAD} times, but the balance did not end at {expected}.")
    return problems


def _check_withdrawals(probe):
    problems = []
    for _ in range(WITHDRAW_ROUNDS):
        account = _new_account(probe, 100)
        results = []

        def withdrawer():
            results.append(account.withdraw(60))

        problems += _hammer([withdrawer] * CHECK_THREADS)
        if problems:
            break
        if any(r is not True and r is not False for r in results):
            problems.append("withdraw must return True or False.")
            break
        final, lowest = _balance_of(account), account.__dict__["_tk_lowest"]
        if results.count(True) != 1 or final != 40 or lowest < 0:
            problems.append(f"the account was overdrawn: {CHECK_THREADS} threads each tried to withdraw 60 from "
                            "100 at the same time, and more than one withdrawal went through (exactly one "
                            "should, leaving 40).")
            break
    return problems


def _check_mixed(probe):
    for _ in range(MIXED_ROUNDS):
        problems = _check_mixed_once(probe)
        if problems:
            return problems
    return []


def _check_mixed_once(probe):
    account = _new_account(probe, 0)
    accepted = []

    def depositor():
        for _ in range(MIXED_OPS_PER_THREAD):
            account.deposit(5)

    def withdrawer():
        for _ in range(MIXED_OPS_PER_THREAD):
            accepted.append(account.withdraw(5))

    half = CHECK_THREADS // 2
    problems = _hammer([depositor] * half + [withdrawer] * half)
    if problems:
        return problems
    expected = half * MIXED_OPS_PER_THREAD * 5 - 5 * accepted.count(True)
    if _balance_of(account) != expected:
        problems.append("with deposits and withdrawals at the same time, the balance does not match "
                        "what was deposited minus what was withdrawn (an update was lost; do deposit and "
                        "withdraw use the same lock?).")
    if account.__dict__["_tk_lowest"] < 0:
        problems.append("with deposits and withdrawals at the same time, the balance went below 0.")
    return problems
