"""threadkit: record, draw, explore and check what Python threads do.

The helper package of the threadkit course.  It never hides the technique a
lesson teaches: notebooks write ordinary ``concurrent.futures``,
``threading`` and ``queue`` code, import the recording twins from
:mod:`threadkit.traced`, and use this package to see and check the result::

    import threadkit as tk
    from threadkit.traced import ThreadPoolExecutor

    with tk.recording("pool") as rec:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = [f.result() for f in [pool.submit(tk.io_task, 0.05) for _ in range(6)]]
    tk.draw(rec)

Importing threadkit has no side effects; matplotlib and ipywidgets are loaded
only when something is drawn or explored.
"""

from . import traced
from ._build import BuildVerdict, PythonBuild, python_build
from ._checking import CheckPassed, ExerciseError, confirm_refused
from ._kinds import (
    BLOCKED_RESULT,
    CALLBACK,
    CANCEL,
    EVENT_SET,
    EVENT_WAIT,
    EXCEPTHOOK,
    EXCEPTION,
    GET,
    HANDOFF_CALLBACK,
    HANDOFF_ERROR,
    HANDOFF_ITEM,
    HANDOFF_JOIN,
    HANDOFF_KINDS,
    HANDOFF_RESULT,
    INSTANT_KINDS,
    JOIN_WAIT,
    LOCK_HOLD,
    LOCK_WAIT,
    MARK,
    NEVER_RETRIEVED,
    PUT,
    QUEUE_GET_WAIT,
    QUEUE_PUT_WAIT,
    QUEUED,
    RUN,
    SET_RESULT,
    SLEEP,
    SPAN_KINDS,
    SUBMIT,
    WAITING_KINDS,
)
from ._recording import (
    Handoff,
    Instant,
    NeverRetrieved,
    Recording,
    Span,
    ThreadInfo,
    best_of,
    current_recording,
    mark,
    recording,
    span,
)
from ._workloads import TaskFailed, cpu_task, failure_plan, flaky_task, io_task
from ._explore import Explorer, explore
from ._timeline import DEFAULT_FIGSIZE, INSTANT_MARKERS, KIND_COLORS, Summary, draw, draw_stacked, summarize
from ._shared import RACE_FIGSIZE, READ, WRITE, Access, LostUpdate, Shared, draw_race, lost_updates

# Lesson helpers, one module per notebook.
from ._start import (  # notebook 00
    ideal_makespan_ms,
    check_makespan_prediction,
    cpu_threads_verdict,
)
from ._pools import (  # notebook 01
    FetchError,
    FakeWeb,
    check_fetch_all,
)
from ._races import (  # notebook 02
    STEPS,
    Schedule,
    Interleavings,
    interleavings,
    draw_schedule,
    step_through,
    Stepper,
    replay,
    draw_lost_updates,
    counter_verdict,
    check_account,
)
from ._queues import (  # notebook 03
    STOP,
    ROUND_TRIP_KINDS,
    handoff_round_trip_us,
    check_pipeline,
)
from ._callbacks import (  # notebook 04
    check_first_success,
    threads_inherit_context,
    new_thread_sees,
)
from ._comparison import (  # notebook 05
    count_code_lines,
    per_item_costs,
    table,
    Table,
    QuizQuestion,
    COURSE_QUIZ,
    quiz,
    Quiz,
    check_fetch_with_deadline,
    UnpicklableError,
    fail_unpicklably,
)

__version__ = "0.1.0"

__all__ = [
    # recording
    "recording",
    "Recording",
    "current_recording",
    "best_of",
    "span",
    "mark",
    "Span",
    "Instant",
    "ThreadInfo",
    "Handoff",
    "NeverRetrieved",
    "traced",
    # the interpreter
    "python_build",
    "PythonBuild",
    # kinds
    "RUN",
    "QUEUED",
    "BLOCKED_RESULT",
    "JOIN_WAIT",
    "LOCK_WAIT",
    "LOCK_HOLD",
    "QUEUE_GET_WAIT",
    "QUEUE_PUT_WAIT",
    "EVENT_WAIT",
    "CALLBACK",
    "SLEEP",
    "SUBMIT",
    "PUT",
    "GET",
    "SET_RESULT",
    "EXCEPTION",
    "CANCEL",
    "EVENT_SET",
    "MARK",
    "EXCEPTHOOK",
    "SPAN_KINDS",
    "INSTANT_KINDS",
    "WAITING_KINDS",
    "HANDOFF_RESULT",
    "HANDOFF_ERROR",
    "HANDOFF_ITEM",
    "HANDOFF_JOIN",
    "HANDOFF_CALLBACK",
    "HANDOFF_KINDS",
    "NEVER_RETRIEVED",
    # workloads
    "io_task",
    "cpu_task",
    "flaky_task",
    "failure_plan",
    "TaskFailed",
    # drawing
    "draw",
    "draw_stacked",
    "summarize",
    "Summary",
    "KIND_COLORS",
    "INSTANT_MARKERS",
    "DEFAULT_FIGSIZE",
    "explore",
    "Explorer",
    # a recorded shared value and its lost updates
    "Shared",
    "Access",
    "READ",
    "WRITE",
    "LostUpdate",
    "lost_updates",
    "draw_race",
    "RACE_FIGSIZE",
    # exercises
    "ExerciseError",
    "CheckPassed",
    "confirm_refused",
    # notebook 00
    "ideal_makespan_ms",
    "check_makespan_prediction",
    "BuildVerdict",
    "cpu_threads_verdict",
    # notebook 01
    "FetchError",
    "FakeWeb",
    "check_fetch_all",
    # notebook 02
    "STEPS",
    "Schedule",
    "Interleavings",
    "interleavings",
    "draw_schedule",
    "step_through",
    "Stepper",
    "replay",
    "draw_lost_updates",
    "counter_verdict",
    "check_account",
    # notebook 03
    "STOP",
    "ROUND_TRIP_KINDS",
    "handoff_round_trip_us",
    "check_pipeline",
    # notebook 04
    "check_first_success",
    "threads_inherit_context",
    "new_thread_sees",
    # notebook 05
    "count_code_lines",
    "per_item_costs",
    "table",
    "Table",
    "QuizQuestion",
    "COURSE_QUIZ",
    "quiz",
    "Quiz",
    "check_fetch_with_deadline",
    "UnpicklableError",
    "fail_unpicklably",
]
