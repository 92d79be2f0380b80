"""Unit tests for threadkit.lessons.pools: the fake web site. Its exercise check (check_fetch_all) is
tested in tests/test_exercise_01.py."""

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import threadkit as tk
from threadkit.lessons import pools as _pools
from threadkit.lessons.pools import FakeWeb, FetchError, page_delay_ms


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
