"""Lesson helpers of notebook 02 (shared state and locks).

The scheduler game (:func:`interleavings`, :func:`draw_schedule`, :func:`step_through`, :func:`replay`),
the switch-interval cliff, the ``counter += 1`` verdict and the grader of the exercise's ``Account``.
"""

import math
import random
import threading
import time
from collections import Counter
from typing import NamedTuple

from .._build import BuildVerdict, PythonBuild, python_build
from .._checking import CheckPassed, call_with_timeout, fail, grader
from .._display import figure_bundle, new_figure, widget_bundle
from .._validate import A_CALLABLE, A_STR, a_number, accepts, an_int, describe, instance_of, optional, make_spec, valid

__all__ = ["interleavings", "draw_schedule", "step_through", "replay", "draw_lost_updates", "counter_verdict",
           "check_account"]

#: The steps of a thread program: tmp = x, tmp = tmp + 1, x = tmp, and the lock.
STEPS = ("read", "add", "write", "acquire", "release")
LOCAL_STEPS = ("add",)  # touch only the thread's own tmp: run right after the step before
#: Most threads and steps per program, and most schedules, :func:`interleavings` accepts.
MAX_THREADS, MAX_STEPS, MAX_SCHEDULES = 4, 8, 5000
#: Figure sizes, fixed so that their text repr never changes.
SCHEDULE_FIGSIZE, LOSSES_FIGSIZE = (9.0, 2.8), (9.0, 3.2)
_STEP_COLORS = {"read": "#88CCEE", "add": "#DDDDDD", "write": "#44AA99", "acquire": "#DDCC77", "release": "#DDCC77"}
_LOST_COLOR, _X_LANE_FACE = "#CC6677", "#F4F4F4"
_FUTURE_FACE, _FUTURE_EDGE, _FUTURE_TEXT = "#FFFFFF", "#BBBBBB", "#AAAAAA"
_RUN_COLOR, _MEAN_COLOR, _SWITCH_COLOR = "#0077BB", "#333333", "#EE7733"


class State(NamedTuple):
    """The little machine after one step: ``x`` and each thread's ``(name, tmp)``."""
    x: int
    tmp: tuple


class Schedule(NamedTuple):
    """One order of the threads' steps (an item of :func:`interleavings`) and what it leads to.

    ``steps``: ``(thread, step)`` pairs; ``states``: the :class:`State` after each; ``overwrites``:
    for each step the thread whose update it erased (or None).
    """
    number: int
    total: int
    steps: tuple
    states: tuple
    start: int
    final: int
    overwrites: tuple

    @property
    def order(self):
        """The thread name of each step, e.g. ``("A", "A", "B", "B", "A", "B")`` (for :func:`replay`)."""
        return tuple(thread for thread, _ in self.steps)

    @property
    def lost_updates(self):
        """Number of writes that erased another thread's update."""
        return sum(1 for who in self.overwrites if who is not None)

    def __str__(self):
        lost = [f"{t}.{s} overwrites {who}'s update" for (t, s), who in zip(self.steps, self.overwrites) if who]
        return (f"schedule {self.number} of {self.total}: {' '.join(f'{t}.{s}' for t, s in self.steps)}  ->  "
                f"x = {self.final}" + (f"  LOST: {'; '.join(lost)}" if lost else ""))


class Interleavings(tuple):
    """The schedules of :func:`interleavings`; printed one per line."""
    @property
    def losing(self):
        """The schedules in which at least one update is lost."""
        return tuple(s for s in self if s.lost_updates)

    def __repr__(self):
        return "\n".join(map(str, self))


_PROGRAMS = 'a dict of thread name -> list of steps, e.g. {"A": ["read", "add", "write"], "B": [...]}'


