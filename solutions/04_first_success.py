# Solution of the exercise in 04_callbacks.ipynb: first_success(futures).
import threading
from concurrent.futures import CancelledError, Future


def first_success(futures):
    """Return a Future, at once, that gets the result of the first of `futures` to succeed.

    If every future fails (a cancelled one counts as failed), its exception is an
    ExceptionGroup holding all their errors.
    """
    futures = list(futures)
    outcome = Future()
    outcome.set_running_or_notify_cancel()  # nobody can cancel it half-way now
    errors = []
    lock = threading.Lock()  # the callbacks run in several threads, maybe at the same moment

    def on_done(future):  # runs in the thread that finished `future` (or here, if it was done already)
        error = CancelledError() if future.cancelled() else future.exception()
        with lock:  # "is it done yet? then complete it" as one step
            if outcome.done():
                return
            if error is None:
                outcome.set_result(future.result())
            else:
                errors.append(error)
                if len(errors) == len(futures):
                    outcome.set_exception(ExceptionGroup("every future failed", errors))

    for future in futures:
        future.add_done_callback(on_done)
    return outcome
