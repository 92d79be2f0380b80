"""The exercise of 05 · Comparison: ``fetch_with_deadline`` and ``check_fetch_with_deadline``.

The grader must pass the solution (solutions/05_fetch_with_deadline.py), refuse the
starting code of the notebook's exercise cell (it fetches one url at a time and waits
for every one, past the deadline), and refuse typical wrong answers, each with the
explanation that points at its mistake.
"""

from __future__ import annotations

import concurrent.futures
import re
import threading
import time

import pytest

from threadkit.lessons import comparison
from threadkit.lessons.comparison import check_fetch_with_deadline as check
from exercise_support import assert_refused, solution, stub


def test_the_solution_passes():
    t0 = time.perf_counter()
    passed = check(solution("05")["fetch_with_deadline"])
    assert passed.startswith("Passed:") and "never ran" in passed
    assert time.perf_counter() - t0 < 3   # the check itself does not wait for the slow fetches


def test_the_solution_leaves_the_notebooks_names_alone():
    # %load pastes the file into the notebook, where ThreadPoolExecutor is the recording twin
    namespace = solution("05")
    assert "ThreadPoolExecutor" not in namespace and "wait" not in namespace
    assert callable(namespace["fetch_with_deadline"])


def test_the_starting_code_is_refused_past_the_deadline():
    message = assert_refused(check, stub("05", "fetch_with_deadline"),
                             "past the deadline", "one fetch at a time", "Hint: leaving a `with")
    assert "raised" not in message


# -- typical wrong answers -----------------------------------------------------------------
def outcomes(done, futures):
    """(results, errors) of the ``done`` futures, by url (``futures`` maps each to its url)."""
    results, errors = {}, {}
    for future in done:
        try:
            results[futures[future]] = future.result()
        except Exception as exc:
            errors[futures[future]] = exc
    return results, errors


def with_block(urls, fetch, deadline_s, max_workers):
    """Waits for the deadline inside `with`: leaving the block waits for the slow fetches."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {pool.submit(fetch, url): url for url in urls}
        done, not_done = concurrent.futures.wait(futures, timeout=deadline_s)
    return (*outcomes(done, futures), [futures[f] for f in not_done])


def timeout_per_result(urls, fetch, deadline_s, max_workers):
    """A timeout on each result(): every slow or queued fetch gets the whole deadline again."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
    futures = {pool.submit(fetch, url): url for url in urls}
    results, errors, pending = {}, {}, []
    for future, url in futures.items():
        try:
            results[url] = future.result(timeout=deadline_s)
        except TimeoutError:
            pending.append(url)
        except Exception as exc:
            errors[url] = exc
    pool.shutdown(wait=False, cancel_futures=True)
    return results, errors, pending


def without_cancel(urls, fetch, deadline_s, max_workers):
    """Returns in time, but shutdown(wait=False) alone lets the queued fetches run later."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
    futures = {pool.submit(fetch, url): url for url in urls}
    done, not_done = concurrent.futures.wait(futures, timeout=deadline_s)
    pool.shutdown(wait=False)
    return (*outcomes(done, futures), [futures[f] for f in not_done])


def error_escapes(urls, fetch, deadline_s, max_workers):
    """Asks every done future for its result: the failed fetch's error escapes."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
    futures = {pool.submit(fetch, url): url for url in urls}
    done, not_done = concurrent.futures.wait(futures, timeout=deadline_s)
    pool.shutdown(wait=False, cancel_futures=True)
    return {futures[f]: f.result() for f in done}, {}, [futures[f] for f in not_done]