def _parse_programs(name, programs):
    if not 1 <= len(valid(name, programs, instance_of(dict, _PROGRAMS))) <= MAX_THREADS:
        raise ValueError(f"{name} must have 1 to {MAX_THREADS} threads, got {len(programs)}")
    for thread, steps in programs.items():
        where = f"{name}[{thread!r}]"
        if not 1 <= len(valid(where, steps, instance_of((list, tuple), "a list of steps"))) <= MAX_STEPS:
            raise ValueError(f"{where} must have 1 to {MAX_STEPS} steps, got {len(steps)}")
        has_read, holding = False, False
        for i, step in enumerate(steps, 1):
            wrong = (f"is unknown; steps are {', '.join(map(repr, STEPS))}" if step not in STEPS else
                     "uses tmp before any 'read'" if step in ("add", "write") and not has_read else
                     "acquires the lock it already holds (a plain Lock would wait for itself for ever)"
                     if step == "acquire" and holding else
                     "releases the lock without holding it" if step == "release" and not holding else None)
            if wrong:
                raise ValueError(f"{where}: step {i} ({step!r}) {wrong}")
            has_read, holding = has_read or step == "read", step == "acquire" or (holding and step != "release")
        if holding:
            raise ValueError(f"{where} ends holding the lock: add a 'release'")
    return {thread: tuple(steps) for thread, steps in programs.items()}


@accepts(programs=make_spec(_PROGRAMS, _parse_programs), start=an_int())
def interleavings(programs, start=0):
    """List every order in which the threads of ``programs`` can run their steps.

    Each thread has its own ``tmp``; all share ``x`` and one lock.

    Args:
        programs: dict of thread name -> list of :data:`STEPS`, e.g. ``{"A": ["read", "add", "write"], ...}``.
        start: the starting value of ``x``.

    Returns:
        Interleavings: a tuple of :class:`Schedule`, earlier threads first.

    Raises:
        TypeError, ValueError: a malformed program, or more than ``MAX_SCHEDULES`` schedules.
    """
    moves = {name: [] for name in programs}  # each step with the local steps right after it: one choice each
    for name, steps in programs.items():
        for step in steps:  # a local step never comes first: it needs a read before it
            if step in LOCAL_STEPS:
                moves[name][-1].append(step)
            else:
                moves[name].append([step])
    lengths = [len(m) for m in moves.values()]
    count = math.factorial(sum(lengths)) // math.prod(math.factorial(n) for n in lengths)
    if count > MAX_SCHEDULES:
        raise ValueError(f"programs give up to {count} schedules; at most {MAX_SCHEDULES} are listed: "
                         "use fewer threads or shorter programs")
    found = []

    def explore(done, holder, picked):
        if all(done[n] == len(moves[n]) for n in moves):
            found.append(list(picked))
        for name in moves:
            move = moves[name][done[name]] if done[name] < len(moves[name]) else None
            if move is None or (move[0] == "acquire" and holder is not None):
                continue  # this thread is done, or blocked: another thread holds the lock
            done[name] += 1
            explore(done, name if move[0] == "acquire" else None if move[0] == "release" else holder,
                    picked + [(name, step) for step in move])
            done[name] -= 1
    explore(dict.fromkeys(moves, 0), None, [])
    runs = [(steps, *_run(programs, steps, start)) for steps in found]
    return Interleavings(Schedule(number, len(found), tuple(steps), tuple(states), start, states[-1].x,
                                  tuple(overwrites)) for number, (steps, states, overwrites) in enumerate(runs, 1))


def _run(programs, steps, start):
    """Run ``steps`` on the little machine; return (states, overwrites)."""
    x, last_writer, tmp, read_writer = start, None, dict.fromkeys(programs), {}  # read_writer: whose write it read
    states, overwrites = [], []
    for name, step in steps:
        erased = None
        if step == "read":
            tmp[name], read_writer[name] = x, last_writer
        elif step == "add":
            tmp[name] += 1
        elif step == "write":
            if last_writer not in (None, name) and read_writer.get(name) != last_writer:
                erased = last_writer
            x, last_writer = tmp[name], name
        states.append(State(x, tuple(tmp.items())))
        overwrites.append(erased)
    return states, overwrites


