"""The exercise of 03 · Queues: ``run_stage``, one stage of a pipeline.

``check_pipeline`` must pass the solution (solutions/03_run_stage.py) and other right
answers, refuse the starting code of the notebook's exercise cell (right results, but one
item at a time in the calling thread), and refuse typical wrong answers, each with the
explanation that points at its mistake: one STOP left for several workers, errors
swallowed instead of passed on, a STOP per worker on the outbox, workers left running, and
more. Most wrong answers are one stage (``make_stage``) with one part of the contract
broken. (tests/test_queues.py tests STOP and the grader's data.)
"""

from __future__ import annotations

import ast
import json
import queue
import threading
import time

import pytest

from exercise_support import ROOT, assert_refused, exercise_cell, solution, stub
from threadkit._checking import CheckPassed
from threadkit.lessons.queues import STOP, check_pipeline as check

TIMEOUT = 5.0  # seconds: every blocking call in the answers below has one, unless told otherwise
SOLUTION = solution("03")["run_stage"]


def test_the_solution_passes_quickly():
    start = time.perf_counter()
    passed = check(SOLUTION)
    assert time.perf_counter() - start < 3
    assert isinstance(passed, CheckPassed) and repr(passed) == str(passed)
    assert passed.startswith("Passed: 20 items") and "no thread left running" in passed


def test_the_solution_only_defines_what_the_notebook_already_has():
    # %load pastes the file into the exercise cell: it must not rebind the notebook's traced
    # Queue or Thread, and its TIMEOUT must be the notebook's
    namespace = {k: v for k, v in solution("03").items() if not k.startswith("__")}
    assert set(namespace) == {"threading", "STOP", "TIMEOUT", "run_stage"}
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


# -- one stage, right by default; each keyword breaks one part of the contract -----------------
def make_stage(*, on_error="exc", repeat=1, repass_stop=True, final_stops=1, join=True, wait=TIMEOUT,
               threads_per="worker", stop_at_empty=False, pass_pair=False, with_index=True, stop_after_first=False):
    """A run_stage(inbox, outbox, process, workers) built from these choices.

    on_error: what goes out for a failed item: "exc" (right), "none", "text", "new" (a new
        exception), or "skip" (swallowed). repeat: how often each item is processed.
    repass_stop: a worker puts the STOP back for the next one. final_stops: STOPs put on the
        outbox at the end. join: join the workers (True), not (False), or give up after so many s.
    wait: timeout of every get() and join() (None: wait for ever). threads_per: "worker" or "item".
    stop_at_empty: a worker ends when the inbox is empty. pass_pair: process gets (index, item).
    with_index: results go out as (index, result) pairs. stop_after_first: a STOP goes out
        just before item 0's result.
    """

    def handle(outbox, process, index, item):
        for _ in range(repeat):
            try:
                result = process((index, item) if pass_pair else item)
            except Exception as exc:
                if on_error == "skip":  # swallowed: logged, say, but never passed on
                    continue
                result = {"exc": exc, "none": None, "text": str(exc), "new": RuntimeError(str(exc))}[on_error]
            if stop_after_first and index == 0:
                outbox.put(STOP)  # too early
            outbox.put((index, result) if with_index else result)

    def work(inbox, outbox, process):
        while True:
            if stop_at_empty:
                try:
                    pair = inbox.get_nowait()
                except queue.Empty:
                    return
            else:
                pair = inbox.get(timeout=wait)
            if pair is STOP:
                if repass_stop:
                    inbox.put(STOP)
                return
            handle(outbox, process, *pair)

    def run_stage(inbox, outbox, process, workers):
        if threads_per == "item":
            threads = []
            while (pair := inbox.get(timeout=wait)) is not STOP:
                threads.append(threading.Thread(target=handle, args=(outbox, process, *pair)))
                threads[-1].start()
        else:
            threads = [threading.Thread(target=work, args=(inbox, outbox, process)) for _ in range(workers)]
            for t in threads:
                t.start()
        if join:
            for t in threads:
                t.join(wait if join is True else join)
        for _ in range(final_stops):
            outbox.put(STOP)

    return run_stage


def with_a_dispatcher(inbox, outbox, process, workers):
    """Right: the caller reads the inbox and hands pairs to workers, one sentinel per worker."""
    jobs = queue.Queue()

    def work():
        while (pair := jobs.get(timeout=TIMEOUT)) is not None:
            index, item = pair
            try:
                outbox.put((index, process(item)))
            except Exception as exc:
                outbox.put((index, exc))

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    while (pair := inbox.get(timeout=TIMEOUT)) is not STOP:
        jobs.put(pair)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join(TIMEOUT)
    outbox.put(STOP)


@pytest.mark.parametrize("run_stage", [with_a_dispatcher, make_stage()], ids=["a dispatcher", "make_stage()"])
def test_other_right_answers_pass(run_stage):
    assert check(run_stage).startswith("Passed: 20 items")


def one_worker(inbox, outbox, process, workers):
    return SOLUTION(inbox, outbox, process, 1)


def raises_in_caller(inbox, outbox, process, workers):
    while (pair := inbox.get(timeout=TIMEOUT)) is not STOP:
        outbox.put((pair[0], process(pair[1])))


def crashes(inbox, outbox, process, workers):
    raise KeyError("oops")


def wrong_signature(inbox, outbox):
    pass


