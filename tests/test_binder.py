"""The Binder configuration in binder/ builds a working course environment.

Docker is not available here, so this replays what repo2docker does (the environment is
built once and shared with tests/test_binder_notebooks.py; see `binder_environment`):

1. `repo2docker --no-build` prints the Dockerfile it would build: it must use the Python of
   binder/runtime.txt and install binder/requirements.txt (and nothing else of ours).
2. repo2docker's base environment for that Python comes from its conda lock file. A new
   virtual environment gets exactly those package versions (`--no-deps`, as conda
   installed them), then the same `pip install -r binder/requirements.txt` from the
   repository root, then `pip check`, `import threadkit` and the widget extension check.
   (tests/test_binder_notebooks.py executes every notebook there.) In CI it is built from
   scratch on every run; on a developer's machine it is cached for a day (see below).

uv builds the base environment in seconds; the install of binder/requirements.txt
itself uses the base environment's own pip, as on Binder, because how the `-e .` line is
resolved is pip's behaviour.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"

# conda-forge names of the lock file that differ from the PyPI names
CONDA_TO_PYPI = {
    "brotli-python": "brotli",
    "nbconvert-core": "nbconvert",
    "jupyterhub-base": "jupyterhub",
    "python-fastjsonschema": "fastjsonschema",
}
# requirements.txt entries that Binder does not need: the server and what executes
# notebooks (from repo2docker's base environment) and the installer. Everything else in
# requirements.txt is what the notebooks import, and binder/requirements.txt must pin it to
# the same version. (The test tools live in requirements-test.txt, not checked here.)
NOT_FOR_BINDER = {"jupyterlab", "jupyter-server", "nbconvert", "nbclient", "nbformat", "uv"}
SERVER_SIDE = ("jupyterlab", "notebook", "jupyter-server", "jupyterhub")  # left to the base


def runtime_version() -> str:
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"binder/runtime.txt should read like python-3.11, not {text!r}"
    return match.group(1)


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[normalize(name)] = version.strip()
    return found


def clean_env(venv: Path | None = None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "COURSE_VENV", "PIP_REQUIRE_VIRTUALENV")
        and not k.startswith(("JUPYTER_", "UV_"))
    }
    # Processes in the Binder-like venv write the .pyc files of what they import (it is
    # installed without them, see build_binder_env), even where PYTHONDONTWRITEBYTECODE is set.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if venv is not None:
        bindir = venv / ("Scripts" if os.name == "nt" else "bin")
        env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(venv)
    env.update(extra)
    return env


def run(cmd, *, timeout=600, check=True, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
        )
    return proc


# -- static checks -----------------------------------------------------------------------
def test_runtime_is_a_supported_python():
    assert runtime_version() in ("3.11", "3.12", "3.13")


def test_binder_requirements_pin_the_course_kernel_side_and_install_the_package():
    course, binder = pins(ROOT / "requirements.txt"), pins(BINDER / "requirements.txt")
    assert {"ipykernel", "ipywidgets", "matplotlib"} <= set(binder)
    for name, version in course.items():
        if name not in NOT_FOR_BINDER:
            assert binder.get(name) == version, f"binder/requirements.txt: pin {name}=={version}"
    for name, version in binder.items():
        assert course.get(name) == version, f"binder pins {name}=={version}, the course does not"
    for name in SERVER_SIDE:
        assert name not in binder, f"{name} is repo2docker's: pinning it fights the base env"
    lines = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "-e ." in lines or "." in lines, "the threadkit package itself must be installed"


def test_binder_folder_holds_only_what_is_meant():
    # Any other repo2docker file here (environment.yml, postBuild, ...) changes the build.
    allowed = {"runtime.txt", "requirements.txt", "README.md"}
    assert {p.name for p in BINDER.iterdir()} <= allowed


# -- repo2docker's own view --------------------------------------------------------------
def test_repo2docker_dockerfile_uses_binder_config():
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is pinned in requirements-test.txt")
    escapism = pytest.importorskip("escapism")
    version = runtime_version()
    proc = run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--no-run", "--debug",
         "--user-id", "1000", "--user-name", "jovyan", ROOT],
        timeout=120, env=clean_env(),
    )
    text = proc.stdout + proc.stderr
    assert f"Building conda environment for python={version}" in text
    scripts = [escapism.unescape(n.rsplit("-", 1)[0], escape_char="-") for n in re.findall(r"build_script_files/(\S+)", text)]
    assert any(f"environment.py-{version}-linux-64.lock" in s for s in scripts), scripts
    installs = re.findall(r"^RUN .*pip install.*$", text, flags=re.M)
    assert installs == ['RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"']
    # The repository is owned by the user who runs that pip: `-e .` can write its metadata.
    assert "COPY --chown=1000:1000 src/ ${REPO_DIR}/" in text
    assert "WORKDIR ${REPO_DIR}" in text  # so pip resolves `-e .` to the repository root


# -- the replayed install ----------------------------------------------------------------
def find_python(version: str) -> str | None:
    """An interpreter for `version`: this one, pythonX.Y on PATH, or a pyenv install."""
    candidates = []
    if "%d.%d" % sys.version_info[:2] == version:
        candidates.append(getattr(sys, "_base_executable", None) or sys.executable)
    candidates.append(shutil.which(f"python{version}"))
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}")), reverse=True)
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30,
            ).stdout.strip()
        except OSError:
            continue
        if out == version:
            return candidate
    return None


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def base_environment(version: str) -> dict[str, str]:
    """Name -> version of every Python package in repo2docker's base env (linux-64)."""
    repo2docker = pytest.importorskip("repo2docker", reason="jupyter-repo2docker is pinned in requirements-test.txt")
    lock = Path(repo2docker.__file__).parent / "buildpacks" / "conda" / f"environment.py-{version}-linux-64.lock"
    assert lock.is_file(), f"repo2docker has no base environment for Python {version}"
    requirements = {}
    for url in re.findall(r"^https://\S+", lock.read_text(), flags=re.M):
        filename = re.sub(r"\.(conda|tar\.bz2)$", "", url.split("#")[0].rsplit("/", 1)[1])
        name, pkg_version, build = filename.rsplit("-", 2)
        if build.startswith("py"):  # python packages; libraries, nodejs, metapackages are not
            requirements[normalize(CONDA_TO_PYPI.get(name, name))] = pkg_version
    assert {"jupyterlab", "notebook", "ipykernel", "pip"} <= set(requirements)
    return requirements


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build_binder_env(venv: Path, python: str, version: str) -> tuple[dict[str, float], str]:
    """Replay repo2docker into ``venv``: its base environment, then binder/requirements.txt.

    Nothing is byte-compiled at install time (that cost 23 of the build's 35 CPU-seconds,
    mostly for server packages no test imports): the processes later run in the venv write
    the .pyc files of what they import, once (clean_env lets them).

    Args:
        venv: where to create the environment (must not exist).
        python: the interpreter of binder/runtime.txt's version.
        version: that version, "3.11".

    Returns:
        (seconds per step, pip's output of the binder/requirements.txt install)
    """
    vpython = venv_python(venv)
    base_file = venv.parent / f"{venv.name}-base.txt"
    base_file.write_text("".join(f"{n}=={v}\n" for n, v in sorted(base_environment(version).items())))
    times = {}
    start = time.perf_counter()
    try:
        from uv import find_uv_bin

        uv = find_uv_bin()
    except (ImportError, FileNotFoundError):
        uv = None
    if uv:
        run([uv, "venv", "-q", "--python", python, venv], env=clean_env())
        run([uv, "pip", "install", "-q", "--python", vpython, "--no-deps", "-r", base_file],
            env=clean_env())
    else:  # slower, same result
        run([python, "-m", "venv", venv], env=clean_env())
        run([vpython, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "-r", base_file],
            env=clean_env(venv))
    base_file.unlink()
    times["base environment"] = time.perf_counter() - start
    start = time.perf_counter()
    # What repo2docker runs, from the repository root. It adds --no-cache-dir; here
    # --no-compile saves time (byte-compiling does not change what gets installed).
    install = run(
        [vpython, "-m", "pip", "install", "--no-compile", "-r", "binder/requirements.txt"],
        cwd=ROOT, env=clean_env(venv),
    )
    times["pip install -r binder/requirements.txt"] = time.perf_counter() - start
    return times, install.stdout


