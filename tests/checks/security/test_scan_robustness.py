"""Whatever the bytes, a scan ends with a report: errors become findings, never tracebacks."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsteward.checks.security import ScanOptions, scan
from modelsteward.checks.security._context import Context
from tests.conftest import ScanBytes

# Prefixes that steer random tails into each scanner's parser.
MAGICS = [
    b"",
    b"\x80\x04\x95",
    b"\x80\x02c",
    b"PK\x03\x04",
    b"\x93NUMPY\x01\x00",
    b"GGUF\x03\x00\x00\x00",
    b"\x1f\x8b\x08\x00",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"\x89HDF\r\n\x1a\n",
    b'{"chat_template": "',
    b"{% for m in messages %}",
    b"import os\n",
    b"\x08\x07\x12",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(MAGICS), tail=st.binary(max_size=2048))
def test_any_bytes_give_a_report(scan_bytes: ScanBytes, prefix: bytes, tail: bytes) -> None:
    report = scan_bytes(prefix + tail, name="fuzz.bin")
    assert report.status in {"scanned", "incomplete"}
    assert all(f.rule != "SCAN-ERROR" for f in report.findings), [f.message for f in report.findings]


def test_a_failing_scanner_becomes_a_finding_and_incomplete(
    scan_bytes: ScanBytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(data: memoryview, ctx: Context) -> None:
        raise ValueError("boom")

    monkeypatch.setattr("modelsteward.checks.security.pickle.scan", explode)
    report = scan_bytes(pickle.dumps([1, 2, 3]), name="weights.pkl")
    assert report.status == "incomplete"
    assert [f.rule for f in report.findings] == ["SCAN-ERROR"]
    assert "ValueError: boom" in report.findings[0].message


def test_unreadable_file_is_incomplete(tmp_path: Path) -> None:
    target = tmp_path / "locked.pkl"
    target.write_bytes(pickle.dumps(1))
    target.chmod(0)
    try:
        report = scan([target], ScanOptions())
    finally:
        target.chmod(0o600)
    file = report.files[0]
    # root may read anything; either way the file is never both unread and clean.
    assert file.status == "scanned" or file.incomplete[0].startswith("cannot read")


def test_model_named_file_with_foreign_content_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(bytes(range(1, 256)) * 3, name="pytorch_model.bin")
    assert report.status == "incomplete"
    assert "named like a model file" in report.incomplete[0]


def test_bytes_that_only_look_like_a_file_do_not_make_a_pickle_incomplete(scan_bytes: ScanBytes) -> None:
    # A weights blob that happens to start like gzip is data, not a file a loader would open.
    blob = b"\x1f\x8b\x08\x00" + bytes(range(256)) * 2
    report = scan_bytes(pickle.dumps({"blob": blob}, protocol=4), name="model.pkl")
    assert report.status == "scanned", report.incomplete
    assert report.findings == ()


def test_a_payload_inside_bytes_is_still_found(scan_bytes: ScanBytes, canary: Path) -> None:
    inner = f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode()
    report = scan_bytes(pickle.dumps({"blob": inner + b"\x00" * 32}, protocol=4), name="model.pkl")
    assert any(f.rule == "PICKLE-GLOBAL-DENIED" for f in report.findings)
    assert not canary.exists()


def test_tensor_bytes_that_start_like_zlib_do_not_make_an_archive_incomplete(scan_bytes: ScanBytes) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data/1", b"\x78\x9c" + bytes(range(7, 256)) * 4)  # not deflate
    report = scan_bytes(buffer.getvalue(), name="model.pt")
    assert report.status == "scanned", report.incomplete


def test_ext_opcode_in_bytes_that_only_look_like_a_pickle_is_noise(scan_bytes: ScanBytes) -> None:
    blob = b"\x80\x02\x82\x3f" + bytes(range(200, 256)) * 2  # PROTO 2, EXT1 63, then garbage
    report = scan_bytes(pickle.dumps({"weights": blob}, protocol=2), name="model.pkl")
    assert report.findings == ()
    assert report.status == "scanned"


def test_python_that_starts_like_zlib_is_still_judged_as_python(scan_bytes: ScanBytes, canary: Path) -> None:
    source = f"x = __import__('os').system('touch {canary}')\n".encode()
    report = scan_bytes(source, name="setup_helpers.py")
    assert any(
        f.rule.startswith("CODE-") and f.severity.label in {"high", "critical"} for f in report.findings
    )
    assert not canary.exists()