@accepts(schedule=instance_of(Schedule, "a Schedule (an item of interleavings(...))"), upto=optional(an_int(0)))
def draw_schedule(schedule, upto=None):
    """Draw ``schedule`` as lanes, one per thread plus the shared ``x``; a write that erases an update is red.

    Args:
        schedule: a :class:`Schedule` (an item of :func:`interleavings`).
        upto: how many steps have run (0 to ``len(schedule.steps)``); None: all.

    Returns:
        matplotlib.figure.Figure: of fixed size ``SCHEDULE_FIGSIZE``.
    """
    from matplotlib.patches import FancyBboxPatch
    n = len(schedule.steps)
    upto = n if upto is None else valid("upto", upto, an_int(0, n))
    threads = [name for name, _ in schedule.states[0].tmp]
    ax = new_figure(SCHEDULE_FIGSIZE).add_subplot()
    font = 8 if n <= 8 else 7 if n <= 12 else 6

    def box(col, lane, width, height, **style):
        ax.add_patch(FancyBboxPatch((col - width / 2, lane - height / 2), width, height,
                                    boxstyle="round,pad=0,rounding_size=0.08", **style))

    def text(col, lane, label, size=font, color="#111111", **style):
        ax.text(col, lane, label, ha="center", va="center", fontsize=size, color=color, zorder=3, **style)
    box(n / 2, len(threads), n + 0.9, 0.84, facecolor=_X_LANE_FACE, edgecolor="none", zorder=0)
    text(0, len(threads), f"{schedule.start}", font + 1, "black")
    text(0, -0.75, "start", color="#555555")
    x_before = schedule.start
    for i, ((name, step), state, erased) in enumerate(zip(schedule.steps, schedule.states, schedule.overwrites)):
        col, lane, ran, current = i + 1, threads.index(name), i < upto, i == upto - 1
        box(col, lane, 0.84, 0.72, facecolor=(_LOST_COLOR if erased else _STEP_COLORS[step]) if ran else _FUTURE_FACE,
            edgecolor="#333333" if current else "#777777" if ran else _FUTURE_EDGE,
            linewidth=2.0 if current else 0.8, zorder=2)
        text(col, lane - 0.12, step, color="#111111" if ran else _FUTURE_TEXT)
        if ran:
            text(col, lane + 0.17, _effect(name, step, state), font - 1)
            changed = state.x != x_before
            text(col, len(threads), f"{state.x}", font + 1, "#111111" if changed else "#777777",
                 fontweight="bold" if changed else "normal")
            x_before = state.x
        text(col, -0.75, f"{i + 1}", color="#555555")
    ax.set_xlim(-0.6, n + 0.6)
    ax.set_ylim(len(threads) + 0.5, -1.0)
    ax.set_yticks(range(len(threads) + 1), [f"thread {t}" for t in threads] + ["shared x"], fontsize=9)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    lost = [f"{t}.{s} (step {i + 1}) overwrites {who}'s update"
            for i, ((t, s), who) in enumerate(zip(schedule.steps[:upto], schedule.overwrites)) if who]
    title = (f"schedule {schedule.number} of {schedule.total}, after step {upto} of {n}: "
             f"x = {schedule.states[upto - 1].x if upto else schedule.start}")
    title += "  |  lost: " + "; ".join(lost) if lost else "  |  no update lost" if upto == n else ""
    ax.set_title(title, fontsize=10, loc="left")
    return ax.figure


def _effect(name, step, state):
    """What ``step`` left: the thread's ``tmp``, the shared ``x`` or the lock."""
    if step in ("read", "add"):
        return f"tmp = {dict(state.tmp)[name]}"
    return f"x = {state.x}" if step == "write" else "holds lock" if step == "acquire" else "lock free"


