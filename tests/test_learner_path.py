"""The learner's path (COURSE_DESIGN.md, "The learner's path versus the proof").

A learner reads the cells that hold the technique and its picture; the proof of
a claim sits in a collapsed check cell below it.  Per notebook:

- at most 2,000 words of prose (00: 1,200) before "Going further", which holds
  at most 600; at most 300 non-blank lines of learner-facing code, no learner
  cell over 25 lines, at most 10 ``assert`` lines in learner cells;
- a collapsed code cell (metadata ``jupyter.source_hidden``) is a check cell: its
  stored output is one line starting with ``checked: ``;
- Run All never overwrites the learner's code: no collapsed cell defines a name
  that a learner cell defines;
- the exercise cell starts with a commented ``# %load ../solutions/NN_name.py``
  line (the solution, on demand) and holds the starting code; the check cell after
  it is tagged ``raises-exception`` and stores the refusal, and the collapsed cell
  after that confirms it with ``tk.confirm_refused``;
- every widget explorer has a question before it and a collapsed answer
  (``<details>``) right after it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"
NAMES = [p.name for p in sorted(NOTEBOOKS.glob("*.ipynb"))]

WORDS_START = 1200
WORDS = 2000
WORDS_FURTHER = 600
CODE_LINES = 300
CELL_LINES = 25
ASSERT_LINES = 10
#: How many cells after an explorer its collapsed answer may come.
ANSWER_WITHIN = 3

LOAD_LINE = re.compile(r"^# %load \.\./solutions/(\d\d_[a-z0-9_]+\.py)\s*$", re.M)
DEFINED = re.compile(r"^(?:def|class) (\w+)|^(\w+)\s*=(?!=)", re.M)
CODE_DEFINED = re.compile(r"^(?:def|class) (\w+)", re.M)
CHECK_CALL = re.compile(r"\b(?:tk\.)?(check_\w+)\s*\(")
CONFIRM = re.compile(r"\b(?:tk\.)?confirm_refused\(\s*(?:tk\.)?(check_\w+)")
FURTHER = ("## going further", "# going further")

notebook = pytest.mark.parametrize("name", NAMES)


def load(name):
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]


def source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def hidden(cell):
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"))


def learner_code(cells):
    return [c for c in cells if c["cell_type"] == "code" and not hidden(c)]


def lines(cell):
    return [l for l in source(cell).splitlines() if l.strip()]


def stdout(cell):
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def further_index(cells):
    return next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                 and source(c).lstrip().lower().startswith(FURTHER)), len(cells))


def words(cells):
    return sum(len(source(c).split()) for c in cells if c["cell_type"] == "markdown")


def metrics(cells):
    """The learner-path figures of one notebook's cells (as ../shared/tools/course_metrics.py)."""
    cut = further_index(cells)
    code = learner_code(cells)
    return {
        "words": words(cells[:cut]),
        "further_words": words(cells[cut:]),
        "code_lines": sum(len(lines(c)) for c in code),
        "longest": max((len(lines(c)) for c in code), default=0),
        "asserts": sum(1 for c in code for l in lines(c) if l.strip().startswith("assert")),
    }


@notebook
def test_budgets(name):
    m = metrics(load(name))
    limit = WORDS_START if name.startswith("00") else WORDS
    over = [f"{m['words']} words of prose > {limit}"] if m["words"] > limit else []
    over += [f"'Going further' has {m['further_words']} words > {WORDS_FURTHER}"] if m["further_words"] > WORDS_FURTHER else []
    over += [f"{m['code_lines']} lines of learner code > {CODE_LINES}"] if m["code_lines"] > CODE_LINES else []
    over += [f"a learner cell of {m['longest']} lines > {CELL_LINES}"] if m["longest"] > CELL_LINES else []
    over += [f"{m['asserts']} assert lines in learner cells > {ASSERT_LINES}"] if m["asserts"] > ASSERT_LINES else []
    assert not over, f"{name}: " + "; ".join(over)


def defined_names(cell):
    return {a or b for a, b in DEFINED.findall(source(cell))}


@notebook
def test_run_all_never_overwrites_the_learners_code(name):
    cells = load(name)
    # the learner's code: every def and class in a learner cell, and every name the exercise cell sets
    learner = {n for c in learner_code(cells) for n in CODE_DEFINED.findall(source(c))}
    learner |= set().union(*(defined_names(c) for c in learner_code(cells) if LOAD_LINE.search(source(c))))
    clashes = {i: sorted(defined_names(c) & learner) for i, c in enumerate(cells)
               if c["cell_type"] == "code" and hidden(c) and defined_names(c) & learner}
    assert not clashes, f"{name}: collapsed cells redefine learner names (Run All would overwrite them): {clashes}"


@notebook
def test_collapsed_cells_print_one_checked_line(name):
    bad = {}
    for i, c in enumerate(load(name)):
        if c["cell_type"] == "code" and hidden(c):
            out = stdout(c).splitlines()
            if len(out) != 1 or not out[0].startswith("checked: "):
                bad[i] = out[:3]
    assert not bad, f"{name}: a collapsed check cell must print one line 'checked: ...'; these print {bad}"


