"""The notebook test harness is itself tested.

Each test builds a tiny project in a temporary directory (the real root conftest.py,
the real pytest options from pyproject.toml, tests/sanitize.cfg, a few generated
notebooks) and runs pytest on it in-process with pytester. Most runs use --collect-only,
so no kernel starts; the few that execute notebooks start one small kernel each.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests" / "sanitize.cfg"


# -- building blocks ---------------------------------------------------------------------
def stdout_cell(source: str, text: str, **metadata) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=1, metadata=metadata)
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return cell


def write_notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def good_notebook(path: Path) -> Path:
    return write_notebook(path, new_markdown_cell("# A"), stdout_cell("print('hello')", "hello\n"))


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A copy of the course's test configuration with one unit test and no notebooks yet."""
    pytester.makepyprojecttoml((ROOT / "pyproject.toml").read_text())  # the real options
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    tests = pytester.mkdir("tests")
    (tests / "sanitize.cfg").write_text(SANITIZE.read_text())
    (tests / "test_unit.py").write_text("def test_ok():\n    assert True\n")
    return pytester


def notebooks(project: pytest.Pytester) -> Path:
    path = project.path / "notebooks"
    path.mkdir(exist_ok=True)
    return path


# -- the configuration itself ------------------------------------------------------------
def test_pyproject_runs_nbval_strictly_with_sanitize_file():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    addopts = options["addopts"].split()
    assert options["testpaths"] == ["tests", "notebooks"]
    assert "--nbval" in addopts and "--nbval-lax" not in addopts
    assert "--nbval-current-env" in addopts
    assert any(a.startswith("--nbval-cell-timeout=") for a in addopts)
    assert addopts[addopts.index("--nbval-sanitize-with") + 1] == "tests/sanitize.cfg"


def test_unit_tests_are_collected_alongside_notebooks(project):
    good_notebook(notebooks(project) / "a.ipynb")
    result = project.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["tests/test_unit.py::test_ok", "notebooks/a.ipynb::Cell 0"])
    assert result.ret == 0


# -- rule 1: the collected notebooks are exactly notebooks/*.ipynb -----------------------
def test_ignored_notebook_fails_the_session(project):
    good_notebook(notebooks(project) / "a.ipynb")
    good_notebook(notebooks(project) / "b.ipynb")
    result = project.runpytest("--collect-only", "--ignore=notebooks/b.ipynb")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*notebook run check FAILED*", "*notebooks/b.ipynb: not collected*"])
    assert "notebooks/a.ipynb: not collected" not in result.stdout.str()


def test_run_without_nbval_fails_instead_of_passing(project):
    good_notebook(notebooks(project) / "a.ipynb")
    result = project.runpytest("-o", "addopts=-p no:cacheprovider")
    assert result.parseoutcomes()["passed"] == 1  # the unit test alone would pass
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*notebooks/a.ipynb: not collected*"])


def test_notebook_without_code_cells_fails(project):
    good_notebook(notebooks(project) / "a.ipynb")
    write_notebook(notebooks(project) / "prose.ipynb", new_markdown_cell("only text"))
    result = project.runpytest("--collect-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*notebooks/prose.ipynb: has no code cell*"])


@pytest.mark.parametrize("make_dir", [True, False], ids=["empty-dir", "no-dir"])
def test_no_notebooks_at_all_fails(project, make_dir):
    if make_dir:
        notebooks(project)
    result = project.runpytest()
    assert result.parseoutcomes()["passed"] == 1
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no notebooks found: notebooks/[*].ipynb matches nothing*"])


def test_extra_notebook_outside_the_folder_fails(project):
    good_notebook(notebooks(project) / "a.ipynb")
    good_notebook(project.path / "tests" / "stray.ipynb")
    result = project.runpytest("--collect-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*tests/stray.ipynb: collected, but not one of notebooks/[*].ipynb*"])


