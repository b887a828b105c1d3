"""Damaged containers never crash or stall the readers: every run ends in a report."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsteward.checks.security import Limits, ScanOptions
from tests.conftest import ScanBytes


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
        archive.writestr("archive/data/0", bytes(range(64)), compress_type=zipfile.ZIP_DEFLATED)
        with archive.open("big", "w", force_zip64=True) as member:
            member.write(b"z" * 100)
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in (("sys_info", pickle.dumps(1)), ("p" * 120, b"x" * 700)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([1, "a", None], dtype=object), allow_pickle=True)
    return buffer.getvalue()


SEEDS = [_zip(), _tar(), gzip.compress(_tar()), _npy()]
# Small limits so that mutated sizes and ratios hit every limit path quickly.
OPTIONS = ScanOptions(limits=Limits(max_expanded_bytes=1 << 22, max_ratio=50, max_members=50, max_depth=6))


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(len(data) // 2, len(data)))
    return bytes(data[:cut])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=damaged())
def test_damaged_containers_give_a_report(scan_bytes: ScanBytes, data: bytes) -> None:
    report = scan_bytes(data, name="model.bin", options=OPTIONS)
    assert report.status in {"scanned", "incomplete"}
    assert all(f.rule != "SCAN-ERROR" for f in report.findings), [f.message for f in report.findings]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from([b"PK\x03\x04", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x03\x00", b"\x1f\x8b\x08\x00"]),
    tail=st.binary(max_size=1024),
    end=st.sampled_from(
        [b"", b"PK\x05\x06" + bytes(18), b"PK\x06\x07" + bytes(16) + b"PK\x05\x06" + b"\xff" * 18]
    ),
)
def test_random_bytes_behind_magic_give_a_report(
    scan_bytes: ScanBytes, prefix: bytes, tail: bytes, end: bytes
) -> None:
    report = scan_bytes(prefix + tail + end, name="model.bin", options=OPTIONS)
    assert all(f.rule != "SCAN-ERROR" for f in report.findings), [f.message for f in report.findings]
