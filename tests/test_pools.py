"""Unit tests for threadkit._pools: the fake web site and the fetch_all exercise check."""

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import pytest

import threadkit as tk
from threadkit import _pools
from threadkit._pools import FakeWeb, FetchError, check_fetch_all, page_delay_ms


# ------------------------------------------------------------ implementations
def right(urls, fetch, max_workers=8):
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(fetch, url) for url in urls]
    results, errors = [], {}
    for url, future in zip(urls, futures):
        error = future.exception()
        if error is None:
            results.append(future.result())
        else:
            results.append(None)
            errors[url] = error
    return results, errors


def right_with_try(urls, fetch, max_workers=8):
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


def sequential(urls, fetch, max_workers=8):
    results, errors = [], {}
    for url in urls:
        try:
            results.append(fetch(url))
        except FetchError as exc:
            results.append(None)
            errors[url] = exc
    return results, errors


def result_right_after_submit(urls, fetch, max_workers=8):
    results, errors = [], {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for url in urls:
            future = pool.submit(fetch, url)
            try:
                results.append(future.result(timeout=5))
            except FetchError as exc:
                results.append(None)
                errors[url] = exc
    return results, errors


def loses_errors(urls, fetch, max_workers=8):
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(fetch, url) for url in urls]
    results = [None if f.exception() else f.result() for f in futures]
    return results, {}


def completion_order(urls, fetch, max_workers=8):
    results, errors = [], {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {pool.submit(fetch, url): url for url in urls}
        for future in as_completed(futures, timeout=5):
            if future.exception() is None:
                results.append(future.result())
            else:
                errors[futures[future]] = future.exception()
    # failures keep their slot count, but everything is in completion order
    results += [None] * (len(urls) - len(results))
    return results, errors


def reversed_order(urls, fetch, max_workers=8):
    results, errors = right(urls, fetch, max_workers)
    return results[::-1], errors


def uses_map(urls, fetch, max_workers=8):
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(fetch, urls)), {}


def keyed_by_index(urls, fetch, max_workers=8):
    results, errors = right(urls, fetch, max_workers)
    return results, {urls.index(url): exc for url, exc in errors.items()}


def thread_per_url(urls, fetch, max_workers=8):
    return right(urls, fetch, max_workers=len(urls))


def fetches_twice(urls, fetch, max_workers=8):
    right(urls, fetch, max_workers)
    return right(urls, fetch, max_workers)


def drops_results(urls, fetch, max_workers=8):
    results, errors = right(urls, fetch, max_workers)
    results[0] = None
    return results, errors


def not_written(urls, fetch, max_workers=8):
    raise NotImplementedError("write me")


def returns_only_results(urls, fetch, max_workers=8):
    return right(urls, fetch, max_workers)[0]


def no_max_workers(urls, fetch):
    return right(urls, fetch)


def raises_other(urls, fetch, max_workers=8):
    return {}["missing"]


def expect_problem(fn, *fragments, **kwargs):
    with pytest.raises(tk.ExerciseError) as info:
        check_fetch_all(fn, **kwargs)
    message = str(info.value)
    assert message.startswith("Not yet:")
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------------------ the check
def test_exported_from_threadkit():
    assert tk.check_fetch_all is check_fetch_all
    assert tk.FakeWeb is FakeWeb
    assert tk.FetchError is FetchError
    assert set(_pools.__all__) <= set(tk.__all__)


@pytest.mark.parametrize("fn", [right, right_with_try])
def test_right_implementations_pass(fn):
    before = set(threading.enumerate())
    passed = check_fetch_all(fn)
    assert isinstance(passed, tk.CheckPassed)
    assert passed.startswith("Passed: 12 pages fetched concurrently")
    assert repr(passed) == str(passed)
    assert not [t for t in threading.enumerate() if t not in before and t.name != "threadkit-check"]


def test_sequential_is_too_slow_with_the_sum_of_delays():
    message = expect_problem(sequential, "too slow", "one at a time", "252 ms", "submit every url first")
    # the only problem of a correct but sequential version
    assert message.count("\n  - ") == 1


def test_result_right_after_submit_is_too_slow():
    expect_problem(result_right_after_submit, "too slow", "calling result() right after each submit")


def test_lost_errors_are_named_with_their_url():
    message = expect_problem(loses_errors, "lost error", "https://example.com/page/4", "https://example.com/page/9",
                             "future.exception()")
    assert "too slow" not in message


def test_completion_order_is_wrong_order():
    message = expect_problem(completion_order, "not in input order", "as_completed yields futures in completion order")
    assert "lost error" not in message