class Stepper:
    """The widget of :func:`step_through`: ``schedule_picker``, ``step_slider`` and the ``figure`` shown."""
    def __init__(self, schedules, number, upto):
        import ipywidgets as widgets
        self._schedules, steps = schedules, len(schedules[0].steps)  # every schedule runs every step
        options = [(f"{s.number}: {' '.join(f'{t}.{st}' for t, st in s.steps if st not in LOCAL_STEPS)}"
                    f"{'  (lost)' if s.lost_updates else ''}", s.number) for s in schedules]
        self.schedule_picker = widgets.Dropdown(options=options, value=number, description="schedule",
                                                layout=widgets.Layout(width="520px"))
        self.step_slider = widgets.IntSlider(min=0, max=steps, value=steps if upto is None else upto,
                                             description="steps run", continuous_update=False,
                                             layout=widgets.Layout(width="520px"))
        self._out = widgets.Output()
        self.widget = widgets.VBox([self.schedule_picker, self.step_slider, self._out])
        for control in (self.schedule_picker, self.step_slider):
            control.observe(self._redraw, names="value")
        self._redraw()

    def _redraw(self, _change=None):
        self.figure = draw_schedule(self._schedules[self.schedule_picker.value - 1], self.step_slider.value)
        self._out.outputs = ({"output_type": "display_data", "data": figure_bundle(self.figure), "metadata": {}},)

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self, **kwargs)

    def __repr__(self):
        return f"<Stepper over {len(self._schedules)} schedules>"


@accepts(schedules=instance_of(Interleavings, "the result of interleavings(...)"), number=an_int(1),
         upto=optional(an_int(0)))
def step_through(schedules, number=1, upto=None):
    """A widget: pick a schedule, then move a slider to run it step by step.

    Args:
        schedules: what :func:`interleavings` returned.
        number: the schedule shown first (1-based).
        upto: how many of its steps have run at first (None: all).

    Returns:
        Stepper: shown as the widget when it is the last expression of a cell.
    """
    number = valid("number", number, an_int(1, len(schedules)))
    return Stepper(schedules, number, None if upto is None else valid("upto", upto, an_int(0, len(schedules[0].steps))))


@accepts(programs=instance_of(dict, "a dict of thread name -> list of step functions"),
         order=instance_of((list, tuple), "a list or tuple of thread names"), timeout=a_number(0.001, 60))
def replay(programs, order, *, timeout=1.0):
    """Run real code in real threads, one per program, forcing the steps into exactly ``order``.

    Args:
        programs: dict of thread name -> list of step functions ``f(mine)``.
        order: the thread name of each step (e.g. ``schedule.order``).
        timeout: seconds each step may take (0.001 to 60).

    Returns:
        dict: thread name -> that thread's ``mine`` after the last step.

    Raises:
        TimeoutError: a step did not get its turn or finish in time.
    """
    for name, steps in programs.items():
        for step in valid(f"programs[{name!r}]", steps, instance_of((list, tuple), "a list of step functions")):
            valid(f"each step of programs[{name!r}]", step, A_CALLABLE)
    if Counter(order) != {name: len(steps) for name, steps in programs.items() if steps}:
        wanted = ", ".join(f"{name!r}: {len(steps)}" for name, steps in programs.items())
        raise ValueError(f"order must name each thread once per step of its program ({wanted}), got {describe(order)}")
    turn = [threading.Event() for _ in range(len(order) + 1)]  # turn[i]: step i may run; turn[-1]: all done
    mine, problems = {name: {} for name in programs}, []

    def run(name):
        for step, position in zip(programs[name], [i for i, who in enumerate(order) if who == name]):
            if not turn[position].wait(timeout * (position + 1)) or problems:  # each step before may take timeout
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
        done = next((i for i, event in enumerate(turn) if not event.is_set()), len(turn)) - 1  # before the unset
        stuck = f"step {done + 1} (thread {order[done]!r})" if done < len(order) else "a thread"
        raise TimeoutError(f"replay stopped after step {done} of {len(order)}: {stuck} did not run or finish within "
                           f"{timeout:g} s; is it blocked, e.g. on a lock another thread holds?")
    return mine


