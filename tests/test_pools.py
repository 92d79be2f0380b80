"""Unit tests for threadkit.lessons.pools' FakeWeb (its grader is tested in test_exercise_01.py)."""

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from threadkit.lessons.pools import DELAYS_MS, FakeWeb, FetchError


def test_page_delays_are_known_and_scrambled():
    assert all(10 <= d <= 30 for d in DELAYS_MS) and DELAYS_MS[0] == 30 == max(DELAYS_MS)
    assert list(DELAYS_MS) != sorted(DELAYS_MS) and sum(DELAYS_MS) == 252


def test_the_site():
    web = FakeWeb()
    assert len(web.urls) == 12 and web.urls[3] == "https://example.com/page/3"
    assert web.failing_urls == ("https://example.com/page/4", "https://example.com/page/9")
    assert web.expected[0] == "<h1>Page 0</h1>" and web.expected[4] is None and web.expected[9] is None


def test_fetch_returns_sleeps_and_fails():
    web = FakeWeb()
    t0 = time.perf_counter()
    assert web.fetch(web.urls[2]) == "<h1>Page 2</h1>"
    assert time.perf_counter() - t0 >= DELAYS_MS[2] / 1000
    with pytest.raises(FetchError, match="404 Not Found: https://example.com/page/4") as info:
        web.fetch(web.urls[4])
    assert info.value.url == web.urls[4]
    assert web.calls == {**dict.fromkeys(web.urls, 0), web.urls[2]: 1, web.urls[4]: 1}
    assert web.max_in_flight == 1 and web.threads == {threading.current_thread()}


def test_fetch_counts_concurrent_calls():
    web = FakeWeb()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(web.fetch, url) for url in web.urls]
    assert [None if f.exception() else f.result() for f in futures] == web.expected
    assert 2 <= web.max_in_flight <= 8 and 1 <= len(web.threads) <= 8
    assert set(web.calls.values()) == {1}


def test_fetch_error_pickles():
    error = FetchError("https://example.com/page/1")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, FetchError) and copy.url == error.url and str(copy) == str(error)