def test_reversed_order_is_wrong_order():
    expect_problem(reversed_order, "not in input order", "results[0] is '<h1>Page 11</h1>'")


def test_map_stops_at_the_first_failure():
    message = expect_problem(uses_map, "raised FetchError", "404 Not Found: https://example.com/page/4",
                             "pool.map")
    assert "the other results were lost" in message


def test_hang_fails_fast():
    release = threading.Event()

    def hangs(urls, fetch, max_workers=8):
        release.wait(30)  # like a result() or get() without a timeout
        return [], {}

    t0 = time.monotonic()
    try:
        expect_problem(hangs, "did not return within 0.3 s", "hangs", timeout=0.3)
    finally:
        release.set()
    assert time.monotonic() - t0 < 5


def test_threads_left_running(monkeypatch):
    # never_shuts_down (below), with each pool kept alive by this list: its idle workers stay
    pools = []
    real_pool = ThreadPoolExecutor

    def kept_pool(*args, **kwargs):
        pools.append(real_pool(*args, **kwargs))
        return pools[-1]

    monkeypatch.setitem(globals(), "ThreadPoolExecutor", kept_pool)
    never_closes = never_shuts_down

    try:
        message = expect_problem(never_closes, "still running 1 s after fetch_all returned", "never shut down",
                                 "shutdown()")
    finally:
        for pool in pools:
            pool.shutdown()
    assert "lost error" not in message and "order" not in message


def never_shuts_down(urls, fetch, max_workers=8):
    # the pool is only a local variable: Python frees it (and its idle workers end)
    # just after the return, so the workers are gone a moment later
    pool = ThreadPoolExecutor(max_workers=max_workers)
    futures = [pool.submit(fetch, url) for url in urls]
    results, errors = [], {}
    for url, future in zip(urls, futures):
        error = future.exception(timeout=5)
        results.append(None if error else future.result())
        if error:
            errors[url] = error
    return results, errors


@pytest.mark.parametrize("attempt", range(3))
def test_a_pool_never_shut_down_is_refused_even_if_freed_at_return(attempt):
    message = expect_problem(never_shuts_down, "still alive when fetch_all returned", "the pool was never shut down",
                             "a `with` block, or shutdown()")
    assert message.count("\n  - ") == 1 and "still running 1 s after" not in message
    assert "Hint: `with ThreadPoolExecutor(max_workers=max_workers) as pool:` shuts the pool down" in message
    # and the correct version (the same code inside a with block) passes
    assert check_fetch_all(right).startswith("Passed:")


def test_errors_keyed_by_index():
    expect_problem(keyed_by_index, "keyed by index (4)", "errors['https://example.com/page/4']")


def test_more_threads_than_max_workers():
    expect_problem(thread_per_url, "more than max_workers=4 fetches ran at once")


def test_fetched_twice():
    expect_problem(fetches_twice, "fetched more than once", "(2 times)")


def test_missing_result():
    expect_problem(drops_results, "results[0] is None", "a result is missing")


def test_not_written_yet():
    message = expect_problem(not_written, "NotImplementedError", "not written yet")
    assert "ThreadPoolExecutor" in message


def test_wrong_return_shape():
    expect_problem(returns_only_results, "it must return a pair (results, errors)")

    def results_not_list(urls, fetch, max_workers=8):
        results, errors = right(urls, fetch, max_workers)
        return iter(results), errors

    expect_problem(results_not_list, "results must be a list")

    def errors_not_dict(urls, fetch, max_workers=8):
        results, errors = right(urls, fetch, max_workers)
        return results, list(errors.values())

    expect_problem(errors_not_dict, "errors must be a dict")

    def too_short(urls, fetch, max_workers=8):
        results, errors = right(urls, fetch, max_workers)
        return results[:-1], errors

    expect_problem(too_short, "results has 11 entries for 12 urls")


def test_wrong_error_values_and_failed_slots():
    def strings_and_text(urls, fetch, max_workers=8):
        results, errors = right(urls, fetch, max_workers)
        results[4] = "failed"
        return results, {url: str(exc) for url, exc in errors.items()}

    expect_problem(strings_and_text, "it must be the FetchError that fetch raised", "results[4] is 'failed'",
                   "put None there")

    def extra_error(urls, fetch, max_workers=8):
        results, errors = right(urls, fetch, max_workers)
        errors[urls[0]] = FetchError(urls[0])
        return results, errors

    expect_problem(extra_error, "errors has entries for urls that did not fail")


