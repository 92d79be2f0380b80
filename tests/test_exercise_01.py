"""The exercise of 01 · Thread pools and futures: ``fetch_all`` over ``FakeWeb``.

``check_fetch_all`` must pass the solution (solutions/01_fetch_all.py) and other right
answers, refuse the starting code of the notebook's exercise cell as too slow, and refuse
typical wrong answers, each with the explanation that points at its mistake.
(tests/test_pools.py tests the FakeWeb it grades with.)
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

from exercise_support import assert_refused, solution, stub
from threadkit._checking import CheckPassed, ExerciseError
from threadkit.lessons.pools import FetchError, check_fetch_all as check

SOLUTION = solution("01")["fetch_all"]


def test_the_solution_leaves_the_notebooks_pool_name_alone():
    # %load pastes the file into the notebook, whose ThreadPoolExecutor is the recording twin:
    # the solution must not rebind that name (it uses concurrent.futures.ThreadPoolExecutor)
    namespace = solution("01")
    assert "ThreadPoolExecutor" not in namespace and callable(namespace["fetch_all"])


def by_index_as_completed(urls, fetch, max_workers=8):
    results, errors = [None] * len(urls), {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {pool.submit(fetch, url): i for i, url in enumerate(urls)}
        for future in as_completed(futures, timeout=5):
            i = futures[future]
            try:
                results[i] = future.result()
            except FetchError as exc:
                errors[urls[i]] = exc
    return results, errors


@pytest.mark.parametrize("answer", [SOLUTION, by_index_as_completed], ids=["solution", "by index, as_completed"])
def test_right_answers_pass(answer):
    before = set(threading.enumerate())
    passed = check(answer)
    assert isinstance(passed, CheckPassed) and repr(passed) == str(passed)
    assert passed.startswith("Passed: 12 pages fetched concurrently") and "results in input order" in passed
    assert not [t for t in threading.enumerate() if t not in before and t.name != "threadkit-check"]


def test_the_starting_code_is_refused_as_too_slow():
    message = assert_refused(check, stub("01", "fetch_all"), "too slow", "one at a time", "252 ms",
                             "submit every url first", "Hint: use a ThreadPoolExecutor(max_workers=max_workers)")
    assert message.count("\n  - ") == 1  # it is correct, only slow
    assert "lost error" not in message and "order" not in message


# -- typical wrong answers -----------------------------------------------------------------
def in_completion_order(urls, fetch, max_workers=8):
    """Collects results as they come (as_completed) instead of in the order of urls."""
    results, errors = [], {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {pool.submit(fetch, url): url for url in urls}
        for future in as_completed(futures, timeout=5):
            error = future.exception()
            results.append(None if error is not None else future.result())
            if error is not None:
                errors[futures[future]] = error
    return results, errors


def with_map(urls, fetch, max_workers=8):
    """pool.map re-raises the first failure: the other results are lost."""
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        results = list(pool.map(fetch, urls, timeout=5))
    return results, {}


def result_after_each_submit(urls, fetch, max_workers=8):
    """A pool, but waiting for each page before submitting the next: still one at a time."""
    results, errors = [], {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for url in urls:
            future = pool.submit(fetch, url)
            error = future.exception(timeout=5)
            results.append(None if error is not None else future.result())
            if error is not None:
                errors[url] = error
    return results, errors


def loses_errors(urls, fetch, max_workers=8):
    """Keeps None for a failed page, but not its error."""
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(fetch, url) for url in urls]
    return [None if f.exception() else f.result() for f in futures], {}


def never_shut_down(urls, fetch, max_workers=8):
    """Right results, but the pool is never closed. (It is only a local variable: Python
    frees it, and its idle workers end, just after the return.)"""
    pool = ThreadPoolExecutor(max_workers=max_workers)
    futures = [pool.submit(fetch, url) for url in urls]
    results, errors = [], {}
    for url, future in zip(urls, futures):
        error = future.exception(timeout=5)
        results.append(None if error is not None else future.result())
        if error is not None:
            errors[url] = error
    return results, errors


def altered(change):
    """The solution, with ``change(urls, results, errors)`` applied to what it returns."""
    def fetch_all(urls, fetch, max_workers=8):
        results, errors = SOLUTION(urls, fetch, max_workers)
        return change(urls, results, errors)
    return fetch_all


def strings_and_text(urls, results, errors):
    results[4] = "failed"
    return results, {url: str(exc) for url, exc in errors.items()}


def refused(fetch_all, *phrases, absent=(), **kwargs):
    """The grader refuses ``fetch_all`` with every phrase (and none of ``absent``); the message."""
    message = assert_refused(check, fetch_all, *phrases, **kwargs)
    assert message.startswith("Not yet:")
    assert not [p for p in absent if p in message], message
    return message


WRONG_ANSWERS = {
    "completion order": (in_completion_order, ["not in input order", "as_completed yields futures in completion order"],
                         ["lost error"]),
    "reversed": (altered(lambda urls, r, e: (r[::-1], e)), ["not in input order", "results[0] is '<h1>Page 11</h1>'"],
                 []),
    "map": (with_map, ["raised FetchError", "404 Not Found: https://example.com/page/4", "one failed page stopped "
                       "the whole fetch", "the other results were lost", "pool.map"], []),
    "result after each submit": (result_after_each_submit, ["too slow", "calling result() right after each submit "
                                                            "would wait for that page"], []),
    "lost errors": (loses_errors, ["lost error", "https://example.com/page/4", "https://example.com/page/9",
                                   "future.exception()"], ["too slow"]),
    "errors as text": (altered(lambda urls, r, e: (r, {u: str(x) for u, x in e.items()})),
                       ["it must be the FetchError that fetch raised", "future.exception() returns the error"],
                       ["order", "too slow"]),
    "text and a failed slot": (altered(strings_and_text), ["it must be the FetchError that fetch raised",
                                                           "results[4] is 'failed'", "put None there"], []),
    "extra error": (altered(lambda urls, r, e: (r, {**e, urls[0]: FetchError(urls[0])})),
                    ["errors has entries for urls that did not fail"], []),
    "keyed by index": (altered(lambda urls, r, e: (r, {urls.index(u): x for u, x in e.items()})),
                       ["keyed by index (4)", "errors['https://example.com/page/4']"], []),
    "a thread per url": (lambda urls, fetch, max_workers=8: SOLUTION(urls, fetch, len(urls)),
                         ["more than max_workers=4 fetches ran at once"], []),
    "fetched twice": (lambda urls, fetch, max_workers=8: (SOLUTION(urls, fetch, max_workers),
                                                          SOLUTION(urls, fetch, max_workers))[1],
                      ["fetched more than once", "(2 times)"], []),
    "a missing result": (altered(lambda urls, r, e: ([None] + r[1:], e)),
                         ["results[0] is None", "a result is missing"], []),
    "results only": (altered(lambda urls, r, e: r), ["it must return a pair (results, errors)"], []),
    "results not a list": (altered(lambda urls, r, e: (iter(r), e)), ["results must be a list"], []),
    "errors not a dict": (altered(lambda urls, r, e: (r, list(e.values()))), ["errors must be a dict"], []),
    "too short": (altered(lambda urls, r, e: (r[:-1], e)), ["results has 11 entries for 12 urls"], []),
    "no max_workers": (lambda urls, fetch: SOLUTION(urls, fetch), ["raised TypeError",
                                                                   "fetch_all(urls, fetch, max_workers=8)"], []),
}


@pytest.mark.parametrize("answer, phrases, absent", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_wrong_answers_are_refused_with_their_explanation(answer, phrases, absent):
    refused(answer, *phrases, absent=absent)


def test_unfinished_code_is_refused_with_its_error_as_the_cause():
    def not_written(urls, fetch, max_workers=8):
        raise NotImplementedError("write me")

    def raises_other(urls, fetch, max_workers=8):
        return {}["missing"]

    assert "ThreadPoolExecutor" in refused(not_written, "NotImplementedError", "not written yet")
    with pytest.raises(ExerciseError, match="raised KeyError") as info:
        check(raises_other)
    assert isinstance(info.value.__cause__, KeyError)


def test_a_hang_fails_fast():
    release = threading.Event()

    def hangs(urls, fetch, max_workers=8):
        release.wait(30)  # like a result() or get() without a timeout
        return [], {}

    t0 = time.monotonic()
    try:
        refused(hangs, "did not return within 0.3 s", "hangs", timeout=0.3)
    finally:
        release.set()
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("attempt", range(3))
def test_a_pool_never_shut_down_is_refused_even_if_freed_at_return(attempt):
    message = refused(never_shut_down, "still alive when fetch_all returned", "the pool was never shut down",
                      "a `with` block, or shutdown()", absent=["still running 1 s after"])
    assert message.count("\n  - ") == 1
    assert "Hint: `with ThreadPoolExecutor(max_workers=max_workers) as pool:` shuts the pool down" in message


def test_threads_left_running(monkeypatch):
    # never_shut_down, with each pool kept alive by this list: its idle workers stay
    pools = []
    real_pool = ThreadPoolExecutor

    def kept_pool(*args, **kwargs):
        pools.append(real_pool(*args, **kwargs))
        return pools[-1]

    monkeypatch.setitem(globals(), "ThreadPoolExecutor", kept_pool)
    try:
        refused(never_shut_down, "still running 1 s after fetch_all returned", "never shut down", "shutdown()",
                absent=["lost error", "order"])
    finally:
        for pool in pools:
            pool.shutdown()
