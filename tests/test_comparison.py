"""Unit tests for threadkit.lessons.comparison: line counts, hand-off timing, tables, the quiz.

The exercise grader (check_fetch_with_deadline) is tested in test_exercise_05.py.
"""

import linecache
import sys
import time

import pytest

import threadkit as tk
from threadkit.lessons import comparison as _comparison
from threadkit.lessons.comparison import (
    COURSE_QUIZ,
    Quiz,
    QuizQuestion,
    Table,
    UnpicklableError,
    count_code_lines,
    fail_unpicklably,
    per_item_costs,
    quiz,
    table,
)


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


def test_count_code_lines_skips_docstrings_comments_and_blank_lines():
    # def line, y = ..., return (y, / y)
    assert count_code_lines(sample_function) == 4


def test_count_code_lines_of_a_class_and_of_several_objects():
    # class line, attribute, def, return
    assert count_code_lines(SampleClass) == 4
    assert count_code_lines(sample_function, SampleClass) == 8
    assert count_code_lines(SampleClass.method) == 2


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


def test_count_code_lines_refuses_bad_input():
    with pytest.raises(TypeError, match="at least one"):
        count_code_lines()
    with pytest.raises(TypeError, match=r"objects\[0\] must be a function, method or class, got 42"):
        count_code_lines(42)
    with pytest.raises(TypeError, match=r"objects\[1\]"):
        count_code_lines(sample_function, len)
    namespace = {}
    exec("def nowhere():\n    return 1\n", namespace)
    with pytest.raises(ValueError, match="source of nowhere cannot be found"):
        count_code_lines(namespace["nowhere"])
    namespace = {"__name__": "no_such_module"}
    exec("class Bare:\n    x = 1\n", namespace)
    with pytest.raises(ValueError, match="source of Bare cannot be found"):
        count_code_lines(namespace["Bare"])


def test_count_code_lines_does_not_count_another_file_for_exec_code(monkeypatch):
    # Python 3.13 keeps the code of `python -c "..."` in linecache as "<string>"; an xdist
    # worker is started that way. Code run by exec() has the same pseudo-file name, so
    # inspect.getsource returned that command line instead of failing (seen on 3.13).
    command = "import sys;exec(eval(sys.stdin.readline()))\n"
    monkeypatch.setitem(linecache.cache, "<string>", (len(command), None, [command], "<string>"))
    namespace = {}
    exec("def nowhere():\n    return 1\n", namespace)
    with pytest.raises(ValueError, match="source of nowhere cannot be found"):
        count_code_lines(namespace["nowhere"])
    square = lambda x: x * x  # noqa: E731  (a lambda's source is its whole statement)
    assert count_code_lines(square) == 1


# ---------------------------------------------------------------- per_item_costs
def via_list(n):
    out = []
    for i in range(n):
        out.append(i)
    return out


def via_slow_list(n):
    out = []
    for i in range(n):
        time.sleep(0)
        out.append(i)
    return out


def test_per_item_costs_returns_microseconds_per_item_in_the_given_order():
    costs = per_item_costs({"slow": via_slow_list, "list": via_list}, n=200, repeats=2)
    assert list(costs) == ["slow", "list"]
    assert all(isinstance(v, float) and v > 0 for v in costs.values())
    assert costs["slow"] > costs["list"]


def test_per_item_costs_refuses_a_wrong_hand_off():
    with pytest.raises(AssertionError, match=r"must return list\(range\(5\)\)"):
        per_item_costs({"lossy": lambda n: list(range(n - 1))}, n=5, repeats=1)


def test_per_item_costs_refuses_bad_arguments():
    with pytest.raises(TypeError, match="functions must be a dict"):
        per_item_costs([via_list])
    with pytest.raises(ValueError, match="at least one"):
        per_item_costs({})
    with pytest.raises(TypeError, match="each name in functions must be a str"):
        per_item_costs({1: via_list})
    with pytest.raises(TypeError, match=r"functions\['x'\] must be callable"):
        per_item_costs({"x": 3})
    with pytest.raises(ValueError, match="n must be an int from 1 to 1000000, got 0"):
        per_item_costs({"x": via_list}, n=0)
    with pytest.raises(TypeError, match="repeats must be an int"):
        per_item_costs({"x": via_list}, repeats=True)