_LOSSES = "a dict of iterations -> list of fractions lost, e.g. {1000: [0.0, 0.0], 200000: [0.4, 0.5]}"


def _parse_losses(name, losses):
    if not valid(name, losses, instance_of(dict, _LOSSES)):
        raise ValueError(f"{name} must hold at least one iteration count, got an empty dict; {_LOSSES}")
    for n, runs in losses.items():
        valid(f"each iteration count in {name}", n, an_int(1))
        if not isinstance(runs, (list, tuple)) or not runs:
            raise TypeError(f"{name}[{n!r}] must be a non-empty list of fractions, got {describe(runs)}")
    return {n: [valid(f"each fraction in {name}[{n!r}]", f, a_number(0, 1)) for f in runs]
            for n, runs in losses.items()}


@accepts(losses=make_spec(_LOSSES, _parse_losses), switch_iterations=optional(a_number(1e-9)), title=optional(A_STR))
def draw_lost_updates(losses, *, switch_iterations=None, title=None):
    """Plot the share of updates a live race lost against the iterations per thread (log scale).

    Args:
        losses: dict of iterations per thread -> fractions lost in each run, e.g. ``{1_000: [0.0, 0.0]}``.
        switch_iterations: iterations of one switch interval, drawn as a vertical line; None: no line.
        title: the figure title; None: a default one.

    Returns:
        matplotlib.figure.Figure: of fixed size ``LOSSES_FIGSIZE``.
    """
    ax, xs = new_figure(LOSSES_FIGSIZE).add_subplot(), sorted(losses)
    ax.scatter([n for n in xs for _ in losses[n]], [100 * f for n in xs for f in losses[n]], s=28, color=_RUN_COLOR,
               alpha=0.8, zorder=3, label="one run")
    ax.plot(xs, [100 * sum(losses[n]) / len(losses[n]) for n in xs], color=_MEAN_COLOR, linewidth=1.5,
            zorder=2, label="mean of the runs")
    if switch_iterations is not None:
        ax.axvline(switch_iterations, color=_SWITCH_COLOR, linestyle="--", linewidth=1.8, zorder=1,
                   label="a thread's loop lasts one switch interval")
    ax.set_xscale("log")
    ax.set_xticks(xs, [f"{n:,}" for n in xs])
    ax.minorticks_off()
    ax.set(xlim=(min(xs) / 1.6, max(xs) * 1.6), ylim=(-4, 100), xlabel="iterations per thread (log scale)",
           ylabel="updates lost (%)")
    ax.grid(True, color="#DDDDDD", linewidth=0.6)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(title or "tmp = x; f(); x = tmp + 1 in threads: updates lost per run", fontsize=10, loc="left")
    return ax.figure


@accepts(lost=an_int(0), total=an_int(1),
         build=optional(instance_of(PythonBuild, "a PythonBuild from tk.python_build()")))
def counter_verdict(lost, total, build=None):
    """Judge ``counter += 1`` in threads: should it lose updates on this build (only without the GIL), and did it?

    Args:
        lost: updates lost in the run (0 to ``total``).
        total: updates the threads made together (>= 1).
        build: the build to judge for; None: the running one.

    Returns:
        BuildVerdict: expected versus measured; ``as_expected`` says whether they agree.
    """
    lost, build = valid("lost", lost, an_int(0, total)), build or python_build()
    parallel = build.threads_run_python_in_parallel
    expected = (f"updates lost: without the GIL threads really overlap (e.g. 160,723 of 400,000 kept on 3.15 "
                "free-threaded (cpython#125646))" if parallel
                else "no update lost: with the GIL, 3.10+ switches threads only at calls and backward jumps")
    return BuildVerdict(build.describe(), expected, f"{lost:,} of {total:,} updates lost", (lost > 0) == parallel)


