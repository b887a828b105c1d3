"""The shared-memory region request arrays cross in: written by the parent, only read by the worker.

The region is a sealed memfd. The parent maps it writable, then seals it against growing,
shrinking and any later write access, and hands the worker a read-only descriptor. So the worker
can neither change what the parent wrote (writes, writable mappings and ``mprotect`` all fail,
even on a descriptor reopened through ``/proc``) nor truncate the file under the parent's mapping,
which would kill the parent with SIGBUS. Replies never use it: the parent reads nothing back.
"""

from __future__ import annotations

import fcntl
import mmap
import os

_F_SEAL_FUTURE_WRITE = 0x10
"""Linux 5.1: no new writes or writable mappings, while mappings made before it stay writable."""
_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | _F_SEAL_FUTURE_WRITE | fcntl.F_SEAL_SEAL


class RequestRegion:
    """The parent's writable mapping of a region, and the read-only descriptor its worker inherits."""

    def __init__(self, mapping: mmap.mmap, worker_fd: int) -> None:
        self._mapping = mapping
        self.view = memoryview(mapping)
        """Where the parent writes a request's arrays."""
        self.worker_fd: int | None = worker_fd
        """Read-only descriptor for the worker to inherit; None once :meth:`release_worker_fd` ran."""

    @classmethod
    def create(cls, size: int) -> RequestRegion | None:
        """A sealed region of ``size`` bytes, or None where this system cannot make one (pipe only)."""
        if size <= 0 or not hasattr(os, "memfd_create"):
            return None
        try:
            fd = os.memfd_create("steward-requests", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        except OSError:
            return None
        try:
            os.ftruncate(fd, size)
            mapping = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            try:
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
                worker_fd = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY)
            except OSError:
                # An older kernel without the write seal: the worker could write, so use no region.
                mapping.close()
                return None
        finally:
            os.close(fd)
        return cls(mapping, worker_fd)

    def release_worker_fd(self) -> None:
        """Close the parent's copy of the worker's descriptor, once the worker has inherited it."""
        if self.worker_fd is not None:
            os.close(self.worker_fd)
            self.worker_fd = None

    def close(self) -> None:
        """Unmap the region; idempotent."""
        self.release_worker_fd()
        self.view.release()
        self._mapping.close()


def map_read_only(fd: int) -> memoryview:
    """The worker's view of the region behind ``fd``: shared, so that it sees each request, and read-only."""
    size = os.fstat(fd).st_size
    return memoryview(mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ))
