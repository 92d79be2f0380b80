#!/usr/bin/env python3
"""threadkit course: the single entry point (standard library only; Linux, macOS, Windows).

Usage:
    python3 course.py lab [JUPYTER-LAB-ARGS...]   open the course in JupyterLab, at
                                                  notebooks/00_start_here.ipynb
    python3 course.py test [PYTEST-ARGS...]       run the whole test suite (unit tests,
                                                  every notebook, lab, Binder, browser)
    python3 course.py test --quick [PYTEST-ARGS...]
                                                  the development loop: unit tests and
                                                  every notebook only (no lab, Binder
                                                  or browser checks), in parallel
    python3 course.py execute [NOTEBOOK...]       re-execute notebooks in place (default:
                                                  all of notebooks/*.ipynb)
    python3 course.py setup                       only create or update the environment
                                                  (with the test tools)
    python3 course.py --help                      show this help

Every command first makes sure the course environment exists: a virtual environment
(`.venv` next to this file, or the directory named by the COURSE_VENV environment
variable) created with the Python that runs this script (3.11 or newer; tested on
3.11-3.15, GIL builds; newer ones get a warning), holding the pinned requirements.txt
and this project (`pip install -e .`). `lab` and `execute` need nothing more; `test` and
`setup` also install the test tools pinned in requirements-test.txt (pytest, nbval,
xdist, playwright, repo2docker). The install uses uv (its pinned version, installed into
the environment with pip) and falls back to pip if uv fails. It runs again only when
what the command needs changed: a stamp file in the environment records the sha256 of
requirements.txt, pyproject.toml and the environment's Python (all that `lab` needs) and,
once the test tools are in, of requirements-test.txt with them. So `lab` after `test`
installs nothing, and `test` after `lab` adds the test tools. Delete the environment to
start from scratch.

Arguments after `lab` go to `jupyter lab` (e.g. `--no-browser --port 8899`; a first
argument that is a path opens that notebook instead). `test` without arguments runs the
whole suite in parallel: pytest-xdist with one worker per CPU core (at most
MAX_TEST_WORKERS; one core: one process; COURSE_TEST_WORKERS=N sets N, 0 runs it in one
process), whole files per worker; this is what CI runs. `test --quick` leaves out
QUICK_IGNORES (the lab, Binder and browser checks, which start servers, build
environments and drive Chromium) and runs the rest with two workers per core (at most
MAX_TEST_WORKERS; one core: one process); pytest arguments may follow it (e.g. `-x`).
Other arguments after `test` go to `python -m pytest` unchanged, in one process unless
they say `-n` (e.g. `-q tests/test_harness.py`, `notebooks`). The exit status is the one
of the command that ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REQUIREMENTS = ROOT / "requirements.txt"  # the course: all that `lab` and `execute` need
TEST_REQUIREMENTS = ROOT / "requirements-test.txt"  # the test tools, for `test` and `setup`
PYPROJECT = ROOT / "pyproject.toml"
NOTEBOOKS = ROOT / "notebooks"
START_NOTEBOOK = NOTEBOOKS / "00_start_here.ipynb"
STAMP_NAME = ".course-stamp"
MIN_PYTHON = (3, 11)
TESTED_PYTHONS = ((3, 11), (3, 12), (3, 13), (3, 14), (3, 15))
EXECUTE_TIMEOUT = 120  # seconds per cell for `execute`
COMMANDS = ("lab", "test", "execute", "setup")
MAX_TEST_WORKERS = 6
# Whole files per worker (a notebook's cells share one kernel, a module its fixtures), in
# the order the root conftest.py collects them (longest first), not xdist's own order.
PARALLEL_OPTIONS = ("--dist", "loadfile", "--no-loadscope-reorder")
# What `test --quick` leaves out: the checks that serve JupyterLab, rebuild Binder's
# environment or drive Chromium. The rest (unit tests, every notebook under strict nbval)
# is the development loop.
QUICK_IGNORES = ("tests/browser", "tests/test_lab.py", "tests/test_binder.py",
                 "tests/test_binder_notebooks.py")
# What is left mostly waits (the demos' sleeps, kernel round trips: in one process it used
# 67 CPU-s in 136 s), so --quick runs two workers per core. Measured on 2 cores otherwise
# idle: 54 s with 4 workers, 75 s with 2, for the same ~80 CPU-s; with other work on the
# machine 63-99 s against 78-84 s. 9 of 9 runs with 4 workers passed. (The whole suite,
# with Chromium and the Binder builds in it, keeps one per core: see xdist_workers.)
QUICK_WORKERS_PER_CORE = 2
UV_PIN = re.compile(r"^uv==(\S+)\s*$", re.M)

USAGE = """usage: python3 course.py {lab,test,execute,setup} [ARGS...]
       python3 course.py test --quick [PYTEST-ARGS...]
       python3 course.py --help"""


class CourseError(Exception):
    """A problem explained to the user; exit status 1 (2 for usage errors)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def tested_range() -> str:
    """The Pythons the course is tested on, as text: e.g. "3.11-3.15"."""
    first, last = TESTED_PYTHONS[0], TESTED_PYTHONS[-1]
    return "%d.%d-%d.%d" % (*first, *last)


