"""Shared fixtures: scan bytes as a file, and a canary that must never fire."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelsteward.checks.security import FileReport, ScanOptions
from modelsteward.checks.security._scan import scan_file
from modelsteward.core.rules import load_catalogue

ScanBytes = Callable[..., FileReport]


@pytest.fixture
def scan_bytes(tmp_path: Path) -> ScanBytes:
    """Write ``data`` to a file named ``name`` and scan it."""
    catalogue = load_catalogue()

    def run(data: bytes, name: str = "model.bin", options: ScanOptions | None = None) -> FileReport:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return scan_file(path, name, options or ScanOptions(), catalogue)

    return run


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A path that a payload would create if it ever ran; tests assert it never exists."""
    return tmp_path / "canary" / "fired"
