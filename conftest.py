"""Notebook run checks for the course's test suite.

This is the *root* conftest on purpose: pytest only loads conftest files on the path from
the root directory to the paths it is given, so `tests/conftest.py` would not be loaded by
`pytest notebooks`, and the checks below would be skipped exactly when they matter.

The rules (tests/test_harness.py proves each of them):

1. When the run includes the notebooks folder (no path arguments, so `testpaths` is used,
   or a path argument that is `notebooks/` or one of its parents):
   - `notebooks/` must hold at least one `*.ipynb`;
   - the notebooks collected must be exactly `notebooks/*.ipynb` (a notebook with no code
     cell collects nothing and counts as missing; one that is `--ignore`d, or a run without
     `--nbval`, fails too). `-k`, `-m` and `--deselect` relax this rule only (with a note).
2. In every run: each collected notebook must be *executed*: every one of its collected
   cells reaches the call phase (passed or failed; an `NBVAL_SKIP` cell counts) and at
   least one cell really ran. A kernel that cannot start, or cells skipped before they
   run, fail the session instead of passing silently.

A failed rule sets the session's exit status to "tests failed" and is explained in a
"notebook run check" section of the terminal summary.

The rules hold in a parallel run too (pytest-xdist, as `course.py test` runs the suite):
the controller checks the node ids a worker collected and the reports every worker sends.
Below the rules: the order in which xdist workers receive files.

Also: nbval resolves `--nbval-sanitize-with` against the working directory; a relative
path that only exists relative to the root directory is made absolute here, so `pytest`
also works when started from another directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOKS_DIR = "notebooks"

_PLUGIN_NAME = "notebook-run-check"


class _NotebookRunCheck:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.nb_dir = (config.rootpath / NOTEBOOKS_DIR).resolve()
        self.enforce_set = _run_includes(config, self.nb_dir)
        self.filtered = bool(
            config.getoption("keyword", "")
            or config.getoption("markexpr", "")
            or config.getoption("deselect", None)
        )
        self.collect_only = bool(config.getoption("collectonly", False))
        # pytest-xdist: workers collect and run, this (controller) process sees their
        # collected node ids and their reports; a notebook with no code cell then just
        # looks uncollected (its empty collect report stays in the worker).
        self.distributed = config.pluginmanager.has_plugin("dsession")
        self.nb_items: dict[Path, list[str]] = {}  # notebook -> collected cell node ids
        self.empty_notebooks: set[Path] = set()  # collected, but no code cell
        self.called: dict[str, str] = {}  # cell node id -> call-phase outcome
        self.collection_problems: list[str] = []
        self.notes: list[str] = []
        self._problems: list[str] | None = None

    # -- helpers ---------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.config.rootpath.resolve()).as_posix()
        except ValueError:
            return str(path)

    def expected(self) -> list[Path]:
        if not self.nb_dir.is_dir():
            return []
        return sorted(p.resolve() for p in self.nb_dir.glob("*.ipynb") if p.is_file())

    # -- rule 1: collection ----------------------------------------------------------
    def check_collection(self, collected: list[tuple[str, Path]]) -> None:
        """Record the notebooks' cells among the collected (node id, file) pairs; check them."""
        for nodeid, path in collected:
            if path.suffix == ".ipynb":
                self.nb_items.setdefault(path, []).append(nodeid)
        if not self.enforce_set:
            return
        expected = self.expected()
        if not expected:
            self.collection_problems.append(
                f"no notebooks found: {self.rel(self.nb_dir)}/*.ipynb matches nothing"
            )
            return
        if self.filtered:
            self.notes.append(
                "the notebook set check was relaxed because -k/-m/--deselect filters this run"
            )
            return
        collected = set(self.nb_items)
        for nb in expected:
            if nb in collected:
                continue
            if nb in self.empty_notebooks:
                self.collection_problems.append(
                    f"{self.rel(nb)}: has no code cell, so nothing of it can run"
                )
            else:
                self.collection_problems.append(
                    f"{self.rel(nb)}: not collected (is --nbval active? was it --ignore'd?"
                    + (" does it have a code cell?)" if self.distributed else ")")
                )
        for nb in sorted(collected - set(expected)):
            self.collection_problems.append(
                f"{self.rel(nb)}: collected, but not one of {self.rel(self.nb_dir)}/*.ipynb"
            )

    # -- rule 2: execution -----------------------------------------------------------
    def problems(self) -> list[str]:
        if self._problems is not None:
            return self._problems
        problems = list(self.collection_problems)
        if not self.collect_only:
            for nb, node_ids in sorted(self.nb_items.items()):
                outcomes = [self.called.get(n) for n in node_ids]
                reached = sum(o is not None for o in outcomes)
                ran = sum(o in ("passed", "failed") for o in outcomes)
                if reached < len(node_ids):
                    problems.append(
                        f"{self.rel(nb)}: not executed, only {reached} of {len(node_ids)} "
                        "collected cells ran (kernel did not start, cells skipped, or the "
                        "run stopped early)"
                    )
                elif ran == 0:
                    problems.append(f"{self.rel(nb)}: not executed, every cell was skipped")
        self._problems = problems
        return problems

    def executed_count(self) -> int:
        count = 0
        for node_ids in self.nb_items.values():
            outcomes = [self.called.get(n) for n in node_ids]
            if all(o is not None for o in outcomes) and any(
                o in ("passed", "failed") for o in outcomes
            ):
                count += 1
        return count

    # -- pytest hooks ----------------------------------------------------------------
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.nodeid.endswith(".ipynb") and report.passed and not report.result:
            self.empty_notebooks.add((self.config.rootpath / report.nodeid).resolve())

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Not called in an xdist controller (it collects nothing): see _XdistCollection.
        self.check_collection(
            [(item.nodeid, Path(str(getattr(item, "path", ""))).resolve()) for item in session.items]
        )

    def collected_on_a_worker(self, node_ids: list[str]) -> None:
        if self.nb_items or self.collection_problems:
            return  # every worker collects the same items (xdist checks); one is enough
        root = self.config.rootpath
        self.check_collection([(n, (root / n.split("::", 1)[0]).resolve()) for n in node_ids])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.called[report.nodeid] = report.outcome

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.problems() and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not (self.enforce_set or self.nb_items):
            return
        problems = self.problems()
        executed = 0 if self.collect_only else self.executed_count()
        summary = (
            f"{len(self.nb_items)} notebook(s) collected, {executed} executed, "
            f"{len(self.expected())} in {self.rel(self.nb_dir)}/"
        )
        if problems:
            terminalreporter.write_sep("=", "notebook run check FAILED", red=True, bold=True)
            for line in problems:
                terminalreporter.write_line(f"  {line}", red=True)
            terminalreporter.write_line(f"  ({summary})")
        else:
            terminalreporter.write_sep("-", "notebook run check")
            terminalreporter.write_line(f"  ok: {summary}")
        for note in self.notes:
            terminalreporter.write_line(f"  note: {note}", yellow=True)


