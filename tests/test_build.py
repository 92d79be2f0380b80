"""tk.python_build(): build versus GIL state, with the detection replaced to cover
the free-threaded branches this machine cannot run."""

import sys
import sysconfig

import pytest

import threadkit as tk
from threadkit._build import A_BUILD_OR_NONE, BuildVerdict, PythonBuild


def fake_build(monkeypatch, *, config_var, gil):
    real = sysconfig.get_config_var
    monkeypatch.setattr(sysconfig, "get_config_var",
                        lambda name: config_var if name == "Py_GIL_DISABLED" else real(name))
    if gil is None:
        monkeypatch.delattr(sys, "_is_gil_enabled", raising=False)
    else:
        monkeypatch.setattr(sys, "_is_gil_enabled", lambda: gil, raising=False)


@pytest.mark.parametrize(
    "config_var, gil, free_threaded, gil_enabled, parallel, words",
    [
        (None, None, False, True, False, "standard build"),      # 3.11 / 3.12: no _is_gil_enabled
        (0, True, False, True, False, "standard build"),          # 3.13+ standard build
        (1, False, True, False, True, "GIL off"),                 # python3.14t
        (1, True, True, True, False, "turned back on"),           # python3.14t with PYTHON_GIL=1
    ],
)
def test_build_and_gil_state_are_told_apart(monkeypatch, config_var, gil, free_threaded, gil_enabled,
                                            parallel, words):
    fake_build(monkeypatch, config_var=config_var, gil=gil)
    build = tk.python_build()
    assert (build.free_threaded, build.gil_enabled) == (free_threaded, gil_enabled)
    assert build.threads_run_python_in_parallel is parallel
    assert words in build.describe()
    assert build.version in build.describe()


def test_this_machine_is_a_standard_build():
    # No free-threaded interpreter can be had here (FACTS.md); if one ever runs the suite,
    # this test says so instead of silently testing only one branch.
    build = tk.python_build()
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        pytest.skip("free-threaded build: the standard-build expectation does not apply")
    assert not build.free_threaded and build.gil_enabled


def test_a_build_argument_is_a_python_build_or_none():
    build = PythonBuild("3.14.0", free_threaded=True, gil_enabled=False)
    assert A_BUILD_OR_NONE("build", build) is build and A_BUILD_OR_NONE("build", None) is None
    with pytest.raises(TypeError, match=r"^build must be a PythonBuild \(tk.python_build\(\)\) or None, got \("):
        A_BUILD_OR_NONE("build", tuple(build))


def test_a_verdict_reads_as_expected_or_not():
    assert str(BuildVerdict("CPython 3.14", "1 core", "1.0 cores", True)) == (
        "CPython 3.14\n  expected: 1 core\n  measured: 1.0 cores (as expected)")
    assert "(NOT as expected)" in str(BuildVerdict("b", "e", "m", False))
