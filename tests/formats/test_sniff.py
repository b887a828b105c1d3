"""Formats are told by content: the right reading for each magic, every reading for a polyglot."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import zipfile
import zlib

import pytest

from modelsteward.formats import Format, detect


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


PAYLOAD = pickle.dumps({"a": 1}, protocol=2)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (pickle.dumps([1, 2], protocol=0), Format.PICKLE),
        (pickle.dumps([1, 2], protocol=1), Format.PICKLE),
        (pickle.dumps([1, 2], protocol=5), Format.PICKLE),
        (_zip({"a.txt": b"x"}), Format.ZIP),
        (gzip.compress(PAYLOAD), Format.GZIP),
        (bz2.compress(PAYLOAD), Format.BZIP2),
        (lzma.compress(PAYLOAD), Format.XZ),
        (lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE), Format.LZMA),
        (zlib.compress(PAYLOAD), Format.ZLIB),
        (b"\x93NUMPY\x01\x00" + b"\x00" * 20, Format.NUMPY),
        (b"GGUF\x03\x00\x00\x00" + b"\x00" * 16, Format.GGUF),
        (b"\x89HDF\r\n\x1a\n" + b"\x00" * 16, Format.HDF5),
        (b'{"chat_template": "{{ x }}"}', Format.JSON),
        (b"import os\nprint('hello')\n", Format.TEXT),
        (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 26, Format.SEVENZIP),
    ],
)
def test_magic_routes_to_one_format(data: bytes, expected: Format) -> None:
    assert detect(memoryview(data))[0] is expected


def test_safetensors_by_header_length_and_json() -> None:
    header = b'{"__metadata__":{}}'
    data = len(header).to_bytes(8, "little") + header
    assert detect(memoryview(data)) == (Format.SAFETENSORS,)


def test_pickle_with_zip_appended_is_both() -> None:
    polyglot = PAYLOAD + _zip({"data.pkl": PAYLOAD})
    assert detect(memoryview(polyglot)) == (Format.PICKLE, Format.ZIP)


def test_name_does_not_matter_random_bytes_are_unknown() -> None:
    assert detect(memoryview(bytes(range(256)) * 4)) == (Format.UNKNOWN,)


def test_a_few_bytes_of_floats_are_not_a_protobuf() -> None:
    # Two float32 values of an optimizer state parse as protobuf fields by chance.
    assert detect(memoryview(bytes.fromhex("cdcccc3ecdcccc3e"))) == (Format.UNKNOWN,)


def test_a_tiny_protobuf_named_like_one_is_still_read_as_one() -> None:
    # SavedModel{meta_graphs{graph_def{node{name: "n", op: "PyFunc"}}}}: 19 bytes.
    node = b"\x0a\x01n" + b"\x12\x06PyFunc"
    graph = b"\x0a" + bytes([len(node)]) + node
    meta = b"\x12" + bytes([len(graph)]) + graph
    saved = b"\x12" + bytes([len(meta)]) + meta
    assert detect(memoryview(saved), "saved_model.pb") == (Format.PROTOBUF,)
    assert detect(memoryview(saved)) == (Format.UNKNOWN,)


def test_text_that_starts_like_zlib_is_read_both_ways() -> None:
    # "x " is a valid zlib header: two bytes are weak evidence, so the text reading stays.
    assert detect(memoryview(b"x = 1\nprint(x)\n")) == (Format.ZLIB, Format.TEXT)