#: Seconds the check pauses after each read of ``_balance``, times a random factor (no lock-step threads).
READ_PAUSE, READ_PAUSE_SPREAD = 0.0001, (0.5, 1.5)
#: Threads of the check; deposits of each; rounds of one withdrawal each; operations of each, mixed.
CHECK_THREADS, DEPOSITS_PER_THREAD, WITHDRAW_ROUNDS, MIXED_OPS_PER_THREAD = 8, 20, 3, 15
#: Rounds of mixed deposits and withdrawals: one round missed an Account whose deposit and withdraw take
#: two different locks in 15 of 300 checks on 3.14 (5 of 300 with random pauses, 0 of 400 on 3.11).
MIXED_ROUNDS = 3
#: What one thread does to Account(100): (method, amount, what it returns or None: not checked).
SINGLE_THREAD_STEPS = (("deposit", 50, None), ("withdraw", 200, False), ("withdraw", 150, True))
#: Seconds one thread, then the threads of one round, may take before the check calls it a deadlock.
SINGLE_THREAD_TIMEOUT, THREADS_TIMEOUT = 2.0, 5.0
_MANY = f"{CHECK_THREADS} threads at once"
_PHASE_TIMEOUT = 10.0  # call_with_timeout's safety net around each phase
_BALANCE_HINT = "keep the interface of the stub: store the balance in self._balance (the check watches it)."
_DEADLOCK_HINT = ("a plain Lock cannot be taken twice by the same thread (e.g. withdraw holding the lock and reading "
                  "self.balance, which takes it again): use an RLock, or read self._balance directly inside the lock.")


@grader
@accepts(account_class=instance_of(type, "a class (the Account class itself, not an instance)"))
def check_account(account_class):
    """Check the exercise's thread-safe ``Account`` (``Account(balance=0)``, ``deposit``, ``withdraw -> bool``).

    Each read of ``self._balance`` pauses, so an Account without one lock from the read to the write
    loses deposits or overdraws on every run.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: what is wrong (lost deposits, overdrafts, wrong results, a hang), with a hint.
    """
    for cls in account_class.__mro__:
        attr = cls.__dict__.get("_balance")
        if attr is not None and type(attr).__name__ != "member_descriptor":
            fail((f"{cls.__name__} defines _balance itself ({type(attr).__name__}); the check needs a plain "
                  "attribute: set self._balance in __init__ and read and write it in the methods.", _BALANCE_HINT))
    probe = _probe_class(account_class)
    for hint, phases in _PHASES:
        problems = [problem for phase, what in phases
                    for problem in call_with_timeout(phase, probe, timeout=_PHASE_TIMEOUT, what=what, raised={})]
        if problems:
            fail(problems, hint)
    return CheckPassed(f"Account is thread-safe: {CHECK_THREADS} threads depositing, withdrawing and both at once "
                       "lost no deposit and never overdrew it.")


def _probe_class(account_class):
    """A subclass whose ``_balance`` pauses after each read and remembers its lowest value."""
    class Probe(account_class):
        @property
        def _balance(self):
            if "_tk_balance" not in self.__dict__:
                raise AttributeError("'Account' object has no attribute '_balance' (not set yet)")
            value = self.__dict__["_tk_balance"]
            time.sleep(READ_PAUSE * random.uniform(*READ_PAUSE_SPREAD))  # others run between the read and a write
            return value

        @_balance.setter
        def _balance(self, value):
            self.__dict__["_tk_balance"] = value
            self.__dict__["_tk_lowest"] = min(value, self.__dict__.get("_tk_lowest", value))

    Probe.__name__ = Probe.__qualname__ = account_class.__name__
    return Probe


