"""safetensors: judged from the header; corrupt headers and hidden bytes are found."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save

from modelsteward.checks.security import scan
from modelsteward.core import Severity
from tests.conftest import ScanBytes

PEER = Path("/work/shared/peer-corpora/modelaudit/samples/safetensors/safe_model.safetensors")


def _real() -> bytes:
    tensors: dict[str, np.typing.NDArray[np.generic]] = {
        "a": np.ones((3, 4), np.float32),
        "b": np.arange(5, dtype=np.int64),
        "c": np.zeros(0, np.float16),
    }
    return save(tensors, metadata={"format": "pt"})


def _file(header: Mapping[str, object], data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def _rules(data: bytes, scan_bytes: ScanBytes) -> set[str]:
    return {f.rule for f in scan_bytes(data, "model.safetensors").findings}


def test_real_files_are_clean(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_real(), "model.safetensors")
    assert report.format == "safetensors" and report.findings == () and report.status == "scanned"
    assert scan([PEER]).files[0].findings == ()


def test_hidden_pickle_after_the_tensors_is_found(scan_bytes: ScanBytes, canary: Path) -> None:
    payload = b"\x80\x04" + pickle.dumps(("os", "system", str(canary)))
    report = scan_bytes(_real() + payload, "model.safetensors")
    hidden = [f for f in report.findings if f.rule == "SAFETENSORS-HIDDEN-DATA"]
    assert len(hidden) == 1 and hidden[0].severity == Severity.HIGH
    assert not canary.exists()


def test_gap_between_tensors_is_hidden_data(scan_bytes: ScanBytes) -> None:
    header = {
        "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
        "b": {"dtype": "U8", "shape": [2], "data_offsets": [6, 8]},
    }
    report = scan_bytes(_file(header, b"aaXXXXbb"), "model.safetensors")
    (finding,) = report.findings
    assert finding.rule == "SAFETENSORS-HIDDEN-DATA" and "4 bytes" in finding.message


def test_overlap_is_reported(scan_bytes: ScanBytes) -> None:
    header = {
        "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
        "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]},
    }
    assert _rules(_file(header, b"aaaa"), scan_bytes) == {"SAFETENSORS-OVERLAP"}


def test_duplicate_key_is_reported(scan_bytes: ScanBytes) -> None:
    entry = b'{"dtype":"U8","shape":[1],"data_offsets":[0,1]}'
    raw = b'{"a":' + entry + b',"a":' + entry + b"}"
    data = len(raw).to_bytes(8, "little") + raw + b"x"
    assert "SAFETENSORS-DUPLICATE-KEY" in _rules(data, scan_bytes)


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [1], "data_offsets": [0, 400]},
        {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]},
        {"dtype": "F32", "shape": [1 << 62, 1 << 62, 1 << 62], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [1]},
        [1, 2],
    ],
)
def test_malformed_tensor_entries(scan_bytes: ScanBytes, entry: object) -> None:
    report = scan_bytes(_file({"t": entry}, b"\x00" * 4), "model.safetensors")
    assert "SAFETENSORS-MALFORMED" in {f.rule for f in report.findings}
    assert report.status == "incomplete"


@pytest.mark.parametrize(
    "data",
    [
        (4).to_bytes(8, "little") + b"{\xff\xfe}",  # not UTF-8
        (3).to_bytes(8, "little") + b"{1}",  # not JSON
        _file({"__metadata__": {"n": 1}}, b""),  # metadata not string to string
    ],
)
def test_malformed_headers(scan_bytes: ScanBytes, data: bytes) -> None:
    report = scan_bytes(data, "model.safetensors")
    assert "SAFETENSORS-MALFORMED" in {f.rule for f in report.findings}
    assert report.status == "incomplete"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=300))
def test_random_headers_never_crash(scan_bytes: ScanBytes, body: bytes, length: int) -> None:
    report = scan_bytes(length.to_bytes(8, "little") + b"{" + body, "model.safetensors")
    assert "SCAN-ERROR" not in {f.rule for f in report.findings}
