"""Execute notebooks with the Python that runs this script, a few at a time (standard nbclient).

    python binder_execute.py --out DIR [--parallel N] [--timeout SECONDS] NOTEBOOK...

tests/test_binder_notebooks.py runs it with the Binder-like environment's Python, so that
every kernel is that environment's `python3` kernel, as on Binder. One process executes all
notebooks (importing nbformat costs about two seconds of CPU, once instead of once per
notebook); each notebook still gets its own new kernel, started in the notebook's folder,
and the usual rules apply: a cell that raises stops that notebook unless it carries the
`raises-exception` tag. The executed notebooks are written to DIR; standard output is one
JSON object, ``{notebook name: {"seconds": float, "error": str or null}}``. On POSIX the
kernels use IPC sockets, not TCP ports, as the root conftest.py explains (a port race
between kernels started at once by different processes).
Not collected by pytest (its name does not start with test_).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ERROR_CHARS = 6000  # of an error's text in the report
IPC_PATH_MAX = 100  # bytes, as in conftest.py: a Unix socket path holds at most 107


def kernel_manager(ipc_dir: str | None):
    """A python3 kernel manager; on IPC sockets in ipc_dir when given and short enough."""
    from jupyter_client import AsyncKernelManager

    if ipc_dir is not None:
        prefix = os.path.join(ipc_dir, f"kernel-{uuid.uuid4().hex[:12]}")
        if len(prefix) + 3 <= IPC_PATH_MAX:
            return AsyncKernelManager(kernel_name="python3", transport="ipc", ip=prefix)
    return AsyncKernelManager(kernel_name="python3")


async def execute(path: Path, out_dir: Path, timeout: int, slots: asyncio.Semaphore,
                  ipc_dir: str | None) -> dict:
    async with slots:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, km=kernel_manager(ipc_dir), timeout=timeout,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        error = None
        try:
            await client.async_execute(cleanup_kc=True)  # shut the kernel down: the client did not create it
        except Exception as exc:  # CellExecutionError, a timeout, a kernel that died
            error = f"{type(exc).__name__}: {exc}"[-ERROR_CHARS:]
        seconds = time.perf_counter() - start
        nbformat.write(nb, out_dir / path.name)
        return {"seconds": round(seconds, 2), "error": error}


async def execute_all(paths: list[Path], out_dir: Path, parallel: int, timeout: int) -> dict:
    slots = asyncio.Semaphore(parallel)
    ipc_dir = (tempfile.mkdtemp(prefix="tk-ipc-", dir="/tmp" if os.access("/tmp", os.W_OK) else None)
               if os.name == "posix" else None)
    try:
        results = await asyncio.gather(*(execute(p, out_dir, timeout, slots, ipc_dir) for p in paths))
    finally:
        if ipc_dir is not None:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    return {p.name: result for p, result in zip(paths, results)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the executed notebooks")
    parser.add_argument("--parallel", type=int, default=2, help="notebooks at a time (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.parallel < 1 or args.timeout <= 0:
        parser.error("--parallel must be at least 1 and --timeout above 0")
    names = [p.name for p in args.notebooks]
    if len(set(names)) != len(names):
        parser.error("notebook names must differ (they share the output folder)")
    args.out.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(execute_all([p.resolve() for p in args.notebooks], args.out, args.parallel, args.timeout))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
