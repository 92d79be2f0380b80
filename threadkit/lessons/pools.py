"""Lesson helpers for notebook 01 (thread pools and futures).

* :class:`FakeWeb` is a small pretend web site: ``fetch(url)`` sleeps a
  known delay (10-30 ms, like waiting for a server) and returns the page, or
  raises :class:`FetchError` for the pages that are "missing".  It counts
  calls and how many fetches were in flight at once, so a check can tell
  *how* a function used it.
* :func:`check_fetch_all` checks the exercise's ``fetch_all(urls, fetch,
  max_workers=8) -> (results, errors)`` and explains what is wrong.

The pool code itself (``ThreadPoolExecutor``, ``submit``, ``result``) is the
lesson, so it lives in the notebook, not here.
"""

import threading
import time

from .._checking import DEFAULT_CHECK_TIMEOUT, CheckPassed, ExerciseError, call_with_timeout, grader
from .._validate import _describe, check_callable, check_int, check_number, check_str

__all__ = ["FetchError", "FakeWeb", "check_fetch_all"]

#: Address of page ``i`` of a :class:`FakeWeb` is ``URL_PREFIX + str(i)``.
URL_PREFIX = "https://example.com/page/"
#: Default number of pages of a :class:`FakeWeb`.
DEFAULT_PAGES = 12
#: Default indices of the pages whose fetch fails.
DEFAULT_FAILING = (4, 9)
#: Shortest and longest fetch delay, in milliseconds.
MIN_DELAY_MS = 10
MAX_DELAY_MS = 30
#: Largest number of pages a FakeWeb accepts.
MAX_PAGES = 1000
#: ``max_workers`` the check passes to the learner's ``fetch_all``.
CHECK_MAX_WORKERS = 4
#: Seconds the check lets the learner's threads finish after ``fetch_all`` returned.
THREAD_GRACE = 1.0


def page_delay_ms(index):
    """Fetch delay of page ``index`` in milliseconds: 10-30, in a fixed scrambled order.

    Page 0 is the slowest (30 ms), so collecting results in completion order
    never matches the input order.

    Raises:
        TypeError, ValueError: ``index`` is not an int >= 0.
    """
    index = check_int("index", index, minimum=0)
    span = MAX_DELAY_MS - MIN_DELAY_MS + 1
    return MIN_DELAY_MS + (index * 13 + span - 1) % span


class FetchError(Exception):
    """What :meth:`FakeWeb.fetch` raises for a failing page (like an HTTP 404).

    Attributes:
        url: the address that failed.
    """

    def __init__(self, url):
        super().__init__(f"404 Not Found: {url}")
        self.url = url

    def __reduce__(self):
        return (type(self), (self.url,))


