"""Lesson helpers for notebook 05 (comparison): count, time, tabulate, quiz, check.

Nothing here runs a technique the notebook teaches: the five versions of the
shared workload are written in the notebook.  This module measures them
(:func:`count_code_lines`, :func:`per_item_costs`), lays numbers out
(:func:`table`), holds the self-check quiz (:data:`COURSE_QUIZ`, the snippets
its questions show, and :func:`quiz`, which displays them and runs every
snippet to verify the answers) and checks the exercise
(:func:`check_fetch_with_deadline`).  It also holds the one task a child
process runs that the notebook cannot define itself (a process imports what it
runs): :func:`fail_unpicklably`.
"""

import ast
import contextlib
import html
import inspect
import io
import linecache
import logging
import math
import numbers
import sys
import textwrap
import threading
import time
import tokenize
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import threadkit as tk  # the quiz snippets are written as a notebook cell would (used when they run)

from .._checking import CheckPassed, ExerciseError, leftover_threads, grader
from .._explore import widget_mimebundle
from .._validate import _describe, check_callable, check_instance, check_int, check_number, check_str

__all__ = [
    "count_code_lines",
    "per_item_costs",
    "table",
    "Table",
    "QuizQuestion",
    "COURSE_QUIZ",
    "quiz",
    "Quiz",
    "check_fetch_with_deadline",
    "UnpicklableError",
    "fail_unpicklably",
]


# --------------------------------------------------------------- lines of code
def count_code_lines(*objects):
    """Count the lines of code of functions and classes, as a reader would.

    Blank lines, comment-only lines and docstrings are not counted; every
    other line of the source is (a statement split over three lines counts 3).

    Args:
        *objects: one or more functions, methods or classes whose source
            :func:`inspect.getsource` can find (defined in a file or a notebook cell).

    Returns:
        int: the total over all ``objects``.

    Raises:
        TypeError: no object was given, or one is not a function, method or class.
        ValueError: the source of an object cannot be found (e.g. typed at a bare
            interactive prompt).
    """
    if not objects:
        raise TypeError("count_code_lines() needs at least one function or class, got none")
    return sum(_code_lines_of(i, obj) for i, obj in enumerate(objects))


