"""The protobuf wire-format reader: fields, bounds, laziness, and robustness on random bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from modelsteward.formats.protobuf import (
    MAX_DEPTH,
    ProtobufError,
    WireType,
    descend,
    iter_fields,
    looks_like_protobuf,
    read_varint,
    text,
)


def test_varint_round_trip() -> None:
    assert read_varint(memoryview(b"\x96\x01"), 0) == (150, 2)
    assert read_varint(memoryview(b"\xff" * 9 + b"\x01"), 0) == ((1 << 64) - 1, 10)


@pytest.mark.parametrize("data", [b"\x80", b"\xff" * 11])
def test_varint_malformed(data: bytes) -> None:
    with pytest.raises(ProtobufError):
        read_varint(memoryview(data), 0)


def test_fields_of_a_real_message() -> None:
    tensor = helper.make_tensor("w", TensorProto.FLOAT, [2], b"\x00\x00\x80?\x00\x00\x00@", raw=True)
    fields = list(iter_fields(memoryview(tensor.SerializeToString())))
    by_number = {f.number: f for f in fields}
    assert by_number[1].wire_type is WireType.VARINT and by_number[1].integer == 2  # dims
    assert text(by_number[8]) == "w"  # name
    assert bytes(by_number[9].payload) == b"\x00\x00\x80?\x00\x00\x00@"  # raw_data


def test_payloads_are_views_not_copies() -> None:
    data = memoryview(bytearray(b"\x0a\x03abc"))
    (field,) = iter_fields(data)
    data.obj[2] = ord("X")  # type: ignore[index]
    assert bytes(field.payload) == b"Xbc"


def test_fixed_fields() -> None:
    fields = list(iter_fields(memoryview(b"\x0d\x01\x00\x00\x00\x11" + (2).to_bytes(8, "little"))))
    assert [(f.wire_type, f.integer) for f in fields] == [(WireType.FIXED32, 1), (WireType.FIXED64, 2)]


@pytest.mark.parametrize(
    "data",
    [
        b"\x0a\x05abc",  # length past the end
        b"\x0b\x0c",  # group start: unsupported wire type
        b"\x00\x01",  # field number 0
        b"\x0d\x01\x00",  # fixed32 cut short
    ],
)
def test_malformed_messages(data: bytes) -> None:
    with pytest.raises(ProtobufError):
        list(iter_fields(memoryview(data)))
    assert not looks_like_protobuf(memoryview(data))


def test_wrong_accessor_raises() -> None:
    (field,) = iter_fields(memoryview(b"\x08\x01"))
    with pytest.raises(ProtobufError):
        _ = field.payload


def test_depth_is_bounded() -> None:
    assert descend(0) == 1
    with pytest.raises(ProtobufError):
        descend(MAX_DEPTH)


def test_looks_like_protobuf() -> None:
    model = helper.make_model(helper.make_graph([], "g", [], []))
    assert looks_like_protobuf(memoryview(model.SerializeToString()))
    assert not looks_like_protobuf(memoryview(b""))
    assert not looks_like_protobuf(memoryview(b"\xff\xfe\xfd\xfc random binary"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_never_crash(data: bytes) -> None:
    view = memoryview(data)
    try:
        fields = list(iter_fields(view))
    except ProtobufError:
        assert not looks_like_protobuf(view)
    else:
        assert looks_like_protobuf(view) == bool(fields)
        assert all(0 <= f.offset < len(data) for f in fields)
