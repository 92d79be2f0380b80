"""Every notebook runs in the environment Binder builds from binder/.

tests/test_binder.py checks the configuration itself (repo2docker's Dockerfile: the Python
of binder/runtime.txt, one `pip install -r binder/requirements.txt`; no conflicts; the
widget extension). This file replays the same install (its helpers, imported) and then
*executes every notebook* there, so a notebook that needs a package only the course's
requirements.txt installs (or a pin that differs) fails here instead of on Binder.

The Binder-like environment is cached: building it costs 25-60 s (a base environment of
~150 packages plus the pip install), so it is kept in
`~/.cache/threadkit-course/binder-env-<hash>/` (XDG_CACHE_HOME is honoured), keyed by a
hash of binder/*, pyproject.toml, repo2docker's lock file for that Python, the interpreter
and the repository path. Any change to those builds a new one (older ones are removed).
THREADKIT_BINDER_CACHE=0 builds a throwaway environment instead; deleting the folder is
always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_binder import (  # the replay's helpers, shared with tests/test_binder.py
    BINDER,
    ROOT,
    build_binder_env,
    clean_env,
    find_python,
    jupyter_dirs,
    run,
    runtime_version,
    venv_python,
)

NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = 120  # s per cell, as `course.py execute`
NOTEBOOK_TIMEOUT = 600  # s per notebook, kernel start included
STAMP = "binder-env-complete"
CACHE_FORMAT = "2"  # bump when the way the cached environment is built changes (2: bytecode)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "threadkit-course"


def env_key(python: str, version: str) -> str:
    import repo2docker

    digest = hashlib.sha256(f"format {CACHE_FORMAT}\0".encode())
    for path in sorted(BINDER.iterdir()) + [ROOT / "pyproject.toml"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    lock = Path(repo2docker.__file__).parent / "buildpacks" / "conda" / f"environment.py-{version}-linux-64.lock"
    digest.update(lock.read_bytes())
    full = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout
    digest.update(f"{python}\0{full}\0{ROOT}\0{sys.platform}".encode())
    return digest.hexdigest()[:16]


class _Lock:
    """An exclusive lock file (POSIX), so two test runs never build the same cache at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        self.file = open(self.path, "a+")
        try:
            import fcntl

            fcntl.flock(self.file, fcntl.LOCK_EX)
        except ImportError:  # Windows: no lock, rare enough for a test cache
            pass
        return self

    def __exit__(self, *exc):
        self.file.close()


@pytest.fixture(scope="module")
def binder_venv(tmp_path_factory):
    """(venv, python) of a Binder-like environment, from the cache when it is current."""
    version = runtime_version()
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} found (binder/runtime.txt); install it to run this check")
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is pinned in requirements.txt")
    if os.environ.get("THREADKIT_BINDER_CACHE", "1") == "0":
        venv = tmp_path_factory.mktemp("binder") / "venv"
        times, _ = build_binder_env(venv, python, version, compile_bytecode=True)
        print("\nbinder env (not cached): " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        yield venv
        shutil.rmtree(venv, ignore_errors=True)
        return
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / f"binder-env-{env_key(python, version)}"
    with _Lock(root / "binder-env.lock"):
        if not (venv / STAMP).is_file() or not venv_python(venv).exists():
            shutil.rmtree(venv, ignore_errors=True)
            for old in root.glob("binder-env-*"):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            times, _ = build_binder_env(venv, python, version, compile_bytecode=True)
            (venv / STAMP).write_text(json.dumps(times) + "\n")
            print(f"\nbinder env built in {venv}: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        else:
            print(f"\nbinder env from the cache: {venv}")
    yield venv


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
