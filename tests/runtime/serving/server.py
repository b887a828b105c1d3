"""A real uvicorn server on a loopback port, run on a thread of the test process."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

_WORKER_MODULE = b"modelsteward.runtime.sandbox._main"


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port; yield its base URL; shut down gracefully on exit."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def worker_pids() -> list[int]:
    """The sandboxed workers' interpreters among this process's descendants (not their bwrap parents)."""
    found = []
    for pid in _descendants(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if _WORKER_MODULE in argv and b"python" in Path(argv[0].decode()).name.encode():
            found.append(pid)
    return found


def kill_worker() -> int:
    """SIGKILL the one running worker; return its pid."""
    (pid,) = worker_pids()
    os.kill(pid, signal.SIGKILL)
    return pid


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of ``pid`` so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _descendants(root: int) -> list[int]:
    found: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found += map(int, children)
            pending += map(int, children)
    return found
