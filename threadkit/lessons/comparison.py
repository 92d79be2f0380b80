"""Lesson helpers for notebook 05 (comparison): count lines, tabulate, quiz, check the exercise.
The techniques are written in the notebook, the quiz's questions in ``notebooks/comparison_quiz.py``."""

import ast
import contextlib
import functools
import html
import inspect
import io
import linecache
import numbers
import textwrap
import threading
import time
import tokenize
import types
from typing import Any, NamedTuple

from .._build import python_build
from .._checking import CheckPassed, call_with_timeout, describe_error, fail, futures_log, grader, new_threads
from .._display import widget_bundle
from .._validate import A_CALLABLE, A_STR, accepts, an_int, describe, instance_of, valid

__all__ = ["count_code_lines", "table", "quiz", "check_fetch_with_deadline", "UnpicklableError",
           "fail_unpicklably"]


# --------------------------------------------------------------- lines of code
_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


def count_code_lines(*objects):
    """Count the lines of code of functions, methods and classes (with a method), as a reader would:
    not blank lines, comment-only lines or docstrings; a statement split over three lines counts 3.
    Returns the total over all ``objects`` (an int).

    Raises:
        TypeError: no object was given, or one is not a function, method or class.
        ValueError: the source of an object cannot be found.
    """
    if not objects:
        raise TypeError("count_code_lines() needs at least one function or class, got none")
    total = 0
    for i, obj in enumerate(objects):
        valid(f"objects[{i}]", obj, instance_of((types.FunctionType, types.MethodType, type),
                                                "a function, method or class"))
        source = _class_source(obj) if inspect.isclass(obj) else _function_source(obj)
        if source is None:
            raise ValueError(f"objects[{i}]: the source of {obj.__qualname__} cannot be found")
        source, docstring_lines, code_lines = textwrap.dedent(source), set(), set()
        for node in ast.walk(ast.parse(source)):
            kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)
            if isinstance(node, kinds) and ast.get_docstring(node, clean=False) is not None:
                docstring_lines.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in _NOT_CODE:
                code_lines.update(range(token.start[0], token.end[0] + 1))
        total += len(code_lines - docstring_lines)
    return total


