"""The self-check quiz of 05 · Comparison: the ten snippets, their questions, question 10's proof.

Course content, kept next to the notebook that imports it (``from comparison_quiz import
QUESTIONS``); the widget and its ``verify()`` are ``threadkit.lessons.comparison.quiz``.
Each snippet is written as a notebook cell would be; the quiz shows its source and runs it.
"""

import queue
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import threadkit as tk
from threadkit.lessons.comparison import QuizQuestion


def counter_without_lock():
    counter = 0

    def add():
        nonlocal counter
        for _ in range(100_000):
            counter += 1

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return counter


def two_threads_store_42():
    seen = set()
    for _ in range(200):
        box = {"result": None}

        def store():
            box["result"] = 42

        threads = [threading.Thread(target=store) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=5)
        seen.add(box["result"])
    return seen


def short_and_long_race():
    def f():
        pass

    def lost(iterations, threads=4):
        x = 0

        def work():
            nonlocal x
            for _ in range(iterations):
                tmp = x
                f()
                x = tmp + 1

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=30)
        return threads * iterations - x

    return ["none" if lost(n) == 0 else "some" for n in (1_000, 500_000)]


def map_with_a_failure():
    got, started = [], []
    running, release = threading.Event(), threading.Event()

    def task(i):
        started.append(i)
        if i == 2:                     # task 2 holds the worker until the loop ends
            running.set()
            release.wait(timeout=5)
        return tk.flaky_task(i, i == 1, 0.01)

    with ThreadPoolExecutor(max_workers=1) as pool:
        results = pool.map(task, range(6))
        running.wait(timeout=5)        # 0 and 1 have run, 2 is running
        try:
            for value in results:
                got.append(value)
        except tk.TaskFailed:
            got.append("TaskFailed")
        release.set()
    return got, [i for i in range(6) if i not in started]


def unread_failure():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tk.flaky_task, 0, True)
    return future.done()


def timeout_does_not_cancel():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tk.io_task, 0.1, "done")
        try:
            future.result(timeout=0.01)
        except TimeoutError:
            pass
        return future.cancelled(), future.result(timeout=5)


def cancel_running_and_waiting():
    started, gate = threading.Event(), threading.Event()

    def first_task():
        started.set()
        gate.wait(timeout=5)

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(first_task)
        second = pool.submit(tk.io_task, 0.01)
        started.wait(timeout=5)
        answer = first.cancel(), second.cancel()
        gate.set()
    return answer


def callback_threads():
    seen, gate = {}, threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="worker") as pool:
        future = pool.submit(gate.wait, 5)          # runs until the gate opens
        future.add_done_callback(lambda f: seen.update(early=threading.current_thread().name))
        gate.set()
        future.result(timeout=5)
        future.add_done_callback(lambda f: seen.update(late=threading.current_thread().name))
    return seen["early"], seen["late"]


def callback_that_raises():
    later = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(tk.io_task, 0.01, "page")
        future.add_done_callback(lambda f: 1 / 0)
        future.add_done_callback(lambda f: later.append("ran"))
    return future.result(timeout=5), later


def print_from_a_thread():
    # Cell A runs this and finishes at once.
    # Right after it, you run cell B: time.sleep(1)
    timer = threading.Timer(0.5, print, args=["printed by a thread"])
    timer.start()
    return timer


#: Seconds to start a kernel and run the two cells of :func:`where_a_thread_prints`.
PRINT_CHECK_TIMEOUT = 60.0
_CELL_A = ("import threading\n"
           "go = threading.Event()\n"
           "printer = threading.Thread(target=lambda: go.wait(30) and print('printed by a thread'))\n"
           "printer.start()\n")
_CELL_B = "go.set()\nprinter.join(30)\n"


