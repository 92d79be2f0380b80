#!/usr/bin/env python3
"""Soak test: run the notebook suite many times in a row, once under full CPU load.

    python3 scripts/soak.py                  # 10 runs of `course.py test notebooks`
    python3 scripts/soak.py --runs 3         # fewer runs
    python3 scripts/soak.py --hog-run 1      # which run gets the CPU hog (default: the middle one)
    python3 scripts/soak.py -- -x            # arguments after -- go to pytest
    python3 scripts/soak.py --suite --runs 5 # the whole parallel suite: `course.py test`

Every run is `python course.py test notebooks` (strict nbval on every notebook, plus the
notebook-count check of conftest.py), in the course environment (.venv or $COURSE_VENV).
With --suite every run is `python course.py test` instead: the whole suite, on its
pytest-xdist workers, browser and Binder checks included, exactly as CI runs it.
During one run (--hog-run), one busy-loop process per CPU (--hogs, default: all of them)
keeps every core busy; the script starts them right before that run and kills them right
after, also when interrupted. Each run's output goes to test-artifacts/soak/run-NN.log; a
table of run, load average at the end of the run, time, result and pytest's summary is printed at the end (and written to
test-artifacts/soak/summary.txt). The exit status is 0 only if every run passed.
Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "test-artifacts" / "soak"
SUMMARY = re.compile(r"^(?:=+ )?(.*\d+ (?:passed|failed|error|errors|skipped).*) in ([\d.]+)s", re.M)
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def start_hogs(count: int) -> list[subprocess.Popen]:
    """`count` processes that each keep one core busy (pure-Python busy loop)."""
    return [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]


def stop_hogs(hogs: list[subprocess.Popen]) -> None:
    for proc in hogs:  # only the processes this script started, by their own handle
        if proc.poll() is None:
            proc.kill()
    for proc in hogs:
        proc.wait(timeout=10)


def load() -> str:
    try:
        return "%.1f" % os.getloadavg()[0]
    except (OSError, AttributeError):
        return "?"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="number of runs (default: %(default)s)")
    parser.add_argument("--hog-run", type=int, default=None,
                        help="the run (1-based) with every core busy; 0 for none (default: the middle run)")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 2,
                        help="busy-loop processes during that run (default: one per CPU, %(default)s)")
    parser.add_argument("--suite", action="store_true",
                        help="run the whole parallel suite (`course.py test`), not only the notebooks")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (after --)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.suite and args.pytest_args:
        parser.error("--suite runs `course.py test` as CI does: it takes no pytest arguments")
    hog_run = (args.runs + 1) // 2 if args.hog_run is None else args.hog_run
    if not 0 <= hog_run <= args.runs:
        parser.error(f"--hog-run must be from 0 to --runs ({args.runs})")
    LOGS.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(ROOT / "course.py"), "test"]
    if not args.suite:
        cmd += ["notebooks", *args.pytest_args]
    print(f"soak: {args.runs} runs of: {' '.join(cmd[1:])}; run {hog_run or '-'} with {args.hogs} CPU hogs",
          flush=True)
    rows, failures = [], 0
    for run in range(1, args.runs + 1):
        loaded = run == hog_run
        log_path = LOGS / f"run-{run:02d}.log"
        hogs = start_hogs(args.hogs) if loaded else []
        start = time.perf_counter()
        try:
            with open(log_path, "w") as log:
                status = subprocess.call(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            load_after = load()  # 1-minute load average as the run ends (hogs still running)
        finally:
            stop_hogs(hogs)
        seconds = time.perf_counter() - start
        text = log_path.read_text(errors="replace")
        found = SUMMARY.findall(text)
        summary = found[-1][0] if found else "no pytest summary (see the log)"
        failed_items = FAILED.findall(text)
        if failed_items:
            summary += "; failed: " + ", ".join(failed_items[:5]) + (" ..." if len(failed_items) > 5 else "")
        result = "PASS" if status == 0 else f"FAIL ({status})"
        failures += status != 0
        row = (str(run), f"{args.hogs} hogs" if loaded else "-", load_after, f"{seconds:.1f} s", result, summary)
        rows.append(row)
        print(f"run {run:2d}/{args.runs}: {result:9} {seconds:6.1f} s  {'(CPU hogs) ' if loaded else ''}{summary}",
              flush=True)

    header = ("run", "CPU hog", "load (1 min, at end)", "time", "result", "pytest summary")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = " | ".join("{:<%d}" % w for w in widths)
    times = [float(r[3].split()[0]) for r in rows]
    table = [line.format(*header), "-+-".join("-" * w for w in widths), *(line.format(*r) for r in rows), "",
             f"{args.runs - failures}/{args.runs} passed; time min {min(times):.1f} s, "
             f"median {sorted(times)[len(times) // 2]:.1f} s, max {max(times):.1f} s"]
    print("\n" + "\n".join(table))
    (LOGS / "summary.txt").write_text("\n".join(table) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