def test_signature_mismatch_and_other_errors():
    expect_problem(no_max_workers, "raised TypeError", "fetch_all(urls, fetch, max_workers=8)")
    with pytest.raises(tk.ExerciseError, match="raised KeyError") as info:
        check_fetch_all(raises_other)
    assert isinstance(info.value.__cause__, KeyError)


def test_check_rejects_bad_arguments():
    with pytest.raises(TypeError, match=r"fetch_all must be callable.*got 42 \(type int\)"):
        check_fetch_all(42)
    with pytest.raises(TypeError, match=r"timeout must be a number.*'soon'"):
        check_fetch_all(right, timeout="soon")
    with pytest.raises(ValueError, match=r"timeout must be a finite number.*got -1"):
        check_fetch_all(right, timeout=-1)


# ------------------------------------------------------------------- FakeWeb
def test_page_delays_are_known_and_scrambled():
    delays = [page_delay_ms(i) for i in range(100)]
    assert all(10 <= d <= 30 for d in delays)
    assert delays[0] == 30 == max(delays)
    assert delays[:12] != sorted(delays[:12])
    assert page_delay_ms(3) == page_delay_ms(3)
    with pytest.raises(ValueError, match=r"index must be an int >= 0, got -1"):
        page_delay_ms(-1)
    with pytest.raises(TypeError, match=r"index must be an int.*'1' \(type str\)"):
        page_delay_ms("1")


def test_fake_web_defaults():
    assert FakeWeb(pages=5).failing_urls == ("https://example.com/page/4",)
    assert FakeWeb(pages=4).failing_urls == ()
    web = FakeWeb()
    assert len(web.urls) == 12
    assert web.urls[3] == "https://example.com/page/3"
    assert web.failing_urls == ("https://example.com/page/4", "https://example.com/page/9")
    assert web.delays_ms == tuple(page_delay_ms(i) for i in range(12))
    assert web.sequential_ms == sum(web.delays_ms) == 252
    assert web.expected[0] == "<h1>Page 0</h1>" and web.expected[4] is None and web.expected[9] is None
    assert repr(web) == "<FakeWeb: 12 pages, 2 failing>"


def test_fetch_returns_sleeps_and_fails():
    web = FakeWeb(pages=3, failing=[1])
    t0 = time.perf_counter()
    assert web.fetch(web.urls[2]) == "<h1>Page 2</h1>"
    assert time.perf_counter() - t0 >= page_delay_ms(2) / 1000
    with pytest.raises(FetchError, match="404 Not Found: https://example.com/page/1") as info:
        web.fetch(web.urls[1])
    assert info.value.url == web.urls[1]
    assert web.calls == {web.urls[0]: 0, web.urls[1]: 1, web.urls[2]: 1}
    assert web.max_in_flight == 1
    assert web.threads == [threading.current_thread()]
    web.reset()
    assert web.calls == dict.fromkeys(web.urls, 0) and web.max_in_flight == 0 and web.threads == []


def test_fetch_counts_concurrent_calls():
    web = FakeWeb(pages=8, failing=())
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(web.fetch, web.urls, timeout=5))
    assert pages == web.expected
    assert 2 <= web.max_in_flight <= 8
    assert 1 <= len(web.threads) <= 8
    assert sum(web.calls.values()) == 8


def test_fetch_rejects_bad_urls():
    web = FakeWeb(pages=2)
    with pytest.raises(ValueError, match=r"url must be one of this FakeWeb's urls.*got 'https://example.com/page/2'"):
        web.fetch("https://example.com/page/2")
    with pytest.raises(TypeError, match=r"url must be a str, got 0 \(type int\)"):
        web.fetch(0)


def test_fake_web_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"pages must be an int from 1 to 1000, got 0"):
        FakeWeb(pages=0)
    with pytest.raises(TypeError, match=r"pages must be an int.*2.5 \(type float\)"):
        FakeWeb(pages=2.5)
    with pytest.raises(TypeError, match=r"failing must be a collection of page indices.*got 3 \(type int\)"):
        FakeWeb(failing=3)
    with pytest.raises(TypeError, match=r"failing must be a collection.*'12'"):
        FakeWeb(failing="12")
    with pytest.raises(ValueError, match=r"failing \(each index\) must be an int from 0 to 11, got 12"):
        FakeWeb(failing=[12])


def test_fetch_error_pickles():
    error = FetchError("https://example.com/page/1")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, FetchError) and copy.url == error.url and str(copy) == str(error)