def where_a_thread_prints():
    """Which cell a thread's print lands under, measured in a fresh kernel of the course's Python.

    Cell A starts a thread that waits for an event, then prints; cell B sets the event and
    joins it. The kernel tags every output with the request it belongs to, so the line's tag
    says which cell shows it; nothing is printed into this notebook.

    Returns:
        str: ``"A"``, ``"B"`` or ``"nowhere"`` (the line never arrived).

    Raises:
        RuntimeError: the kernel did not start or finish within ``PRINT_CHECK_TIMEOUT``.
    """
    from jupyter_client.manager import start_new_kernel

    deadline = time.monotonic() + PRINT_CHECK_TIMEOUT
    try:  # (the kernel's own output, e.g. a warning at start, must not reach the notebook)
        manager, client = start_new_kernel(kernel_name="python3", startup_timeout=PRINT_CHECK_TIMEOUT,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except RuntimeError as exc:
        raise RuntimeError(f"no kernel to run the experiment in: {exc}") from exc
    try:
        cells = {client.execute(_CELL_A): "A"}
        cells[client.execute(_CELL_B)] = "B"
        idle, landed = set(), "nowhere"
        while len(idle) < 2:  # both cells finished: every output has arrived
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the kernel did not finish the two cells within {PRINT_CHECK_TIMEOUT:g} s")
            try:
                message = client.get_iopub_msg(timeout=left)
            except queue.Empty:
                continue
            cell = cells.get(message["parent_header"].get("msg_id"))
            content = message["content"]
            if message["msg_type"] == "stream" and "printed by a thread" in content.get("text", ""):
                landed = cell or "nowhere"
            elif message["msg_type"] == "status" and content.get("execution_state") == "idle" and cell:
                idle.add(cell)
        return landed
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


QUESTIONS = (
    QuizQuestion(
        counter_without_lock,
        "Four threads each do counter += 1, 100,000 times, with no lock, on CPython 3.11 (the "
        "standard build, with the GIL). What does it return?",
        ("Fewer than 400,000: some updates are lost on every run",
         "400,000: no update is lost, on this version and build",
         "A different number on every run, sometimes 400,000"),
        1,
        400_000,
        "Since 3.10 a GIL build switches threads only at a call or a backward jump, never between the "
        "read and the write of counter += 1: 0 updates lost in every run on 3.10 to 3.15. That is an "
        "accident of the implementation, not a promise: 3.9 and free-threaded builds lose updates, and a "
        "call between the read and the write loses them here too (02 · Shared state and locks).",
        needs_gil=True,
    ),
    QuizQuestion(
        two_threads_store_42,
        "Two threads both store 42 in the same dict entry, with no lock; this is repeated 200 times. "
        "Which values are seen after the joins?",
        ("{None, 42}: the second thread can overwrite the result with None",
         "{42}, only thanks to the GIL: a free-threaded build also shows None",
         "{42}: the only value ever stored is 42, so there is nothing to lose"),
        2,
        {42},
        "A lost update needs two writers with different values. Here every store writes 42, so whichever "
        "comes last leaves 42, on every build; a lock around it would fix nothing. The real hazards: "
        "reading before join() (you see None) and writers with different values (the last one wins) "
        "(02 · Shared state and locks).",
    ),
    QuizQuestion(
        short_and_long_race,
        "Four threads run tmp = x; f(); x = tmp + 1 in a loop (f does nothing): once 1,000 times each, "
        "once 500,000 times each. Which runs lose updates?",
        ("Both: a race loses updates whatever the loop's length",
         "Only the long one: a thread is switched out after 5 ms, and 1,000 iterations end sooner",
         "Neither: an empty call is too short for a thread switch"),
        1,
        ["none", "some"],
        "A GIL build asks a thread to let another one run after sys.getswitchinterval() (5 ms). A thread "
        "that finishes 1,000 iterations sooner is never interrupted: the short loop lost nothing in "
        "thousands of runs measured here, the long one lost 10 % to 70 % in every run. Same race, only "
        "the length differs: a test with a short loop proves nothing (02 · Shared state and locks).",
    ),
    QuizQuestion(
        map_with_a_failure,
        "Six tasks on one worker; task 1 fails, task 2 is still running when the loop meets the "
        "failure. What does the loop collect, and which tasks never ran?",
        ("([0, 2, 3, 4, 5, 'TaskFailed'], []): map skips the failed task and runs the rest",
         "([0, 'TaskFailed'], []): every task still runs, only their results are lost",
         "([0, 'TaskFailed'], [3, 4, 5]): the tasks not yet started are cancelled"),
        2,
        ([0, "TaskFailed"], [3, 4, 5]),
        "pool.map yields results in input order; at the failed task, next() re-raises its exception and "
        "the loop ends. As the exception leaves the map iterator, every task that has not started is "
        "cancelled and never runs (task 2 had already started, so it finished). Collect with futures "
        "when every task must run (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        unread_failure,
        "The task fails and nobody asks its future for the result. What do you see?",
        ("A traceback, printed when the task fails",
         "Nothing: the error waits, silently, in the future",
         "An error raised when the with block ends"),
        1,
        True,
        "A pool catches the task's exception and stores it in the future. If nobody calls result() or "
        "exception(), nothing is printed and nothing is raised: the real trap of futures (a plain "
        "Thread, by contrast, prints a traceback) (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        timeout_does_not_cancel,
        "result(timeout=0.01) gives up on a 0.1 s task. Is the task cancelled, and what is its result?",
        ("(False, 'done'): the timeout only stops waiting; the task runs on",
         "(True, CancelledError): the timeout cancels it",
         "(False, None): after a timeout the result is lost"),
        0,
        (False, "done"),
        "A timeout ends the caller's wait with TimeoutError; the task keeps running and its future "
        "completes normally later (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        cancel_running_and_waiting,
        "One worker is busy with the first task; the second waits in the pool's queue. What do the two "
        "cancel() calls return?",
        ("(True, True): both are cancelled",
         "(False, False): cancel() only works before the pool starts",
         "(False, True): a running task cannot be cancelled, a waiting one can"),
        2,
        (False, True),
        "cancel() only succeeds for a future that has not started; a running task cannot be interrupted "
        "from outside (01 · Thread pools and futures).",
    ),
    QuizQuestion(
        callback_threads,
        "Which threads run the two callbacks: the one added while the task runs, and the one added after "
        "it finished?",
        ("('MainThread', 'MainThread'): callbacks run where they were added",
         "('worker_0', 'MainThread'): the worker that finished the task, then the caller",
         "('worker_0', 'worker_0'): always the worker"),
        1,
        ("worker_0", "MainThread"),
        "A pending future's callbacks run in the thread that completes it (the worker); for a future that "
        "is already done, add_done_callback calls the callback at once, in the calling thread "
        "(04 · Callbacks).",
    ),
    QuizQuestion(
        callback_that_raises,
        "The first done-callback raises ZeroDivisionError. What does the snippet return?",
        ("It raises ZeroDivisionError: result() re-raises the callback's error",
         "('page', []): the result is kept, but the error stops the callbacks after it",
         "('page', ['ran']): the error is logged and ignored; the second callback runs"),
        2,
        ("page", ["ran"]),
        "A future calls each callback in a try block: an exception is logged (\"exception calling "
        "callback for ...\") and ignored, the later callbacks still run, and the future keeps its result. "
        "Nobody else hears of that error, so keep callbacks small and catch inside them (04 · Callbacks).",
        printed="exception calling callback",
    ),
    QuizQuestion(
        print_from_a_thread,
        "Cell A starts the timer and finishes at once; half a second later the thread prints while cell B "
        "is running. Where does the line appear in JupyterLab?",
        ("Under cell A, the cell that started the thread",
         "Under cell B, the cell running when it prints (with no cell running: under the last one run)",
         "Nowhere: output from other threads is dropped"),
        1,
        "B",
        "The kernel tags a print from another thread with the request it is executing at that moment, "
        "so the line lands under whichever cell runs then (with the pinned ipykernel 7.4; 6.29 to 7.0 "
        "used the starting cell). Print from the main thread, after join() or result() (04 · Callbacks).",
        proof=where_a_thread_prints,
    ),
)
