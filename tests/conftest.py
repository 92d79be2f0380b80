"""What every test under tests/ shares: no test leaves a thread running or a recording open.

A test that starts threads (its own, a pool's, a grader's helper) ends them before it
returns: it joins them with a timeout, sets the event they wait for, shuts the pool down,
or ends the deadlock it built. A thread left running holds a lock, records into a later
recording, or is counted by a later test that looks at `threading.enumerate()`, so the
later test fails only in some file orders (issue 17: tests/test_checking.py failed after
tests/test_races.py, whose self-deadlock test left a grader's helper blocked for ever).

The check (an autouse fixture): threads alive after a test that were not alive before it
get THREAD_GRACE seconds, all together, to end; any still alive then, daemon or not, fail
the test at teardown with their names. Daemon threads count too: "it cannot block the
exit" does not stop it from disturbing the next test. The same fixture fails a test that
leaves a threadkit recording active (every traced call of a later test would record into
it). tests/test_thread_check.py proves that the check fails such tests and passes tests
that clean up.

A thread that belongs to a resource living longer than one test (a session fixture) and
that the resource starts lazily, during a test, is named by that folder's conftest.py in
`threads_outliving_a_test` (tests/browser/: playwright's event-loop executor threads).
A thread that lives as long as the process is never counted: jupyter_core's `run_sync`
starts one event-loop thread per calling thread ("MainThread - runner") the first time it
is called while a loop is running, and keeps it for ever; which test that is depends on
how xdist shares the tests out (CI saw it once after tests/test_harness.py's in-process
notebook run).
"""

from __future__ import annotations

import sys
import threading
import time

import pytest

#: Seconds the threads a test leaves behind get, together, to end before the test fails.
THREAD_GRACE = 2.0


def _joinable(thread: threading.Thread) -> bool:
    """False for a dummy thread (made for a thread that `threading` did not start)."""
    return not isinstance(thread, threading._DummyThread)


def _lives_as_long_as_the_process(thread: threading.Thread) -> bool:
    """True for jupyter_core's run_sync event-loop thread, which is kept for ever by design."""
    target = getattr(thread, "_target", None)
    return (thread.name.endswith(" - runner")
            and getattr(target, "__module__", "").startswith("jupyter_core"))


def _active_recording():
    """The active threadkit recording, or None (threadkit is not imported here for it)."""
    threadkit = sys.modules.get("threadkit")
    return None if threadkit is None else threadkit.current_recording()


@pytest.fixture
def threads_outliving_a_test() -> tuple[str, ...]:
    """Name prefixes of threads that a longer-lived fixture starts during a test: none here."""
    return ()


@pytest.fixture(autouse=True)
def nothing_left_behind(threads_outliving_a_test):
    """Fail the test if threads it started are still alive THREAD_GRACE s after it,
    or if it leaves a recording active."""
    before, recording_before = set(threading.enumerate()), _active_recording()
    yield
    if _active_recording() not in (None, recording_before):  # (one left open earlier failed there)
        pytest.fail("this test left a threadkit recording active: leave `with tk.recording()` "
                    "before the test ends.", pytrace=False)
    new = [t for t in threading.enumerate() if t not in before and _joinable(t)
           and not t.name.startswith(threads_outliving_a_test)
           and not _lives_as_long_as_the_process(t)]
    deadline = time.monotonic() + THREAD_GRACE
    for thread in new:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t for t in new if t.is_alive()]
    if alive:
        names = ", ".join(f"{t.name!r}{' (daemon)' if t.daemon else ''}" for t in alive)
        pytest.fail(
            f"this test left {len(alive)} thread(s) running {THREAD_GRACE:g} s after it ended: "
            f"{names}. End them in the test (join with a timeout, set the event they wait "
            "for, shut the pool down), so that later tests do not see them.",
            pytrace=False,
        )
