"""Which CPython build runs this code, and whether its GIL is on now: two different questions.

The build: ``sysconfig.get_config_var("Py_GIL_DISABLED")`` is 1 on a free-threaded build. The
state: ``sys._is_gil_enabled()`` (3.13+) says whether the GIL is on now; a free-threaded build
turns it back on with ``PYTHON_GIL=1``, ``-X gil=1`` or an extension not marked safe without it.
"""

import platform
import sys
import sysconfig
from typing import NamedTuple

from ._validate import instance_of, optional

__all__ = ["python_build"]


class PythonBuild(NamedTuple):
    """The running interpreter: ``version``, ``free_threaded`` build, ``gil_enabled`` now."""

    version: str
    free_threaded: bool
    gil_enabled: bool

    @property
    def threads_run_python_in_parallel(self):
        """True when threads can run Python code on several cores at once."""
        return self.free_threaded and not self.gil_enabled

    def describe(self):
        """One line for a notebook: version, build and GIL state."""
        if not self.free_threaded:
            build = "standard build (the GIL is always on)"
        elif self.gil_enabled:
            build = "free-threaded build, GIL turned back on (PYTHON_GIL=1, -X gil=1 or an extension)"
        else:
            build = "free-threaded build, GIL off"
        return f"{platform.python_implementation()} {self.version}, {build}"


#: Spec of a ``build=`` argument: a PythonBuild, or None for the running one (``build or python_build()``).
A_BUILD_OR_NONE = optional(instance_of(PythonBuild, "a PythonBuild (tk.python_build()) or None"))


def python_build():
    """The running interpreter's :class:`PythonBuild`: version, build and GIL state now."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    gil_enabled = True if is_gil_enabled is None else bool(is_gil_enabled())
    return PythonBuild(platform.python_version(), bool(sysconfig.get_config_var("Py_GIL_DISABLED")), gil_enabled)


class BuildVerdict(NamedTuple):
    """What a build-dependent lesson expected (``expected``) on ``build``, and what it ``measured``."""

    build: str
    expected: str
    measured: str
    as_expected: bool

    def __str__(self):
        verdict = "as expected" if self.as_expected else "NOT as expected"
        return f"{self.build}\n  expected: {self.expected}\n  measured: {self.measured} ({verdict})"
