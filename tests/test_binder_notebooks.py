"""Every notebook runs in the environment Binder builds from binder/.

tests/test_binder.py checks the configuration itself (repo2docker's Dockerfile: the Python
of binder/runtime.txt, one `pip install -r binder/requirements.txt`; no conflicts; the
widget extension). This file replays the same install (its helpers, imported) and then
*executes every notebook* there, so a notebook that needs a package only the course's
requirements.txt installs (or a pin that differs) fails here instead of on Binder.

The Binder-like environment is the one tests/test_binder.py builds and caches (see
`binder_environment` there): one build serves both files.

The notebooks are executed by tests/binder_execute.py (nbclient, as `jupyter nbconvert
--execute` uses) in one process with the Binder venv's Python, each in a kernel of its own,
PARALLEL_RUNS at a time: they mostly sleep (their tasks stand in for I/O), so two at once
take about half the time, and every notebook is written to pass on a loaded machine
(scripts/soak.py runs the whole suite with every core busy). The tests below then read the
executed notebooks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
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
DRIVER = ROOT / "tests" / "binder_execute.py"
CELL_TIMEOUT = 120  # s per cell, as `course.py execute`
RUN_TIMEOUT = 900  # s for all the notebooks, kernel starts included
PARALLEL_RUNS = 2  # notebooks executed at the same time
PROBE = "probe.ipynb"
PROBE_SOURCE = (
    "import sys, threadkit, ipykernel, matplotlib; "
    "print(sys.prefix); print(threadkit.__file__); print(ipykernel.__version__, matplotlib.__version__)"
)


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


@pytest.fixture(scope="module")
def binder_runs(binder_venv, notebook_copy, tmp_path_factory):
    """Execute the probe and every notebook in the Binder venv, PARALLEL_RUNS at a time.

    Returns ``{name: {"seconds": float, "error": str or None, "path": executed notebook}}``.
    """
    import nbformat

    probe = tmp_path_factory.mktemp("binder-probe") / PROBE
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE_SOURCE)]), probe)
    # Longest first (the stored notebook's size is a fair guess), so that no long run is left
    # to finish alone at the end.
    by_size = sorted(NOTEBOOK_NAMES, key=lambda name: (notebook_copy / name).stat().st_size, reverse=True)
    sandbox = tmp_path_factory.mktemp("binder-out")
    proc = subprocess.run(
        [str(venv_python(binder_venv)), str(DRIVER), "--out", str(sandbox / "executed"),
         "--parallel", str(PARALLEL_RUNS), "--timeout", str(CELL_TIMEOUT),
         str(probe), *(str(notebook_copy / name) for name in by_size)],
        cwd=notebook_copy, env=run_env(binder_venv, sandbox), capture_output=True, text=True,
        timeout=RUN_TIMEOUT,
    )
    if proc.returncode != 0:
        pytest.fail(f"{DRIVER.name} failed in the Binder environment (exit {proc.returncode}):\n"
                    f"{proc.stderr[-6000:]}", pytrace=False)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name: result | {"path": sandbox / "executed" / name} for name, result in report.items()}


def run_env(venv: Path, sandbox: Path) -> dict[str, str]:
    env = clean_env(venv, **jupyter_dirs(sandbox), PYDEVD_DISABLE_FILE_VALIDATION="1", JUPYTER_PLATFORM_DIRS="1")
    env.pop("MPLBACKEND", None)  # the kernel's own default (inline), as on Binder
    return env


def test_notebooks_run_in_the_binder_python(binder_runs, binder_venv):
    """The kernel started there is the Binder venv's, with threadkit from this repository."""
    import nbformat

    run = binder_runs[PROBE]
    assert run["error"] is None, run["error"]
    cell = nbformat.read(run["path"], as_version=4).cells[0]
    prefix, package, versions = "".join(o.get("text", "") for o in cell.outputs).split("\n")[:3]
    assert Path(prefix).resolve() == binder_venv.resolve(), f"the kernel ran {prefix}, not {binder_venv}"
    assert Path(package).resolve().is_relative_to(ROOT / "threadkit")
    binder_pins = {line.split("==")[0]: line.split("==")[1].strip()
                   for line in (BINDER / "requirements.txt").read_text().splitlines() if "==" in line}
    assert versions.split() == [binder_pins["ipykernel"], binder_pins["matplotlib"]]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_in_the_binder_environment(name, binder_runs):
    import nbformat

    run = binder_runs[name]
    print(f"\n{name}: executed in the Binder environment in {run['seconds']:.1f} s ({PARALLEL_RUNS} at a time)")
    if run["error"] is not None:
        pytest.fail(f"{name} failed in the Binder environment after {run['seconds']:.0f} s:\n{run['error']}",
                    pytrace=False)
    executed = nbformat.read(run["path"], as_version=4)
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
