"""How a worker is isolated and what it may use."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_GIB = 1 << 30


class Isolation(enum.StrEnum):
    """The mechanism that separates a worker from the rest of the machine."""

    BUBBLEWRAP = "bubblewrap"
    """A fresh root with only the interpreter, its packages and the model, read-only; no network."""
    UNSHARE = "unshare"
    """New network, pid, mount and user namespaces; the filesystem is the host's, see the docs."""
    NONE = "none"
    """A plain child process with resource limits only: refused unless explicitly allowed."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits applied to the worker and everything it starts (``setrlimit``)."""

    memory_bytes: int = 4 * _GIB
    """Address space (``RLIMIT_AS``); allocations beyond it fail with ``MemoryError``."""
    cpu_seconds: int = 3600
    """CPU time (``RLIMIT_CPU``); the kernel kills the worker when it is spent."""
    processes: int = 256
    """Processes and threads (``RLIMIT_NPROC``); not enforced by the kernel for root, see the docs."""
    open_files: int = 1024
    """Open file descriptors (``RLIMIT_NOFILE``)."""


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything :func:`start_worker` needs besides the entrypoint and the model."""

    limits: Limits = Limits()
    isolation: Isolation | None = None
    """The mechanism to use; None picks the strongest that works here."""
    allow_unsandboxed: bool = False
    """Run without isolation when none is available (the CLI's ``--no-sandbox``)."""
    start_timeout: float = 30.0
    """Seconds from spawning the worker to its ready message (includes loading the model)."""
    call_timeout: float = 600.0
    """Default seconds a call may take before the worker is killed."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables for the worker, on top of its minimal environment."""
    python_path: tuple[Path, ...] = ()
    """Extra import roots, mounted read-only (user adapters, test handlers)."""
    max_message_bytes: int = 2 * _GIB
    """The largest reply the parent accepts; a bigger one is a protocol error, not an allocation."""
    shared_memory_bytes: int = 64 << 20
    """Size of the sealed region request arrays are written into for the worker to read in place;
    a request whose arrays do not fit goes through the pipe, as every request does with 0."""