def _code_lines_of(index, obj):
    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj)):
        raise TypeError(f"objects[{index}] must be a function, method or class, got {_describe(obj)}")
    try:
        source = textwrap.dedent(inspect.getsource(obj))
        problem = None
    except (OSError, TypeError, SyntaxError) as exc:
        source, problem = None, exc
    if inspect.isclass(obj) and not _defines_class(source, obj.__name__):
        # A class from a notebook cell: its module has no file, or (3.13) inspect
        # reads the wrong file at __firstlineno__.
        source = _class_source_from_methods(obj)
        if source is not None:
            source = textwrap.dedent(source)
    elif not inspect.isclass(obj) and not _defines_function(source, obj.__name__):
        # e.g. code run by exec(), file "<string>": where linecache holds another
        # "<string>" (3.13 keeps the code of `python -c` there), inspect returns its
        # lines instead of failing.
        source = None
    if source is None:
        raise ValueError(f"objects[{index}]: the source of {obj.__qualname__} cannot be found "
                         f"({problem or 'not in the file inspect found'})")
    docstring_lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                first.value.value, str
            ):
                docstring_lines.update(range(first.lineno, first.end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    code_lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return len(code_lines - docstring_lines)


def _defines_class(source, name):
    """True if ``source`` starts with the definition of class ``name``."""
    if source is None:
        return False
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and isinstance(body[0], ast.ClassDef) and body[0].name == name


def _defines_function(source, name):
    """True if ``source`` starts with the definition of function ``name`` (or holds a lambda)."""
    if source is None:
        return False
    try:
        body = ast.parse(source).body
    except SyntaxError:  # a lambda's line can be part of a larger statement
        return name == "<lambda>" and "lambda" in source
    if name == "<lambda>":
        return any(isinstance(node, ast.Lambda) for node in ast.walk(ast.Module(body=body, type_ignores=[])))
    return bool(body) and isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) and body[0].name == name


def _class_source_from_methods(cls):
    """Source of a class defined in a notebook cell, found through one of its methods.

    ``inspect.getsource`` looks for a class in its module's file, and ``__main__``
    of a Jupyter kernel has none; a method's code object still names the cell,
    whose text IPython keeps in :mod:`linecache`.
    """
    for member in vars(cls).values():
        fn = getattr(member, "__func__", getattr(member, "fget", member))
        if not inspect.isfunction(fn):
            continue
        lines = linecache.getlines(fn.__code__.co_filename)
        if not lines:
            continue
        try:
            tree = ast.parse("".join(lines))
        except SyntaxError:
            continue
        line = fn.__code__.co_firstlineno
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__ and node.lineno <= line <= node.end_lineno:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                return "".join(lines[start - 1:node.end_lineno])
    return None


# ------------------------------------------------- a task for a child process
class UnpicklableError(Exception):
    """An error that keeps a lock (as one that refers to a connection might).

    :mod:`pickle` cannot copy a lock, so this error cannot travel from a child
    process back to the parent: a process pool raises a pickling error in its
    place.
    """

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def fail_unpicklably(value):
    """Raise an :class:`UnpicklableError` naming ``value``.

    Defined in a module, not in a notebook, so that a process pool's child
    process can import it.

    Args:
        value: any value; it is named in the message.

    Returns:
        Never returns.

    Raises:
        UnpicklableError: always.
    """
    raise UnpicklableError(f"task {value!r} failed")


# ------------------------------------------------------------- micro-benchmark
def per_item_costs(functions, n=2000, repeats=5):
    """Time hand-off functions and return the best cost per item, in microseconds.

    Each function is called as ``fn(n)`` and must hand ``n`` items over and
    return the list of items received, which must equal ``list(range(n))``
    (so a benchmark cannot be fast by being wrong).  The functions are run
    in turn, ``repeats`` rounds, and the fastest round of each is kept: the
    minimum is the least disturbed by other work on the machine.

    Args:
        functions: dict of name (str) -> function taking ``n``.
        n: items per call, 1 to 1,000,000.
        repeats: rounds, 1 to 100.

    Returns:
        dict: name -> microseconds per item (float), in the order given.

    Raises:
        TypeError, ValueError: a bad argument (not a non-empty dict of str ->
            callable, ``n`` or ``repeats`` out of range).
        AssertionError: a function returned something other than ``list(range(n))``.
    """
    check_instance("functions", functions, dict, "a dict of name -> function")
    if not functions:
        raise ValueError("functions must hold at least one name -> function pair, got an empty dict")
    for name, fn in functions.items():
        check_str("each name in functions", name)
        check_callable(f"functions[{name!r}]", fn)
    n = check_int("n", n, minimum=1, maximum=1_000_000)
    repeats = check_int("repeats", repeats, minimum=1, maximum=100)
    expected = list(range(n))
    best = {name: math.inf for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            t0 = time.perf_counter()
            received = fn(n)
            elapsed = time.perf_counter() - t0
            if received != expected:
                raise AssertionError(f"{name}: {fn.__name__}({n}) must return list(range({n})), "
                                     f"got {_describe(received)}")
            best[name] = min(best[name], elapsed)
    return {name: seconds / n * 1e6 for name, seconds in best.items()}


# ----------------------------------------------------------------------- table
class Table:
    """A small table that shows itself as HTML in Jupyter and as aligned text elsewhere.

    Made by :func:`table`.  ``str(t)``/``repr(t)`` give the text form (what a
    notebook test compares); ``t.rows`` holds the cell texts.
    """

    def __init__(self, columns, rows, title):
        self.columns = columns
        self.rows = rows
        self.title = title

    def __repr__(self):
        widths = [max([len(c)] + [len(r[i]) for r in self.rows]) for i, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in self.rows]
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{esc(v)}</td>" for v in r) + "</tr>" for r in self.rows
        )
        caption = f"<caption style='text-align:left'><b>{esc(self.title)}</b></caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def table(rows, columns=None, *, title="", digits=1):
    """Lay rows of values out as a :class:`Table` (formatting only, no computing).

    Cell values become text: floats with ``digits`` decimals, ``True``/``False``
    as ``yes``/``no``, ``None`` as ``-``, anything else with ``str``.

    Args:
        rows: a list of dicts (column name -> value) or of sequences (one value
            per column).
        columns: the column names, in order; defaults to the keys of the first
            dict row.  Required when rows are sequences.
        title: a caption (str).
        digits: decimals shown for floats, 0 to 6.

    Returns:
        Table

    Raises:
        TypeError: ``rows`` is not a list/tuple of dicts or sequences, ``columns``
            is not a list/tuple of str, or ``title`` is not a str.
        ValueError: a row has a different number of values than there are
            columns, a dict row lacks a column, or columns are missing for
            sequence rows.
    """
    check_instance("rows", rows, (list, tuple), "a list of dicts or of sequences")
    check_str("title", title)
    digits = check_int("digits", digits, minimum=0, maximum=6)
    if columns is None:
        if rows and isinstance(rows[0], dict):
            columns = list(rows[0])
        else:
            raise ValueError("columns must be given when rows are not dicts (or rows is empty)")
    check_instance("columns", columns, (list, tuple), "a list or tuple of str")
    for c in columns:
        check_str("each column name", c)
    text_rows = []
    for i, row in enumerate(rows):
        if isinstance(row, dict):
            missing = [c for c in columns if c not in row]
            if missing:
                raise ValueError(f"rows[{i}] lacks the column(s) {missing!r}; it has {list(row)!r}")
            values = [row[c] for c in columns]
        elif isinstance(row, (list, tuple)):
            if len(row) != len(columns):
                raise ValueError(f"rows[{i}] has {len(row)} values, expected one per column ({len(columns)})")
            values = list(row)
        else:
            raise TypeError(f"rows[{i}] must be a dict or a list/tuple of values, got {_describe(row)}")
        text_rows.append([_cell_text(v, digits) for v in values])
    return Table(list(columns), text_rows, title)


def _cell_text(value, digits):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return f"{float(value):.{digits}f}"
    return str(value)


# ------------------------------------------------------------------------ quiz
# The snippets: the code each question shows, written as a notebook cell would
# (``tk`` is this package).  ``Quiz.verify`` runs them; the quiz shows their source.
def counter_without_lock():
    counter = 0

    def add():
        nonlocal counter
        for _ in range(100_000):
            counter += 1

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return counter


def two_threads_store_42():
    seen = set()
    for _ in range(200):
        box = {"result": None}

        def store():
            box["result"] = 42

        threads = [threading.Thread(target=store) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=5)
        seen.add(box["result"])
    return seen


def short_and_long_race():
    def f():
        pass

    def lost(iterations, threads=4):
        x = 0

        def work():
            nonlocal x
            for _ in range(iterations):
                tmp = x
                f()
                x = tmp + 1

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=30)
        return threads * iterations - x

    return ["none" if lost(n) == 0 else "some" for n in (1_000, 500_000)]


