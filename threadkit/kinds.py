"""Named kinds of recorded events: plain strings, so a recording prints and exports readably.

A *span* is time a thread spent doing something, an *instant* something that happened at one
moment; a *hand-off* links the event that produced a result, an error or an item in one
thread to the event that received it in another.
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
EXCEPTHOOK = "to excepthook"  # a plain thread's uncaught exception went to threading.excepthook

SPAN_KINDS = (RUN, QUEUED, BLOCKED_RESULT, JOIN_WAIT, LOCK_WAIT, LOCK_HOLD, QUEUE_GET_WAIT,
              QUEUE_PUT_WAIT, EVENT_WAIT, CALLBACK, SLEEP)
INSTANT_KINDS = (SUBMIT, PUT, GET, SET_RESULT, EXCEPTION, CANCEL, EVENT_SET, MARK, EXCEPTHOOK)
#: Span kinds during which a thread waits instead of doing work.
WAITING_KINDS = (BLOCKED_RESULT, JOIN_WAIT, LOCK_WAIT, QUEUE_GET_WAIT, QUEUE_PUT_WAIT, EVENT_WAIT)

# Hand-off kinds: what travelled from one thread to another.
HANDOFF_RESULT = "result"  # a future's value: set_result -> result() returned
HANDOFF_ERROR = "error"  # an exception: raised -> re-raised or read elsewhere
HANDOFF_ITEM = "item"  # a queue item: put -> the get that took it
HANDOFF_JOIN = "join"  # a thread's end -> join() returned
HANDOFF_CALLBACK = "callback"  # a future's completion -> its callback started
HANDOFF_KINDS = (HANDOFF_RESULT, HANDOFF_ERROR, HANDOFF_ITEM, HANDOFF_JOIN, HANDOFF_CALLBACK)

# Ends of hand-offs that are not instant kinds.
RUN_ENDED = "run ended"
RESULT_RETURNED = "result() returned"
RESULT_RAISED = "result() raised"
EXCEPTION_RETURNED = "exception() returned"
AS_COMPLETED_YIELDED = "as_completed yielded"
JOIN_RETURNED = "join() returned"
CALLBACK_STARTED = "callback started"
#: A failed future's error that nobody retrieved before the recording stopped.
NEVER_RETRIEVED = "never retrieved"
