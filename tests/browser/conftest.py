"""Fixtures for the real-browser tests: one JupyterLab server and one headless Chromium.

Both live for the whole session (starting them takes most of the time), each notebook test
opens its own page. Everything the server writes goes to a temporary directory: isolated
Jupyter config/data/runtime/settings/workspaces dirs, TMPDIR, and a *copy* of notebooks/,
so running the notebooks never touches the repository's files. On POSIX the server's
kernels use IPC sockets instead of TCP ports (the root conftest.py says why); their
runtime folder is a short one in /tmp, as a socket path is limited to 107 bytes.

Enabling, skipping, failing:
- The browser is THREADKIT_BROWSER (path to a Chromium or Chrome executable) if set,
  else the first of chromium, chromium-browser, google-chrome(-stable) on PATH
  (Debian/Ubuntu: `apt-get install chromium`). Playwright comes from requirements-test.txt;
  its own browser download (`playwright install`) is never needed.
- THREADKIT_BROWSER=skip skips these tests on purpose (scripts/test_all_pythons.py uses it).
- Otherwise a missing browser or a missing playwright package skips them, with a message
  saying how to enable them, except when the CI environment variable is set (CI=true, as
  in .ci/run and on CI services): then it is a failure, because CI must run them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
BROWSER_ENV = "THREADKIT_BROWSER"
SKIP_VALUES = ("skip", "0", "off", "no", "false")
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 1000}
SERVER_START_TIMEOUT = 90  # s; 3-8 s on an idle 2-core machine
HOW_TO_ENABLE = (
    "To run the browser tests: install Chromium (Debian/Ubuntu: `apt-get install chromium`) "
    f"or set {BROWSER_ENV}=/path/to/chromium-or-chrome, and install the pinned requirements "
    "(`python3 course.py setup` installs playwright). `playwright install` is not needed."
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip on a learner's machine, fail in CI: the browser check must run there."""
    if in_ci():
        pytest.fail(f"{reason}\nCI is set, so the browser tests must run. {HOW_TO_ENABLE}", pytrace=False)
    pytest.skip(f"{reason}. {HOW_TO_ENABLE}")


def find_browser() -> str:
    """The Chromium executable to drive, or skip/fail (see the module docstring)."""
    wanted = os.environ.get(BROWSER_ENV, "").strip()
    if wanted.lower() in SKIP_VALUES:
        pytest.skip(f"browser tests skipped on purpose ({BROWSER_ENV}={wanted})")
    if wanted:
        path = shutil.which(wanted) or (wanted if os.access(wanted, os.X_OK) else None)
        if path is None:
            unavailable(f"{BROWSER_ENV}={wanted} is not an executable browser")
        return path
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    unavailable("no Chromium found (looked for " + ", ".join(BROWSER_NAMES) + " on PATH)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A running `jupyter lab` with a random token, on 127.0.0.1, in an isolated sandbox."""

    def __init__(self, sandbox: Path) -> None:
        self.sandbox = sandbox
        self.root = sandbox / "root"
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = sandbox / "jupyter-lab.log"
        self.ipc_runtime = None  # a short runtime folder for the kernels' IPC sockets (POSIX)
        self.env = self._environment()
        self.proc: subprocess.Popen | None = None

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JUPYTERLAB"))}
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
                     "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR", "TMPDIR", "IPYTHONDIR",
                     "MPLCONFIGDIR"):
            path = self.sandbox / name.lower()
            path.mkdir(parents=True, exist_ok=True)
            env[name] = str(path)
        if os.name == "posix":  # kernel-<uuid>-ipc-<n> sockets, next to the connection files
            self.ipc_runtime = tempfile.mkdtemp(prefix="tk-lab-", dir="/tmp" if os.access("/tmp", os.W_OK) else None)
            env["JUPYTER_RUNTIME_DIR"] = self.ipc_runtime
        env["JUPYTER_PREFER_ENV_PATH"] = "1"  # the venv's python3 kernel, not a user-wide one
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        env.pop("MPLBACKEND", None)  # the kernel's inline backend, as for a learner
        settings = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab"
        write_settings(settings / "apputils-extension" / "notification.jupyterlab-settings",
                       {"fetchNews": "false", "checkForUpdates": False})
        # Render every cell (no virtual scrolling), so the DOM holds all prompts and outputs.
        write_settings(settings / "notebook-extension" / "tracker.jupyterlab-settings",
                       {"windowingMode": "none"})
        return env

    def command(self) -> list[str]:
        """The `jupyter lab` command line this server runs."""
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
            f"--port={self.port}", "--port-retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", "--ServerApp.open_browser=False",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if self.ipc_runtime is not None:
            cmd.append("--KernelManager.transport=ipc")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    def start(self) -> None:
        self.root.mkdir()
        shutil.copytree(NOTEBOOKS, self.root / "notebooks")
        shutil.copytree(ROOT / "solutions", self.root / "solutions")  # for the exercises' %load
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), cwd=self.root, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        try:
            self._stop_server()
        finally:
            if self.ipc_runtime is not None:
                shutil.rmtree(self.ipc_runtime, ignore_errors=True)

    def _stop_server(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # SIGTERM: the server shuts its kernels down, then exits
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def api(self, method: str, path: str, body=None, timeout: float = 10):
        request = urllib.request.Request(
            self.base_url + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:  # say what the server said
            detail = exc.read().decode(errors="replace")[:2000]
            raise RuntimeError(f"{method} {path}: HTTP {exc.code} {exc.reason}: {detail}") from None
        return json.loads(text) if text else None

    def url(self, notebook: str) -> str:
        return f"{self.base_url}/lab/tree/notebooks/{notebook}?reset&token={self.token}"

    def delete_sessions(self) -> list[str]:
        """Shut down every kernel session (kernels outlive the page); return their paths."""
        closed = []
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
            closed.append(session.get("path", "?"))
        return closed


def write_settings(path: Path, values: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


@pytest.fixture(scope="session")
def browser_path() -> str:
    path = find_browser()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is not installed in this environment")
    return path


@pytest.fixture(scope="session")
def lab(browser_path, tmp_path_factory):
    """The JupyterLab server shared by all browser tests (started only if a browser exists)."""
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    start = time.perf_counter()
    try:
        server.start()
        server.startup_seconds = time.perf_counter() - start
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(browser_path, lab, tmp_path_factory):
    """One headless Chromium (a persistent context on a fresh profile) for all notebooks."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=browser_path, headless=True, args=CHROMIUM_FLAGS,
            viewport=VIEWPORT, env={**os.environ, "TMPDIR": lab.env["TMPDIR"]},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def threads_outliving_a_test() -> tuple[str, ...]:
    """For the thread check of tests/conftest.py: playwright drives Chromium from an asyncio
    loop that lives as long as the session's `browser`; the loop's default executor starts
    its threads (asyncio_0, asyncio_1, ...) when a test first needs them, and ends them
    when the loop closes, after the last test."""
    return ("asyncio_",)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
