"""What can go wrong with a sandboxed worker, in terms a caller can turn into an error result."""

from __future__ import annotations

from typing import Literal

Reason = Literal["crashed", "out-of-memory", "timeout", "protocol", "error"]


class SandboxUnavailable(Exception):  # noqa: N818 - names the state, as the CLI reports it
    """No isolation mechanism works here and running unsandboxed was not allowed."""


class ProtocolError(Exception):
    """A frame that does not follow the wire format (raised by the codec, never past the worker API)."""


class WorkerError(Exception):
    """A worker failed: its model raised, crashed, ran out of memory or time, or broke the protocol."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        """``crashed``, ``out-of-memory``, ``timeout``, ``protocol`` or ``error`` (the handler raised)."""
