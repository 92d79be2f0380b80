"""course.py's choices that the two README commands depend on (no environment is built)."""

from __future__ import annotations

import importlib.util
import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def course():
    spec = importlib.util.spec_from_file_location("course_under_test", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("cores, workers", [(1, 0), (2, 2), (4, 4), (64, 6), (None, 0)])
def test_one_worker_per_core_at_most_six(course, monkeypatch, cores, workers):
    monkeypatch.setattr(course.os, "cpu_count", lambda: cores)
    assert course.xdist_workers({}) == workers


@pytest.mark.parametrize("value, workers", [("0", 0), ("1", 1), (" 8 ", 8)])
def test_worker_count_can_be_set(course, value, workers):
    assert course.xdist_workers({"COURSE_TEST_WORKERS": value}) == workers


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_bad_worker_count_is_explained(course, value):
    with pytest.raises(course.CourseError, match=r"COURSE_TEST_WORKERS must be a whole number >= 0"):
        course.xdist_workers({"COURSE_TEST_WORKERS": value})


def test_test_without_arguments_runs_in_parallel_and_with_arguments_as_given(course, monkeypatch):
    calls = []
    monkeypatch.setattr(course, "ensure_env", lambda tools: Path("/venv"))
    monkeypatch.setattr(course, "exec_in_root", lambda cmd, env: calls.append(cmd[1:]) or 0)
    monkeypatch.delenv("COURSE_TEST_WORKERS", raising=False)
    monkeypatch.setattr(course.os, "cpu_count", lambda: 2)
    course.cmd_test([])
    course.cmd_test(["-q", "tests/test_harness.py"])
    monkeypatch.setenv("COURSE_TEST_WORKERS", "0")
    course.cmd_test([])
    assert calls == [
        ["-m", "pytest", "-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"],
        ["-m", "pytest", "-q", "tests/test_harness.py"],
        ["-m", "pytest"],
    ]


QUICK = ["--ignore=tests/browser", "--ignore=tests/test_lab.py", "--ignore=tests/test_binder.py",
         "--ignore=tests/test_binder_notebooks.py"]


@pytest.mark.parametrize("args, workers_env, expected", [
    (["--quick"], None, ["-n", "4", "--dist", "loadfile", "--no-loadscope-reorder", *QUICK]),
    (["--quick", "-x", "-q"], None, ["-n", "4", "--dist", "loadfile", "--no-loadscope-reorder", *QUICK, "-x", "-q"]),
    (["-x", "--quick"], None, ["-n", "4", "--dist", "loadfile", "--no-loadscope-reorder", *QUICK, "-x"]),
    (["--quick"], "3", ["-n", "3", "--dist", "loadfile", "--no-loadscope-reorder", *QUICK]),
    (["--quick"], "0", QUICK),  # COURSE_TEST_WORKERS=0: one process, as for the whole suite
    # The user's worker count wins, still with whole files (a notebook's cells) per worker.
    (["--quick", "-n", "3"], None, ["--dist", "loadfile", "--no-loadscope-reorder", *QUICK, "-n", "3"]),
    (["--quick", "-n3"], "0", ["--dist", "loadfile", "--no-loadscope-reorder", *QUICK, "-n3"]),
])
def test_quick_runs_unit_tests_and_notebooks_in_parallel_without_lab_binder_browser(
        course, monkeypatch, args, workers_env, expected):
    calls = []
    monkeypatch.setattr(course, "ensure_env", lambda tools: calls.append(tools) or Path("/venv"))
    monkeypatch.setattr(course, "exec_in_root", lambda cmd, env: calls.append(cmd[1:]) or 0)
    monkeypatch.setattr(course.os, "cpu_count", lambda: 2)
    if workers_env is None:
        monkeypatch.delenv("COURSE_TEST_WORKERS", raising=False)
    else:
        monkeypatch.setenv("COURSE_TEST_WORKERS", workers_env)
    assert course.cmd_test(list(args)) == 0
    assert calls == [True, ["-m", "pytest", *expected]]


@pytest.mark.parametrize("cores, workers", [(1, 0), (2, 4), (3, 6), (64, 6), (None, 0)])
def test_quick_runs_two_workers_per_core_at_most_six(course, monkeypatch, cores, workers):
    monkeypatch.setattr(course.os, "cpu_count", lambda: cores)
    assert course.xdist_workers({}, course.QUICK_WORKERS_PER_CORE) == workers
    assert course.xdist_workers({"COURSE_TEST_WORKERS": "2"}, course.QUICK_WORKERS_PER_CORE) == 2


def test_quick_leaves_out_exactly_the_lab_binder_and_browser_checks(course):
    for path in course.QUICK_IGNORES:  # a renamed file would otherwise run in the quick loop
        assert (ROOT / path).exists(), f"QUICK_IGNORES names {path}, which does not exist"
    assert {Path(p).name for p in course.QUICK_IGNORES} == {
        "browser", "test_lab.py", "test_binder.py", "test_binder_notebooks.py"}
    assert not any(p.startswith("notebooks") for p in course.QUICK_IGNORES)


def test_quick_is_documented_in_the_help_and_the_readme(course, capsys):
    assert course.main(["--help"]) == 0
    assert "python3 course.py test --quick" in capsys.readouterr().out
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^python3 course\.py test --quick\s+#", readme, re.M), "README's Start names it"


# -- what each command installs: the course (requirements.txt) or also the test tools ----
TEST_TOOLS = {"pytest", "nbval", "pytest-xdist", "playwright", "jupyter-repo2docker"}


def _pins(path):
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return found


def test_the_test_tools_are_pinned_apart_from_the_course(course):
    assert course.TEST_REQUIREMENTS.name == "requirements-test.txt"
    pins, test_pins = _pins(course.REQUIREMENTS), _pins(course.TEST_REQUIREMENTS)
    assert not TEST_TOOLS & set(pins), "the course's requirements.txt pins test tools"
    assert set(test_pins) == TEST_TOOLS
    assert not set(pins) & set(test_pins), "a package is pinned in both files"
    # What `course.py execute` needs is the course's, as are the installer and the kernel.
    assert {"nbconvert", "nbclient", "nbformat", "uv", "ipykernel", "jupyterlab"} <= set(pins)
    # On its own, the test file still gives the whole test environment.
    lines = [l.strip() for l in course.TEST_REQUIREMENTS.read_text().splitlines()]
    assert "-r requirements.txt" in lines


@pytest.mark.parametrize("command, args, tools", [
    ("lab", [], False), ("execute", [], False), ("test", [], True), ("test", ["--quick"], True),
    ("setup", [], True),
])
def test_lab_and_execute_need_the_course_only_test_and_setup_the_tools(
        course, monkeypatch, command, args, tools):
    asked = []
    monkeypatch.setattr(course, "ensure_env", lambda tools=False: asked.append(tools) or Path("/venv"))
    monkeypatch.setattr(course, "exec_in_root", lambda cmd, env: 0)
    monkeypatch.setattr(course, "check_kernel", lambda venv, env: None)
    monkeypatch.setattr(course, "run", lambda cmd, env: None)
    monkeypatch.setattr(course, "tidy_outputs", lambda path: None)
    assert course.main([command, *args]) == 0
    assert asked == [tools]


@pytest.fixture
def sandbox(course, monkeypatch, tmp_path):
    """course.py on copies of its requirement files, with a venv whose python is this one.

    Installs are recorded, not run: `installs` lists the requirement files of each.
    """
    for name in ("REQUIREMENTS", "TEST_REQUIREMENTS", "PYPROJECT"):
        copy = tmp_path / getattr(course, name).name
        copy.write_bytes(getattr(course, name).read_bytes())
        monkeypatch.setattr(course, name, copy)
    venv = tmp_path / "venv"
    python = course.venv_python(venv)
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    monkeypatch.setenv("COURSE_VENV", str(venv))
    installs = []

    def run(cmd, env):
        cmd = [str(c) for c in cmd]
        if cmd[1:3] == ["-m", "uv"]:
            installs.append([Path(cmd[i + 1]).name for i, c in enumerate(cmd) if c == "-r"])
            assert cmd[-2:] == ["-e", str(course.ROOT)]

    monkeypatch.setattr(course, "run", run)
    return types.SimpleNamespace(course=course, venv=venv, installs=installs, stamp=venv / course.STAMP_NAME)


COURSE_ONLY, WITH_TOOLS = ["requirements.txt"], ["requirements.txt", "requirements-test.txt"]


def test_a_fresh_lab_installs_the_course_only_and_test_adds_the_tools(sandbox):
    course = sandbox.course
    course.ensure_env()                # `lab` in a fresh clone
    course.ensure_env()                # again: nothing to do
    course.ensure_env(tools=True)      # `test` after it: the test tools too
    course.ensure_env(tools=True)
    course.ensure_env()                # `lab` after `test`: nothing to do
    assert sandbox.installs == [COURSE_ONLY, WITH_TOOLS]


def test_the_stamp_follows_each_file_for_the_commands_that_need_it(sandbox):
    course, installs = sandbox.course, sandbox.installs
    course.ensure_env(tools=True)      # `setup`
    assert installs == [WITH_TOOLS]
    course.TEST_REQUIREMENTS.write_text(course.TEST_REQUIREMENTS.read_text() + "# changed\n")
    course.ensure_env()                # `lab` does not need the test tools: nothing to do
    course.ensure_env(tools=True)      # `test` does
    assert installs == [WITH_TOOLS, WITH_TOOLS]
    course.REQUIREMENTS.write_text(course.REQUIREMENTS.read_text() + "# changed\n")
    course.ensure_env()                # the course changed: `lab` installs it, not the tools,
    course.ensure_env(tools=True)      # so the next `test` installs both again
    course.ensure_env()
    assert installs == [WITH_TOOLS, WITH_TOOLS, COURSE_ONLY, WITH_TOOLS]
    course.PYPROJECT.write_text(course.PYPROJECT.read_text() + "# changed\n")
    course.ensure_env()
    assert installs[-1] == COURSE_ONLY and len(installs) == 5


@pytest.mark.parametrize("stamp_text", ["", "0123abcd\n", "course\n", "other 0123\n"])
def test_an_old_or_broken_stamp_means_install_again(sandbox, stamp_text):
    sandbox.stamp.write_text(stamp_text)  # e.g. the one-line stamp of before the split
    sandbox.course.ensure_env()
    assert sandbox.installs == [COURSE_ONLY]
    assert sandbox.course.read_stamp(sandbox.stamp).keys() == {"course"}


def test_a_failed_install_leaves_no_stamp(sandbox, monkeypatch):
    course = sandbox.course
    course.ensure_env(tools=True)

    def fail(cmd, env):
        raise course.CourseError("exit status 1 from: -m pip install", 1)

    course.TEST_REQUIREMENTS.write_text(course.TEST_REQUIREMENTS.read_text() + "# changed\n")
    monkeypatch.setattr(course, "run", fail)
    with pytest.raises(course.CourseError):
        course.ensure_env(tools=True)
    assert not sandbox.stamp.exists()  # so every command installs again next time


def test_uv_is_pinned_where_course_py_reads_it(course):
    match = course.UV_PIN.search((ROOT / "requirements.txt").read_text())
    assert match and match.group(1)[0].isdigit(), "requirements.txt must pin uv==X.Y.Z"


def test_a_uv_failure_falls_back_to_pip(course, monkeypatch):
    ran = []

    def run(cmd, env):
        ran.append([str(c) for c in cmd])
        if "uv" in ran[-1][1:3]:
            raise course.CourseError("exit status 2 from: -m uv pip install", 2)

    monkeypatch.setattr(course, "run", run)
    assert course.install_with_uv(Path(sys.executable), {}) is False
    assert ran[0][1:4] == ["-m", "pip", "install"] and ran[1][1:3] == ["-m", "uv"]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(python3 course\.py test)\s+#", readme, re.M)
    assert commands == ["python3 course.py test"], "the README's Start section names one test command"
    lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines()]
    steps = [l for l in lines if l and not l.startswith("#")]
    assert steps[-1] == commands[0], f".ci/run must end with the README's test command, not {steps[-1]!r}"
    assert sum(l == commands[0] for l in steps) == 1