def map_with_a_failure():
    got, started = [], []
    running, release = threading.Event(), threading.Event()

    def task(i):
        started.append(i)
        if i == 2:                     # task 2 holds the worker until the loop ends
            running.set()
            release.wait(timeout=5)
        return tk.flaky_task(i, i == 1, 0.01)

    with ThreadPoolExecutor(max_workers=1) as pool:
        results = pool.map(task, range(6))
        running.wait(timeout=5)        # 0 and 1 have run, 2 is running
        try:
            for value in results:
                got.append(value)
        except tk.TaskFailed:
            got.append("TaskFailed")
        release.set()
    return got, [i for i in range(6) if i not in started]


def unread_failure():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tk.flaky_task, 0, True)
    return future.done()


def timeout_does_not_cancel():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tk.io_task, 0.1, "done")
        try:
            future.result(timeout=0.01)
        except TimeoutError:
            pass
        return future.cancelled(), future.result(timeout=5)


def cancel_running_and_waiting():
    started, gate = threading.Event(), threading.Event()

    def first_task():
        started.set()
        gate.wait(timeout=5)

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(first_task)
        second = pool.submit(tk.io_task, 0.01)
        started.wait(timeout=5)
        answer = first.cancel(), second.cancel()
        gate.set()
    return answer


def callback_threads():
    seen, gate = {}, threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker") as pool:
        future = pool.submit(gate.wait, 5)          # runs until the gate opens
        future.add_done_callback(lambda f: seen.update(early=threading.current_thread().name))
        gate.set()
        future.result(timeout=5)
        future.add_done_callback(lambda f: seen.update(late=threading.current_thread().name))
    return seen["early"], seen["late"]


def callback_that_raises():
    later = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tk.io_task, 0.01, "page")
        future.add_done_callback(lambda f: 1 / 0)
        future.add_done_callback(lambda f: later.append("ran"))
    return future.result(timeout=5), later


def print_from_a_thread():
    # Cell A runs this and finishes at once.
    # Right after it, you run cell B: time.sleep(1)
    timer = threading.Timer(0.5, print, args=["printed by a thread"])
    timer.start()
    return timer


#: Seconds to start a kernel and run the two cells of :func:`where_a_thread_prints`.
PRINT_CHECK_TIMEOUT = 60.0
_CELL_A = ("import threading\n"
           "go = threading.Event()\n"
           "printer = threading.Thread(target=lambda: go.wait(30) and print('printed by a thread'))\n"
           "printer.start()\n")
_CELL_B = "go.set()\nprinter.join(30)\n"


