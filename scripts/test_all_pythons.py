#!/usr/bin/env python3
"""Run the test suite on every supported CPython, 3.11 to 3.15.

    python3 scripts/test_all_pythons.py                 # every version found
    python3 scripts/test_all_pythons.py --versions 3.15 # only some
    python3 scripts/test_all_pythons.py -- -x -q        # arguments after -- go to pytest

Each version gets its own course environment, `.venv-3.X` in the repository root (set
through COURSE_VENV; created and kept up to date by `course.py` itself, so this also proves
that requirements.txt and requirements-test.txt install on that version), then
`python3.X course.py setup` and `python3.X course.py test` run in it: the unit tests, every
notebook (nbval) and the Binder checks (--skip-binder leaves those out). The browser tests
are skipped (THREADKIT_BROWSER=skip; they test JupyterLab and Chromium, not the Python
version) unless --browser is given.

Interpreters are looked up as `python3.X` on PATH and in pyenv (`$PYENV_ROOT` or
~/.pyenv, newest patch release first). A version in CHROOT_VERSIONS (3.14, 3.15) that is
not found runs in a Debian unstable chroot instead (scripts/sidroot.sh: Linux, root or
password-less sudo; --no-chroot turns this off): the same two commands, from a copy of the
repository, with its environment in the chroot's /venv3.X. There, the Binder checks
(they build binder/runtime.txt's Python, which the chroot lacks), the browser tests (no
Chromium) and the lab test (it serves JupyterLab, which the host's run already checks)
are left out: the chroot runs the unit tests and every notebook.

Versions not found are reported, and fail the run only with --require-all. Logs:
test-artifacts/pythons/<version>.log. Prints a table; the exit status is 0 only if every
version run passed. Standard library only.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import course  # noqa: E402  (its worker count and xdist options, standard library only)

VERSIONS = ("3.11", "3.12", "3.13", "3.14", "3.15")
#: Versions run in a Debian unstable chroot when this machine has no such interpreter.
CHROOT_VERSIONS = ("3.14", "3.15")
SIDROOT = ROOT / "scripts" / "sidroot.sh"
#: Left out in the chroot (see the module docstring).
CHROOT_IGNORES = ("tests/test_binder.py", "tests/test_binder_notebooks.py", "tests/browser", "tests/test_lab.py")
LOGS = ROOT / "test-artifacts" / "pythons"
FAILURE_TAIL = 60  # lines of a failed version's log printed after its result
SUMMARY = re.compile(r"^(?:=+ )?(.*\d+ (?:passed|failed|error|errors|skipped).*) in ([\d.]+)s", re.M)


def find_python(version: str) -> str | None:
    """A CPython `version` interpreter: python3.X on PATH, else the newest pyenv install."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if shutil.which("pyenv"):
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            pyenv_root = out.stdout.strip()
    installs = glob.glob(os.path.join(pyenv_root, "versions", f"{version}.*", "bin", f"python{version}"))

    def patch(path: str) -> tuple:
        match = re.search(rf"{re.escape(version)}\.(\d+)", path)
        return (int(match.group(1)) if match else -1,)

    candidates += sorted(installs, key=patch, reverse=True)
    for candidate in filter(None, candidates):
        try:
            out = subprocess.run(
                [candidate, "-c", "import platform, sys; print('%d.%d' % sys.version_info[:2], "
                 "platform.python_implementation(), getattr(sys, '_is_gil_enabled', lambda: True)())"],
                capture_output=True, text=True, timeout=30,
            ).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out == [version, "CPython", "True"]:  # not a free-threaded build: its own suite
            return candidate
    return None


def full_version(python: str) -> str:
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True).stdout.strip()


def chroot_unavailable() -> str | None:
    """Why scripts/sidroot.sh cannot run here, or None if it can."""
    if not sys.platform.startswith("linux"):
        return "the chroot needs Linux"
    if os.geteuid() != 0 and subprocess.call(["sudo", "-n", "true"], stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL) != 0:
        return "the chroot needs root or password-less sudo"
    for tool in ("git", "tar", "mount", "chroot", "flock"):
        if shutil.which(tool) is None:
            return f"the chroot needs {tool}"
    if shutil.which("mmdebstrap") is None and shutil.which("apt-get") is None:
        return "the chroot needs mmdebstrap (or apt-get to install it)"
    return None


