"""Native binaries shipped beside a model are reported, whatever their name."""

from __future__ import annotations

import sys
from pathlib import Path

from modelsteward.core import Severity
from tests.conftest import ScanBytes


def test_a_real_shared_library_is_native_code(scan_bytes: ScanBytes) -> None:
    library = next(Path(sys.base_prefix, "lib").rglob("*.so*"))
    report = scan_bytes(library.read_bytes()[: 1 << 20], name="weights.txt")
    assert report.format == "native"
    assert [(f.rule, f.severity) for f in report.findings] == [("NATIVE-CODE", Severity.HIGH)]


def test_mz_without_pe_header_is_not_native(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"MZ" + bytes(100), name="blob")
    assert report.format != "native"
