"""Solution of the exercise in 03_queues.ipynb: one stage of a pipeline.

Each worker loops on the inbox until it gets the one STOP, puts it back for the
next worker and returns; an error from ``process`` travels as the result.
``run_stage`` starts every worker before joining any, then puts one STOP on
the outbox, after the last result.
"""

import threading

from threadkit.lessons.queues import STOP

TIMEOUT = 5.0  # seconds any get() or join() may wait (as in the notebook)


def run_stage(inbox, outbox, process, workers):
    """Process (index, item) pairs from inbox with `workers` threads; one STOP on outbox at the end."""
    def work():
        while True:
            pair = inbox.get(timeout=TIMEOUT)
            if pair is STOP:
                inbox.put(STOP)  # leave the one sentinel for the next worker
                return
            index, item = pair
            try:
                result = process(item)
            except Exception as exc:
                result = exc  # the error travels as the result
            outbox.put((index, result))

    threads = [threading.Thread(target=work, name=f"stage-{n}") for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    if any(t.is_alive() for t in threads):
        raise RuntimeError("a stage worker did not finish in time")
    outbox.put(STOP)  # after every result: the next stage stops here