def run_logged(cmd: list[str], env: dict, log) -> tuple[int, float]:
    log.write(f"\n$ {' '.join(cmd)}\n")
    log.flush()
    start = time.perf_counter()
    status = subprocess.call(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
    return status, time.perf_counter() - start


def test_arguments(args, env: dict, ignores: tuple = ()) -> list[str]:
    """pytest arguments after `course.py test`: the --ignore options, the user's, workers."""
    extra = [f"--ignore={path}" for path in ignores]
    if extra and not args.pytest_args:  # still in parallel, as `course.py test` alone runs
        workers = course.xdist_workers(env)
        extra = (["-n", str(workers), *course.PARALLEL_OPTIONS] if workers else []) + extra
    return extra + list(args.pytest_args)


def run_version(version: str, args, log) -> tuple[str, int, float, float] | None:
    """Set up and test one version, logging to `log`: (how, status, setup s, test s), or None."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    if not args.browser:
        env["THREADKIT_BROWSER"] = "skip"
    binder = ("tests/test_binder.py", "tests/test_binder_notebooks.py") if args.skip_binder else ()
    python = find_python(version)
    if python is not None:
        env["COURSE_VENV"] = str(ROOT / f".venv-{version}")
        print(f"[{version}] {python} ({full_version(python)}): setup + tests, "
              f"log {Path(log.name).relative_to(ROOT)}", flush=True)
        status, setup_s = run_logged([python, "course.py", "setup"], env, log)
        test_s = 0.0
        if status == 0:
            status, test_s = run_logged([python, "course.py", "test", *test_arguments(args, env, binder)],
                                        env, log)
        return full_version(python), status, setup_s, test_s
    if version not in CHROOT_VERSIONS or args.no_chroot or chroot_unavailable():
        return None
    print(f"[{version}] no python{version} here: Debian sid chroot (scripts/sidroot.sh), "
          f"log {Path(log.name).relative_to(ROOT)}", flush=True)
    shell = f"python{version}"
    status, setup_s = run_logged(
        ["bash", str(SIDROOT), version, f"{shell} --version && {shell} course.py setup"], env, log)
    test_s = 0.0
    if status == 0:
        pytest_args = " ".join(shlex.quote(a) for a in test_arguments(args, env, CHROOT_IGNORES))
        status, test_s = run_logged(["bash", str(SIDROOT), version, f"{shell} course.py test {pytest_args}"],
                                    env, log)
    match = re.search(rf"^Python ({re.escape(version)}\.\d+\S*)$", Path(log.name).read_text(errors="replace"),
                      re.M)
    return (match.group(1) if match else version) + " (chroot)", status, setup_s, test_s


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default=",".join(VERSIONS),
                        help="comma-separated versions to run (default: %(default)s)")
    parser.add_argument("--browser", action="store_true", help="also run the browser tests on each version")
    parser.add_argument("--skip-binder", action="store_true",
                        help="leave out tests/test_binder*.py (they build the Python of binder/runtime.txt, "
                             "whichever Python runs the suite)")
    parser.add_argument("--no-chroot", action="store_true",
                        help=f"do not run {', '.join(CHROOT_VERSIONS)} in a Debian sid chroot when not installed")
    parser.add_argument("--require-all", action="store_true", help="fail when a version cannot be run")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (after --)")
    args = parser.parse_args(argv)
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    LOGS.mkdir(parents=True, exist_ok=True)
    rows, failed = [], False
    for version in versions:
        log_path = LOGS / f"{version}.log"
        with open(log_path, "w") as log:
            outcome = run_version(version, args, log)
        if outcome is None:
            why = "install it (e.g. `pyenv install " + version + "`)"
            if version in CHROOT_VERSIONS:
                why += "; no chroot: " + ("--no-chroot" if args.no_chroot else chroot_unavailable() or "?")
            rows.append((version, "-", "not found", "", "", why))
            failed |= args.require_all
            print(f"[{version}] no CPython {version} found", flush=True)
            continue
        full, status, setup_s, test_s = outcome
        text = log_path.read_text(errors="replace")
        summaries = SUMMARY.findall(text)
        summary = summaries[-1][0] if summaries else ("environment setup failed" if test_s == 0 else "no pytest summary")
        result = "PASS" if status == 0 else f"FAIL ({status})"
        failed |= status != 0
        rows.append((version, full, result, f"{setup_s:.0f} s", f"{test_s:.0f} s", summary))
        print(f"[{version}] {result} in {setup_s + test_s:.0f} s: {summary}", flush=True)
        if status != 0:  # what failed, without opening the log (e.g. on CI)
            tail = text.splitlines()[-FAILURE_TAIL:]
            print("\n".join(f"[{version}] | {line}" for line in tail), flush=True)

    header = ("Python", "version", "result", "setup", "tests", "pytest summary")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = " | ".join("{:<%d}" % w for w in widths)
    print()
    print(line.format(*header))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    if not any(r[2] not in ("not found",) for r in rows):
        print("\nno Python version was run", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
