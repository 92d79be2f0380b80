"""Lesson 01 (thread pools and futures): a pretend web site, and the grader of ``fetch_all``."""

import threading
import time

from .._checking import DEFAULT_CHECK_TIMEOUT, CheckPassed, call_with_timeout, fail, grader, new_threads
from .._validate import A_CALLABLE, a_number, accepts, describe, one_of

__all__ = ["FakeWeb", "FetchError", "check_fetch_all"]

#: The pages of a FakeWeb, and the indices of those whose fetch fails.
URLS = tuple(f"https://example.com/page/{i}" for i in range(12))
FAILING = (4, 9)
#: Fetch delay of each page in ms: 10-30, scrambled; page 0 is the slowest (completion order is not input order).
DELAYS_MS = tuple(10 + (i * 13 + 20) % 21 for i in range(len(URLS)))
#: ``max_workers`` the grader passes to ``fetch_all``; seconds its threads get to end after it returned.
CHECK_MAX_WORKERS = 4
THREAD_GRACE = 1.0
CONTRACT = "fetch_all(urls, fetch, max_workers=8) -> (results, errors)"


class FetchError(Exception):
    """What :meth:`FakeWeb.fetch` raises for a failing page (like an HTTP 404); ``url`` is the page."""

    def __init__(self, url):
        super().__init__(url)
        self.url = url

    def __str__(self):
        return f"404 Not Found: {self.url}"


class FakeWeb:
    """A pretend web site of 12 pages (``urls``); pages 4 and 9 (``failing_urls``) fail.

    ``fetch(url)`` sleeps 10-30 ms (releasing the GIL, as real I/O does), then returns the page.
    It is safe to call from many threads; ``expected`` is what a correct ``fetch_all`` returns as
    results, and ``calls``, ``max_in_flight`` and ``threads`` tell the grader how it was called.
    """

    def __init__(self):
        self.urls = URLS
        self.failing_urls = tuple(URLS[i] for i in FAILING)
        self.expected = [None if i in FAILING else f"<h1>Page {i}</h1>" for i in range(len(URLS))]
        self.calls = dict.fromkeys(URLS, 0)
        self.threads = set()
        self.max_in_flight = self._in_flight = 0
        self._lock = threading.Lock()

    @accepts(url=one_of(*URLS))
    def fetch(self, url):
        """Fetch ``url``: sleep its delay, then return the page's text.

        Raises:
            FetchError: ``url`` is one of :attr:`failing_urls`.
            ValueError: ``url`` is not one of :attr:`urls`.
        """
        index = URLS.index(url)
        with self._lock:
            self.calls[url] += 1
            self.threads.add(threading.current_thread())
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        time.sleep(DELAYS_MS[index] / 1000)
        with self._lock:
            self._in_flight -= 1
        if index in FAILING:
            raise FetchError(url)
        return self.expected[index]


# -- the grader: what the learner's function raised, returned, and how it used the site ------
_READ_ERRORS = "for each future, future.exception() returns the error without raising; store it in errors[url]."
_RAISED = {
    NotImplementedError: (None, "replace the body with a ThreadPoolExecutor that submits one fetch per url."),
    FetchError: (None, "one failed page stopped the whole fetch and the other results were lost: pool.map "
                       "and result() re-raise a fetch's error; store each future's exception() in errors[url]."),
    TypeError: (None, f"the function must accept exactly this call: {CONTRACT}."),
}


@grader
@accepts(fetch_all=A_CALLABLE, timeout=a_number(0.001, 600))
def check_fetch_all(fetch_all, *, timeout=DEFAULT_CHECK_TIMEOUT):
    """Check the exercise ``fetch_all(urls, fetch, max_workers=8) -> (results, errors)``.

    Runs it once, with a timeout, on a fresh :class:`FakeWeb` with ``max_workers=4``: it must return
    the pages in input order (``None`` for a failed fetch) and ``{url: FetchError}``, fetch each url
    once, at most ``max_workers`` at a time, and leave no thread alive when it returns.

    Args:
        fetch_all: the learner's function.
        timeout: seconds before calling it a hang, > 0 and <= 600.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: something is wrong; the message lists every problem found, with a hint.
    """
    web, before = FakeWeb(), set(threading.enumerate())
    call = f"fetch_all(urls, fetch, max_workers={CHECK_MAX_WORKERS})"

    def call_and_look():
        returned = fetch_all(list(URLS), web.fetch, max_workers=CHECK_MAX_WORKERS)
        # at once, no join: from 3.14 a join lets a freed pool's idle workers end, hiding it
        return returned, new_threads(before)

    returned, alive = call_with_timeout(call_and_look, timeout=timeout, what=call, raised=_RAISED)
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        fail(f"{call} returned {describe(returned)}; it must return a pair (results, errors).",
             "end the function with `return results, errors`.")
    results, errors = returned
    if not isinstance(results, list):
        fail(f"results must be a list, got {describe(results)}.",
             "build a list with one entry per url (pool.map and as_completed give iterators).")
    if not isinstance(errors, dict):
        fail(f"errors must be a dict url -> exception, got {describe(errors)}.",
             "start with `errors = {}` and set errors[url] = exception for each failed url.")
    alive = [t for t in alive if t in web.threads]
    leftovers = [t for t in new_threads(before, THREAD_GRACE) if t in alive] if alive else []
    problems = _result_problems(web, results) + _error_problems(web, errors) + _usage_problems(web, alive, leftovers)
    if problems:
        fail(problems, f"the contract is {CONTRACT}.")
    return CheckPassed(
        f"Passed: {len(URLS)} pages fetched concurrently (at most {CHECK_MAX_WORKERS} at a time), results in input "
        f"order, all {len(FAILING)} failures reported with their url, no threads left running."
    )