def _function_source(fn):
    """``fn``'s source, or None: exec()'d code ("<string>") may be given another one's lines."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        body = ast.parse(source).body
    except (OSError, TypeError, SyntaxError):
        return None
    found = bool(body) and isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) and body[0].name == fn.__name__
    return source if found else None


def _class_source(cls):
    """A class's source, found through a method's code: a notebook cell's module has no file."""
    for member in vars(cls).values():
        fn = getattr(member, "__func__", getattr(member, "fget", member))
        if not inspect.isfunction(fn):
            continue
        lines, line = linecache.getlines(fn.__code__.co_filename), fn.__code__.co_firstlineno
        try:
            tree = ast.parse("".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__ and node.lineno <= line <= node.end_lineno:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                return "".join(lines[start - 1:node.end_lineno])
    return None


# ------------------------------------------------- a task for a child process
class UnpicklableError(Exception):
    """An error holding a lock: :mod:`pickle` cannot copy it back from a child process."""

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def fail_unpicklably(value):
    """Raise :class:`UnpicklableError` naming ``value`` (always); here so that a child process can import it."""
    raise UnpicklableError(f"task {value!r} failed")


# ----------------------------------------------------------------------- table
@accepts(rows=instance_of((list, tuple), "a list of dicts"), title=A_STR)
def table(rows, *, title=""):
    """Lay dict rows out as an HTML table whose columns are the first row's keys, titled ``title``.
    Floats show one decimal, ``True``/``False`` show as yes/no, ``None`` as ``-``. Returns an ``IPython.display.HTML``.

    Raises:
        TypeError: ``rows`` is not a list of dicts, or ``title`` not a str.
        ValueError: ``rows`` is empty, or a row lacks a column.
    """
    from IPython.display import HTML
    if not rows:
        raise ValueError("rows must hold at least one dict, got an empty list")
    a_dict = instance_of(dict, "a dict")
    columns, body = list(valid("rows[0]", rows[0], a_dict)), []
    for i, row in enumerate(rows):
        missing = [c for c in columns if c not in valid(f"rows[{i}]", row, a_dict)]
        if missing:
            raise ValueError(f"rows[{i}] lacks the column(s) {missing!r}; it has {list(row)!r}")
        body.append(_html_row("td", [_cell_text(row[c]) for c in columns]))
    caption = f"<caption style='text-align:left'><b>{html.escape(title)}</b></caption>" if title else ""
    return HTML(f"<table>{caption}<thead>{_html_row('th', map(str, columns))}</thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


def _html_row(tag, texts):
    return "<tr>" + "".join(f"<{tag} style='text-align:left'>{html.escape(t)}</{tag}>" for t in texts) + "</tr>"


def _cell_text(value):
    if value is None or isinstance(value, bool):
        return {None: "-", True: "yes", False: "no"}[value]
    real = isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
    return f"{float(value):.1f}" if real else str(value)


# ------------------------------------------------------------------------ quiz
class QuizQuestion(NamedTuple):
    """A question about ``snippet`` (a function, shown as code); the right option is ``options[answer]``.
    ``Quiz.verify`` calls the snippet (or ``proof``): it must return ``outcome`` (None: not checked) and
    print or log ``printed`` ("": nothing); a ``needs_gil`` answer holds only with the GIL."""

    snippet: Any
    prompt: str
    options: tuple
    answer: int
    outcome: Any
    explanation: str
    printed: str = ""
    needs_gil: bool = False
    proof: Any = None



def _give_feedback(card, _button=None):
    right = card.question.options[card.question.answer]
    if card.choices.value is None:
        card.feedback.value = "Pick an answer first."
        return
    verdict, colour = (("Right.", "#117733") if card.choices.value == right else
                       (f"Not quite: the answer is “{html.escape(right)}”.", "#B00020"))
    card.feedback.value = (f"<span style='color: {colour}'><b>{verdict}</b></span> "
                           f"{html.escape(card.question.explanation)}")


class Quiz:
    """The quiz made by :func:`quiz`: ``widget`` (a VBox) and ``cards`` (``question``, ``header``,
    ``choices``, ``button``, ``feedback``: one question's widgets)."""

    def __init__(self, questions):
        import ipywidgets as widgets
        self.cards = []
        for number, q in enumerate(questions, 1):
            code = textwrap.dedent(inspect.getsource(q.snippet)).rstrip()
            card = types.SimpleNamespace(
                question=q, feedback=widgets.HTML(""),
                header=widgets.HTML(f"<b>{number}. {html.escape(q.prompt)}</b><pre style='font-size: 12px; "
                                    f"line-height: 1.3; margin: 4px 0'>{html.escape(code)}</pre>"),
                choices=widgets.RadioButtons(options=list(q.options), value=None, layout=widgets.Layout(width="auto")),
                button=widgets.Button(description="check", tooltip="check your answer"))
            card.button.on_click(functools.partial(_give_feedback, card))
            card.widget = widgets.VBox([card.header, card.choices, card.button, card.feedback])
            self.cards.append(card)
        self.widget = widgets.VBox([c.widget for c in self.cards])

    def verify(self):
        """Run every question's snippet (or proof): one sentence per answer that does not hold."""
        problems = []
        for number, q in enumerate((card.question for card in self.cards), 1):
            if q.outcome is None:
                continue
            said, stderr = f"{number}. {q.snippet.__name__}()", io.StringIO()
            try:
                with futures_log() as log, contextlib.redirect_stderr(stderr):
                    returned = (q.proof or q.snippet)()
            except Exception as exc:
                problems.append(f"{said} raised {describe_error(exc)}")
                continue
            printed = stderr.getvalue() + log.text
            gil = not q.needs_gil or python_build().gil_enabled  # else the answer must *not* hold
            if (returned == q.outcome) != gil:
                said_too = f", the answer says {q.outcome!r}" if gil else " without the GIL too"
                problems.append(f"{said} returned {returned!r}{said_too}")
            if q.printed and q.printed not in printed:
                problems.append(f"{said} did not print or log {q.printed!r}: {printed[:200]!r}")
            elif not q.printed and printed:
                problems.append(f"{said} printed or logged {printed[:200]!r}")
        return problems

    def _repr_mimebundle_(self, **kwargs):
        return widget_bundle(self, **kwargs)

    def __repr__(self):
        return f"<Quiz: {len(self.cards)} questions>"


@accepts(questions=instance_of((list, tuple), "a list or tuple of QuizQuestion"))
def quiz(questions):
    """Build the self-check quiz: per question its snippet's code, choices, a check button, feedback.

    Returns:
        a :class:`Quiz`, shown as the widget; ``verify()`` runs every snippet to prove the answers.

    Raises:
        TypeError: ``questions`` holds something other than QuizQuestions about functions.
        ValueError: ``questions`` is empty.
    """
    if not questions:
        raise ValueError("questions must hold at least one QuizQuestion, got none")
    a_question, a_function = instance_of(QuizQuestion, "a QuizQuestion"), instance_of(types.FunctionType, "a function")
    for i, q in enumerate(questions):
        valid(f"questions[{i}].snippet", valid(f"questions[{i}]", q, a_question).snippet, a_function)
    return Quiz(questions)


# -------------------------------------------------------------------- exercise
#: The exercise's deadline, how much later the function may return (s), and its max_workers.
DEADLINE_S, DEADLINE_MARGIN_S, DEADLINE_WORKERS = 0.3, 0.3, 2
#: Seconds before the function counts as hanging, and its threads' grace once the slow fetches end.
HANG_S, THREADS_GRACE_S = 10.0, 1.0
#: With 2 workers taking the urls in this order, both are held by the two slow pages within
#: ~30 ms, so the last two urls are still queued at the deadline, on any machine.
_URLS = tuple(f"https://example.test/{page}" for page in ("home", "search", "ads", "news", "video", "weather", "sport"))
_SLOW = (_URLS[1], _URLS[4])          # end when the check lets them, or once the function is late
_FAILS = _URLS[2]                     # raises ConnectionError
_IN_TIME = (_URLS[0], _URLS[3])       # fast: done by the deadline
_QUEUED = (_URLS[5], _URLS[6])        # fast, but no worker is free before the deadline
_CALL = f"fetch_with_deadline(urls, fetch, {DEADLINE_S:g}, {DEADLINE_WORKERS})"
_DEADLINE_HINT = ("submit every url to a ThreadPoolExecutor(max_workers=max_workers), wait once for all of them with "
                  "concurrent.futures.wait(futures, timeout=deadline_s), then shut the pool down with "
                  "shutdown(wait=False, cancel_futures=True); sort the done futures into results or errors, every "
                  "other url is pending.")
_LATE_HINT = ("leaving a `with ThreadPoolExecutor(...)` block waits for every running fetch, and a timeout on each "
              "result() starts the clock again: wait once for all the futures with concurrent.futures.wait(futures, "
              "timeout=deadline_s), then call pool.shutdown(wait=False, cancel_futures=True).")
_RAISED = {
    ConnectionError: ("it raised ConnectionError: a failed fetch belongs in errors, it must not stop the others.",
                      "take each done future's exception with try/except around result() (or future.exception()) "
                      "and store it in errors[url]."),
    TimeoutError: ("it raised TimeoutError: reaching the deadline is not an error here.",
                   "concurrent.futures.wait(futures, timeout=deadline_s) returns (done, not_done) at the "
                   "deadline; as_completed() and result() raise TimeoutError instead."),
    NotImplementedError: (None, _DEADLINE_HINT),
}


class _DeadlineService:
    """The check's fake ``fetch``: records which fetches started and the most running at once."""

    def __init__(self, late_at):
        self.error, self.started, self.running, self.most_running, self._late_at = None, [], 0, 0, late_at
        self._lock, self.released = threading.Lock(), threading.Event()

    def fetch(self, url):
        if url not in _URLS:
            raise ValueError(f"fetch() got {url!r}, which is not one of the urls given")
        with self._lock:
            self.started.append(url)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.released.wait(max(0.0, self._late_at - time.monotonic()) if url in _SLOW else 0.01)  # fast: 10 ms
            if url == _FAILS:
                self.error = ConnectionError(f"{url}: connection reset")
                raise self.error
            return f"<page of {url}>"
        finally:
            with self._lock:
                self.running -= 1


@grader
@accepts(fn=A_CALLABLE)
def check_fetch_with_deadline(fn):
    """Check the exercise ``fetch_with_deadline(urls, fetch, deadline_s, max_workers)``.

    Seven urls, ``deadline_s=0.3``, ``max_workers=2``: two fetches are slow (they end once ``fn`` returned or
    overran), one fails, two are still queued at the deadline. ``fn`` passes when it returns ``(results, errors,
    pending)`` in time, ran 2 fetches at once, cancelled the queued ones and left no thread running.

    Raises:
        ExerciseError: what is wrong, in plain words, with a hint.
        TypeError: ``fn`` is not callable.
    """
    t0, before = time.monotonic(), threading.enumerate()
    service = _DeadlineService(late_at=t0 + DEADLINE_S + DEADLINE_MARGIN_S)
    try:
        returned = call_with_timeout(fn, list(_URLS), service.fetch, DEADLINE_S, DEADLINE_WORKERS,
                                     timeout=HANG_S, what=_CALL, raised=_RAISED)
        seconds = time.monotonic() - t0
    finally:
        service.released.set()
    left = [t.name for t in new_threads(before, grace=THREADS_GRACE_S)]
    problems = []
    if service.most_running == 1:
        problems.append("it ran one fetch at a time: run them on a pool of max_workers threads.")
    elif service.most_running > DEADLINE_WORKERS:
        problems.append(f"it ran {service.most_running} fetches at once; max_workers is {DEADLINE_WORKERS}.")
    if seconds >= DEADLINE_S + DEADLINE_MARGIN_S:
        fail([(f"it returned {seconds:.2f} s after the call, only once the slow fetches could end: it waited "
               f"past the deadline of {DEADLINE_S:g} s.", _LATE_HINT)] + problems)
    if not (isinstance(returned, tuple) and len(returned) == 3):
        fail(problems + [(f"it must return a tuple (results, errors, pending), got {describe(returned)}.",
                          "end with `return results, errors, pending`.")])
    results, errors, pending = returned
    expected_pending = [url for url in _URLS if url in _SLOW or url in _QUEUED]
    if not isinstance(results, dict):
        problems.append(f"results must be a dict url -> page, got {describe(results)}.")
    elif results != {url: f"<page of {url}>" for url in _IN_TIME}:
        problems.append(f"results should map the urls fetched by the deadline {list(_IN_TIME)} to their pages; "
                        f"it holds {sorted(results, key=repr)}.")
    if not isinstance(errors, dict) or list(errors) != [_FAILS] or errors[_FAILS] is not service.error:
        problems.append(f"errors should map {_FAILS} to the ConnectionError its fetch raised, got {describe(errors)}.")
    if not isinstance(pending, list):
        problems.append(f"pending must be a list of urls, got {describe(pending)}.")
    elif sorted(pending) != sorted(expected_pending):
        problems.append(f"pending should hold the {len(expected_pending)} urls not done by the deadline "
                        f"{expected_pending}, got {pending!r}.")
    ran_anyway = [url for url in _QUEUED if url in service.started]
    if ran_anyway and service.most_running <= DEADLINE_WORKERS:
        problems.append((f"the fetches still queued at the deadline ran after it returned ({', '.join(ran_anyway)}): "
                         "the queued work was not cancelled.",
                         "shutdown(wait=False) alone lets the queued fetches run later: pass cancel_futures=True too."))
    if left:
        problems.append(f"threads still running after the slow fetches ended: {', '.join(left)}.")
    if problems:
        fail(problems, _DEADLINE_HINT)
    return CheckPassed(f"Passed: it returned {seconds:.2f} s after the call, with {len(results)} pages, "
                       f"{len(errors)} error and {len(pending)} urls pending; the {len(_QUEUED)} fetches still "
                       "queued at the deadline never ran.")
