"""Arbitrary and mutated pickles: the scanner never crashes, never hangs, always reports."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from modelsteward.checks.security import Limits, ScanOptions
from modelsteward.checks.security._context import Context, Sink
from modelsteward.checks.security._dispatch import scan_nested
from modelsteward.checks.security.pickle import scan
from modelsteward.core.rules import load_catalogue
from modelsteward.formats.pickle_ops import PickleSyntaxError, probe, tokenize

CATALOGUE = load_catalogue()
OPTIONS = ScanOptions(limits=Limits(max_pickle_ops=20_000, max_depth=3))
SEED = pickle.dumps(
    {"w": [1.5, 2, "layer.weight"], "t": (None, True, b"\x00" * 20), "s": {1, 2}, "n": -(1 << 80)}, protocol=4
)
OPCODE_BYTES = st.sampled_from(
    list(b"()0.12FIJKLMNPQRSTUVXabcdeghijlopqrstu}]\x80\x81\x82\x85\x86\x87\x8c\x93\x94\x95")
)


def _scan(data: bytes) -> Sink:
    sink = Sink()
    ctx = Context("fuzz.pkl", "fuzz.pkl", OPTIONS, CATALOGUE, sink, scan_nested)
    scan(memoryview(data), ctx)
    return sink


def _complete(data: bytes) -> bool:
    try:
        return list(tokenize(memoryview(data)))[-1].name == "STOP"
    except PickleSyntaxError:
        return False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_never_crash(data: bytes) -> None:
    sink = _scan(data)
    # A stream that does not read to its STOP is never reported as fully scanned.
    if not _complete(data):
        assert sink.incomplete
    probe(memoryview(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(OPCODE_BYTES, st.binary(max_size=6)), max_size=60))
def test_opcode_soup_never_crashes(parts: list[tuple[int, bytes]]) -> None:
    data = b"".join(bytes([code]) + arg for code, arg in parts)
    sink = _scan(data)
    if not _complete(data):
        assert sink.incomplete


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(SEED) - 1), st.integers(0, 255), st.integers(1, len(SEED)))
def test_mutated_real_pickle_never_crashes(position: int, value: int, cut: int) -> None:
    data = bytearray(SEED)
    data[position] = value
    data = data[:cut]
    sink = _scan(bytes(data))
    if not _complete(bytes(data)):
        assert sink.incomplete


def test_a_very_long_stream_stops_at_the_opcode_limit() -> None:
    data = b"\x80\x02]" + b"N" * 100_000 + b"."
    sink = _scan(data)
    assert [f.rule for f in sink.findings] == ["PICKLE-OPS-LIMIT"]
    assert sink.incomplete