def _in_threads(workers, timeout, who):
    """Run ``workers`` in threads released together: [] or the deadlock problem; re-raise their first error."""
    start, errors = threading.Barrier(len(workers), timeout=timeout), []

    def run(work):
        try:
            start.wait()
            work()
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:  # raised below, for call_with_timeout to explain
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(w,), name=f"account-check-{i}", daemon=True)
               for i, w in enumerate(workers)]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        return [(f"used by {who}, the account did not answer within {timeout:g} s: a method waits for ever.",
                 _DEADLOCK_HINT)]
    if errors:
        raise errors[0]
    return []


def _phase_single_thread(probe):
    problems = []

    def steps():
        account = probe(100)
        if "_tk_balance" not in account.__dict__:
            return problems.append(("Account(100) did not set self._balance.", _BALANCE_HINT))
        for method, amount, returns in SINGLE_THREAD_STEPS:
            call = f"{method}({amount}) with a balance of {account.balance!r}"
            if (result := getattr(account, method)(amount)) is not returns and returns is not None:
                return problems.append(f"{call} returned {result!r}, expected {returns}.")
        if account.balance != 0:
            problems.append(f"after {', '.join(f'{m}({a})' for m, a, _ in SINGLE_THREAD_STEPS)} on Account(100), "
                            f"the balance is {account.balance!r}, expected 0.")
    return _in_threads([steps], SINGLE_THREAD_TIMEOUT, "a single thread") or problems


def _phase_deposits(probe):
    account = probe(0)

    def depositor():
        for _ in range(DEPOSITS_PER_THREAD):
            account.deposit(1)
    expected = CHECK_THREADS * DEPOSITS_PER_THREAD
    return _in_threads([depositor] * CHECK_THREADS, THREADS_TIMEOUT, _MANY) or ([] if account.balance == expected else [
        f"deposits were lost: {CHECK_THREADS} threads each deposited 1, {DEPOSITS_PER_THREAD} times, but the balance "
        f"did not end at {expected}."])


def _phase_withdrawals(probe):
    for _ in range(WITHDRAW_ROUNDS):
        account, results = probe(100), []
        stuck = _in_threads([lambda: results.append(account.withdraw(60))] * CHECK_THREADS, THREADS_TIMEOUT, _MANY)
        if stuck or results.count(True) != 1 or account.balance != 40 or account.__dict__["_tk_lowest"] < 0:
            return stuck or [f"the account was overdrawn: {CHECK_THREADS} threads each tried to withdraw 60 from 100 "
                             "at the same time, and more than one withdrawal went through (exactly one should, "
                             "leaving 40)."]
    return []


def _phase_mixed(probe):
    for _ in range(MIXED_ROUNDS):
        account, accepted = probe(0), []

        def depositor():
            for _ in range(MIXED_OPS_PER_THREAD):
                account.deposit(5)

        def withdrawer():
            for _ in range(MIXED_OPS_PER_THREAD):
                accepted.append(account.withdraw(5))
        stuck = _in_threads([depositor, withdrawer] * (CHECK_THREADS // 2), THREADS_TIMEOUT, _MANY)
        if stuck or account.balance != 5 * (CHECK_THREADS // 2 * MIXED_OPS_PER_THREAD - accepted.count(True)):
            return stuck or ["with deposits and withdrawals at the same time, the balance does not match what was "
                             "deposited minus what was withdrawn (an update was lost; do deposit and withdraw use "
                             "the same lock?)."]
    return []


_RACE_HINT = ("create one Lock in __init__ (self._lock) and hold it, in every method, from the read of self._balance "
              "to the write: in withdraw, across the check and the debit.")
#: The grader's phases as (hint, phases): a group runs only when the groups before it found nothing.
_PHASES = (
    ("get it right for one thread first: deposit adds, withdraw subtracts only when the balance covers the "
     "amount and returns True or False.", ((_phase_single_thread, "Account used by a single thread"),)),
    (_RACE_HINT, ((_phase_deposits, "deposits from several threads"),
                  (_phase_withdrawals, "withdrawals from several threads"))),
    (_RACE_HINT, ((_phase_mixed, "deposits and withdrawals at the same time"),)),
)