class _XdistCollection:
    """Hands the node ids a pytest-xdist worker collected to the check (controller only).

    A separate plugin, registered only when xdist distributes the run, because pytest
    rejects an implementation of a hook it does not know (this one is xdist's).
    """

    def __init__(self, check: _NotebookRunCheck) -> None:
        self.check = check

    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        self.check.collected_on_a_worker(list(ids))


def _run_includes(config: pytest.Config, nb_dir: Path) -> bool:
    """True when testpaths apply (no path given) or a path covers notebooks/."""
    if config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        return True  # even when notebooks/ does not exist (pytest drops missing testpaths)
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        path = path.resolve()
        if path == nb_dir or path in nb_dir.parents:
            return True
    return False


# -- nbval's kernels on IPC sockets (POSIX) ----------------------------------------------
# jupyter_client chooses a kernel's five TCP ports by binding port 0 and closing the
# sockets; the kernel binds them a second or more later. Another process that starts a
# kernel in that window can be handed the same ports (a known race of the Jupyter
# protocol, more likely the more kernels start at once). Measured here once in about 20
# runs of the parallel suite: "ZMQError: Address already in use", then "Invalid
# Signature" from the other process's kernel, and a kernel that never answered. So on
# POSIX every kernel the suite starts talks over IPC sockets, files whose names hold a
# random id: nothing to collide on. (Also tests/binder_execute.py and the browser
# tests' JupyterLab; a learner's own Jupyter keeps its default TCP transport.)
IPC_PATH_MAX = 100  # bytes; a Unix socket path holds at most 107, ZMQ appends "-<port>"
_IPC_DIR: str | None = None  # this process's folder of kernel sockets, made on first use


