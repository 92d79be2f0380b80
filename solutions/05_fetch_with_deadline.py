import concurrent.futures


def fetch_with_deadline(urls, fetch, deadline_s, max_workers):
    # No `with` block: leaving it would wait for every running fetch, the slow ones too.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
    try:
        futures = {pool.submit(fetch, url): url for url in urls}
        done, _ = concurrent.futures.wait(futures, timeout=deadline_s)   # one wait: one deadline for all
    finally:
        pool.shutdown(wait=False, cancel_futures=True)   # return now; drop the fetches not started
    results, errors = {}, {}
    for future in done:
        try:
            results[futures[future]] = future.result()   # done: returns at once
        except Exception as exc:
            errors[futures[future]] = exc
    pending = [url for future, url in futures.items() if future not in done]
    return results, errors, pending
