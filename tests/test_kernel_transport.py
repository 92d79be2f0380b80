"""Every kernel the suite starts uses IPC sockets on POSIX (the root conftest.py says why).

A TCP kernel picks its ports by binding port 0 and letting go, and binds them later; two
processes that start kernels at the same moment can be handed the same ports. These
checks fail if one of the three ways the suite starts kernels goes back to TCP.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIX_SOCKET_PATH_MAX = 107  # bytes, Linux's sun_path without its terminating NUL

pytestmark = pytest.mark.skipif(os.name != "posix", reason="IPC sockets are POSIX only: TCP there")


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_ipc(km) -> None:
    assert km.transport == "ipc", km.transport
    socket_path = f"{km.ip}-5"
    assert os.path.isabs(socket_path) and len(socket_path.encode()) <= UNIX_SOCKET_PATH_MAX, socket_path


def test_nbval_kernels_use_ipc_with_distinct_socket_paths():
    import nbval.kernel

    first = nbval.kernel.KernelManager(kernel_name="python3")  # as nbval calls it
    second = nbval.kernel.KernelManager(kernel_name="python3")
    assert_ipc(first)
    assert_ipc(second)
    assert first.ip != second.ip


def test_binder_execute_kernels_use_ipc(tmp_path):
    driver = load("binder_execute_under_test", ROOT / "tests" / "binder_execute.py")
    km = driver.kernel_manager(str(tmp_path))
    assert_ipc(km)
    assert driver.kernel_manager(str(tmp_path)).ip != km.ip
    assert driver.kernel_manager(None).transport == "tcp"  # off POSIX


def test_browser_lab_kernels_use_ipc(tmp_path):
    browser = load("browser_conftest_under_test", ROOT / "tests" / "browser" / "conftest.py")
    lab = browser.LabServer(tmp_path)
    try:
        assert "--KernelManager.transport=ipc" in lab.command()
        runtime = lab.env["JUPYTER_RUNTIME_DIR"]
        longest = os.path.join(runtime, "kernel-00000000-0000-0000-0000-000000000000-ipc-5")
        assert len(longest.encode()) <= UNIX_SOCKET_PATH_MAX, longest
    finally:
        lab.stop()
    assert not os.path.exists(runtime), "the short runtime folder is removed with the server"