def where_a_thread_prints(timeout=PRINT_CHECK_TIMEOUT):
    """Which cell a thread's print lands under, measured in a fresh kernel of the course's Python.

    Cell A starts a thread that waits for an event, then prints; cell B sets
    the event and joins the thread.  The kernel tags every output message with
    the request it belongs to: the line's tag says which cell shows it.  The
    thread runs in that other kernel, so nothing is printed into the notebook.

    Args:
        timeout: seconds for the whole experiment (kernel start included), 1 to 600.

    Returns:
        str: ``"A"`` (the cell that started the thread), ``"B"`` (the cell running
        when it printed) or ``"nowhere"`` (the line never arrived).

    Raises:
        TypeError, ValueError: ``timeout`` is not a number from 1 to 600.
        RuntimeError: the kernel did not start or answer within ``timeout``.
    """
    import queue as _queue_module
    import subprocess
    import time

    from jupyter_client.manager import start_new_kernel

    timeout = check_number("timeout", timeout, minimum=1, maximum=600)
    deadline = time.monotonic() + timeout
    try:
        # (Its own output, e.g. a warning at start, must not reach the notebook.)
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=timeout,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except RuntimeError as exc:
        raise RuntimeError(f"no kernel to run the experiment in: {exc}") from exc
    try:
        cells = {client.execute(_CELL_A): "A"}
        cells[client.execute(_CELL_B)] = "B"
        idle, landed = set(), "nowhere"
        while len(idle) < 2:  # both cells finished: every output has arrived
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the kernel did not finish the two cells within {timeout:g} s")
            try:
                message = client.get_iopub_msg(timeout=left)
            except _queue_module.Empty:
                continue
            cell = cells.get(message["parent_header"].get("msg_id"))
            content = message["content"]
            if message["msg_type"] == "stream" and "printed by a thread" in content.get("text", ""):
                landed = cell or "nowhere"
            elif message["msg_type"] == "status" and content.get("execution_state") == "idle" and cell:
                idle.add(cell)
        return landed
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


_SNIPPETS = {fn.__name__: fn for fn in (
    counter_without_lock, two_threads_store_42, short_and_long_race, map_with_a_failure,
    unread_failure, timeout_does_not_cancel, cancel_running_and_waiting, callback_threads,
    callback_that_raises, print_from_a_thread,
)}


class QuizQuestion(NamedTuple):
    """One predict-the-outcome question.

    ``name`` is the name of the snippet (a function) the question shows.
    Running it must return ``outcome`` when ``options[answer]`` is right, which
    is how :meth:`Quiz.verify` checks the answer; ``outcome`` None means the
    snippet cannot be checked by one call (the notebook checks it otherwise).
    ``printed`` is a phrase the snippet must print to stderr or log while it
    runs ("" means it must print and log nothing).  ``needs_gil`` marks an
    answer that holds only with the GIL: on a free-threaded build the check
    expects a different outcome.  ``proof``, if given, is a function that
    :meth:`Quiz.verify` calls instead of the snippet, when the snippet's effect
    cannot be seen from inside one call (where a print lands).
    """

    name: str
    prompt: str
    options: tuple
    answer: int
    outcome: Any
    explanation: str
    printed: str = ""
    needs_gil: bool = False
    proof: Any = None


