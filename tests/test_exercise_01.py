"""The exercise of 01 · Thread pools and futures: ``fetch_all`` over ``tk.FakeWeb``.

``tk.check_fetch_all`` must pass the solution (solutions/01_fetch_all.py), refuse the
starting code of the notebook's exercise cell as too slow, and refuse typical wrong
answers, each with the explanation that points at its mistake.
"""

from __future__ import annotations

import concurrent.futures
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

import threadkit as tk
from exercise_support import assert_refused, solution, stub

check = tk.check_fetch_all


def test_the_solution_passes():
    passed = check(solution("01")["fetch_all"])
    assert passed.startswith("Passed:") and "results in input order" in passed


def test_the_solution_leaves_the_notebooks_pool_name_alone():
    # %load pastes the file into the notebook, whose ThreadPoolExecutor is the recording twin:
    # the solution must not rebind that name (it uses concurrent.futures.ThreadPoolExecutor)
    namespace = solution("01")
    assert "ThreadPoolExecutor" not in namespace and callable(namespace["fetch_all"])


def test_the_starting_code_is_refused_as_too_slow():
    message = assert_refused(check, stub("01", "fetch_all"), "too slow", "one at a time",
                             "Hint: use a ThreadPoolExecutor(max_workers=max_workers)")
    assert "lost error" not in message and "order" not in message   # it is correct, only slow


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


def errors_as_text(urls, fetch, max_workers=8):
    """Stores str(exception) instead of the exception object."""
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(fetch, url) for url in urls]
    results, errors = [], {}
    for url, future in zip(urls, futures):
        try:
            results.append(future.result())
        except Exception as exc:
            results.append(None)
            errors[url] = str(exc)
    return results, errors


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


def never_shut_down(urls, fetch, max_workers=8):
    """Right results, but the pool is never closed (its workers outlive the call)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
    futures = [pool.submit(fetch, url) for url in urls]
    results, errors = [], {}
    for url, future in zip(urls, futures):
        error = future.exception(timeout=5)
        results.append(None if error is not None else future.result())
        if error is not None:
            errors[url] = error
    return results, errors


def test_results_in_completion_order_are_refused():
    assert_refused(check, in_completion_order, "results are not in input order",
                   "as_completed yields futures in completion order")


def test_map_stopping_at_the_first_failure_is_refused():
    assert_refused(check, with_map, "raised FetchError", "one failed page stopped the whole fetch",
                   "the other results were lost", "pool.map")


def test_errors_held_as_strings_are_refused():
    message = assert_refused(check, errors_as_text, "it must be the FetchError that fetch raised",
                             "future.exception() returns the error")
    assert "order" not in message and "too slow" not in message


def test_waiting_after_each_submit_is_refused_as_too_slow():
    assert_refused(check, result_after_each_submit, "too slow",
                   "calling result() right after each submit would wait for that page")


def test_a_pool_never_shut_down_is_refused():
    assert_refused(check, never_shut_down, "the pool was never shut down", "a `with` block, or shutdown()")


@pytest.mark.parametrize("bad, error", [(42, TypeError), (None, TypeError)])
def test_the_grader_validates_its_argument(bad, error):
    with pytest.raises(error, match="fetch_all must be callable"):
        check(bad)