@notebook
def test_exercise_solution_on_demand_and_refusal_confirmed(name):
    cells = load(name)
    found = [(i, LOAD_LINE.search(source(c))) for i, c in enumerate(cells)
             if c["cell_type"] == "code" and LOAD_LINE.search(source(c))]
    assert len(found) == 1, f"{name}: expected one exercise cell with a commented '# %load ../solutions/...' line"
    i, match = found[0]
    assert source(cells[i]).startswith("# %load"), f"{name}: cell {i}: the '# %load' line must be the cell's first line"
    assert not hidden(cells[i]), f"{name}: the exercise cell {i} must be learner-facing"
    solution = SOLUTIONS / match.group(1)
    assert solution.is_file(), f"{name}: cell {i} loads {solution.name}, which does not exist in solutions/"
    assert solution.name[:2] == name[:2], f"{name}: its solution file should start with {name[:2]}_"
    code = [(j, c) for j, c in enumerate(cells) if j > i and c["cell_type"] == "code"]
    assert len(code) >= 2, f"{name}: the exercise cell needs a check cell and a confirming cell after it"
    (j, check), (k, confirm) = code[:2]
    grader = CHECK_CALL.search(source(check))
    assert grader and "raises-exception" in check.get("metadata", {}).get("tags", []), (
        f"{name}: cell {j} should call tk.check_... and be tagged raises-exception (it refuses the starting code)")
    assert any(o["output_type"] == "error" for o in check.get("outputs", [])), f"{name}: cell {j} stores no refusal"
    confirmed = CONFIRM.search(source(confirm))
    assert hidden(confirm) and confirmed and confirmed.group(1) == grader.group(1), (
        f"{name}: cell {k} should be a collapsed cell calling tk.confirm_refused(tk.{grader.group(1)}, ...)")
    assert stdout(confirm).startswith("checked: the starting code is refused"), f"{name}: cell {k} stored {stdout(confirm)!r}"


def test_each_solution_is_loaded_by_a_notebook_and_tested():
    loaded = {LOAD_LINE.search(source(c)).group(1) for n in NAMES for c in load(n)
              if c["cell_type"] == "code" and LOAD_LINE.search(source(c))}
    files = {p.name for p in SOLUTIONS.glob("*.py")}
    assert files == loaded, f"solutions/ files not loaded by any notebook: {files - loaded}; missing: {loaded - files}"
    for n in NAMES:
        test = ROOT / "tests" / f"test_exercise_{n[:2]}.py"
        assert test.is_file(), f"{n}: no {test.name} running its grader on the solution, the stub and wrong answers"


@notebook
def test_each_explorer_has_a_question_and_a_collapsed_answer(name):
    cells = load(name)
    for i, c in enumerate(cells):
        if c["cell_type"] == "code" and "tk.explore(" in source(c):
            before = [source(x) for x in cells[max(0, i - 2):i] if x["cell_type"] == "markdown"]
            after = [source(x) for x in cells[i + 1:i + 1 + ANSWER_WITHIN] if x["cell_type"] == "markdown"]
            assert any("?" in t for t in before), f"{name}: the explorer in cell {i} has no question before it"
            assert any("<details>" in t for t in after), (
                f"{name}: the explorer in cell {i} needs its answer collapsed (<details>) within {ANSWER_WITHIN} cells")


# -- the rules above can fail -------------------------------------------------------------
def test_the_rules_catch_what_they_should():
    visible = {"cell_type": "code", "source": "def f():\n    assert 1\n", "metadata": {}, "outputs": []}
    collapsed = {"cell_type": "code", "source": "def f():\n    pass\n", "metadata": {"jupyter": {"source_hidden": True}},
                 "outputs": [{"output_type": "stream", "name": "stdout", "text": "checked: x\n"}]}
    prose = {"cell_type": "markdown", "source": "one two three", "metadata": {}}
    further = {"cell_type": "markdown", "source": "## Going further\nfour five", "metadata": {}}
    m = metrics([prose, visible, further, collapsed])
    assert m == {"words": 3, "further_words": 5, "code_lines": 2, "longest": 2, "asserts": 1}
    assert defined_names(visible) & defined_names(collapsed) == {"f"}
    assert defined_names({"source": "predicted_ms = 3\nx == 1\n"}) == {"predicted_ms"}
    assert CODE_DEFINED.findall("class A:\n    pass\nb = 1\n") == ["A"]
    assert stdout(collapsed) == "checked: x\n" and stdout(visible) == ""
    assert LOAD_LINE.search("# %load ../solutions/01_fetch_all.py\ndef f(): ...") and not LOAD_LINE.search("%load x.py")
    assert CONFIRM.search("tk.confirm_refused(tk.check_fetch_all, 'too slow')").group(1) == "check_fetch_all"