# -- supported Pythons: one list (course.TESTED_PYTHONS), said the same way everywhere -----
def _dotted(version):
    return "%d.%d" % version


def test_supported_pythons_agree_everywhere(course):
    tested = [_dotted(v) for v in course.TESTED_PYTHONS]
    assert course.MIN_PYTHON == course.TESTED_PYTHONS[0]
    assert course.tested_range() == f"{tested[0]}-{tested[-1]}"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.findall(r"Programming Language :: Python :: (3\.\d+)", pyproject) == tested
    assert f'requires-python = ">={tested[0]}"' in pyproject
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"You need Python {tested[0]} to {tested[-1]}" in readme
    assert f"every CPython {tested[0]}-{tested[-1]} it finds" in readme
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert f"Supported Pythons: {tested[0]} to {tested[-1]}" in requirements
    spec = importlib.util.spec_from_file_location("test_all_pythons", ROOT / "scripts" / "test_all_pythons.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert list(script.VERSIONS) == tested
    assert set(script.CHROOT_VERSIONS) <= set(tested)


def test_ci_tests_the_newest_python_before_the_readme_command(course):
    lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines()]
    steps = [l for l in lines if l and not l.startswith("#")]
    newest = _dotted(course.TESTED_PYTHONS[-1])
    leg = f"python3 scripts/test_all_pythons.py --versions {newest} --skip-binder --require-all"
    assert leg in steps, f".ci/run must run the newest supported Python ({newest}): {leg}"
    assert steps.index(leg) < len(steps) - 1 and "set -euo pipefail" in steps  # a failure stops CI