@pytest.mark.parametrize(
    "args, enforced",
    [
        (["notebooks"], True),
        (["."], True),
        (["notebooks/a.ipynb"], False),  # one notebook on purpose: partial run
        (["tests"], False),
        (["tests/test_unit.py::test_ok"], False),
    ],
)
def test_set_is_enforced_only_when_the_run_includes_the_folder(project, args, enforced):
    good_notebook(notebooks(project) / "a.ipynb")
    good_notebook(notebooks(project) / "b.ipynb")
    result = project.runpytest("--collect-only", "--ignore=notebooks/b.ipynb", *args)
    assert result.ret == (pytest.ExitCode.TESTS_FAILED if enforced else pytest.ExitCode.OK)
    assert ("notebooks/b.ipynb: not collected" in result.stdout.str()) == enforced


def test_keyword_filter_relaxes_the_set_rule_with_a_note(project):
    good_notebook(notebooks(project) / "a.ipynb")
    result = project.runpytest("--collect-only", "-k", "test_ok")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*note: the notebook set check was relaxed*"])


# -- rule 2: every collected notebook is executed ----------------------------------------
def test_good_notebook_runs_and_is_counted(project):
    good_notebook(notebooks(project) / "a.ipynb")
    result = project.runpytest()
    result.assert_outcomes(passed=2)  # the unit test and the notebook's one code cell
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*ok: 1 notebook(s) collected, 1 executed, 1 in notebooks/*"])


def test_failing_cell_counts_as_executed_and_all_skipped_does_not(project):
    write_notebook(notebooks(project) / "wrong.ipynb", stdout_cell("print('new')", "old\n"))
    write_notebook(
        notebooks(project) / "skipped.ipynb",
        stdout_cell("# NBVAL_SKIP\nprint('x')", "x\n"),
    )
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    out = result.stdout.str()
    assert "notebooks/skipped.ipynb: not executed, every cell was skipped" in out
    assert "notebooks/wrong.ipynb: not executed" not in out
    result.stdout.fnmatch_lines(["*2 notebook(s) collected, 1 executed, 2 in notebooks/*"])


def test_sanitize_file_applies_when_pytest_starts_in_a_subdirectory(project, monkeypatch):
    # Stored and fresh outputs differ only in what tests/sanitize.cfg rewrites.
    source = (
        "import threading, time\n"
        "t = threading.Thread(target=time.sleep, args=(0,)); t.start(); t.join()\n"
        "print(object(), t.name, f'{time.perf_counter() % 1:.3f} s', sep='\\n')"
    )
    stored = "<object object at 0x7f00deadbeef>\nThread-99 (sleep)\n0.123 s\n"
    write_notebook(notebooks(project) / "a.ipynb", stdout_cell(source, stored))
    # From tests/, nbval alone would look for tests/tests/sanitize.cfg.
    monkeypatch.chdir(project.path / "tests")
    result = project.runpytest("..")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK


# -- the same rules in a parallel run (course.py test: pytest-xdist) ---------------------
def course_parallel_options() -> tuple[str, ...]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_options", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PARALLEL_OPTIONS


PARALLEL = ("-n", "2", *course_parallel_options())  # what `course.py test` passes, on 2 workers


def test_parallel_run_counts_every_notebook_and_keeps_each_in_one_kernel(project):
    # The second cell needs the first one's variable: it passes only if both cells run,
    # in order, in the same kernel on the same worker.
    cells = [new_code_cell("x = 41", execution_count=1), stdout_cell("print(x + 1)", "42\n")]
    for name in "abc":
        write_notebook(notebooks(project) / f"{name}.ipynb", *cells)
    result = project.runpytest_subprocess(*PARALLEL)
    result.assert_outcomes(passed=7)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*ok: 3 notebook(s) collected, 3 executed, 3 in notebooks/*"])


def never_runs(project: pytest.Pytester, name: str) -> None:
    """Simulate a kernel that never comes up for notebooks/<name>: its cells are skipped at setup."""
    project.makeconftest(
        (ROOT / "conftest.py").read_text() + "\n\n"
        "def pytest_runtest_setup(item):\n"
        f"    if item.path.name == {name!r}:\n"
        "        pytest.skip('simulated: no kernel')\n"
    )


def test_notebook_whose_cells_never_run_fails(project):
    good_notebook(notebooks(project) / "a.ipynb")
    never_runs(project, "a.ipynb")
    result = project.runpytest()
    result.assert_outcomes(passed=1, skipped=1)  # pytest alone would call this a success
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*notebooks/a.ipynb: not executed, only 0 of 1 collected cells ran*"])


def test_parallel_run_with_notebooks_left_out_or_never_run_fails(project):
    # One parallel session (a few seconds each) that breaks three rules at once: a notebook
    # left out by --ignore, one without a code cell, one whose cells never run.
    good_notebook(notebooks(project) / "a.ipynb")
    good_notebook(notebooks(project) / "b.ipynb")
    write_notebook(notebooks(project) / "prose.ipynb", new_markdown_cell("only text"))
    good_notebook(notebooks(project) / "stalled.ipynb")
    never_runs(project, "stalled.ipynb")
    result = project.runpytest_subprocess(*PARALLEL, "--ignore=notebooks/b.ipynb")
    result.assert_outcomes(passed=2, skipped=1)  # pytest alone would call this a success
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*notebook run check FAILED*"])
    out = result.stdout.str()
    assert "notebooks/b.ipynb: not collected" in out
    result.stdout.fnmatch_lines(["*notebooks/prose.ipynb: not collected*does it have a code cell?)*"])
    result.stdout.fnmatch_lines(["*notebooks/stalled.ipynb: not executed, only 0 of 1 collected cells ran*"])
    assert "notebooks/a.ipynb: not" not in out


# -- tests/sanitize.cfg ------------------------------------------------------------------
SANITIZE_EXAMPLES = [
    ("<Foo object at 0x7f3a1c2b9d60>", "<Foo object at 0xADDRESS>"),
    ("<Thread(worker, started daemon 140245512345)>", "<Thread(worker, started daemon IDENT)>"),
    ("ThreadPoolExecutor-3_1 ran it", "ThreadPoolExecutor-N_N ran it"),
    ("Thread-12 (worker)", "Thread-N (worker)"),
    ("took 12.3 ms, then 0.12 s, 1.5s and 850 us", "took <TIME>, then <TIME>, <TIME> and <TIME>"),
    ("3.2 µs or 2.0 seconds", "<TIME> or <TIME>"),
    ("model 8f14e45fceea167a5a36dedd4bea2543", "model MODEL_ID"),
    ("id 123e4567-e89b-12d3-a456-426614174000", "id MODEL_ID"),
    # left alone: things the notebooks compare on purpose
    ("<Figure size 600x220 with 1 Axes>", "<Figure size 600x220 with 1 Axes>"),
    ("6 tasks on 3 threads, 2 steps", "6 tasks on 3 threads, 2 steps"),
    ("worker_0 got 4 results", "worker_0 got 4 results"),
    ("Python 3.11's futures", "Python 3.11's futures"),
]


def sanitize_patterns() -> list[tuple[str, str]]:
    from nbval.plugin import get_sanitize_patterns

    return get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))


def test_sanitize_file_parses_completely():
    text = SANITIZE.read_text(encoding="utf-8")
    regex_lines = [line for line in text.splitlines() if line.startswith("regex:")]
    patterns = sanitize_patterns()
    assert len(patterns) == len(regex_lines), "a regex: line is not directly followed by replace:"
    for regex, replace in patterns:
        assert regex == regex.strip() and replace == replace.rstrip(), "trailing whitespace"
        re.compile(regex)


@pytest.mark.parametrize("raw, expected", SANITIZE_EXAMPLES)
def test_sanitize_patterns(raw, expected):
    text = raw
    for regex, replace in sanitize_patterns():  # the order nbval applies them in
        text = re.sub(regex, replace, text)
    assert text == expected