COURSE_QUIZ = (
    QuizQuestion(
        "counter_without_lock",
        "Four threads each do counter += 1, 100,000 times, with no lock, on CPython 3.11 (the "
        "standard build, with the GIL). What does it return?",
        ("Fewer than 400,000: some updates are lost on every run",
         "400,000: no update is lost, on this version and build",
         "A different number on every run, sometimes 400,000"),
        1,
        400_000,
        "Since 3.10 a GIL build switches threads only at a call or a backward jump, never between the "
        "read and the write of counter += 1: 0 updates lost in every run on 3.10 to 3.15. That is an "
        "accident of the implementation, not a promise: 3.9 and free-threaded builds lose updates, and a "
        "call between the read and the write loses them here too (02 · Shared state and locks).",
        needs_gil=True,
    ),
    QuizQuestion(
        "two_threads_store_42",
        "Two threads both store 42 in the same dict entry, with no lock; this is repeated 200 times. "
        "Which values are seen after the joins?",
        ("{None, 42}: the second thread can overwrite the result with None",
         "{42}, only thanks to the GIL: a free-threaded build also shows None",
         "{42}: the only value ever stored is 42, so there is nothing to lose"),
        2,
        {42},
        "A lost update needs two writers with different values. Here every store writes 42, so whichever "
        "comes last leaves 42, on every build; a lock around it would fix nothing. The real hazards: "
        "reading before join() (you see None) and writers with different values (the last one wins) "
        "(02 · Shared state and locks).",
    ),
    QuizQuestion(
        "short_and_long_race",
        "Four threads run tmp = x; f(); x = tmp + 1 in a loop (f does nothing): once 1,000 times each, "
        "once 500,000 times each. Which runs lose updates?",
        ("Both: a race loses updates whatever the loop's length",
         "Only the long one: a thread is switched out after 5 ms, and 1,000 iterations end sooner",
         "Neither: an empty call is too short for a thread switch"),
        1,
        ["none", "some"],
        "A GIL build asks a thread to let another one run after sys.getswitchinterval() (5 ms). A thread "
        "that finishes 1,000 iterations sooner is never interrupted: the short loop lost nothing in "
        "thousands of runs measured here, the long one lost 10 % to 70 % in every run. Same race, only "
        "the length differs: a test with a short loop proves nothing (02 · Shared state and locks).",
    ),
    QuizQuestion(
        "map_with_a_failure",
        "Six tasks on one worker; task 1 fails, task 2 is still running when the loop meets the "
        "failure. What does the loop collect, and which tasks never ran?",
        ("([0, 2, 3, 4, 5, 'TaskFailed'], []): map skips the failed task and runs the rest",
         "([0, 'TaskFailed'], []): every task still runs, only their results are lost",
         "([0, 'TaskFailed'], [3, 4, 5]): the tasks not yet started are cancelled"),
        2,
        ([0, "TaskFailed"], [3, 4, 5]),
        "pool.map yields results in input order; at the failed task, next() re-raises its exception and "
        "the loop ends. As the exception leaves the map iterator, every task that has not started is "
        "cancelled and never runs (task 2 had already started, so it finished). Collect with futures "
        "when every task must run (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "unread_failure",
        "The task fails and nobody asks its future for the result. What do you see?",
        ("A traceback, printed when the task fails",
         "Nothing: the error waits, silently, in the future",
         "An error raised when the with block ends"),
        1,
        True,
        "A pool catches the task's exception and stores it in the future. If nobody calls result() or "
        "exception(), nothing is printed and nothing is raised: the real trap of futures (a plain "
        "Thread, by contrast, prints a traceback) (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "timeout_does_not_cancel",
        "result(timeout=0.01) gives up on a 0.1 s task. Is the task cancelled, and what is its result?",
        ("(False, 'done'): the timeout only stops waiting; the task runs on",
         "(True, CancelledError): the timeout cancels it",
         "(False, None): after a timeout the result is lost"),
        0,
        (False, "done"),
        "A timeout ends the caller's wait with TimeoutError; the task keeps running and its future "
        "completes normally later (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "cancel_running_and_waiting",
        "One worker is busy with the first task; the second waits in the pool's queue. What do the two "
        "cancel() calls return?",
        ("(True, True): both are cancelled",
         "(False, False): cancel() only works before the pool starts",
         "(False, True): a running task cannot be cancelled, a waiting one can"),
        2,
        (False, True),
        "cancel() only succeeds for a future that has not started; a running task cannot be interrupted "
        "from outside (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "callback_threads",
        "Which threads run the two callbacks: the one added while the task runs, and the one added after "
        "it finished?",
        ("('MainThread', 'MainThread'): callbacks run where they were added",
         "('worker_0', 'MainThread'): the worker that finished the task, then the caller",
         "('worker_0', 'worker_0'): always the worker"),
        1,
        ("worker_0", "MainThread"),
        "A pending future's callbacks run in the thread that completes it (the worker); for a future that "
        "is already done, add_done_callback calls the callback at once, in the calling thread "
        "(04 · Callbacks).",
    ),
    QuizQuestion(
        "callback_that_raises",
        "The first done-callback raises ZeroDivisionError. What does the snippet return?",
        ("It raises ZeroDivisionError: result() re-raises the callback's error",
         "('page', []): the result is kept, but the error stops the callbacks after it",
         "('page', ['ran']): the error is logged and ignored; the second callback runs"),
        2,
        ("page", ["ran"]),
        "A future calls each callback in a try block: an exception is logged (\"exception calling "
        "callback for ...\") and ignored, the later callbacks still run, and the future keeps its result. "
        "Nobody else hears of that error, so keep callbacks small and catch inside them (04 · Callbacks).",
        printed="exception calling callback",
    ),
    QuizQuestion(
        "print_from_a_thread",
        "Cell A starts the timer and finishes at once; half a second later the thread prints while cell B "
        "is running. Where does the line appear in JupyterLab?",
        ("Under cell A, the cell that started the thread",
         "Under cell B, the cell running when it prints (with no cell running: under the last one run)",
         "Nowhere: output from other threads is dropped"),
        1,
        "B",
        "The kernel tags a print from another thread with the request it is executing at that moment, "
        "so the line lands under whichever cell runs then (with the pinned ipykernel 7.4; 6.29 to 7.0 "
        "used the starting cell). Print from the main thread, after join() or result() (04 · Callbacks).",
        proof=where_a_thread_prints,
    ),
)


def _gil_enabled():
    is_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    return True if is_enabled is None else bool(is_enabled())


