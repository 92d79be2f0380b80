"""Prove that the unit-test files pass in any file order (not collected: no test_ prefix).

    python tests/order_check.py reversed [--binder]   all files in one run, last file first
    python tests/order_check.py each [--binder]       every file alone, one run each
    python tests/order_check.py both [--binder]       reversed, then each

"The unit-test files" are tests/test_*.py: not tests/browser/ (it needs Chromium and a
JupyterLab of its own) and not the notebooks (nbval runs them in their own kernels). The
two Binder files build a Binder-like environment and execute every notebook in it (minutes):
they run only with --binder. Every run is `python -m pytest -p no:randomly` in one process
(no xdist: the order is the one given), from the repository root, with this Python (run it
with the course's: `.venv/bin/python tests/order_check.py ...`). Each run's output goes to
test-artifacts/order-check/ (ignored by git); the summary says which runs failed and what.

Exit status: 0 when every run passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
LOGS = ROOT / "test-artifacts" / "order-check"
BINDER_FILES = ("test_binder.py", "test_binder_notebooks.py")
RUN_TIMEOUT = 1800  # s for one pytest run


def unit_test_files(binder: bool) -> list[str]:
    files = sorted(p.name for p in TESTS.glob("test_*.py"))
    if not binder:
        files = [f for f in files if f not in BINDER_FILES]
    return [f"tests/{f}" for f in files]


def run(label: str, files: list[str]) -> tuple[bool, str, float]:
    """Run pytest on ``files`` in that order; (passed, pytest's last line or failures, seconds)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / (re.sub(r"[^\w.-]+", "_", label) + ".log")
    cmd = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-q", "-rfE", *files]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        out, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = f"{exc.stdout or ''}{exc.stderr or ''}\ntimed out after {RUN_TIMEOUT} s", -1
    seconds = time.monotonic() - start
    log.write_text(" ".join(cmd) + "\n\n" + out)
    lines = out.strip().splitlines()
    failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    last = lines[-1] if lines else "(no output)"
    summary = "\n      ".join([last, *failures])
    return code == 0, summary, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("reversed", "each", "both"))
    parser.add_argument("--binder", action="store_true", help="include the two Binder test files")
    args = parser.parse_args()
    files = unit_test_files(args.binder)
    runs = []
    if args.mode in ("reversed", "both"):
        runs.append(("reversed", files[::-1]))
    if args.mode in ("each", "both"):
        runs += [(f"alone-{Path(f).stem}", [f]) for f in files]
    failed = []
    for label, group in runs:
        ok, summary, seconds = run(label, group)
        print(f"{'ok  ' if ok else 'FAIL'} {label} ({len(group)} file(s), {seconds:.0f} s): {summary}", flush=True)
        if not ok:
            failed.append(label)
    print(f"\n{len(runs) - len(failed)} of {len(runs)} runs passed"
          + (f"; failed: {', '.join(failed)}" if failed else "") + f" (logs: {LOGS.relative_to(ROOT)}/)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