def ipc_socket_prefix() -> str | None:
    """A fresh socket path prefix in a short private folder, or None where IPC cannot work."""
    import tempfile
    import uuid

    if os.name != "posix":
        return None
    base = "/tmp" if os.access("/tmp", os.W_OK) else tempfile.gettempdir()
    global _IPC_DIR
    if _IPC_DIR is None:
        _IPC_DIR = tempfile.mkdtemp(prefix="tk-ipc-", dir=base)
    prefix = os.path.join(_IPC_DIR, f"kernel-{uuid.uuid4().hex[:12]}")
    return prefix if len(prefix) + 3 <= IPC_PATH_MAX else None


def _ipc_kernels_for_nbval() -> None:
    try:
        import nbval.kernel
    except ImportError:
        return
    tcp_kernel_manager = nbval.kernel.KernelManager
    if getattr(tcp_kernel_manager, "_threadkit_ipc", False) or ipc_socket_prefix() is None:
        return

    def ipc_kernel_manager(**kwargs):
        prefix = ipc_socket_prefix()
        if prefix is not None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", prefix)
        return tcp_kernel_manager(**kwargs)

    ipc_kernel_manager._threadkit_ipc = True
    nbval.kernel.KernelManager = ipc_kernel_manager  # nbval calls it as KernelManager(...)


def _remove_ipc_dir() -> None:
    global _IPC_DIR
    if _IPC_DIR is not None:
        import shutil

        shutil.rmtree(_IPC_DIR, ignore_errors=True)
        _IPC_DIR = None


@pytest.hookimpl(trylast=True)  # after xdist's own pytest_configure registered "dsession"
def pytest_configure(config: pytest.Config) -> None:
    _ipc_kernels_for_nbval()  # in every process that runs notebooks: workers included
    sanitize = getattr(config.option, "nbval_sanitize_with", None)
    if sanitize and not os.path.isabs(sanitize) and not os.path.exists(sanitize):
        candidate = config.rootpath / sanitize
        if candidate.exists():
            config.option.nbval_sanitize_with = str(candidate)
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller checks the whole run
    check = _NotebookRunCheck(config)
    config.pluginmanager.register(check, _PLUGIN_NAME)
    if check.distributed:
        config.pluginmanager.register(_XdistCollection(check), _PLUGIN_NAME + "-xdist")


def pytest_unconfigure(config: pytest.Config) -> None:
    _remove_ipc_dir()
    for name in (_PLUGIN_NAME, _PLUGIN_NAME + "-xdist"):
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)


# -- parallel runs (pytest-xdist `--dist loadfile --no-loadscope-reorder`: `course.py test`) --
# xdist schedules whole files: a notebook's cells run in order in one kernel, a test
# module's fixtures start once, and the browser tests (one module) share one JupyterLab
# and one Chromium. Each worker gets one file, then the next when it is nearly done, in
# collection order; collecting the longest files first keeps the workers evenly busy to
# the end. (`--dist loadgroup` would allow finer groups, but xdist 3.8's renaming of node
# ids for it has no effect with pytest 9, which derives node ids differently.)
LONGEST_FIRST = ("tests/browser/", "tests/test_binder_notebooks.py", "tests/test_binder.py", "notebooks/")


def _rank(nodeid: str) -> int:
    for rank, prefix in enumerate(LONGEST_FIRST):
        if nodeid.startswith(prefix):
            return rank
    return len(LONGEST_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker; every worker sorts alike
        items.sort(key=lambda item: _rank(item.nodeid))  # stable: order within a file is kept