# -- the environment both Binder test files use ------------------------------------------
# Building it costs 10-30 s (a base environment of ~150 packages, then the pip install), so
# it is kept in ~/.cache/threadkit-course/binder-env-<key>/ (XDG_CACHE_HOME
# is honoured). The key hashes binder/*, pyproject.toml, repo2docker's lock file for that
# Python, the interpreter, the repository path and today's date: a change to any of them,
# or a new day, builds a fresh one, so pip's choice of unpinned dependencies is at most a
# day old. The folder's name starts with a hash of this checkout's path, and a new build
# removes only the older builds of the same checkout: other checkouts (worktrees) on the
# machine may be using theirs at that moment, and their caches are theirs to replace.
# CI starts without the cache: there every run builds from scratch.
# THREADKIT_BINDER_CACHE=0 builds a throwaway environment instead; deleting the folder is
# always safe.
CACHE_FORMAT = "4"  # bump when the way the environment is built changes (4: no install-time .pyc)
STAMP = "binder-env-complete"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "threadkit-course"


def checkout_prefix(root: Path = ROOT) -> str:
    """The start of the cache folders' names that this checkout builds: binder-env-<hash>-."""
    return f"binder-env-{hashlib.sha256(str(root).encode()).hexdigest()[:8]}-"


def superseded_builds(cache: Path, current: Path, root: Path = ROOT) -> list[Path]:
    """This checkout's older Binder environments in ``cache``; never another checkout's."""
    return sorted(p for p in cache.glob(checkout_prefix(root) + "*") if p.is_dir() and p != current)


