"""The README's `python3 course.py lab` serves the course, with working widgets.

The server is started exactly as a learner starts it (plus options for a headless,
loopback-only test server), with its own Jupyter config/data/runtime directories so a
learner's or the machine's Jupyter settings cannot change the result; the kernelspec and
the lab extensions of the course environment stay reachable through its sys.prefix.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course.py"
START = "notebooks/00_start_here.ipynb"
STARTUP_TIMEOUT = 60


def isolated_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR",
    ):
        path = tmp / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    if sys.prefix != sys.base_prefix:
        env["COURSE_VENV"] = sys.prefix  # the environment running these tests
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server and anything it started (kernels), whatever state it is in."""
    if proc.poll() is None:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the session, if any
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`python course.py lab ...` running in the background (not yet waited for)."""
    tmp = tmp_path_factory.mktemp("lab")
    env = isolated_env(tmp)
    # Create/refresh the environment first, so the start-up timeout measures the server.
    setup = subprocess.run(
        [sys.executable, str(COURSE), "setup"], env=env, cwd=tmp,
        capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    port, token = free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable, str(COURSE), "lab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root; Jupyter refuses root without it
    log_path = tmp / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=tmp,  # course.py must not depend on the working directory
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=(os.name == "posix"),
        )
    try:
        yield {"proc": proc, "base": f"http://127.0.0.1:{port}", "token": token,
               "log": log_path, "env": env}
    finally:
        stop(proc)


def test_widget_extension_is_enabled(lab):
    # Runs while the server starts up. Without this extension a widget cell shows
    # `VBox(children=...)` instead of sliders.
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"], env=lab["env"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    lines = (proc.stdout + proc.stderr).splitlines()
    manager = [line for line in lines if "@jupyter-widgets/jupyterlab-manager" in line]
    assert manager, "\n".join(lines)
    assert "enabled" in manager[0] and "OK" in manager[0], manager[0]


def test_lab_command_serves_the_start_notebook(lab):
    proc, base, token = lab["proc"], lab["base"], lab["token"]
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if proc.poll() is not None:
            pytest.fail(f"`course.py lab` exited with {proc.returncode}:\n{lab['log'].read_text()}")
        try:
            status, _ = get(f"{base}/api/status?token={token}", timeout=5)
        except (urllib.error.URLError, OSError):
            status = None
        if status == 200:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no answer from {base} in {STARTUP_TIMEOUT} s:\n{lab['log'].read_text()}")
        time.sleep(0.25)

    assert get(f"{base}/api/status")[0] in (401, 403), "the server must require its token"
    if not (ROOT / START).is_file():
        pytest.skip(f"the server runs, but {START} does not exist yet")
    status, body = get(f"{base}/api/contents/{START}?content=0&token={token}")
    assert status == 200, body[:500]
    model = json.loads(body)
    assert model["type"] == "notebook" and model["path"] == START
    # course.py asked `jupyter lab` to open that notebook (it opens in the learner's browser).
    psutil = pytest.importorskip("psutil")
    server = psutil.Process(proc.pid)
    cmdlines = [" ".join(p.cmdline()) for p in [server, *server.children(recursive=True)]]
    assert any("jupyter" in c and START in c for c in cmdlines), cmdlines
