"""The check of tests/conftest.py fails a test that leaves a thread running or a recording
open, and passes tests that clean up, or whose thread a longer-lived fixture owns.

A small test file runs with that conftest in-process (pytester), its grace shortened.
What its tests leave behind is ended here afterwards: each thread waits on an event kept
on the thread, and the recording left open is kept on the calling thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")
GRACE_LINE = "THREAD_GRACE = 2.0"

LEAKY_TESTS = '''
import threading
import pytest
import threadkit as tk

@pytest.fixture
def threads_outliving_a_test():  # as tests/browser/conftest.py names playwright's threads
    return ("kept-by-a-session-fixture",)

def start(name, daemon, seconds=None):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, args=(seconds,), name=name, daemon=daemon)
    thread.stop = stop  # the outer test ends it
    thread.start()
    return thread

def test_leaves_a_thread():
    start("left-behind", daemon=False)

def test_leaves_a_daemon_thread():
    start("left-behind-daemon", daemon=True)

def test_leaves_a_recording_open():
    block = tk.recording()
    block.__enter__()
    threading.current_thread().left_open = block  # the outer test closes it

def test_joins_its_thread():
    thread = start("joined", daemon=False)
    thread.stop.set()
    thread.join(5)

def test_its_thread_ends_within_the_grace():
    start("ends-soon", daemon=False, seconds=0.05)

def test_closes_its_recording():
    with tk.recording():
        pass

def test_leaves_a_thread_of_a_longer_lived_fixture():
    start("kept-by-a-session-fixture", daemon=True)

def test_leaves_jupyter_cores_runner_thread():  # run_sync in a running loop keeps one for ever
    import asyncio
    from jupyter_core.utils import run_sync

    async def inner():
        return 1

    async def outer():
        return run_sync(inner)()

    try:  # under the browser tests, playwright keeps a loop running in the main thread
        asyncio.get_running_loop()
    except RuntimeError:
        assert asyncio.run(outer()) == 1
    else:
        assert run_sync(inner)() == 1

def test_leaves_a_thread_only_named_like_that_runner():
    start("left-behind - runner", daemon=True)
'''


def test_a_test_that_leaves_a_thread_or_a_recording_fails(pytester: pytest.Pytester):
    conftest = CONFTEST.read_text()
    assert GRACE_LINE in conftest
    pytester.makeconftest(conftest.replace(GRACE_LINE, "THREAD_GRACE = 0.5"))
    pytester.makepyfile(test_leaky=LEAKY_TESTS)
    me = threading.current_thread()
    try:
        result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    finally:
        for thread in threading.enumerate():
            if thread.name.startswith(("left-behind", "kept-by")) and hasattr(thread, "stop"):
                thread.stop.set()
                thread.join(5)
        if hasattr(me, "left_open"):
            me.left_open.__exit__(None, None, None)
            del me.left_open
    result.assert_outcomes(passed=9, errors=4)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_leaves_a_thread*",
        "*left 1 thread(s) running 0.5 s after it ended: 'left-behind'. End them*",
        "*ERROR at teardown of test_leaves_a_daemon_thread*",
        "*'left-behind-daemon' (daemon)*",
        "*ERROR at teardown of test_leaves_a_recording_open*",
        "*left a threadkit recording active*",
        "*ERROR at teardown of test_leaves_a_thread_only_named_like_that_runner*",
        "*'left-behind - runner' (daemon)*",
    ])
    assert "test_leaves_jupyter_cores_runner_thread" not in "\n".join(
        line for line in result.outlines if "ERROR at teardown" in line)
