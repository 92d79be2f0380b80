"""Named kinds of recorded spans and instants.

A *span* is something a thread spent time doing (running a task, waiting for a
lock); an *instant* is something that happened at one moment (a task was
submitted, an item was put on a queue).  Kinds are plain strings so that a
recording stays readable when printed or exported.
"""

# Span kinds: where a thread's time went.
RUN = "running"
QUEUED = "queued"
BLOCKED_RESULT = "blocked on result"
JOIN_WAIT = "waiting in join"
LOCK_WAIT = "waiting for lock"
LOCK_HOLD = "holding lock"
QUEUE_GET_WAIT = "waiting on queue get"
QUEUE_PUT_WAIT = "blocked in queue put"
EVENT_WAIT = "waiting for event"
CALLBACK = "running callback"
SLEEP = "sleeping"

# Instant kinds: what happened at one moment.
SUBMIT = "submit"
PUT = "put"
GET = "get"
SET_RESULT = "set_result"
EXCEPTION = "exception"
CANCEL = "cancel"
EVENT_SET = "event set"
MARK = "mark"

SPAN_KINDS = (
    RUN,
    QUEUED,
    BLOCKED_RESULT,
    JOIN_WAIT,
    LOCK_WAIT,
    LOCK_HOLD,
    QUEUE_GET_WAIT,
    QUEUE_PUT_WAIT,
    EVENT_WAIT,
    CALLBACK,
    SLEEP,
)
INSTANT_KINDS = (SUBMIT, PUT, GET, SET_RESULT, EXCEPTION, CANCEL, EVENT_SET, MARK)

#: Span kinds during which a thread waits instead of doing work.
WAITING_KINDS = (
    BLOCKED_RESULT,
    JOIN_WAIT,
    LOCK_WAIT,
    QUEUE_GET_WAIT,
    QUEUE_PUT_WAIT,
    EVENT_WAIT,
)
