"""A pids cgroup per worker: the process limit that still holds where ``RLIMIT_NPROC`` does not.

The kernel never applies ``RLIMIT_NPROC`` to processes of uid 0, and neither bubblewrap nor
unshare changes the uid the kernel counts when the caller is root (the user namespace maps the
worker's uid back to 0). Root can, however, create cgroups: where a pids controller is mounted
and writable, each worker gets its own cgroup with ``pids.max`` set. Elsewhere this module
finds nothing to use and the rlimit alone applies, as it does for every other uid.
"""

from __future__ import annotations

import contextlib
import shlex
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_MOUNTINFO = Path("/proc/self/mountinfo")
_OWN_CGROUPS = Path("/proc/self/cgroup")


@dataclass(frozen=True, slots=True)
class PidsCgroup:
    """A cgroup created for one worker, limiting how many tasks it and its descendants may have."""

    path: Path

    def enter(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run from inside the cgroup: the shell moves itself in, then execs, so no task escapes."""
        script = f'echo 0 > {shlex.quote(str(self.path / "cgroup.procs"))} && exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *argv]

    def remove(self) -> None:
        """Remove the cgroup once its tasks are gone; a cgroup that is still busy is left behind."""
        with contextlib.suppress(OSError):
            self.path.rmdir()


def create_pids_cgroup(max_tasks: int) -> PidsCgroup | None:
    """A new cgroup under this process's own with ``pids.max = max_tasks``, or None where none can be made."""
    parent = _own_pids_cgroup()
    if parent is None:
        return None
    path = parent / f"steward-worker-{uuid.uuid4().hex}"
    try:
        path.mkdir()
    except OSError:
        return None
    try:
        (path / "pids.max").write_text(str(max_tasks))
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return PidsCgroup(path)


def _own_pids_cgroup() -> Path | None:
    """The directory of this process's cgroup in a hierarchy where the pids controller can be used."""
    try:
        mounts = _MOUNTINFO.read_text().splitlines()
        memberships = _OWN_CGROUPS.read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields, _, tail = line.partition(" - ")
        _, _, _, root, mount_point, *_ = fields.split()
        fstype, _, options = tail.split()[:3]
        if fstype == "cgroup" and "pids" in options.split(","):
            own = _membership(memberships, lambda controllers: "pids" in controllers.split(","))
        elif fstype == "cgroup2":
            own = _membership(memberships, lambda controllers: controllers == "")
        else:
            continue
        if own is None or not own.startswith(root):
            continue
        directory = Path(mount_point) / own[len(root) :].lstrip("/")
        # On cgroup v2 the controller must be enabled for children of our cgroup.
        if fstype == "cgroup2" and not _enabled_for_children(directory):
            continue
        return directory
    return None


def _membership(lines: list[str], matches: Callable[[str], bool]) -> str | None:
    """This process's path in the hierarchy whose ``/proc/self/cgroup`` controllers field ``matches``."""
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if matches(controllers):
            return path
    return None


def _enabled_for_children(directory: Path) -> bool:
    try:
        return "pids" in (directory / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False
