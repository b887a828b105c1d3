""".npy arrays: object arrays are pickles and are scanned as such; other arrays are only sized."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from modelsteward.checks.security import FileReport
from modelsteward.core import Severity
from tests.conftest import ScanBytes

PEERS = Path("/work/shared/peer-corpora/picklescan/data2")


def payload(canary: Path) -> bytes:
    """A protocol-0 pickle that would run ``touch canary`` if loaded; it never is."""
    return f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode()


def npy(header: str, body: bytes, version: int = 1) -> bytes:
    """An .npy file with a header written by hand."""
    text = header.encode("latin-1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + body
    return b"\x93NUMPY" + bytes([version, 0]) + len(text).to_bytes(4, "little") + text + body


def saved(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def rules(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings}


@pytest.fixture(autouse=True)
def _canary_never_fires(canary: Path) -> Iterator[None]:
    yield
    assert not canary.exists()


@pytest.mark.parametrize("version", [None, (1, 0), (2, 0), (3, 0)])
def test_plain_arrays_are_clean(scan_bytes: ScanBytes, version: tuple[int, int] | None) -> None:
    for array in (np.arange(12, dtype=np.float32).reshape(3, 4), np.zeros((0, 5)), np.float64(3.5)):
        report = scan_bytes(saved(np.asarray(array), version), name="a.npy")
        assert report.format == "numpy"
        assert report.status == "scanned" and not report.findings, report


def test_benign_object_arrays_are_not_flagged(scan_bytes: ScanBytes) -> None:
    array = np.array([{"label": "cat"}, [1, 2], "text", None], dtype=object)
    structured = np.zeros(2, dtype=[("id", "<i4"), ("meta", "O")])
    for data in (saved(array), saved(structured), (PEERS / "object_array.npy").read_bytes()):
        report = scan_bytes(data, name="a.npy")
        assert all(f.severity < Severity.MEDIUM for f in report.findings), report


def test_object_array_pickle_is_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    report = scan_bytes(npy(header, payload(canary)), name="a.npy")
    critical = [f for f in report.findings if f.severity is Severity.CRITICAL]
    assert critical and critical[0].location.startswith("object array data")


def test_structured_dtype_with_an_object_field_is_a_pickle(scan_bytes: ScanBytes, canary: Path) -> None:
    header = "{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }"
    assert scan_bytes(npy(header, payload(canary), version=3)).worst is Severity.CRITICAL


def test_peer_exfiltration_array_is_flagged(scan_bytes: ScanBytes) -> None:
    report = scan_bytes((PEERS / "dns_exfiltration.npy").read_bytes(), name="dns_exfiltration.npy")
    assert report.worst is Severity.CRITICAL


def test_short_data_is_a_size_mismatch(scan_bytes: ScanBytes) -> None:
    data = saved(np.arange(100, dtype=np.int64))
    report = scan_bytes(data[:-8], name="a.npy")
    assert rules(report) == {"NUMPY-SIZE-MISMATCH"}
    assert report.status == "incomplete"
    assert report.worst is Severity.LOW


def test_bytes_after_the_array_are_scanned(scan_bytes: ScanBytes, canary: Path) -> None:
    report = scan_bytes(saved(np.arange(4, dtype=np.int32)) + payload(canary), name="a.npy")
    assert "NUMPY-SIZE-MISMATCH" in rules(report)
    assert report.worst is Severity.CRITICAL


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<f4', 'fortran_order': False}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': 'not a dtype', 'fortran_order': False, 'shape': (2,)}",
        "[1, 2, 3]",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
        "__import__('os').system('touch CANARY')",
        "(" * 10000 + ")" * 10000,
    ],
)
def test_malformed_headers_are_incomplete(scan_bytes: ScanBytes, canary: Path, header: str) -> None:
    report = scan_bytes(npy(header.replace("CANARY", str(canary)), bytes(8)), name="a.npy")
    assert rules(report) == {"NUMPY-MALFORMED"}
    assert report.status == "incomplete"


def test_header_longer_than_the_file_is_malformed(scan_bytes: ScanBytes) -> None:
    data = b"\x93NUMPY\x02\x00" + (1 << 30).to_bytes(4, "little") + b"{}"
    report = scan_bytes(data, name="a.npy")
    assert rules(report) == {"NUMPY-MALFORMED"}


def test_unknown_version_is_malformed(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"\x93NUMPY\x09\x00\x10\x00" + b" " * 16, name="a.npy")
    assert rules(report) == {"NUMPY-MALFORMED"}
    assert "version 9" in report.findings[0].message