def _run_capturing_stderr(snippet):
    """Call ``snippet()``; return (what it returned, what it printed to stderr or logged)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger = logging.getLogger("concurrent.futures")  # where a future logs a failing callback
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with contextlib.redirect_stderr(buffer):
            returned = snippet()
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    return returned, buffer.getvalue()


class _QuizCard:
    """Widgets of one question: its text, the choices, a check button, the feedback."""

    def __init__(self, widgets, number, question, snippet):
        self.question = question
        self.snippet = snippet
        code = textwrap.dedent(inspect.getsource(snippet)).rstrip()
        self.header = widgets.HTML(
            f"<b>{number}. {html.escape(question.prompt)}</b>"
            f"<pre style='font-size: 12px; line-height: 1.3; margin: 4px 0'>{html.escape(code)}</pre>"
        )
        self.choices = widgets.RadioButtons(
            options=list(question.options), value=None, layout=widgets.Layout(width="auto")
        )
        self.button = widgets.Button(description="check", tooltip="check your answer")
        self.feedback = widgets.HTML("")
        self.button.on_click(self._check)
        self.widget = widgets.VBox([self.header, self.choices, self.button, self.feedback])

    def _check(self, _button=None):
        chosen = self.choices.value
        if chosen is None:
            self.feedback.value = "Pick an answer first."
            return None
        right = chosen == self.question.options[self.question.answer]
        verdict = "Right." if right else (
            f"Not quite: the answer is “{html.escape(self.question.options[self.question.answer])}”."
        )
        colour = "#117733" if right else "#B00020"
        self.feedback.value = (
            f"<span style='color: {colour}'><b>{verdict}</b></span> {html.escape(self.question.explanation)}"
        )
        return right


class Quiz:
    """A column of predict-the-outcome questions; made by :func:`quiz`.

    Attributes:
        widget: the ``ipywidgets.VBox`` holding every question.
        cards: one object per question with ``.question``, ``.snippet`` (the
            function shown), ``.choices`` (RadioButtons), ``.button`` (the check
            button) and ``.feedback`` (HTML).
    """

    def __init__(self, cards):
        import ipywidgets as widgets

        self.cards = cards
        self.widget = widgets.VBox([c.widget for c in cards])

    def answer(self, index, option):
        """Select ``option`` (an index into the options) for question ``index`` and check it.

        Returns:
            bool: whether it is the right answer.

        Raises:
            TypeError, ValueError: ``index`` or ``option`` is not a valid int.
        """
        index = check_int("index", index, minimum=0, maximum=len(self.cards) - 1)
        card = self.cards[index]
        option = check_int("option", option, minimum=0, maximum=len(card.question.options) - 1)
        card.choices.value = card.question.options[option]
        return card._check()

    def verify(self):
        """Run the snippet (or proof) of every question with an ``outcome``; list where the quiz is wrong.

        Each snippet runs in the calling thread with stderr and the
        ``concurrent.futures`` log captured.  It agrees with the quiz when it
        returns the question's ``outcome`` (for a ``needs_gil`` question on a
        free-threaded build: anything else) and prints or logs ``printed`` (or
        nothing when ``printed`` is "").  A snippet that raises disagrees.

        Returns:
            list[str]: one sentence per disagreement; empty when every answer holds.
        """
        problems = []
        for number, card in enumerate(self.cards, 1):
            q = card.question
            if q.outcome is None:
                continue
            try:
                returned, printed = _run_capturing_stderr(q.proof or card.snippet)
            except Exception as exc:
                problems.append(f"{number}. {q.name}() raised {type(exc).__name__}: {exc}")
                continue
            if q.needs_gil and not _gil_enabled():
                if returned == q.outcome:
                    problems.append(f"{number}. {q.name}() returned {returned!r} without the GIL too")
            elif returned != q.outcome:
                problems.append(f"{number}. {q.name}() returned {returned!r}, the answer says {q.outcome!r}")
            if q.printed and q.printed not in printed:
                problems.append(f"{number}. {q.name}() did not print or log {q.printed!r}: {printed[:200]!r}")
            elif not q.printed and printed:
                problems.append(f"{number}. {q.name}() printed or logged {printed[:200]!r}")
        return problems

    def _repr_mimebundle_(self, **kwargs):
        return widget_mimebundle(self, **kwargs)

    def __repr__(self):
        return f"<Quiz: {len(self.cards)} questions>"


def quiz(questions=COURSE_QUIZ, snippets=None):
    """Build the self-check quiz: per question its code, choices, a check button, feedback.

    Args:
        questions: a list or tuple of :class:`QuizQuestion` (default ``COURSE_QUIZ``).
        snippets: the functions the questions are about, a list of functions
            (matched by ``__name__``) or a dict name -> function; default: the
            snippets of ``COURSE_QUIZ``, defined in this module.  Their source is
            shown with each question, and :meth:`Quiz.verify` runs them.

    Returns:
        Quiz: shows itself as the widget when it is the last expression of a cell.

    Raises:
        TypeError: ``questions`` holds something other than QuizQuestions, or
            ``snippets`` is not a list/dict of functions.
        ValueError: ``questions`` is empty, or a question names a function that is
            not in ``snippets``.
    """
    check_instance("questions", questions, (list, tuple), "a list or tuple of QuizQuestion")
    if not questions:
        raise ValueError("questions must hold at least one QuizQuestion, got none")
    for i, q in enumerate(questions):
        check_instance(f"questions[{i}]", q, QuizQuestion, "a QuizQuestion")
    by_name = _SNIPPETS if snippets is None else _snippets_by_name(snippets)
    missing = [q.name for q in questions if q.name not in by_name]
    if missing:
        raise ValueError(f"snippets lacks the function(s) {missing!r} named by the questions; "
                         f"got {sorted(by_name)!r}")
    import ipywidgets as widgets

    return Quiz([_QuizCard(widgets, i + 1, q, by_name[q.name]) for i, q in enumerate(questions)])


def _snippets_by_name(snippets):
    if isinstance(snippets, dict):
        items = list(snippets.items())
    elif isinstance(snippets, (list, tuple)):
        items = [(getattr(fn, "__name__", None), fn) for fn in snippets]
    else:
        raise TypeError(f"snippets must be a list of functions or a dict name -> function, got {_describe(snippets)}")
    for name, fn in items:
        if not inspect.isfunction(fn):
            raise TypeError(f"snippets must hold functions, got {_describe(fn)}")
    return dict(items)


# -------------------------------------------------------------------- exercise
#: Seconds the exercise's deadline lasts, and how much later the function may return.
DEADLINE_S = 0.3
DEADLINE_MARGIN_S = 0.3
#: ``max_workers`` the check passes.
DEADLINE_WORKERS = 2
#: The check's urls, in the order given.  With 2 workers taking them in this
#: order, both workers are held by the two slow pages within ~30 ms, so the last
#: two urls are still queued at the deadline, on any machine.
_URLS = tuple(f"https://example.test/{page}" for page in
              ("home", "search", "ads", "news", "video", "weather", "sport"))
_SLOW = (_URLS[1], _URLS[4])          # end only when the check lets them, after the function returned
_FAILS = _URLS[2]                     # raises ConnectionError
_IN_TIME = (_URLS[0], _URLS[3])       # fast: done by the deadline
_QUEUED = (_URLS[5], _URLS[6])        # fast, but no worker is free before the deadline
#: Seconds a fast fetch takes.
_FAST_S = 0.01
#: Longest a slow fetch waits to be let finish, and how long a hang is waited for, in seconds.
_SLOW_LIMIT_S = 10.0
_DEADLINE_CALL = f"fetch_with_deadline(urls, fetch, {DEADLINE_S:g}, {DEADLINE_WORKERS})"
_DEADLINE_HINT = (
    "submit every url to a ThreadPoolExecutor(max_workers=max_workers), wait once for all of them with "
    "concurrent.futures.wait(futures, timeout=deadline_s), then shut the pool down with "
    "shutdown(wait=False, cancel_futures=True); sort the done futures into results or errors, every other "
    "url is pending."
)
_LATE_HINT = (
    "leaving a `with ThreadPoolExecutor(...)` block waits for every running fetch, and a timeout on each "
    "result() starts the clock again: wait once for all the futures with "
    "concurrent.futures.wait(futures, timeout=deadline_s), then call pool.shutdown(wait=False, cancel_futures=True)."
)
_CANCEL_HINT = "shutdown(wait=False) alone lets the queued fetches run later: pass cancel_futures=True too."


def _page(url):
    return f"<page of {url}>"


class _DeadlineService:
    """The check's fake ``fetch``: it records which fetches started and how many ran at once."""

    def __init__(self):
        self.error = None
        self.started = []          # urls, in the order their fetch started
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()
        self._released = threading.Event()

    def fetch(self, url):
        if url not in _URLS:
            raise ValueError(f"fetch() got {url!r}, which is not one of the urls given")
        with self._lock:
            self.started.append(url)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            if url in _SLOW:
                self._released.wait(timeout=_SLOW_LIMIT_S)
            else:
                time.sleep(_FAST_S)
            if url == _FAILS:
                self.error = ConnectionError(f"{url}: connection reset")
                raise self.error
            return _page(url)
        finally:
            with self._lock:
                self.running -= 1

    def release(self):
        """Let the slow fetches end."""
        self._released.set()