def forgets_process(inbox, outbox, process, workers):
    return SOLUTION(inbox, outbox, lambda item: item, workers)


#: name: (run_stage, phrases the refusal holds, phrases it must not hold)
WRONG_ANSWERS = {
    "errors swallowed": (make_stage(on_error="skip"),
                         ["lost errors", "index(es) 3, 11, 16", "not be swallowed",
                          "Hint: in each worker: try: result = process(item) / except Exception as exc"],
                         ["lost results"]),
    "errors lost": (make_stage(on_error="none"), ["outbox got (3, None (type NoneType)) for an item whose process "
                                                  "raised TaskFailed: put that very exception object"], []),
    "error text": (make_stage(on_error="text"), ["outbox got (3, 'item 103 failed' (type str))"], []),
    "a new error": (make_stage(on_error="new"), ["outbox got (3, RuntimeError('item 103 failed')"], []),
    "process not called": (forgets_process, ["outbox got (0, 100 (type int)) but expected (0, 10000)"], []),
    "errors escape": (raises_in_caller, ["escaped", "TaskFailed"], []),
    "processed twice": (make_stage(repeat=2), ["appear more than once on outbox", "put one result per item"], []),
    "a STOP per worker": (make_stage(final_stops=4),
                          ["outbox holds 4 STOPs; put exactly one",
                           "Hint: the workers pass the inbox's STOP on to each other"], []),
    "no STOP": (make_stage(final_stops=0), ["does not end with STOP"], []),
    "results after the STOP": (make_stage(stop_after_first=True, final_stops=0), ["came after the STOP"], []),
    "never joined": (make_stage(join=False),
                     ["came after the STOP on outbox", "were still running when it returned",
                      "join every worker before returning",
                      "Hint: keep the Thread objects in a list and call join() on each"], []),
    "never joined, no STOP": (make_stage(join=False, final_stops=0),
                              ["still running when it returned", "does not end with STOP"], []),
    "gives up joining": (make_stage(repass_stop=False, join=0.4),
                         ["still running when it returned", "join every worker"], []),
    "one at a time": (one_worker, ["one at a time"], []),
    "a thread per item": (make_stage(threads_per="item"), ["different threads"], []),
    "stops at an empty inbox": (make_stage(stop_at_empty=True), ["never taken from the inbox", "lost results"], []),
    "process gets the pair": (make_stage(pass_pair=True), ["not an item"], []),
    "results without index": (make_stage(with_index=False), ["neither an (index, result) pair"], []),
    "other errors": (crashes, ["raised KeyError"], []),
    "wrong signature": (wrong_signature, ["raised TypeError", "run_stage(inbox, outbox, process, workers)"], []),
}


@pytest.mark.parametrize("answer, phrases, absent", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_wrong_answers_are_refused_with_their_explanation(answer, phrases, absent):
    message = assert_refused(check, answer, *phrases)
    assert message.startswith("Not yet:")
    assert not [p for p in absent if p in message], message


def test_swallowed_errors_are_not_blamed_on_the_stop():
    message = assert_refused(check, make_stage(on_error="skip"), "lost errors")
    assert "STOP" not in message.split("Hint:")[0]


def test_one_stop_left_for_several_workers_is_refused_as_a_hang():
    # no timeouts: each worker waits for a STOP of its own, but the inbox holds one
    start = time.perf_counter()
    message = assert_refused(check, make_stage(repass_stop=False, wait=None),
                             "did not return within 1 s: it hangs", "the inbox holds one STOP for 4 workers",
                             "inbox.put(STOP)", "Hint: a worker that gets STOP should put it back on inbox",
                             timeout=1.0)
    assert time.perf_counter() - start < 4
    assert "still running" not in message  # the check's extra STOPs freed them


def test_a_hang_before_all_items_are_processed_is_reported():
    release = threading.Event()

    def waits_forever(inbox, outbox, process, workers):
        release.wait()  # until the test ends: the grader's helper thread then ends too

    try:
        message = assert_refused(check, waits_forever, "did not return within 0.5 s: it hangs", timeout=0.5)
        assert "all 20 items were processed" not in message
    finally:
        release.set()


def test_the_refusal_is_an_assertion_error_with_the_cause_attached():
    def not_written(inbox, outbox, process, workers):
        raise NotImplementedError

    message = assert_refused(check, not_written, "NotImplementedError", "not written yet")
    assert message.startswith("Not yet:")
    with pytest.raises(AssertionError) as info:
        check(not_written)
    assert isinstance(info.value.__cause__, NotImplementedError)


# -- the grader's arguments ----------------------------------------------------------------
@pytest.mark.parametrize("args, kwargs, error, words", [
    (("not a function",), {}, TypeError, "run_stage must be callable"),
    ((42,), {}, TypeError, r"run_stage must be callable.*42"),
    ((SOLUTION, 5), {}, TypeError, "positional"),  # timeout is keyword-only
    *[((SOLUTION,), {"timeout": bad}, error, r"timeout must be a (finite )?number from 0.001 to 600")
      for bad, error in [(0, ValueError), (-1, ValueError), (601, ValueError), (float("nan"), ValueError),
                         ("1", TypeError), ("10", TypeError), (True, TypeError)]],
])
def test_the_grader_validates_its_arguments(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        check(*args, **kwargs)
