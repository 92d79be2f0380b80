"""Exercise of 01 · Thread pools and futures: fetch pages concurrently, keeping every error."""

import concurrent.futures


def fetch_all(urls, fetch, max_workers=8):
    """Fetch every url, at most ``max_workers`` at a time; return ``(results, errors)``.

    ``results[i]`` is what ``fetch(urls[i])`` returned, or None if it raised;
    ``errors`` maps each url whose fetch raised to the exception itself.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(fetch, url) for url in urls]     # every fetch queued first
    # leaving the with block waited for every fetch and closed the pool: each future is done
    results, errors = [], {}
    for url, future in zip(urls, futures):                     # zip keeps the input order
        error = future.exception()
        if error is None:
            results.append(future.result())
        else:
            results.append(None)
            errors[url] = error
    return results, errors
