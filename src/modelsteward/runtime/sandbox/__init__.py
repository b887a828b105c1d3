"""The sandbox every model load and inference runs in: an isolated worker process.

:func:`start_worker` spawns a worker under bubblewrap (or unshare, or, only when explicitly
allowed, no isolation), with resource limits, a minimal environment and a read-only view of the
interpreter and the model. Parent and worker exchange :class:`Message` values as frames of JSON
and raw numeric arrays: nothing crossing the boundary is ever unpickled. Everything a worker can
do wrong surfaces as a :class:`WorkerError` with a reason.
"""

from modelsteward.runtime.sandbox._config import Isolation, Limits, SandboxConfig
from modelsteward.runtime.sandbox._errors import Reason, SandboxUnavailable, WorkerError
from modelsteward.runtime.sandbox._isolation import detect_isolation
from modelsteward.runtime.sandbox._message import Message
from modelsteward.runtime.sandbox._worker import Worker, start_worker

__all__ = [
    "Isolation",
    "Limits",
    "Message",
    "Reason",
    "SandboxConfig",
    "SandboxUnavailable",
    "Worker",
    "WorkerError",
    "detect_isolation",
    "start_worker",
]
