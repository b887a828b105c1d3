"""A free loopback port, for the tests that start a server."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listened on a moment ago (another process may take it before the caller)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