def say(message: str) -> None:
    print(f"course.py: {message}", file=sys.stderr, flush=True)


# -- the environment ---------------------------------------------------------------------
def venv_dir() -> Path:
    override = os.environ.get("COURSE_VENV")
    if override:
        return Path(override).expanduser().resolve()
    return ROOT / ".venv"


def venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def child_env(venv: Path) -> dict:
    """The environment for commands run inside the course venv (as if activated)."""
    env = dict(os.environ)
    bindir = venv_python(venv).parent
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(venv)
    env["COURSE_VENV"] = str(venv)  # nested `course.py` calls (tests) use the same venv
    env["JUPYTER_PREFER_ENV_PATH"] = "1"  # the venv's kernelspec before any user-wide one
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("PYTHONHOME", None)
    env.pop("__PYVENV_LAUNCHER__", None)  # macOS framework builds
    return env


def run(cmd: list, env: dict) -> None:
    cmd = [str(c) for c in cmd]
    say("running " + " ".join(cmd))
    status = subprocess.call(cmd, cwd=str(ROOT), env=env)
    if status != 0:
        raise CourseError(f"exit status {status} from: {' '.join(cmd[1:])}", status)


def python_version(python: Path) -> tuple:
    """(major, minor, micro) and the full version text of the venv's Python."""
    code = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.version)"
    try:
        out = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise CourseError(
            f"{python.parent.parent} is not a working virtual environment ({exc}).\n"
            "Delete that directory and run the command again."
        ) from exc
    numbers = tuple(int(n) for n in out.splitlines()[0].split("."))
    return numbers, out


def requirement_files(tools: bool) -> tuple:
    """The files one install reads: the course's, and the test tools' if `tools`."""
    return (REQUIREMENTS, TEST_REQUIREMENTS) if tools else (REQUIREMENTS,)


def stamp_for(version: str, tools: bool = False) -> str:
    """sha256 of what an install with (or without) the test tools depends on."""
    digest = hashlib.sha256()
    for path in (*requirement_files(tools), PYPROJECT):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(b"python\0" + version.encode())
    return digest.hexdigest()


def read_stamp(stamp: Path) -> dict:
    """The stamp's digests by name ("course", "test"); {} if missing or unreadable.

    A stamp is one line per installed set, e.g. "course 3f2a...". The test tools' digest
    covers requirements.txt too, so it is stale as soon as the course's is.
    """
    try:
        lines = stamp.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    found = dict(line.split(None, 1) for line in lines if len(line.split()) == 2)
    return found if set(found) <= {"course", "test"} else {}


def ensure_env(tools: bool = False) -> Path:
    """Create the venv if missing; install what the command needs if it changed.

    `tools`: the command needs the test tools (requirements-test.txt) too.
    """
    for path in (*requirement_files(tools), PYPROJECT):
        if not path.is_file():
            raise CourseError(f"{path} is missing; is this a complete checkout?")
    venv = venv_dir()
    python = venv_python(venv)
    env = child_env(venv)
    created = False
    if not python.exists():
        if venv.exists() and any(venv.iterdir()):
            raise CourseError(
                f"{venv} exists but holds no Python ({python} is missing).\n"
                "Delete that directory (or set COURSE_VENV elsewhere) and run again."
            )
        if sys.version_info[:2] < MIN_PYTHON:
            raise CourseError(
                "the course needs Python %d.%d or newer, this is %s; run course.py with "
                "Python %s" % (*MIN_PYTHON, sys.version.split()[0], tested_range())
            )
        if sys.version_info[:2] not in TESTED_PYTHONS:
            say(f"warning: the course is tested on Python {tested_range()}, this is {sys.version.split()[0]}")
        say(f"creating the course environment in {venv} with {sys.executable}")
        status = subprocess.call([sys.executable, "-m", "venv", str(venv)])
        if status != 0 or not python.exists():
            raise CourseError(f"could not create a virtual environment in {venv}", status or 1)
        created = True
    numbers, version = python_version(python)
    if numbers[:2] < MIN_PYTHON:
        raise CourseError(
            "%s uses Python %d.%d.%d; the course needs %d.%d or newer.\n" % (venv, *numbers, *MIN_PYTHON)
            + f"Delete that directory and run course.py with Python {tested_range()}."
        )
    stamp = venv / STAMP_NAME
    key = "test" if tools else "course"
    wanted = {"course": stamp_for(version)}
    if tools:
        wanted["test"] = stamp_for(version, tools=True)
    if not created and read_stamp(stamp).get(key) == wanted[key]:
        return venv
    if stamp.exists():
        stamp.unlink()
    files = requirement_files(tools)
    say("installing " + " and ".join(f.name for f in files) + " (a minute or so the first time)")
    if not install_with_uv(python, env, files):
        if created:
            run([python, "-m", "pip", "install", "--upgrade", "pip"], env)
        run([python, "-m", "pip", "install", *requirement_args(files), "-e", ROOT], env)
    stamp.write_text("".join(f"{name} {digest}\n" for name, digest in wanted.items()))
    say(f"environment ready: {venv}")
    return venv