def as_completed_raises(urls, fetch, deadline_s, max_workers):
    """as_completed(timeout=...) raises TimeoutError at the deadline."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
    futures = {pool.submit(fetch, url): url for url in urls}
    results, errors = {}, {}
    try:
        for future in concurrent.futures.as_completed(futures, timeout=deadline_s):
            try:
                results[futures[future]] = future.result()
            except Exception as exc:
                errors[futures[future]] = exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results, errors, [url for f, url in futures.items() if not f.done()]


def a_thread_per_url(urls, fetch, deadline_s, max_workers):
    """Ignores max_workers: every url starts at once, so nothing is left queued."""
    return solution("05")["fetch_with_deadline"](urls, fetch, deadline_s, len(urls))


def errors_as_text(urls, fetch, deadline_s, max_workers):
    """Stores str(exception) instead of the exception."""
    results, errors, pending = solution("05")["fetch_with_deadline"](urls, fetch, deadline_s, max_workers)
    return results, {url: str(exc) for url, exc in errors.items()}, pending


def returns_none(urls, fetch, deadline_s, max_workers):
    return None


def returns_wrong_types(urls, fetch, deadline_s, max_workers):
    return [], {}, ()


def not_written(urls, fetch, deadline_s, max_workers):
    raise NotImplementedError


def a_wrong_url(urls, fetch, deadline_s, max_workers):
    return fetch("https://example.test/elsewhere")


#: name: (answer, phrases the refusal holds, phrases it must not hold)
WRONG_ANSWERS = {
    "a with block": (with_block, ["past the deadline", "leaving a `with ThreadPoolExecutor"],
                     ["one fetch at a time"]),
    "a timeout per result": (timeout_per_result, ["past the deadline", "a timeout on each result() starts the clock"],
                             []),
    "no cancel_futures": (without_cancel, ["still queued at the deadline ran", "cancel_futures=True"],
                          ["past the deadline"]),
    "an escaping error": (error_escapes, ["raised ConnectionError", "belongs in errors"], []),
    "as_completed's TimeoutError": (as_completed_raises, ["raised TimeoutError", "concurrent.futures.wait("], []),
    "errors as text": (errors_as_text, ["errors should map https://example.test/ads to the ConnectionError"], []),
    "returns None": (returns_none, ["tuple (results, errors, pending)"], []),
    "wrong types": (returns_wrong_types, ["results must be a dict", "pending must be a list"], []),
    "not written yet": (not_written, ["not written yet"], []),
    "a url it was not given": (a_wrong_url, ["raised ValueError", "not one of the urls given"], []),
}


@pytest.mark.parametrize("answer, phrases, absent", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_wrong_answers_are_refused_with_their_explanation(answer, phrases, absent):
    message = assert_refused(check, answer, *phrases)
    assert not [p for p in absent if p in message], message


def test_a_thread_per_url_is_refused_with_its_peak():
    message = assert_refused(check, a_thread_per_url, "fetches at once; max_workers is 2", "pending should hold")
    # 7 threads start one after another; a fast fetch may end before the last one starts
    # (3.15 in the chroot saw 6 at once), so the peak is anything from 3 to 7.
    assert int(re.search(r"ran (\d+) fetches at once", message).group(1)) in range(3, 8), message


def test_a_hang_is_reported(monkeypatch):
    monkeypatch.setattr(comparison, "HANG_S", 0.3)
    release = threading.Event()
    try:
        assert_refused(check, lambda urls, fetch, deadline_s, max_workers: release.wait(5), "it hangs")
    finally:
        release.set()


def test_a_pool_never_shut_down_is_refused():
    pools = []

    def no_shutdown(urls, fetch, deadline_s, max_workers):
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="never-shut")
        pools.append(pool)
        futures = {pool.submit(fetch, url): url for url in urls}
        done, not_done = concurrent.futures.wait(futures, timeout=deadline_s)
        for future in not_done:
            future.cancel()
        return (*outcomes(done, futures), [futures[f] for f in not_done])

    try:
        assert_refused(check, no_shutdown, "threads still running", "never-shut_0, never-shut_1")
    finally:
        for pool in pools:
            pool.shutdown(wait=True)


def test_the_grader_refuses_a_non_callable():
    with pytest.raises(TypeError, match="fn must be callable"):
        check("fetch_with_deadline")
