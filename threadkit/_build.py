"""Which CPython build runs this code, and whether its GIL is on now.

Two different questions, often mixed up:

- the **build**: ``sysconfig.get_config_var("Py_GIL_DISABLED")`` is 1 on a
  free-threaded build (``python3.14t``), 0 or None on a standard one;
- the **state**: ``sys._is_gil_enabled()`` (3.13+) says whether the GIL is on
  *now*.  A free-threaded build turns it back on with ``PYTHON_GIL=1``,
  ``-X gil=1`` or an extension module not marked as safe without it; a
  standard build always has it on.

Lessons whose outcome depends on the build (CPU-bound threads in parallel or
not, ``counter += 1`` losing updates or not) ask :func:`python_build` and
assert the outcome for the build they run on.  Unit tests replace the two
sources above to exercise the free-threaded branches on a standard build.
"""

import platform
import sys
import sysconfig
from typing import NamedTuple

from ._validate import check_instance

__all__ = ["PythonBuild", "python_build", "BuildVerdict"]


class PythonBuild(NamedTuple):
    """The running interpreter: version, build and GIL state.

    Attributes:
        version: the Python version, e.g. ``"3.11.7"``.
        free_threaded: True on a free-threaded build (``Py_GIL_DISABLED``).
        gil_enabled: True when the GIL is on now (always on a standard build).
    """

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


def python_build():
    """Describe the running interpreter's build and GIL state.

    Returns:
        PythonBuild: version, whether this is a free-threaded build
        (``sysconfig.get_config_var("Py_GIL_DISABLED")``), and whether the GIL is
        on now (``sys._is_gil_enabled()``, 3.13+; older Pythons always have it).
    """
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    gil_enabled = True if is_gil_enabled is None else bool(is_gil_enabled())
    return PythonBuild(platform.python_version(), free_threaded, gil_enabled)


class BuildVerdict(NamedTuple):
    """What a build-dependent lesson expected on this interpreter, and what it measured.

    Attributes:
        build: ``PythonBuild.describe()`` of the interpreter judged.
        expected: what should happen on that build (and why, in a few words).
        measured: what was measured, in words.
        as_expected: True when the measurement agrees with ``expected``.
    """

    build: str
    expected: str
    measured: str
    as_expected: bool

    def __str__(self):
        verdict = "as expected" if self.as_expected else "NOT as expected"
        return f"{self.build}\n  expected: {self.expected}\n  measured: {self.measured} ({verdict})"


def check_build(build):
    """Return ``build``, or the running interpreter's :class:`PythonBuild` when it is None.

    Raises:
        TypeError: ``build`` is neither None nor a PythonBuild.
    """
    if build is None:
        return python_build()
    return check_instance("build", build, PythonBuild, "a PythonBuild (tk.python_build()) or None")
