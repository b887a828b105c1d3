"""Fixtures for the source tests: no connection may leave this machine."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sources.repos import GitRepo, git_env

_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@pytest.fixture(autouse=True)
def _local_network_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse name lookups and connections beyond loopback, so a client that strays fails loudly."""
    lookup, connect = socket.getaddrinfo, socket.socket.connect

    def guarded_lookup(host: bytes | str | None, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else host
        assert name is None or name in _LOCAL_NAMES, f"a test tried to look up {name!r}"
        return lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    def guarded_connect(self: socket.socket, address: object) -> None:
        if isinstance(address, tuple):
            assert ipaddress.ip_address(address[0]).is_loopback, f"a test tried to connect to {address!r}"
        connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield


@pytest.fixture
def env() -> dict[str, str]:
    """The environment a source is opened with: this process's, minus git's repository variables."""
    return git_env()


@pytest.fixture
def model_repo(tmp_path: Path) -> GitRepo:
    """A model repository with a nested file, its first commit on ``main``."""
    repo = GitRepo.create(tmp_path / "model")
    repo.commit("first", {"config.json": b'{"layers": 2}\n', "weights/part-1.bin": b"\x00\x01\x02"})
    return repo
