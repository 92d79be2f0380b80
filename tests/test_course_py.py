"""course.py's choices that the two README commands depend on (no environment is built)."""

from __future__ import annotations

import importlib.util
import re
import sys
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
    monkeypatch.setattr(course, "ensure_env", lambda: Path("/venv"))
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
