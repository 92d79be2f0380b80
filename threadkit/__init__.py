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

from . import _build, _checking, _explore, _recording, _shared, _timeline, _workloads, kinds, traced
from ._build import *  # noqa: F401,F403
from ._checking import *  # noqa: F401,F403
from ._explore import *  # noqa: F401,F403
from ._recording import *  # noqa: F401,F403
from ._shared import *  # noqa: F401,F403
from ._timeline import *  # noqa: F401,F403
from ._workloads import *  # noqa: F401,F403

__version__ = "0.1.0"

__all__ = ["kinds", "traced", *_recording.__all__, *_build.__all__, *_workloads.__all__,
           *_timeline.__all__, *_explore.__all__, *_shared.__all__, *_checking.__all__]
