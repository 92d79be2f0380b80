"""Unit tests for threadkit.lessons.comparison (line counts, tables, the quiz widget) and for
the quiz's content, notebooks/comparison_quiz.py.

The exercise grader (check_fetch_with_deadline) is tested in test_exercise_05.py.
"""

import importlib.util
import linecache
import re
import sys
from pathlib import Path

import pytest

import threadkit as tk
from threadkit.lessons.comparison import (
    QuizQuestion,
    UnpicklableError,
    count_code_lines,
    fail_unpicklably,
    quiz,
    table,
)

QUIZ_FILE = Path(__file__).resolve().parents[1] / "notebooks" / "comparison_quiz.py"


@pytest.fixture(scope="module")
def course_quiz():
    """notebooks/comparison_quiz.py, imported as notebook 05's kernel does (from its folder)."""
    spec = importlib.util.spec_from_file_location("comparison_quiz", QUIZ_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------- count_code_lines
def sample_function(x):
    """A docstring

    over several lines, not counted.
    """
    # a comment line, not counted

    y = x + 1  # a trailing comment: the line counts
    return (y,
            y)


class SampleClass:
    """Class docstring."""

    attribute = 1

    def method(self):
        """Method docstring."""
        return self.attribute


@pytest.mark.parametrize("objects, expected", [
    ((sample_function,), 4),                 # def line, y = ..., return (y, / y)
    ((SampleClass,), 4),                     # class line, attribute, def, return
    ((sample_function, SampleClass), 8),
    ((SampleClass.method,), 2),
    ((SampleClass().method,), 2),            # a bound method
], ids=["function", "class", "several", "method", "bound method"])
def test_count_code_lines_skips_docstrings_comments_and_blank_lines(objects, expected):
    assert count_code_lines(*objects) == expected


def test_count_code_lines_finds_a_class_defined_in_a_notebook_cell():
    # A notebook cell: its text is in linecache under a pseudo file name, and the
    # class's module (__main__ of the kernel) has no file.
    source = 'class Cell:\n    """doc"""\n\n    def run(self):\n        return 1\n'
    filename = "<ipython-input-test_comparison>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(source, filename, "exec"), namespace)
        assert count_code_lines(namespace["Cell"]) == 3
    finally:
        linecache.cache.pop(filename, None)


def exec_defined(source, name, module="__main__"):
    namespace = {"__name__": module}
    exec(source, namespace)
    return namespace[name]


@pytest.mark.parametrize("args, error, message", [
    ((), TypeError, "at least one"),
    ((42,), TypeError, r"objects\[0\] must be a function, method or class, got 42"),
    ((sample_function, len), TypeError, r"objects\[1\]"),
    ((exec_defined("def nowhere():\n    return 1\n", "nowhere"),), ValueError, "source of nowhere cannot be found"),
    ((exec_defined("class Bare:\n    x = 1\n", "Bare", "no_such_module"),), ValueError,
     "source of Bare cannot be found"),
    ((lambda x: x * x,), ValueError, "source of <lambda> cannot be found"),  # its source: the whole statement
], ids=["none", "not code", "a builtin", "exec'd function", "exec'd class", "lambda"])
def test_count_code_lines_refuses_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        count_code_lines(*args)


def test_count_code_lines_does_not_count_another_file_for_exec_code(monkeypatch):
    # Python 3.13 keeps the code of `python -c "..."` in linecache as "<string>"; an xdist
    # worker is started that way. Code run by exec() has the same pseudo-file name, so
    # inspect.getsource returned that command line instead of failing (seen on 3.13).
    command = "import sys;exec(eval(sys.stdin.readline()))\n"
    monkeypatch.setitem(linecache.cache, "<string>", (len(command), None, [command], "<string>"))
    with pytest.raises(ValueError, match="source of nowhere cannot be found"):
        count_code_lines(exec_defined("def nowhere():\n    return 1\n", "nowhere"))


# ------------------------------------------------------------------------ table
def test_table_formats_values_as_an_html_table():
    shown = table([{"name": "a<b", "ms": 1.234, "ok": True, "n": 3, "none": None},
                   {"name": "c", "ms": 10.0, "ok": False, "n": 12, "none": "x"}], title="T")._repr_html_()
    assert "<caption style='text-align:left'><b>T</b></caption>" in shown
    assert shown.count("<tr>") == 3
    assert re.findall(r"<t[hd] style='text-align:left'>(.*?)</t[hd]>", shown) == [
        "name", "ms", "ok", "n", "none", "a&lt;b", "1.2", "yes", "3", "-", "c", "10.0", "no", "12", "x"]
    assert "<caption" not in table([{"x": 1.0}])._repr_html_()


@pytest.mark.parametrize("call, error, message", [
    (lambda: table("abc"), TypeError, "rows must be a list of dicts"),
    (lambda: table([]), ValueError, "at least one dict"),
    (lambda: table([("a", 1)]), TypeError, r"rows\[0\] must be a dict"),
    (lambda: table([{"a": 1}, 5]), TypeError, r"rows\[1\] must be a dict"),
    (lambda: table([{"a": 1, "b": 2}, {"a": 3}]), ValueError, r"rows\[1\] lacks the column\(s\) \['b'\]"),
    (lambda: table([{"a": 1}], title=None), TypeError, "title must be a str"),
], ids=["not a list", "empty", "not a dict", "second not a dict", "missing column", "title"])
def test_table_refuses_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------- fail_unpicklably
def test_fail_unpicklably_raises_an_error_pickle_cannot_copy():
    import pickle

    with pytest.raises(UnpicklableError, match="task 3 failed") as caught:
        fail_unpicklably(3)
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(caught.value)


def test_a_process_pool_replaces_the_unpicklable_error_and_keeps_its_text():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        kept = pool.submit(tk.flaky_task, 3, True).exception(timeout=60)
        replaced = pool.submit(fail_unpicklably, 3).exception(timeout=60)
    assert type(kept) is tk.TaskFailed and "flaky_task" in str(kept.__cause__)
    assert not isinstance(replaced, UnpicklableError) and "pickle" in str(replaced)
    assert "UnpicklableError: task 3 failed" in str(replaced.__cause__)


# --------------------------------------------------------------- the quiz widget
def snippet_one():
    return 1


def snippet_two():
    return 2


def raises():
    raise RuntimeError("boom")


def prints():
    print("to stderr", file=sys.stderr)
    return 1


QUESTIONS = (
    QuizQuestion(snippet_one, "What?", ("one", "two", "three"), 0, 1, "Because."),
    QuizQuestion(snippet_two, "And?", ("one", "two", "three"), 1, 2, "So."),
)


def test_quiz_builds_one_card_per_question_with_the_snippet_code():
    q = quiz(QUESTIONS)
    assert repr(q) == "<Quiz: 2 questions>"
    assert len(q.cards) == 2
    assert "def snippet_one" in q.cards[0].header.value
    assert q.cards[0].choices.options == ("one", "two", "three")
    assert q.cards[0].choices.value is None
    bundle = q._repr_mimebundle_()
    assert bundle["text/plain"] == "<Quiz: 2 questions>"
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.parametrize("choice, shown", [
    (None, ["Pick an answer first."]),
    ("one", ["Not quite", "two", "So."]),
    ("two", ["Right.", "So."]),
])
def test_quiz_feedback_for_right_wrong_and_missing_answers(choice, shown):
    card = quiz(QUESTIONS).cards[1]
    card.choices.value = choice
    card.button.click()
    assert all(text in card.feedback.value for text in shown), card.feedback.value


@pytest.mark.parametrize("question, problem", [
    (QuizQuestion(snippet_one, "?", ("a", "b"), 0, 2, "x"), "1. snippet_one() returned 1, the answer says 2"),
    (QuizQuestion(raises, "?", ("a", "b"), 0, 1, "x"), "1. raises() raised RuntimeError: boom"),
    (QuizQuestion(prints, "?", ("a", "b"), 0, 1, "x"), "1. prints() printed or logged 'to stderr\\n'"),
    (QuizQuestion(snippet_two, "?", ("a", "b"), 0, 2, "x", printed="hello"),
     "1. snippet_two() did not print or log 'hello': ''"),
    (QuizQuestion(snippet_one, "?", ("a", "b"), 0, None, "x"), None),                   # not verified by a call
    (QuizQuestion(prints, "?", ("a", "b"), 0, 1, "x", printed="to stderr"), None),
    (QuizQuestion(snippet_one, "?", ("a", "b"), 0, 2, "x", proof=snippet_two), None),
], ids=["wrong outcome", "raises", "prints unexpectedly", "does not print", "unverified", "prints", "proof"])
def test_verify_reports_each_kind_of_disagreement(question, problem):
    assert quiz([question]).verify() == ([problem] if problem else [])


def test_verify_expects_another_outcome_without_the_gil(monkeypatch):
    q = quiz([QuizQuestion(snippet_one, "?", ("a", "b"), 0, 1, "x", needs_gil=True)])
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: True, raising=False)
    assert q.verify() == []
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert q.verify() == ["1. snippet_one() returned 1 without the GIL too"]