def _result_problems(web, results):
    problems, misplaced = [], []
    if len(results) != len(URLS):
        problems.append(f"results has {len(results)} entries for {len(URLS)} urls: it needs exactly one per url, "
                        "None where the fetch failed.")
    for i, (got, want) in enumerate(zip(results, web.expected)):
        if want is None and got is not None:
            problems.append(f"results[{i}] is {describe(got)}, but the fetch of urls[{i}] failed: put None there.")
        elif got is not None and got != want and got in web.expected:
            misplaced.append((i, got))
        elif got != want:
            problems.append(f"results[{i}] is {describe(got)}, but fetching urls[{i}] returned {want!r}: "
                            "a result is missing.")
    if misplaced:
        (i, got), s = misplaced[0], "s" if len(misplaced) > 1 else ""
        problems.insert(0, (f"results are not in input order: results[{i}] is {got!r}, the page of urls["
                            f"{web.expected.index(got)}] (wrong order in {len(misplaced)} place{s}).",
                            "as_completed yields futures in completion order; keep the futures in a list in the "
                            "order of urls (or remember each future's index) and read them in that order."))
    return problems


def _error_problems(web, errors):
    problems = []
    for url in web.failing_urls:
        i, error = URLS.index(url), errors.get(url)
        if url not in errors and i in errors:
            problems.append(f"errors is keyed by index ({i}); key it by url: errors[{url!r}].")
        elif url not in errors:
            problems.append((f"lost error: fetching {url} raised FetchError, but errors has no entry for it.",
                             _READ_ERRORS))
        elif not isinstance(error, FetchError):
            problems.append((f"errors[{url!r}] is {describe(error)}; it must be the FetchError that fetch raised.",
                             _READ_ERRORS))
    extra = [key for key in errors if key not in web.failing_urls and key not in range(len(URLS))]
    if extra:
        problems.append(f"errors has entries for urls that did not fail: {describe(extra)}.")
    return problems


def _usage_problems(web, alive, leftovers):
    again = next((url for url, count in web.calls.items() if count > 1), None)
    still = f"running {THREAD_GRACE:g} s after" if leftovers else "alive when"
    table = [  # (condition, problem, hint)
        (again, f"urls were fetched more than once, e.g. {again} ({web.calls.get(again)} times): fetch each "
                "url once and keep its future.", None),
        (web.max_in_flight == 1,
         f"too slow: the pages were fetched one at a time, so it took the sum of the delays ({sum(DELAYS_MS)} ms "
         f"for {len(URLS)} pages) instead of about a quarter of that with {CHECK_MAX_WORKERS} workers.",
         "use a ThreadPoolExecutor(max_workers=max_workers): submit every url first (one future each), and only "
         "then collect the results (calling result() right after each submit would wait for that page before "
         "starting the next)."),
        (web.max_in_flight > CHECK_MAX_WORKERS, f"more than max_workers={CHECK_MAX_WORKERS} fetches ran at once: "
                                                "pass max_workers on to ThreadPoolExecutor.", None),
        (alive, f"{len(alive)} thread(s) that ran fetches were still {still} fetch_all returned: the pool was "
                "never shut down, so its idle workers lived on (until Python freed the pool, if it did); close "
                "it yourself (a `with` block, or shutdown()).",
         "`with ThreadPoolExecutor(max_workers=max_workers) as pool:` shuts the pool down when the block ends."),
    ]
    return [(problem, hint) for condition, problem, hint in table if condition]
