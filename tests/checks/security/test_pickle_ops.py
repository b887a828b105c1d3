"""The opcode tokenizer and the cheap pickle probe."""

from __future__ import annotations

import hashlib
import json
import os
import pickle

import pytest

from modelsteward.formats.pickle_ops import OPCODES, PickleSyntaxError, probe, tokenize


def _names(data: bytes) -> list[str]:
    return [op.name for op in tokenize(memoryview(data))]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_tokenize_reads_every_protocol_through_stop(protocol: int) -> None:
    data = pickle.dumps(
        {"a": [1, 2.5, "x", b"y", None, True], "b": (1 << 70, frozenset({1}))}, protocol=protocol
    )
    ops = list(tokenize(memoryview(data)))
    assert ops[-1].name == "STOP"
    assert ops[-1].end == len(data)


def test_opcode_table_matches_cpython() -> None:
    import pickletools

    assert {op.name: op.code.encode("latin-1")[0] for op in pickletools.opcodes} == {
        spec.name: code for code, spec in OPCODES.items()
    }


def test_tokenize_decodes_arguments_and_offsets() -> None:
    data = b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x93cbuiltins\ngetattr\nS'a\\x41'\n."
    ops = list(tokenize(memoryview(data)))
    assert [(op.offset, op.name) for op in ops][:3] == [(0, "PROTO"), (2, "SHORT_BINUNICODE"), (9, "MEMOIZE")]
    assert ops[1].arg == "posix"
    assert ops[5].arg == ("builtins", "getattr")
    assert ops[6].arg == "aA"


def test_tokenize_reports_truncation_after_yielding_what_it_read() -> None:
    seen: list[str] = []
    with pytest.raises(PickleSyntaxError) as error:
        for op in tokenize(memoryview(b"\x80\x02X\x10\x00\x00\x00abc")):
            seen.append(op.name)
    assert seen == ["PROTO"]
    assert error.value.truncated
    assert error.value.offset == 2


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x02\xff.", "invalid load key"),
        (b"\x80\x09N.", "unsupported pickle protocol"),
        (b"Sabc\n.", "must be quoted"),
        (b"cmod\n\xf8\n.", "not UTF-8"),
        (b"T\xff\xff\xff\xffabc", "negative length"),
        (b"Ifoo\n.", "not a number"),
    ],
)
def test_tokenize_rejects_what_cpython_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(PickleSyntaxError, match=reason):
        list(tokenize(memoryview(data)))


def test_tokenize_leaves_bytes_as_views_without_copying() -> None:
    data = pickle.dumps(b"\x01" * 1000, protocol=4)
    blob = next(op for op in tokenize(memoryview(data)) if op.name == "BINBYTES")
    assert isinstance(blob.arg, memoryview)
    assert len(blob.arg) == 1000


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_probe_accepts_pickles_of_every_protocol(protocol: int) -> None:
    assert probe(memoryview(pickle.dumps([1, "two", {3: 4.0}], protocol=protocol)))


@pytest.mark.parametrize(
    "data",
    [
        b"cos\nsystem\n(S'echo'\ntR.",
        b"N.",
        b"(lp0\nI1\naI2\na.",
        b"cos\nsystem\n(S'echo'\ntR",  # truncated: a loader still runs the call
    ],
)
def test_probe_accepts_protocol_0_streams(data: bytes) -> None:
    assert probe(memoryview(data))


@pytest.mark.parametrize(
    "data",
    [
        b"# A model card\n\nThis model classifies text.\n",
        json.dumps({"architectures": ["BertModel"], "hidden_size": 768}).encode(),
        b"certifi\nnumpy\ntorch\n",
        b"hello world, this is plain text that goes on for a while.\n" * 10,
        b"\x89PNG\r\n\x1a\n",
        b"\x80\x07N.",
        b"",
        b".",
        b"cmod\n\xf8\n",
    ],
)
def test_probe_rejects_text_and_other_formats(data: bytes) -> None:
    assert not probe(memoryview(data))


def test_probe_rejects_most_random_binary() -> None:
    blocks = (hashlib.sha256(i.to_bytes(4, "little")).digest() * 8 for i in range(2000))
    accepted = sum(probe(memoryview(block)) for block in blocks)
    assert accepted <= 10


def test_probe_looks_only_at_the_head_of_a_large_file() -> None:
    data = pickle.dumps(list(range(100)), protocol=2) + os.urandom(1 << 20)
    assert probe(memoryview(data))
    large_bytes = pickle.dumps(b"\x00" * 100_000, protocol=4)
    assert probe(memoryview(large_bytes))