# ------------------------------------------------------------------------ table
def test_table_formats_values_and_shows_text_and_html():
    t = table([{"name": "a<b", "ms": 1.234, "ok": True, "n": 3, "none": None},
               {"name": "c", "ms": 10.0, "ok": False, "n": 12, "none": "x"}], title="T")
    assert isinstance(t, Table)
    assert t.columns == ["name", "ms", "ok", "n", "none"]
    assert t.rows == [["a<b", "1.2", "yes", "3", "-"], ["c", "10.0", "no", "12", "x"]]
    text = repr(t)
    assert text.splitlines()[0] == "T"
    assert text.splitlines()[1] == "name  ms    ok   n   none"
    assert str(t) == text
    html = t._repr_html_()
    assert "a&lt;b" in html and "<caption" in html and html.count("<tr>") == 3


def test_table_with_sequence_rows_and_digits():
    t = table([("x", 1.23456)], ["name", "value"], digits=3)
    assert t.rows == [["x", "1.235"]]
    assert "<caption" not in t._repr_html_()


def test_table_with_no_rows_shows_the_header():
    t = table([], ["name", "value"])
    assert repr(t) == "name  value\n----  -----"
    assert t._repr_html_().count("<tr>") == 1


def test_table_refuses_bad_input():
    with pytest.raises(TypeError, match="rows must be a list"):
        table("abc")
    with pytest.raises(ValueError, match="columns must be given"):
        table([("a", 1)])
    with pytest.raises(ValueError, match="columns must be given"):
        table([])
    with pytest.raises(ValueError, match=r"rows\[0\] has 1 values, expected one per column \(2\)"):
        table([("a",)], ["x", "y"])
    with pytest.raises(ValueError, match=r"rows\[1\] lacks the column\(s\) \['b'\]"):
        table([{"a": 1, "b": 2}, {"a": 3}])
    with pytest.raises(TypeError, match=r"rows\[0\] must be a dict or a list/tuple"):
        table([5], ["x"])
    with pytest.raises(TypeError, match="title must be a str"):
        table([("a",)], ["x"], title=None)
    with pytest.raises(ValueError, match="digits must be an int from 0 to 6"):
        table([("a",)], ["x"], digits=9)
    with pytest.raises(TypeError, match="each column name must be a str"):
        table([("a",)], [1])


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


# ------------------------------------------------------------------------- quiz
def test_course_quiz_is_well_formed():
    assert 8 <= len(COURSE_QUIZ) <= 12
    assert len({q.name for q in COURSE_QUIZ}) == len(COURSE_QUIZ)
    assert len({q.answer for q in COURSE_QUIZ}) >= 3      # the right answer is not always in one place
    for q in COURSE_QUIZ:
        assert isinstance(q, QuizQuestion)
        assert q.name.isidentifier()
        assert 0 <= q.answer < len(q.options)
        assert len(set(q.options)) == len(q.options) >= 3
        assert q.prompt and q.explanation


def snippet_one():
    return 1


def snippet_two():
    return 2


QUESTIONS = (
    QuizQuestion("snippet_one", "What?", ("one", "two", "three"), 0, 1, "Because."),
    QuizQuestion("snippet_two", "And?", ("one", "two", "three"), 1, 2, "So."),
)


def test_quiz_builds_one_card_per_question_with_the_snippet_code():
    pytest.importorskip("ipywidgets")
    q = quiz(QUESTIONS, [snippet_one, snippet_two])
    assert isinstance(q, Quiz)
    assert repr(q) == "<Quiz: 2 questions>"
    assert len(q.cards) == 2
    assert "def snippet_one" in q.cards[0].header.value
    assert q.cards[0].choices.options == ("one", "two", "three")
    assert q.cards[0].choices.value is None
    bundle = q._repr_mimebundle_()
    assert bundle["text/plain"] == "<Quiz: 2 questions>"
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_quiz_feedback_for_right_wrong_and_missing_answers():
    pytest.importorskip("ipywidgets")
    q = quiz(QUESTIONS, {"snippet_one": snippet_one, "snippet_two": snippet_two})
    card = q.cards[1]
    card.button.click()
    assert card.feedback.value == "Pick an answer first."
    assert q.answer(1, 0) is False
    assert "Not quite" in card.feedback.value and "two" in card.feedback.value and "So." in card.feedback.value
    assert q.answer(1, 1) is True
    assert "Right." in card.feedback.value
    card.choices.value = "three"
    card.button.click()
    assert "Not quite" in card.feedback.value


def test_the_course_quiz_shows_its_own_snippets_and_every_answer_holds():
    pytest.importorskip("ipywidgets")
    q = quiz(COURSE_QUIZ)
    assert [card.snippet.__name__ for card in q.cards] == [question.name for question in COURSE_QUIZ]
    assert "def counter_without_lock" in q.cards[0].header.value
    assert q.verify() == []


