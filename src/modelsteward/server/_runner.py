"""Which process runs a job, written down so that any other process can tell whether it still runs.

A pid alone does not name a process: once it has exited, the system may give its pid to another. So a
runner is the machine (host name, PID namespace and boot id: containers sharing the jobs folder may
reuse each other's pids, and a reboot starts them over) and the process (pid and its start time, in
clock ticks after boot, from ``/proc/<pid>/stat``). Where there is no ``/proc`` (macOS), only the
machine's name is known and only whether some process has the pid can be told.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_PROC = Path("/proc")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None


def _namespace() -> str | None:
    try:
        return str((_PROC / "self" / "ns" / "pid").readlink())
    except OSError:
        return None


_HOST = socket.gethostname()
_PID_NAMESPACE = _namespace()
_BOOT = _read(_PROC / "sys" / "kernel" / "random" / "boot_id")


def runner(pid: int | None = None) -> dict[str, Any]:
    """The record naming process ``pid`` (this one by default) as a job's runner."""
    pid = os.getpid() if pid is None else pid
    return {
        "host": _HOST,
        "pid_namespace": _PID_NAMESPACE,
        "boot": _BOOT,
        "pid": pid,
        "start": _start(pid),
    }


def _start(pid: int) -> int | None:
    try:
        found = _process(pid)
    except (OSError, IndexError, ValueError):
        return None
    return None if found is None else found[1]


def stopped(record: Mapping[str, Any]) -> bool:
    """Whether the process a :func:`runner` record names has stopped for sure. False while it runs, and
    whenever that cannot be told from here: another machine or container, a record without a pid."""
    pid = record.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid < 1:
        return False
    if record.get("host") != _HOST or record.get("pid_namespace") != _PID_NAMESPACE:
        return False
    boot = record.get("boot")
    if boot and _BOOT and boot != _BOOT:
        return True  # the machine restarted since
    if not _PROC.joinpath("self", "stat").exists():
        return not _pid_taken(pid)
    try:
        found = _process(pid)
    except (OSError, IndexError, ValueError):
        return False
    if found is None or found[0] in {"Z", "X"}:  # gone, or exited and not yet reaped
        return True
    recorded = record.get("start")
    return isinstance(recorded, int) and recorded != found[1]  # the pid is another process's now


def _process(pid: int) -> tuple[str, int] | None:
    """The state letter and start time of process ``pid``, from ``/proc``; None if there is no such
    process. OSError, IndexError or ValueError if ``/proc`` cannot say."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # After the command name (in parentheses, which it may itself hold): state is field 3, start 22.
    fields = stat.rpartition(")")[2].split()
    return fields[0], int(fields[19])


def _pid_taken(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (PermissionError): it exists
        return True
    return True