class FakeWeb:
    """A pretend web site with known pages, delays and failures.

    ``fetch(url)`` behaves like a slow network call: it sleeps the page's
    delay (10-30 ms; it releases the GIL, as real I/O does), then returns the
    page text ``"<h1>Page i</h1>"`` or raises :class:`FetchError`.  It is
    safe to call from many threads at once, and it keeps statistics about
    those calls.

    Example::

        web = tk.FakeWeb()
        web.fetch(web.urls[0])        # '<h1>Page 0</h1>' after 30 ms
        web.fetch(web.urls[4])        # raises FetchError('404 Not Found: https://example.com/page/4')

    Args:
        pages: number of pages, 1 to 1000.
        failing: indices (0-based) of the pages whose fetch fails; by default
            pages 4 and 9 (those that exist).

    Attributes:
        urls: tuple of the pages' addresses, in page order.
        delays_ms: tuple of each page's delay in milliseconds.
        failing_urls: tuple of the addresses whose fetch fails, in page order.
        expected: list of what a correct ``fetch_all`` returns as results: the page
            text for each url, ``None`` where the fetch fails.

    Raises:
        TypeError, ValueError: ``pages`` is not an int in range, or ``failing``
            is not a collection of page indices.
    """

    def __init__(self, pages=DEFAULT_PAGES, failing=None):
        pages = check_int("pages", pages, minimum=1, maximum=MAX_PAGES)
        if failing is None:
            failing = [i for i in DEFAULT_FAILING if i < pages]
        if isinstance(failing, (str, bytes)) or not hasattr(failing, "__iter__"):
            raise TypeError(
                f"failing must be a collection of page indices (ints from 0 to {pages - 1}), got {_describe(failing)}"
            )
        failing_set = set()
        for index in failing:
            failing_set.add(check_int("failing (each index)", index, minimum=0, maximum=pages - 1))
        self.urls = tuple(f"{URL_PREFIX}{i}" for i in range(pages))
        self.delays_ms = tuple(page_delay_ms(i) for i in range(pages))
        self.failing_urls = tuple(self.urls[i] for i in sorted(failing_set))
        self._index = {url: i for i, url in enumerate(self.urls)}
        self._failing = frozenset(failing_set)
        self.expected = [None if i in self._failing else self.page(i) for i in range(pages)]
        self._lock = threading.Lock()
        self.reset()

    @staticmethod
    def page(index):
        """The text of page ``index``: ``"<h1>Page <index></h1>"``."""
        return f"<h1>Page {index}</h1>"

    @property
    def sequential_ms(self):
        """Milliseconds all fetches take one after another (the sum of the delays)."""
        return sum(self.delays_ms)

    def reset(self):
        """Forget the statistics of earlier calls."""
        with self._lock:
            self._in_flight = 0
            self._max_in_flight = 0
            self._calls = {url: 0 for url in self.urls}
            self._threads = []
            self._raised = {}

    def fetch(self, url):
        """Fetch ``url``: sleep its delay, then return its text or raise :class:`FetchError`.

        Args:
            url: one of :attr:`urls`.

        Returns:
            str: the page's text.

        Raises:
            FetchError: the page is one of :attr:`failing_urls`.
            TypeError: ``url`` is not a str.
            ValueError: ``url`` is not one of this site's :attr:`urls`.
        """
        check_str("url", url)
        index = self._index.get(url)
        if index is None:
            raise ValueError(
                f"url must be one of this FakeWeb's urls ({self.urls[0]} to {self.urls[-1]}), got {url!r}"
            )
        thread = threading.current_thread()
        with self._lock:
            self._calls[url] += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            if thread not in self._threads:
                self._threads.append(thread)
        try:
            time.sleep(self.delays_ms[index] / 1000)
        finally:
            with self._lock:
                self._in_flight -= 1
        if index in self._failing:
            error = FetchError(url)
            with self._lock:
                self._raised.setdefault(url, error)
            raise error
        return self.page(index)

    @property
    def calls(self):
        """dict: url -> how many times it was fetched (since creation or :meth:`reset`)."""
        with self._lock:
            return dict(self._calls)

    @property
    def max_in_flight(self):
        """Most fetches that were running at the same moment."""
        with self._lock:
            return self._max_in_flight

    @property
    def threads(self):
        """list of the ``threading.Thread`` objects that called :meth:`fetch`, first caller first."""
        with self._lock:
            return list(self._threads)

    def __repr__(self):
        return f"<FakeWeb: {len(self.urls)} pages, {len(self.failing_urls)} failing>"


# ------------------------------------------------------------------ the check
_CONTRACT = "fetch_all(urls, fetch, max_workers=8) -> (results, errors)"


def _raise(problems, hint, cause=None):
    lines = ["Not yet:"] + [f"  - {p}" for p in problems]
    if hint:
        lines.append(f"Hint: {hint}")
    raise ExerciseError("\n".join(lines)) from cause


def _short(value):
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