def requirement_args(files: tuple) -> list:
    return [arg for path in files for arg in ("-r", path)]


def install_with_uv(python: Path, env: dict, files: tuple = (REQUIREMENTS,)) -> bool:
    """Install the requirement files and the project with uv; False (said why) if that failed.

    uv resolves and installs the same pins as pip in a few seconds instead of half a
    minute. It is itself pinned in requirements.txt and installed into the environment by
    pip first. Byte-compiling at install time matters where PYTHONDONTWRITEBYTECODE is
    set: no later process would write the .pyc files, so every kernel start would
    compile its imports again. uv reads its own settings, not pip's (pip.conf's index,
    for example): if it cannot install, pip does.
    """
    match = UV_PIN.search(REQUIREMENTS.read_text(encoding="utf-8"))
    if not match:
        return False
    try:
        run([python, "-m", "pip", "install", "-q", f"uv=={match.group(1)}"], env)
        run([python, "-m", "uv", "pip", "install", "--python", python, "--compile-bytecode",
             *requirement_args(files), "-e", ROOT], env)
    except CourseError as exc:
        say(f"uv could not install the requirements ({exc}); using pip instead")
        return False
    return True


def xdist_workers(env: dict, per_core: int = 1) -> int:
    """How many pytest-xdist workers `course.py test` starts (0: run in one process).

    `per_core`: workers per CPU core (QUICK_WORKERS_PER_CORE for `test --quick`).
    """
    wanted = env.get("COURSE_TEST_WORKERS", "").strip()
    if wanted:
        if not wanted.isdigit():
            raise CourseError(f"COURSE_TEST_WORKERS must be a whole number >= 0, not {wanted!r}", 2)
        return int(wanted)
    # One worker per core. One more would be ~10 % faster on 2 cores (much of the suite
    # waits on kernels, the browser, the demos' sleeps), but measured here it also made
    # the notebooks' timing checks fail now and then (2 of 4 runs of the whole suite).
    cores = os.cpu_count() or 1
    return min(cores * per_core, MAX_TEST_WORKERS) if cores > 1 else 0


# -- commands ----------------------------------------------------------------------------
def exec_in_root(cmd: list, env: dict) -> int:
    """Run cmd from the repository root in the foreground and return its exit status.

    On POSIX the process is replaced (signals such as Ctrl-C and SIGTERM go straight to
    Jupyter or pytest); on Windows the child is waited for.
    """
    cmd = [str(c) for c in cmd]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.chdir(ROOT)
        os.execve(cmd[0], cmd, env)
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:  # the child got Ctrl-C too; let it decide
            continue


def cmd_lab(args: list) -> int:
    venv = ensure_env()
    # The file browser shows the whole repository (as on Binder), not only notebooks/:
    # without root_dir, Jupyter would use the opened notebook's folder.
    cmd = [venv_python(venv), "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}"]
    if args and not args[0].startswith("-"):
        cmd.append(str(Path(args.pop(0)).resolve()))  # the learner named a notebook to open
    elif START_NOTEBOOK.is_file():
        cmd.append(START_NOTEBOOK.relative_to(ROOT).as_posix())
    else:
        say(f"warning: {START_NOTEBOOK.relative_to(ROOT)} does not exist yet; opening the lab")
    return exec_in_root(cmd + args, child_env(venv))


