"""Lesson helpers for notebook 05 (comparison): count, time, tabulate, quiz, check.

Nothing here runs a technique: the five versions of the shared workload, the
hand-off micro-benchmark's functions and the quiz snippets are written in the
notebook.  This module only measures them (:func:`count_code_lines`,
:func:`per_item_costs`), lays numbers out (:func:`table`), builds the quiz
widgets (:func:`quiz`) and checks the exercise (:func:`check_as_they_come`).
It also holds the one task a child process runs that the notebook cannot define
itself (a process imports what it runs): :func:`fail_unpicklably`.
"""

import ast
import html
import inspect
import io
import linecache
import math
import numbers
import textwrap
import threading
import time
import tokenize
from typing import Any, NamedTuple

from ._checking import CheckPassed, ExerciseError, call_with_timeout, fail, leftover_threads, grader
from ._explore import widget_mimebundle
from ._validate import _describe, check_callable, check_instance, check_int, check_str
from ._workloads import TaskFailed

__all__ = [
    "count_code_lines",
    "per_item_costs",
    "table",
    "Table",
    "QuizQuestion",
    "COURSE_QUIZ",
    "quiz",
    "Quiz",
    "check_as_they_come",
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
class QuizQuestion(NamedTuple):
    """One predict-the-outcome question.

    ``name`` is the name of the notebook function (the *snippet*) whose
    outcome the question asks about; running it must return ``outcome`` when
    ``options[answer]`` is right, which is how the notebook verifies the answer.
    """

    name: str
    prompt: str
    options: tuple
    answer: int
    outcome: Any
    explanation: str


COURSE_QUIZ = (
    QuizQuestion(
        "map_with_a_failure",
        "Six tasks on one worker; task 1 fails, task 2 is still running. What does the loop collect, and which tasks never ran?",
        ("([0, 2, 3, 4, 5, 'TaskFailed'], []): map skips the failed task and runs the rest",
         "([0, 'TaskFailed'], []): every task still runs, only their results are lost",
         "([0, 'TaskFailed'], [3, 4, 5]): the tasks not yet started are cancelled",
         "([0, None, 2, 3, 4, 5], []): a failed task gives None"),
        2,
        ([0, "TaskFailed"], [3, 4, 5]),
        "pool.map yields results in input order; at the failed task, next() re-raises its exception and "
        "the loop ends. As the exception leaves the map iterator, every task that has not started is "
        "cancelled and never runs (task 2 had already started on the worker, so it finished). Collect "
        "with futures instead when every task must run (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "unread_failure",
        "Nobody asks the failed future for its result. What is printed, and what does the future hold?",
        ("Nothing is printed; future.exception() holds the TaskFailed",
         "A traceback is printed when the task fails",
         "The with block re-raises TaskFailed when it ends"),
        0,
        ("TaskFailed", ""),
        "A pool catches the task's exception and stores it in the future. If nobody calls result() or "
        "exception(), the failure is silent: that is the real trap of futures (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "plain_thread_failure",
        "A plain Thread's target raises. What does join() do, and what sees the error?",
        ("join() re-raises TaskFailed in the main thread",
         "join() returns normally and the error is lost without a trace",
         "join() returns normally; threading.excepthook receives TaskFailed"),
        2,
        ("join returned", ["TaskFailed"]),
        "A Thread does not keep its target's result or exception: the exception goes to "
        "threading.excepthook (which prints a traceback by default) and join() just waits. The Thread "
        "subclass in this notebook stores it and re-raises it in join().",
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
        "completion_order",
        "Three tasks sleep 0.12 s, 0.02 s and 0.07 s. In which order does as_completed give them?",
        ("['a', 'b', 'c']: submission order",
         "Different on every run",
         "['b', 'c', 'a']: completion order"),
        2,
        ["b", "c", "a"],
        "as_completed yields each future as it finishes, so the shortest task comes first; use the futures "
        "list (or map) when you need submission order (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        "producer_gave_up",
        "The producer thread ends without putting anything. What does q.get(timeout=0.1) do?",
        ("Raises queue.Empty after 0.1 s",
         "Returns None",
         "Blocks until the notebook is interrupted"),
        0,
        "queue.Empty",
        "A queue cannot know that nobody will put again. Without a timeout, get() would wait forever; with "
        "one it raises queue.Empty (03 · Queues).",
    ),
    QuizQuestion(
        "task_done_too_often",
        "One item was put and taken, and task_done() is called twice. What happens?",
        ("Nothing: the counter of unfinished tasks goes to -1",
         "q.join() would hang afterwards",
         "The second task_done() raises ValueError"),
        2,
        "ValueError",
        "task_done() counts finished items; calling it more often than items were put raises ValueError "
        "(03 · Queues).",
    ),
    QuizQuestion(
        "unguarded_total",
        "Eight threads each read a shared total, pause 10 ms (as if logging), then write total + 1. What is "
        "the total?",
        ("Always 8",
         "Fewer than 8: updates are lost",
         "More than 8"),
        1,
        "fewer than 8",
        "The threads read the same old value before any of them writes, so later writes overwrite earlier "
        "ones. Holding a Lock from the read to the write makes it 8 (02 · Shared state and locks).",
    ),
    QuizQuestion(
        "threads_after_with",
        "How many of the pool's threads are still alive after the with block?",
        ("4: idle workers stay until the interpreter exits",
         "It depends on how many tasks were submitted",
         "0: leaving the with block shuts the pool down and joins its workers"),
        2,
        0,
        "Leaving `with ThreadPoolExecutor(...)` calls shutdown(wait=True), which joins every worker "
        "(01 · Thread pools and futures).",
    ),
)


class _QuizCard:
    """Widgets of one question: its text, the choices, a check button, the feedback."""

    def __init__(self, widgets, number, question, snippet):
        self.question = question
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
        cards: one object per question with ``.choices`` (RadioButtons),
            ``.button`` (the check button) and ``.feedback`` (HTML).
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

    def _repr_mimebundle_(self, **kwargs):
        return widget_mimebundle(self, **kwargs)

    def __repr__(self):
        return f"<Quiz: {len(self.cards)} questions>"


def quiz(questions, snippets):
    """Build the self-check quiz: per question its code, choices, a check button, feedback.

    Args:
        questions: a list or tuple of :class:`QuizQuestion` (e.g. ``COURSE_QUIZ``).
        snippets: the functions the questions are about, a list of functions
            (matched by ``__name__``) or a dict name -> function.  Their source
            is shown with each question.

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
    by_name = _snippets_by_name(snippets)
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
#: The jobs the exercise check runs: (value, fail, delay), delays far apart so the
#: completion order is clear even on a loaded machine.
_EXERCISE_JOBS = ((0, False, 0.20), (1, False, 0.08), (2, True, 0.03), (3, False, 0.14), (4, False, 0.01))
#: (Completions are 60-70 ms apart: under heavy load a worker thread started 50 ms late once
#: and finished the 110 ms task before the 60 ms one.)
_EXERCISE_TIMEOUT = 10.0
#: The function must finish within this share of the sequential time (sum of delays).
_EXERCISE_SPEED_SHARE = 0.9


@grader
def check_as_they_come(fn):
    """Check the exercise: ``fn(jobs, workers)`` returns results as they complete.

    ``fn`` is called with ``jobs`` (a list of ``(value, fail, delay)`` tuples for
    :func:`threadkit.flaky_task`) and ``workers`` (as many as jobs).  It passes
    when it returns ``(results, errors)`` with the successful values in
    completion order (the shortest task first), the one failure collected in
    ``errors`` as a :class:`~threadkit.TaskFailed` instead of raised, the tasks
    run concurrently, and no thread left running.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: what is wrong, in plain words, with a hint.
        TypeError: ``fn`` is not callable.
    """
    check_callable("fn", fn)
    jobs = list(_EXERCISE_JOBS)
    workers = len(jobs)
    successes = [job for job in jobs if not job[1]]
    completion = [value for value, _, _ in sorted(successes, key=lambda job: job[2])]
    submission = [value for value, _, _ in successes]
    sequential = sum(delay for _, _, delay in jobs)
    before = threading.enumerate()
    t0 = time.perf_counter()
    try:
        returned = call_with_timeout(fn, jobs, workers, timeout=_EXERCISE_TIMEOUT, what="as_they_come")
    except ExerciseError:
        raise
    except Exception as exc:
        fail([f"as_they_come raised {type(exc).__name__}: {exc}. A failing task must not stop the others."],
             "catch tk.TaskFailed around each future.result() and append it to errors.")
    elapsed = time.perf_counter() - t0
    problems = []
    left = leftover_threads(before)
    if left:
        problems.append(f"threads still running after it returned: {', '.join(left)}.")
    if not (isinstance(returned, tuple) and len(returned) == 2 and all(isinstance(x, list) for x in returned)):
        fail(problems + [f"it must return a tuple (results, errors) of two lists, got {_describe(returned)}."],
             "end with `return results, errors`.")
    results, errors = returned
    if sorted(results, key=repr) != sorted(completion, key=repr):
        problems.append(f"results should hold the {len(completion)} successful values {sorted(completion)}, "
                        f"got {results!r}.")
    elif results != completion:
        if results == submission:
            problems.append("results are in submission order: you waited for each task in turn.")
        else:
            problems.append(f"results should be in completion order {completion}, got {results}.")
    failed = [exc for exc in errors if isinstance(exc, TaskFailed)]
    if len(failed) != 1 or len(errors) != 1:
        problems.append(f"errors should hold the one TaskFailed of task 2, got {errors!r}.")
    if not problems and elapsed > _EXERCISE_SPEED_SHARE * sequential:
        problems.append(f"it took {elapsed:.2f} s; run concurrently it needs about "
                        f"{max(d for _, _, d in jobs):.2f} s (one after another: {sequential:.2f} s).")
    if problems:
        fail(problems, "submit every job to a pool of `workers` threads, then take the futures with "
                       "as_completed(futures, timeout=...) and sort each into results or errors.")
    return CheckPassed(f"Passed: results {results} arrived in completion order, the failure was collected, "
                       f"and no thread was left running.")