@pytest.mark.parametrize("questions, error, message", [
    ("snippet_one", TypeError, "questions must be a list or tuple"),
    ((), ValueError, "at least one"),
    (("what?",), TypeError, r"questions\[0\] must be a QuizQuestion"),
    ((QuizQuestion("snippet_one", "?", ("a", "b"), 0, 1, "x"),), TypeError, r"questions\[0\].snippet must be a function"),
], ids=["not a list", "empty", "not a question", "snippet not a function"])
def test_quiz_refuses_bad_input(questions, error, message):
    with pytest.raises(error, match=message):
        quiz(questions)


# ------------------------------------------------------------- the quiz's content
def test_the_course_quiz_is_well_formed(course_quiz):
    questions = course_quiz.QUESTIONS
    assert len(questions) == 10                                # the notebook says "Ten predictions"
    assert len({q.snippet for q in questions}) == len(questions)
    assert len({q.answer for q in questions}) >= 3             # the right answer is not always in one place
    for q in questions:
        assert 0 <= q.answer < len(q.options)
        assert len(set(q.options)) == len(q.options) >= 3
        assert q.prompt and q.explanation


def test_the_course_quiz_has_no_give_aways(course_quiz):
    # a snippet must not spell out its answer (e.g. `except ValueError: return "ValueError"`)
    for card in quiz(course_quiz.QUESTIONS).cards:
        right = card.question.options[card.question.answer]
        code = card.header.value.split("<pre", 1)[1]
        assert right.split(":")[0] not in code, card.question.snippet.__name__


def test_every_answer_of_the_course_quiz_holds(course_quiz):
    # Question 10 starts a fresh kernel: a thread's print lands under the cell running when
    # it prints (the pinned ipykernel 7.4); nothing is printed here.
    q = quiz(course_quiz.QUESTIONS)
    assert "def counter_without_lock" in q.cards[0].header.value
    assert q.verify() == []