def cmd_test(args: list) -> int:
    quick = "--quick" in args  # course.py's own option: pytest has none of that name
    if quick:
        args = [f"--ignore={path}" for path in QUICK_IGNORES] + [a for a in args if a != "--quick"]
    venv = ensure_env(tools=True)
    env = child_env(venv)
    if quick and any(a.startswith(("-n", "--numprocesses")) for a in args):
        # The user's worker count, but still whole files per worker: xdist's own `--dist
        # load` would spread a notebook's cells over workers, each in a fresh kernel.
        args = [*PARALLEL_OPTIONS, *args]
    elif quick or not args:
        workers = xdist_workers(env, QUICK_WORKERS_PER_CORE if quick else 1)
        if workers:
            args = ["-n", str(workers), *PARALLEL_OPTIONS, *args]
            say(f"running {'the quick loop' if quick else 'the whole suite'} on "
                f"{workers} pytest-xdist workers")
    return exec_in_root([venv_python(venv), "-m", "pytest", *args], env)


def check_kernel(venv: Path, env: dict) -> None:
    """Make sure the `python3` kernel that nbconvert will start is the venv's Python."""
    python = venv_python(venv)
    out = subprocess.run(
        [str(python), "-m", "jupyter", "kernelspec", "list", "--json"],
        capture_output=True, text=True, cwd=str(ROOT), env=env,
    )
    if out.returncode != 0:
        raise CourseError("`jupyter kernelspec list` failed:\n" + out.stderr)
    specs = json.loads(out.stdout)["kernelspecs"]
    if "python3" not in specs:
        raise CourseError("no `python3` kernel in the course environment (is ipykernel installed?)")
    argv0 = specs["python3"]["spec"]["argv"][0]
    # jupyter_client starts a kernel whose argv[0] is a bare "python" with its own Python,
    # which is the venv's here; otherwise argv[0] must live in the venv.
    bare = argv0 in ("python", "python3") or argv0.startswith("python3.")
    inside = os.path.dirname(os.path.abspath(argv0)) == os.path.abspath(python.parent)
    if not (bare or inside):
        raise CourseError(
            f"the `python3` kernel ({specs['python3']['resource_dir']}) runs {argv0}, not "
            f"the course environment's {python}.\nRemove that kernelspec with "
            "`jupyter kernelspec remove python3` (outside the venv) and try again."
        )


def cmd_execute(args: list) -> int:
    options = [a for a in args if a.startswith("-")]
    if options:
        raise CourseError(f"execute takes notebook paths only, not {' '.join(options)}\n{USAGE}", 2)
    notebooks = [Path(a).resolve() for a in args] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        raise CourseError(f"no notebooks to execute in {NOTEBOOKS}")
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise CourseError("no such notebook: " + ", ".join(missing))
    venv = ensure_env()
    env = child_env(venv)
    check_kernel(venv, env)
    cmd = [
        venv_python(venv), "-m", "jupyter", "nbconvert",
        "--to", "notebook", "--execute", "--inplace",
        f"--ExecutePreprocessor.timeout={EXECUTE_TIMEOUT}",
        "--ExecutePreprocessor.kernel_name=python3",
        *notebooks,
    ]
    say(f"executing {len(notebooks)} notebook(s) in place")
    run(cmd, env)
    for notebook in notebooks:
        tidy_outputs(notebook)
    return 0


_PYTHON_LIB = re.compile(r"(?:[A-Za-z]:)?[\\/][^\s'\"()]*?[\\/]lib[\\/]python3\.\d+t?[\\/]")


def tidy_text(text: str) -> str:
    """Make a stored traceback portable: no repository or Python install paths."""
    text = _PYTHON_LIB.sub("<python>/", text)
    return text.replace(str(ROOT) + os.sep, "").replace(str(ROOT), ".")


def tidy_outputs(path: Path) -> None:
    """Remove what would tie a stored notebook to this machine or this run.

    Tracebacks lose local paths (nbval does not compare tracebacks, but a reader should
    not see /home/you/...), and nbconvert's per-cell timing metadata is dropped.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            if "traceback" in output:
                output["traceback"] = [tidy_text(line) for line in output["traceback"]]
            if isinstance(output.get("text"), list):
                output["text"] = [tidy_text(line) for line in output["text"]]
            elif isinstance(output.get("text"), str):
                output["text"] = tidy_text(output["text"])
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def cmd_setup(args: list) -> int:
    if args:
        raise CourseError(f"setup takes no arguments\n{USAGE}", 2)
    ensure_env(tools=True)
    return 0


def main(argv: list) -> int:
    if not argv:
        print(f"course.py: error: no command given\n{USAGE}", file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    command, args = argv[0], list(argv[1:])
    handlers = {"lab": cmd_lab, "test": cmd_test, "execute": cmd_execute, "setup": cmd_setup}
    if command not in handlers:
        print(f"course.py: error: unknown command {command!r}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        return handlers[command](args)
    except CourseError as exc:
        print(f"course.py: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print("course.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