def test_the_course_quiz_has_no_give_aways():
    # a snippet must not spell out its answer (e.g. `except ValueError: return "ValueError"`)
    pytest.importorskip("ipywidgets")
    for card in quiz(COURSE_QUIZ).cards:
        right = card.question.options[card.question.answer]
        code = card.header.value.split("<pre", 1)[1]
        assert right.split(":")[0] not in code, card.question.name


def raises():
    raise RuntimeError("boom")


def logs_and_prints():
    print("to stderr", file=sys.stderr)
    return 1


def test_verify_reports_every_kind_of_disagreement(monkeypatch):
    pytest.importorskip("ipywidgets")
    questions = (
        QuizQuestion("snippet_one", "What?", ("a", "b", "c"), 0, 2, "x"),                      # wrong outcome
        QuizQuestion("raises", "What?", ("a", "b", "c"), 0, 1, "x"),                           # raises
        QuizQuestion("logs_and_prints", "What?", ("a", "b", "c"), 0, 1, "x"),                  # prints, unexpected
        QuizQuestion("snippet_two", "What?", ("a", "b", "c"), 0, 2, "x", printed="hello"),     # does not print
        QuizQuestion("snippet_one", "What?", ("a", "b", "c"), 0, None, "x"),                   # not verified here
    )
    q = quiz(questions, [snippet_one, snippet_two, raises, logs_and_prints])
    problems = q.verify()
    assert problems == [
        "1. snippet_one() returned 1, the answer says 2",
        "2. raises() raised RuntimeError: boom",
        "3. logs_and_prints() printed or logged 'to stderr\\n'",
        "4. snippet_two() did not print or log 'hello': ''",
    ]
    good = quiz((QuizQuestion("logs_and_prints", "?", ("a", "b", "c"), 0, 1, "x", printed="to stderr"),),
                [logs_and_prints])
    assert good.verify() == []


def test_verify_expects_another_outcome_without_the_gil(monkeypatch):
    pytest.importorskip("ipywidgets")
    question = QuizQuestion("snippet_one", "?", ("a", "b", "c"), 0, 1, "x", needs_gil=True)
    q = quiz((question,), [snippet_one])
    assert q.verify() == []
    monkeypatch.setattr(_comparison, "_gil_enabled", lambda: False)
    assert q.verify() == ["1. snippet_one() returned 1 without the GIL too"]


def test_verify_captures_a_futures_log_line():
    pytest.importorskip("ipywidgets")
    q = quiz(COURSE_QUIZ)
    card = next(c for c in q.cards if c.question.name == "callback_that_raises")
    returned, printed = _comparison._run_capturing_stderr(card.snippet)
    assert returned == ("page", ["ran"]) and "exception calling callback" in printed


def test_quiz_refuses_bad_input():
    pytest.importorskip("ipywidgets")
    with pytest.raises(TypeError, match="questions must be a list or tuple"):
        quiz("snippet_one", [snippet_one])
    with pytest.raises(ValueError, match="at least one"):
        quiz((), [snippet_one])
    with pytest.raises(TypeError, match=r"questions\[0\] must be a QuizQuestion"):
        quiz(("what?",), [snippet_one])
    with pytest.raises(ValueError, match=r"lacks the function\(s\) \['snippet_two'\]"):
        quiz(QUESTIONS, [snippet_one])
    with pytest.raises(TypeError, match="snippets must be a list of functions or a dict"):
        quiz(QUESTIONS, snippet_one)
    with pytest.raises(TypeError, match="snippets must hold functions"):
        quiz(QUESTIONS, {"snippet_one": 1})
    q = quiz(QUESTIONS, [snippet_one, snippet_two])
    with pytest.raises(ValueError, match="index must be an int from 0 to 1, got 2"):
        q.answer(2, 0)
    with pytest.raises(ValueError, match="option must be an int from 0 to 2, got 3"):
        q.answer(0, 3)


def test_public_names_are_exported():
    for name in _comparison.__all__:
        assert getattr(tk, name) is getattr(_comparison, name)


def test_a_threads_print_lands_under_the_cell_running_when_it_prints():
    # Quiz question 10, measured in a fresh kernel (the pinned ipykernel 7.4 tags the
    # line with the request it is executing); nothing is printed here.
    from threadkit.lessons.comparison import where_a_thread_prints

    assert where_a_thread_prints() == "B"
    with pytest.raises(ValueError, match="timeout must be a finite number from 1 to 600"):
        where_a_thread_prints(timeout=0)