def env_key(python: str, version: str) -> str:
    import repo2docker

    digest = hashlib.sha256(f"format {CACHE_FORMAT}\0{datetime.date.today().isoformat()}\0".encode())
    for path in sorted(BINDER.iterdir()) + [ROOT / "pyproject.toml"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    lock = Path(repo2docker.__file__).parent / "buildpacks" / "conda" / f"environment.py-{version}-linux-64.lock"
    digest.update(lock.read_bytes())
    full = subprocess.run([python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True).stdout
    digest.update(f"{python}\0{full}\0{ROOT}\0{sys.platform}".encode())
    return digest.hexdigest()[:16]


class _Lock:
    """An exclusive lock file (POSIX): one build at a time, across test runs and xdist workers."""

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


def binder_environment(tmp_path_factory):
    """Generator for a fixture: the Binder-like venv, from the cache when it is current."""
    version = runtime_version()
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} found (binder/runtime.txt); install it to run this check")
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is pinned in requirements-test.txt")
    if os.environ.get("THREADKIT_BINDER_CACHE", "1") == "0":
        venv = tmp_path_factory.mktemp("binder") / "venv"
        times, _ = build_binder_env(venv, python, version)
        print("\nbinder env (not cached): " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        yield venv
        remove_in_background(venv.parent)
        return
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    venv = root / (checkout_prefix() + env_key(python, version))
    with _Lock(root / "binder-env.lock"):
        if not (venv / STAMP).is_file() or not venv_python(venv).exists():
            shutil.rmtree(venv, ignore_errors=True)
            for old in superseded_builds(root, venv):
                shutil.rmtree(old, ignore_errors=True)
            times, _ = build_binder_env(venv, python, version)
            (venv / STAMP).write_text(json.dumps(times) + "\n")
            print(f"\nbinder env built in {venv}: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        else:
            print(f"\nbinder env from the cache: {venv}")
    yield venv


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    """A venv with repo2docker's base environment plus binder/requirements.txt."""
    for venv in binder_environment(tmp_path_factory):
        yield {"python": venv_python(venv), "venv": venv}


def remove_in_background(path: Path) -> None:
    """Deleting ~20,000 files takes seconds on a busy disk: do not make the suite wait."""
    if os.name == "posix" and shutil.which("rm"):
        subprocess.Popen(
            ["rm", "-rf", str(path)], start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    else:
        shutil.rmtree(path, ignore_errors=True)


def jupyter_dirs(tmp: Path) -> dict[str, str]:
    """Isolated Jupyter config/data/runtime dirs (used by tests/test_binder_notebooks.py)."""
    return {name: str(tmp / name.lower()) for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")}


def test_a_new_build_removes_only_this_checkouts_older_builds(tmp_path):
    mine = checkout_prefix()
    current = tmp_path / (mine + "today")
    names = [mine + "yesterday", mine + "today", checkout_prefix(tmp_path / "other-worktree") + "today",
             "binder-env-0123456789abcdef", "sidroot", "binder-env.lock"]
    for name in names:
        (tmp_path / name).mkdir() if name != "binder-env.lock" else (tmp_path / name).touch()
    assert superseded_builds(tmp_path, current) == [tmp_path / (mine + "yesterday")]
    assert checkout_prefix(tmp_path / "other-worktree") != mine


def test_binder_install_has_no_conflicts(binder_env):
    proc = run([binder_env["python"], "-m", "pip", "check"], check=False, env=clean_env(binder_env["venv"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_binder_env_imports_threadkit_from_the_repository(binder_env, tmp_path):
    proc = run(
        [binder_env["python"], "-c", "import threadkit; print(threadkit.__file__)"],
        cwd=tmp_path, env=clean_env(binder_env["venv"]),
    )
    assert Path(proc.stdout.strip()).resolve().is_relative_to(ROOT / "threadkit")


def test_binder_env_keeps_the_base_server_and_uses_the_course_kernel_side(binder_env):
    kernel_side = pins(BINDER / "requirements.txt")
    code = (
        "import json, importlib.metadata as m; print(json.dumps({n: m.version(n) for n in "
        f"{tuple(kernel_side) + SERVER_SIDE!r}}}))"
    )
    versions = json.loads(run([binder_env["python"], "-c", code], env=clean_env(binder_env["venv"])).stdout)
    base = base_environment(runtime_version())
    for name, version in kernel_side.items():
        assert versions[name] == version
    for name in SERVER_SIDE:
        assert versions[name] == base[name], f"binder/requirements.txt changed the base {name}"


def test_binder_env_has_the_widget_extension(binder_env):
    # What `jupyter labextension list` reads, without its 5-10 s start-up: the prebuilt
    # extension shipped by jupyterlab_widgets, in the environment's share/jupyter.
    proc = run(
        [binder_env["python"], "-c", "import sys; print(sys.prefix)"], env=clean_env(binder_env["venv"])
    )
    package = (
        Path(proc.stdout.strip()) / "share" / "jupyter" / "labextensions"
        / "@jupyter-widgets" / "jupyterlab-manager" / "package.json"
    )
    assert package.is_file(), "ipywidgets' JupyterLab extension is missing: widgets would not render"
    assert json.loads(package.read_text())["name"] == "@jupyter-widgets/jupyterlab-manager"
