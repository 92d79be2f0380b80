"""Every notebook runs in the environment Binder builds from binder/.

tests/test_binder.py checks the configuration itself (repo2docker's Dockerfile: the Python
of binder/runtime.txt, one `pip install -r binder/requirements.txt`; no conflicts; the
widget extension). This file replays the same install (its helpers, imported) and then
*executes every notebook* there, so a notebook that needs a package only the course's
requirements.txt installs (or a pin that differs) fails here instead of on Binder.

The Binder-like environment is the one tests/test_binder.py builds and caches (see
`binder_environment` there): one build serves both files.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from test_binder import (  # the replay's helpers, shared with tests/test_binder.py
    BINDER,
    ROOT,
    binder_environment,
    clean_env,
    jupyter_dirs,
    venv_python,
)

NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 120  # s per cell, as `course.py execute`
NOTEBOOK_TIMEOUT = 600  # s per notebook, kernel start included


@pytest.fixture(scope="module")
def binder_venv(tmp_path_factory):
    """The Binder-like venv of tests/test_binder.py (the same cached build)."""
    yield from binder_environment(tmp_path_factory)


@pytest.fixture(scope="module")
def notebook_copy(tmp_path_factory):
    """A copy of notebooks/ to execute in: running them never writes to the repository."""
    target = tmp_path_factory.mktemp("binder-run") / "notebooks"
    shutil.copytree(NOTEBOOKS, target)
    return target


def run_env(venv: Path, sandbox: Path) -> dict[str, str]:
    env = clean_env(venv, **jupyter_dirs(sandbox), PYDEVD_DISABLE_FILE_VALIDATION="1", JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)  # the kernel's own default (inline), as on Binder
    return env


def execute(venv: Path, notebook: Path, out_dir: Path) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(venv_python(venv)), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         f"--ExecutePreprocessor.timeout={CELL_TIMEOUT}", "--ExecutePreprocessor.kernel_name=python3",
         "--output-dir", str(out_dir), str(notebook)],
        cwd=notebook.parent, env=run_env(venv, out_dir), capture_output=True, text=True,
        timeout=NOTEBOOK_TIMEOUT,
    )
    return proc, time.perf_counter() - start


def test_notebooks_run_in_the_binder_python(binder_venv, tmp_path):
    """The kernel nbconvert starts there is the Binder venv's, with threadkit from this repository."""
    import nbformat

    probe = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, threadkit, ipykernel, matplotlib; "
        "print(sys.prefix); print(threadkit.__file__); print(ipykernel.__version__, matplotlib.__version__)")]),
        probe)
    proc, _ = execute(binder_venv, probe, tmp_path / "out")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    cell = nbformat.read(tmp_path / "out" / "probe.ipynb", as_version=4).cells[0]
    prefix, package, versions = "".join(o.get("text", "") for o in cell.outputs).split("\n")[:3]
    assert Path(prefix).resolve() == binder_venv.resolve(), f"the kernel ran {prefix}, not {binder_venv}"
    assert Path(package).resolve().is_relative_to(ROOT / "threadkit")
    binder_pins = {line.split("==")[0]: line.split("==")[1].strip()
                   for line in (BINDER / "requirements.txt").read_text().splitlines() if "==" in line}
    assert versions.split() == [binder_pins["ipykernel"], binder_pins["matplotlib"]]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_in_the_binder_environment(name, binder_venv, notebook_copy, tmp_path):
    import nbformat

    proc, seconds = execute(binder_venv, notebook_copy / name, tmp_path)
    print(f"\n{name}: executed in the Binder environment in {seconds:.1f} s")
    if proc.returncode != 0:
        pytest.fail(f"{name} failed in the Binder environment (exit {proc.returncode}, {seconds:.0f} s):\n"
                    f"{proc.stderr[-6000:]}", pytrace=False)
    executed = nbformat.read(tmp_path / name, as_version=4)
    problems = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.get("execution_count") is None:
            problems.append(f"cell {index} did not run")
        for output in cell.get("outputs", []):
            if output.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                problems.append(f"cell {index}: {output.ename}: {output.evalue[:300]}")
    assert not problems, f"{name} in the Binder environment:\n" + "\n".join(problems)


def test_there_are_notebooks():
    assert NOTEBOOK_NAMES, f"no notebooks in {NOTEBOOKS}"