@grader
def check_fetch_all(fetch_all, *, timeout=DEFAULT_CHECK_TIMEOUT):
    """Check the exercise ``fetch_all(urls, fetch, max_workers=8) -> (results, errors)``.

    Runs ``fetch_all`` once on a :class:`FakeWeb` of 12 pages (2 of them fail)
    with ``max_workers=4``, in a helper thread with a timeout, and checks the
    contract:

    * ``results`` is a list in the order of ``urls``: the page for each url,
      ``None`` where the fetch failed;
    * ``errors`` is a dict ``url -> the exception fetch raised``, one entry per
      failed url and no other;
    * every url is fetched exactly once, several at a time but never more than
      ``max_workers`` at once;
    * no thread it started is still alive when it returns (checked the moment it
      returns: a pool that was never shut down keeps its idle workers alive until
      the pool object is freed, which may be only just after the return).

    Args:
        fetch_all: the learner's function.
        timeout: seconds to wait before calling it a hang, > 0 and <= 600.

    Returns:
        CheckPassed: a one-line confirmation.

    Raises:
        ExerciseError: something is wrong; the message lists every problem found.
        TypeError, ValueError: ``fetch_all`` is not callable, or ``timeout`` is
            not a number in range.
    """
    check_callable("fetch_all", fetch_all)
    timeout = check_number("timeout", timeout, minimum=0.001, maximum=600)
    web = FakeWeb()
    urls = list(web.urls)
    n = len(urls)
    call = f"fetch_all(urls, fetch, max_workers={CHECK_MAX_WORKERS})"

    def call_and_look(*args, **kwargs):
        # Runs in the check's helper thread.  The threads alive right after the return
        # are looked at here, at once: `with` / shutdown() has joined a pool's workers
        # before fetch_all returns, while the idle workers of a pool never shut down are
        # still alive then (they end only when the pool object is freed).
        before = set(threading.enumerate())
        value = fetch_all(*args, **kwargs)
        # No join() here, not even join(0): from 3.14 it lets the other threads run,
        # and the freed pool's workers end in that moment.
        return value, [t.name for t in threading.enumerate() if t not in before and t.is_alive()]

    try:
        returned, alive_at_return = call_with_timeout(
            call_and_look, urls, web.fetch, max_workers=CHECK_MAX_WORKERS, timeout=timeout, what=call
        )
    except ExerciseError:
        raise
    except NotImplementedError as exc:
        _raise([f"{call} raised NotImplementedError: it is not written yet."],
               "replace the body with a ThreadPoolExecutor that submits one fetch per url.", exc)
    except FetchError as exc:
        _raise(
            [f"{call} raised {exc!r} instead of returning: one failed page stopped the whole fetch "
             "and the other results were lost."],
            "pool.map and an unguarded future.result() re-raise the first failure; ask each future "
            "for its exception() (or wrap result() in try/except) and store it in errors[url].",
            exc,
        )
    except TypeError as exc:
        _raise([f"{call} raised TypeError: {exc}"],
               f"the function must accept exactly this call: {_CONTRACT}.", exc)
    except Exception as exc:
        _raise([f"{call} raised {type(exc).__name__}: {exc}"],
               "read the traceback above this message: the error happened inside your function.", exc)

    leftovers = _leftover_threads(web)
    # the threads that ran a fetch and were alive at the return (their names)
    fetch_threads = {t.name for t in web.threads}
    alive_at_return = [name for name in alive_at_return if name in fetch_threads]
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        _raise([f"{call} returned {_short(returned)}; it must return a pair (results, errors)."],
               "end the function with `return results, errors`.")
    results, errors = returned
    problems = []
    if not isinstance(results, list):
        _raise([f"results must be a list, got {_describe(results)}."],
               "build a list with one entry per url (pool.map and as_completed give iterators).")
    if not isinstance(errors, dict):
        _raise([f"errors must be a dict url -> exception, got {_describe(errors)}."],
               "start with `errors = {}` and set errors[url] = exception for each failed url.")
    if len(results) != n:
        problems.append(
            f"results has {len(results)} entries for {n} urls: it needs exactly one per url, "
            "None where the fetch failed."
        )
    problems += _result_problems(web, results)
    problems += _error_problems(web, errors, results)
    problems += _usage_problems(web, leftovers, alive_at_return)
    if problems:
        _raise(problems, _hint_for(problems))
    return CheckPassed(
        f"Passed: {n} pages fetched concurrently (at most {CHECK_MAX_WORKERS} at a time), results in input "
        f"order, all {len(web.failing_urls)} failures reported with their url, no threads left running."
    )


def _leftover_threads(web):
    """Threads that ran a fetch and are still alive after a short grace period."""
    me = threading.current_thread()
    others = [t for t in web.threads if t is not me and t.name != "threadkit-check"]
    deadline = time.monotonic() + THREAD_GRACE
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t for t in others if t.is_alive()]


