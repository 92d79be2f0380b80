"""The exercise of 03 · Queues: ``run_stage``, one stage of a pipeline.

``tk.check_pipeline`` must pass the solution (solutions/03_run_stage.py), refuse the
starting code of the notebook's exercise cell (right results, but one item at a time in
the calling thread), and refuse typical wrong answers, each with the explanation that
points at its mistake: one STOP left for several workers, errors swallowed instead of
passed on, a STOP per worker on the outbox, workers left running.
"""

from __future__ import annotations

import ast
import json
import threading

import pytest

import threadkit as tk
from exercise_support import ROOT, assert_refused, exercise_cell, solution, stub

check = tk.check_pipeline
TIMEOUT = 5.0  # seconds: every blocking call in the wrong answers below has one (but see one_stop_for_all)


def test_the_solution_passes():
    passed = check(solution("03")["run_stage"])
    assert passed.startswith("Passed:") and "no thread left running" in passed


def test_the_solution_only_defines_what_the_notebook_already_has():
    # %load pastes the file into the exercise cell: it must not rebind the notebook's traced
    # Queue or Thread, and its TIMEOUT must be the notebook's
    namespace = {k: v for k, v in solution("03").items() if not k.startswith("__")}
    assert set(namespace) == {"threading", "tk", "TIMEOUT", "run_stage"}
    cells = json.loads((ROOT / "notebooks" / "03_queues.ipynb").read_text(encoding="utf-8"))["cells"]
    assigned = {}
    for cell in cells:
        if cell["cell_type"] == "code" and "TIMEOUT =" in "".join(cell["source"]):
            for node in ast.parse("".join(cell["source"])).body:
                if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["TIMEOUT"]:
                    assigned["TIMEOUT"] = ast.literal_eval(node.value)
    assert assigned == {"TIMEOUT": namespace["TIMEOUT"]}


def test_the_exercise_cell_loads_the_solution_first():
    _, cell, file_name = exercise_cell("03")
    assert file_name == "03_run_stage.py"
    assert "".join(cell["source"]).startswith("# %load ../solutions/03_run_stage.py\n")


def test_the_starting_code_is_refused_as_one_at_a_time():
    message = assert_refused(check, stub("03", "run_stage"),
                             "process ran in the thread that called run_stage, one item at a time",
                             "Hint: start all `workers` threads first")
    # its results are right: only where and how they were made is wrong
    assert "lost" not in message and "STOP" not in message.split("Hint:")[0]


# -- typical wrong answers -----------------------------------------------------------------
def one_stop_for_all(inbox, outbox, process, workers):
    """Each worker stops at the STOP, but the inbox holds one: the others wait for ever."""
    def work():
        while (pair := inbox.get()) is not tk.STOP:  # no timeout, and the STOP is not passed on
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc
            outbox.put((index, result))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outbox.put(tk.STOP)


def errors_swallowed(inbox, outbox, process, workers):
    """The failing items are logged, say, and dropped: the next stage never hears of them."""
    def work():
        while (pair := inbox.get(timeout=TIMEOUT)) is not tk.STOP:
            index, item = pair
            try:
                outbox.put((index, process(item)))
            except Exception:
                continue
        inbox.put(tk.STOP)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    outbox.put(tk.STOP)


def stop_per_worker(inbox, outbox, process, workers):
    """Each worker announces its own end on the outbox: the next stage stops at the first."""
    def work():
        while (pair := inbox.get(timeout=TIMEOUT)) is not tk.STOP:
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc
            outbox.put((index, result))
        inbox.put(tk.STOP)
        outbox.put(tk.STOP)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)


def never_joined(inbox, outbox, process, workers):
    """Starts the workers and returns at once: STOP goes out before the results."""
    def work():
        while (pair := inbox.get(timeout=TIMEOUT)) is not tk.STOP:
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc
            outbox.put((index, result))
        inbox.put(tk.STOP)

    for _ in range(workers):
        threading.Thread(target=work).start()
    outbox.put(tk.STOP)


def test_one_stop_left_for_several_workers_is_refused_as_a_hang():
    message = assert_refused(check, one_stop_for_all, "did not return within 1 s: it hangs",
                             "the inbox holds one STOP for 4 workers",
                             "Hint: a worker that gets STOP should put it back on inbox", timeout=1.0)
    assert "of its threads were still running" not in message  # the check's extra STOPs freed them


def test_swallowed_errors_are_refused_as_lost_errors():
    message = assert_refused(check, errors_swallowed, "lost errors", "index(es) 3, 11, 16", "not be swallowed",
                             "Hint: in each worker: try: result = process(item) / except Exception as exc")
    assert "STOP" not in message.split("Hint:")[0]


def test_a_stop_per_worker_on_the_outbox_is_refused():
    assert_refused(check, stop_per_worker, "outbox holds 4 STOPs; put exactly one",
                   "Hint: the workers pass the inbox's STOP on to each other")


def test_workers_left_running_are_refused():
    assert_refused(check, never_joined, "came after the STOP on outbox",
                   "were still running when it returned", "join every worker before returning",
                   "Hint: keep the Thread objects in a list and call join() on each")


# -- the grader's arguments ----------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, error", [
    (("not a function",), {}, TypeError),
    ((solution("03")["run_stage"],), {"timeout": 0}, ValueError),
    ((solution("03")["run_stage"],), {"timeout": "10"}, TypeError),
])
def test_the_grader_validates_its_arguments(args, kwargs, error):
    with pytest.raises(error):
        check(*args, **kwargs)