def _refuse(problems, hint, cause=None):
    lines = ["Not yet:"] + [f"  - {p}" for p in problems] + [f"Hint: {hint}"]
    raise ExerciseError("\n".join(lines)) from cause


def _raised(error):
    """(problem, hint) for an exception that escaped the learner's function."""
    if isinstance(error, ConnectionError):
        return (f"it raised {error!r}: a failed fetch belongs in errors, it must not stop the others.",
                "take each done future's exception with try/except around result() (or future.exception()) "
                "and store it in errors[url].")
    if isinstance(error, TimeoutError):
        return ("it raised TimeoutError: reaching the deadline is not an error here.",
                "concurrent.futures.wait(futures, timeout=deadline_s) returns (done, not_done) at the "
                "deadline; as_completed() and result() raise TimeoutError instead.")
    if isinstance(error, NotImplementedError):
        return "it raised NotImplementedError: it is not written yet.", _DEADLINE_HINT
    return (f"it raised {type(error).__name__}: {error}",
            "read the traceback above this message: the error happened inside your function.")


@grader
def check_fetch_with_deadline(fn):
    """Check the exercise ``fetch_with_deadline(urls, fetch, deadline_s, max_workers)``.

    ``fn`` is called with seven urls, a fake ``fetch(url)``, ``deadline_s=0.3``
    and ``max_workers=2``.  Two fetches are fast, one raises
    ``ConnectionError``, two are slow (they end only when the check lets them,
    once ``fn`` has returned or overrun the deadline), and the last two wait in
    the queue while both workers are held by the slow ones.  It passes when ``fn``:

    * returns within ``DEADLINE_S + DEADLINE_MARGIN_S`` seconds, so without
      waiting for the slow fetches;
    * returns ``(results, errors, pending)``: ``{url: page}`` of the fetches done
      by the deadline, ``{url: exception}`` of those that failed by then, and a
      list of the other urls;
    * ran at most ``max_workers`` fetches at once, and two at once at some point;
    * never started the fetches still queued at the deadline (they were
      cancelled), and left no thread running once the slow fetches ended.

    Args:
        fn: the learner's function.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: what is wrong, in plain words, with a hint.
        TypeError: ``fn`` is not callable.
    """
    check_callable("fn", fn)
    service = _DeadlineService()
    outcome = {}
    before = set(threading.enumerate())

    def runner():
        try:
            outcome["value"] = fn(list(_URLS), service.fetch, DEADLINE_S, DEADLINE_WORKERS)
        except BaseException as exc:  # reported below
            outcome["error"] = exc
        outcome["seconds"] = time.perf_counter() - t0

    helper = threading.Thread(target=runner, name="threadkit-check", daemon=True)
    t0 = time.perf_counter()
    helper.start()
    helper.join(DEADLINE_S + DEADLINE_MARGIN_S)
    late = helper.is_alive()
    service.release()
    helper.join(_SLOW_LIMIT_S)
    if helper.is_alive():
        _refuse([f"{_DEADLINE_CALL} did not return within {_SLOW_LIMIT_S:g} s, even once every fetch could "
                 "end: it hangs."], "every blocking call (result, wait, get, join) needs a timeout.")
    left = leftover_threads(before)

    problems = []
    if late:
        problems.append(f"it returned {outcome['seconds']:.2f} s after the call, only once the slow fetches "
                        f"could end: it waited past the deadline of {DEADLINE_S:g} s.")
    if service.most_running == 1:
        problems.append("it ran one fetch at a time: run them on a pool of max_workers threads.")
    elif service.most_running > DEADLINE_WORKERS:
        problems.append(f"it ran {service.most_running} fetches at once; max_workers is {DEADLINE_WORKERS}.")
    if "error" in outcome:
        problem, hint = _raised(outcome["error"])
        _refuse(problems + [problem], hint, outcome["error"])
    if late:
        _refuse(problems, _LATE_HINT)

    returned = outcome.get("value")
    if not (isinstance(returned, tuple) and len(returned) == 3):
        _refuse(problems + [f"it must return a tuple (results, errors, pending), got {_describe(returned)}."],
                "end with `return results, errors, pending`.")
    results, errors, pending = returned
    if not isinstance(results, dict):
        problems.append(f"results must be a dict url -> page, got {_describe(results)}.")
    elif results != {url: _page(url) for url in _IN_TIME}:
        problems.append(f"results should map the urls fetched by the deadline {list(_IN_TIME)} to their pages; "
                        f"it holds {sorted(results, key=repr)}.")
    if not isinstance(errors, dict):
        problems.append(f"errors must be a dict url -> exception, got {_describe(errors)}.")
    elif list(errors) != [_FAILS] or errors[_FAILS] is not service.error:
        problems.append(f"errors should map {_FAILS} to the ConnectionError its fetch raised, got {errors!r}.")
    expected_pending = [url for url in _URLS if url in _SLOW or url in _QUEUED]
    if not isinstance(pending, list):
        problems.append(f"pending must be a list of urls, got {_describe(pending)}.")
    elif sorted(pending) != sorted(expected_pending):
        problems.append(f"pending should hold the {len(expected_pending)} urls not done by the deadline "
                        f"{expected_pending}, got {pending!r}.")
    ran_anyway = [url for url in _QUEUED if url in service.started]
    if ran_anyway and service.most_running <= DEADLINE_WORKERS:
        problems.append(f"the fetches still queued at the deadline ran after it returned ({', '.join(ran_anyway)}): "
                        "the queued work was not cancelled.")
    if left:
        problems.append(f"threads still running after the slow fetches ended: {', '.join(left)}.")
    if problems:
        _refuse(problems, _CANCEL_HINT if ran_anyway and len(problems) == 1 else _DEADLINE_HINT)
    return CheckPassed(f"Passed: it returned {outcome['seconds']:.2f} s after the call, with {len(results)} pages, "
                       f"{len(errors)} error and {len(pending)} urls pending; the {len(_QUEUED)} fetches still "
                       "queued at the deadline never ran.")