def _result_problems(web, results):
    problems = []
    misplaced = []
    for i, (got, want) in enumerate(zip(results, web.expected)):
        if want is None or got == want:
            continue
        if got in web.expected and got is not None:
            misplaced.append((i, got))
        else:
            problems.append(f"results[{i}] is {_short(got)}, but fetching urls[{i}] returned {want!r}: "
                            "a result is missing.")
    if misplaced:
        i, got = misplaced[0]
        problems.insert(0, (
            f"results are not in input order: results[{i}] is {got!r}, the page of "
            f"urls[{web.expected.index(got)}] (wrong order in {len(misplaced)} place"
            f"{'s' if len(misplaced) > 1 else ''})."
        ))
    return problems


def _error_problems(web, errors, results):
    problems = []
    for url in web.failing_urls:
        i = web.urls.index(url)
        if url not in errors:
            if i in errors:
                problems.append(f"errors is keyed by index ({i}); key it by url: errors[{url!r}].")
            else:
                problems.append(f"lost error: fetching {url} raised FetchError, but errors has no entry for it.")
        elif not isinstance(errors[url], FetchError):
            problems.append(f"errors[{url!r}] is {_short(errors[url])}; it must be the FetchError that fetch raised.")
        if i < len(results) and results[i] is not None:
            problems.append(f"results[{i}] is {_short(results[i])}, but the fetch of urls[{i}] failed: "
                            "put None there.")
    extra = [key for key in errors if key not in web.failing_urls and key not in range(len(web.urls))]
    if extra:
        problems.append(f"errors has entries for urls that did not fail: {_short(extra)}.")
    return problems


def _usage_problems(web, leftovers, alive_at_return=()):
    problems = []
    calls = web.calls
    never = [url for url, count in calls.items() if count == 0]
    again = [url for url, count in calls.items() if count > 1]
    if never:
        problems.append(f"{len(never)} url(s) were never fetched, e.g. {never[0]}.")
    if again:
        problems.append(f"{len(again)} url(s) were fetched more than once, e.g. {again[0]} "
                        f"({calls[again[0]]} times): fetch each url once and keep its future.")
    in_flight = web.max_in_flight
    if in_flight == 1:
        problems.append(
            f"too slow: the pages were fetched one at a time, so it took the sum of the delays "
            f"({web.sequential_ms} ms for {len(web.urls)} pages) instead of about a quarter of that "
            f"with {CHECK_MAX_WORKERS} workers."
        )
    elif in_flight > CHECK_MAX_WORKERS:
        problems.append(f"more than max_workers={CHECK_MAX_WORKERS} fetches ran at once: "
                        "pass max_workers on to ThreadPoolExecutor.")
    if leftovers:
        problems.append(
            f"{len(leftovers)} thread(s) that ran fetches were still running {THREAD_GRACE:g} s after "
            "fetch_all returned: the pool was never shut down, so its idle workers wait for more work; "
            "close the pool (a `with` block, or shutdown())."
        )
    elif alive_at_return:
        problems.append(
            f"{len(alive_at_return)} thread(s) that ran fetches were still alive when fetch_all returned: "
            "the pool was never shut down (or not waited for). Its idle workers went away only afterwards, when Python "
            "freed the pool object; close the pool yourself (a `with` block, or shutdown())."
        )
    return problems


def _hint_for(problems):
    text = " ".join(problems)
    if "too slow" in text:
        return ("use a ThreadPoolExecutor(max_workers=max_workers): submit every url first (one future "
                "each), and only then collect the results (calling result() right after each submit "
                "would wait for that page before starting the next).")
    if "input order" in text:
        return ("as_completed yields futures in completion order; keep the futures in a list "
                "in the order of urls (or remember each future's index) and read them in that order.")
    if "lost error" in text or "FetchError that fetch raised" in text:
        return "for each future, future.exception() returns the error without raising; store it in errors[url]."
    if "never shut down" in text:
        return "`with ThreadPoolExecutor(max_workers=max_workers) as pool:` shuts the pool down when the block ends."
    return f"the contract is {_CONTRACT}."
