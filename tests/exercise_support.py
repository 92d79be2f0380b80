"""Helpers for the exercise tests (``tests/test_exercise_NN.py``).

Each notebook's exercise is a learner-facing cell that starts with a commented
``# %load ../solutions/NN_name.py`` line and holds the *starting code* (the stub).
Its grader (a ``check_*`` function of ``threadkit.lessons``) must pass the solution file and refuse
the stub and typical wrong answers, each with the right explanation.  The stub
is read from the notebook itself, so the test checks what a learner sees.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
import runpy
import threading
from pathlib import Path

from threadkit._checking import ExerciseError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"
LOAD_LINE = re.compile(r"^# %load \.\./solutions/(\d\d_[a-z0-9_]+\.py)\s*$", re.M)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def exercise_cell(notebook: str) -> tuple[int, dict, str]:
    """(index, cell, solution file name) of the notebook's exercise cell (the one with the load line)."""
    path = next(NOTEBOOKS.glob(f"{notebook}*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = [(i, c, LOAD_LINE.search(_source(c)).group(1)) for i, c in enumerate(cells)
             if c["cell_type"] == "code" and LOAD_LINE.search(_source(c))]
    assert len(found) == 1, f"{path.name}: expected one exercise cell with a '# %load ../solutions/...' line, found {len(found)}"
    return found[0]


def solution(notebook: str) -> dict:
    """The namespace of the notebook's solution file, run as a script."""
    _, _, file_name = exercise_cell(notebook)
    return runpy.run_path(str(SOLUTIONS / file_name))


def stub(notebook: str, name: str):
    """The object ``name`` as the notebook's exercise cell defines it (the starting code).

    Only the top-level statements that define ``name`` (a def, a class or an
    assignment) run, in the solution file's namespace (so its imports are there).
    """
    _, cell, _ = exercise_cell(notebook)
    tree = ast.parse(_source(cell))
    nodes = [n for n in tree.body
             if (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
             or (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets))]
    assert nodes, f"the exercise cell of {notebook} does not define {name}"
    namespace = dict(solution(notebook))
    namespace.pop(name, None)
    exec(compile(ast.Module(body=nodes, type_ignores=[]), f"<exercise {notebook}>", "exec"), namespace)
    return namespace[name]


def refusal(check, *args, **kwargs) -> str:
    """Run a grader that must refuse; return its message (fails the test if it passes)."""
    try:
        passed = check(*args, **kwargs)
    except ExerciseError as exc:
        return str(exc)
    raise AssertionError(f"{check.__name__} should have refused this answer, but passed: {passed}")


def assert_refused(check, answer, *phrases, **kwargs) -> str:
    """The grader refuses ``answer`` with a message containing every phrase; returns the message."""
    message = refusal(check, answer, **kwargs)
    missing = [p for p in phrases if p not in message]
    assert not missing, f"{check.__name__} refused, but its message lacks {missing}:\n{message}"
    return message


class EndableLock:
    """A plain lock for wrong answers that take it twice: the second take waits, as on a
    ``threading.Lock``, until the lock is released, or until ``deadlocks_end()`` ends.

    Then the waiting thread gets RuntimeError, so a grader's helper stuck in the deadlock
    unwinds and ends instead of staying behind for the rest of the test run.
    """

    ended = threading.Event()

    def __init__(self):
        self._lock = threading.Lock()

    def acquire(self):
        while not self._lock.acquire(timeout=0.01):
            if self.ended.is_set():
                raise RuntimeError("this deadlock was ended by the test")
        return True

    def release(self):
        self._lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


@contextlib.contextmanager
def deadlocks_end():
    """Every wait on an EndableLock that is still stuck at the end of the block ends."""
    EndableLock.ended.clear()
    try:
        yield
    finally:
        EndableLock.ended.set()