def test_an_untested_python_gets_a_warning(course, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("COURSE_VENV", str(tmp_path / "venv"))
    monkeypatch.setattr(course.sys, "version_info", (3, 99, 0))
    monkeypatch.setattr(course.subprocess, "call", lambda *a, **k: 1)  # venv creation "fails"
    with pytest.raises(course.CourseError, match="could not create"):
        course.ensure_env()
    assert f"tested on Python {course.tested_range()}, this is" in capsys.readouterr().err


def test_the_chroot_script_parses_and_refuses_a_bad_version():
    import subprocess

    script = ROOT / "scripts" / "sidroot.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    out = subprocess.run(["bash", str(script), "three", "true"], capture_output=True, text=True)
    assert out.returncode == 2 and "VERSION must look like 3.15" in out.stderr


# -- the kernel and the package import only what `lab` installs ---------------------------
# A static check on the code that runs in the learner's kernel: every third-party module
# imported by the notebooks, the package and the solutions belongs to a distribution in
# the dependency closure of requirements.txt (read from the installed packages' metadata),
# and what the tests import, to that of both files. It catches, say, a notebook importing
# pytest, or a module the test tools bring in by chance.
def _imports(source: str) -> set:
    import ast

    # IPython magics and shell lines (%load, !pip ...) are not Python.
    source = "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _sources(*patterns):
    import json

    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.suffix == ".ipynb":
                cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
                yield path, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
            else:
                yield path, path.read_text(encoding="utf-8")


def _closure(files) -> set:
    """Canonical names of the pinned distributions and of all they require, installed."""
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    todo = [(name, ()) for f in files for name in _pins(f)] + [("threadkit-course", ())]
    seen = set()
    while todo:
        name, extras = todo.pop()
        key = (canonicalize_name(name), tuple(sorted(extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue  # not for this platform or Python (its marker said so)
        for text in requires:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (*extras, "")):
                todo.append((req.name, tuple(req.extras)))
    return {name for name, _ in seen}


def _unpinned(imports_by_file: dict, closure: set) -> list:
    import importlib.metadata as md

    from packaging.utils import canonicalize_name

    local = {p.stem for p in (*ROOT.glob("*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("notebooks/*.py"))} | {"threadkit"}
    owners = md.packages_distributions()
    problems = []
    for path, modules in imports_by_file.items():
        for module in sorted(modules - set(sys.stdlib_module_names) - local):
            dists = {canonicalize_name(d) for d in owners.get(module, ())}
            if not dists & closure:
                problems.append(f"{path}: imports {module} ({', '.join(sorted(dists)) or 'not installed'})")
    return problems


@pytest.fixture(scope="module")
def closures(course):
    return {"lab": _closure([course.REQUIREMENTS]),
            "test": _closure([course.REQUIREMENTS, course.TEST_REQUIREMENTS])}


def test_the_kernel_side_imports_only_what_lab_installs(closures):
    imports = {p.relative_to(ROOT): _imports(text)
               for p, text in _sources("notebooks/*.ipynb", "notebooks/*.py", "threadkit/**/*.py", "solutions/*.py")}
    assert {m for ms in imports.values() for m in ms} >= {"ipywidgets", "matplotlib", "distributed",
                                                         "jupyter_client", "IPython"}
    assert _unpinned(imports, closures["lab"]) == []


def test_the_tests_import_only_what_test_installs(closures):
    imports = {p.relative_to(ROOT): _imports(text)
               for p, text in _sources("*.py", "tests/**/*.py", "scripts/*.py")}
    assert _unpinned(imports, closures["test"]) == []


def test_the_import_check_finds_a_test_tool_used_by_the_kernel_side(closures):
    source = "import ipywidgets\nfrom nbval import plugin\n%load ../solutions/x.py\nimport pytest, playwright.sync_api\n"
    problems = _unpinned({Path("notebooks/x.ipynb"): _imports(source)}, closures["lab"])
    assert [p.split(" (")[0] for p in problems] == [
        "notebooks/x.ipynb: imports nbval", "notebooks/x.ipynb: imports playwright",
        "notebooks/x.ipynb: imports pytest"]
    assert _unpinned({Path("tests/x.py"): _imports(source)}, closures["test"]) == []
