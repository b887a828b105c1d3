"""The frame codec: round trips, and refusal of everything a hostile worker could send."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from modelsteward.runtime.sandbox import Message
from modelsteward.runtime.sandbox._errors import ProtocolError
from modelsteward.runtime.sandbox._wire import MAGIC, PREFIX, ReadInto, encode, read_frame, unwritten


def _reader(data: bytes) -> ReadInto:
    stream = io.BytesIO(data)

    def read_into(view: memoryview) -> None:
        if stream.readinto(view) != view.nbytes:
            raise EOFError

    return read_into


def _frame(header: object, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return PREFIX.pack(MAGIC, len(raw), len(body)) + raw + body


def test_round_trip_keeps_header_dtypes_and_shapes() -> None:
    arrays = {
        "x": np.arange(12, dtype=np.float32).reshape(3, 4),
        "mask": np.array([True, False, True]),
        "ids": np.arange(5, dtype=">i8"),
        "empty": np.zeros((0, 7)),
        "strided": np.arange(20.0)[::3],
    }
    frame = b"".join(
        bytes(chunk) for chunk in encode(Message({"task": "predict", "n": [1, 2]}, arrays), {"k": 1})
    )
    message, meta = read_frame(_reader(frame), max_bytes=1 << 20)
    assert message.header == {"task": "predict", "n": [1, 2]}
    assert meta == {"k": 1}
    assert set(message.arrays) == set(arrays)
    for name, array in arrays.items():
        assert message.arrays[name].dtype == array.dtype
        np.testing.assert_array_equal(message.arrays[name], array)


def test_encode_refuses_object_arrays() -> None:
    with pytest.raises(ValueError, match="only booleans, integers and floats"):
        encode(Message({}, {"x": np.array([object()])}))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (b"EVIL" + bytes(12), "magic"),
        (PREFIX.pack(MAGIC, 10, 1 << 40), "exceeds the limit"),
        (_frame([1, 2]), "not a JSON object"),
        (_frame({"header": {}, "arrays": [], "meta": {}})[:-1] + b"{", "not JSON"),
        (_frame({"header": {}, "arrays": [["x", "|O", [1]]], "meta": {}}, bytes(8)), "dtype '|O'"),
        (_frame({"header": {}, "arrays": [["x", "[('a', '<i4')]", [1]]], "meta": {}}, bytes(4)), "dtype"),
        (_frame({"header": {}, "arrays": [["x", "<f8", [4]]], "meta": {}}, bytes(8)), "describe 32"),
        (_frame({"header": {}, "arrays": [["x", "<f8", [-1]]], "meta": {}}, bytes(8)), "bad array"),
        (_frame({"header": {}, "arrays": [["x", "<f8", [1 << 62, 1 << 62]]], "meta": {}}), "describe"),
        (_frame({"header": {}, "arrays": [["x", "<f8", [1]], ["x", "<f8", [1]]], "meta": {}}), "twice"),
        (_frame({"header": "no", "arrays": [], "meta": {}}), "needs the objects"),
        (PREFIX.pack(MAGIC, 20000, 0) + b"[" * 20000, "not JSON"),
    ],
)
def test_malformed_frames_are_protocol_errors(frame: bytes, match: str) -> None:
    with pytest.raises(ProtocolError, match=match):
        read_frame(_reader(frame), max_bytes=1 << 20)


def test_frame_cut_short_is_end_of_stream() -> None:
    frame = b"".join(bytes(c) for c in encode(Message({}, {"x": np.arange(100.0)})))
    with pytest.raises(EOFError):
        read_frame(_reader(frame[:-10]), max_bytes=1 << 20)


def test_decoded_arrays_share_the_frame_buffer() -> None:
    frame = b"".join(bytes(c) for c in encode(Message({}, {"x": np.arange(1000.0)})))
    message, _ = read_frame(_reader(frame), max_bytes=1 << 20)
    assert message.arrays["x"].base is not None
    assert struct.calcsize("<4sIQ") == PREFIX.size


def _shared_frame(region: bytearray, message: Message) -> bytes:
    return b"".join(bytes(chunk) for chunk in encode(message, shared=memoryview(region)))


def test_arrays_that_fit_the_shared_region_are_described_not_sent() -> None:
    region = bytearray(1 << 16)
    arrays = {
        "x": np.arange(200.0).reshape(20, 10)[:, ::2],
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 3), dtype=np.int16),
    }
    frame = _shared_frame(region, Message({"op": "predict"}, arrays))
    document = json.loads(frame[PREFIX.size :])
    assert document["body"] == "shared"
    message, _ = read_frame(_reader(frame), max_bytes=1 << 20, shared=memoryview(region).toreadonly())
    assert message.header == {"op": "predict"}
    for name, array in arrays.items():
        np.testing.assert_array_equal(message.arrays[name], array)
        assert message.arrays[name].dtype == array.dtype
        assert not message.arrays[name].flags.writeable


def test_arrays_larger_than_the_shared_region_follow_the_header() -> None:
    region = bytearray(1024)
    array = np.arange(1000.0)
    frame = _shared_frame(region, Message({}, {"x": array}))
    assert "body" not in json.loads(frame[PREFIX.size : -array.nbytes])
    assert region == bytearray(1024)
    message, _ = read_frame(_reader(frame), max_bytes=1 << 20, shared=memoryview(region))
    np.testing.assert_array_equal(message.arrays["x"], array)


def test_a_reader_without_a_shared_region_refuses_frames_that_point_into_one() -> None:
    frame = _shared_frame(bytearray(1024), Message({}, {"x": np.arange(4.0)}))
    with pytest.raises(ProtocolError, match="shared memory"):
        read_frame(_reader(frame), max_bytes=1 << 20)


@pytest.mark.parametrize(
    ("document", "body_length", "match"),
    [
        ({"header": {}, "arrays": [["x", "<f8", [1000]]], "meta": {}, "body": "shared"}, 8000, "exceeds"),
        ({"header": {}, "arrays": [], "meta": {}, "body": "elsewhere"}, 0, "`stream` or `shared`"),
    ],
)
def test_bad_shared_descriptions_are_protocol_errors(document: object, body_length: int, match: str) -> None:
    raw = json.dumps(document).encode()
    frame = PREFIX.pack(MAGIC, len(raw), body_length) + raw
    with pytest.raises(ProtocolError, match=match):
        read_frame(_reader(frame), max_bytes=1 << 20, shared=memoryview(bytearray(1024)))


def test_unwritten_drops_whole_buffers_and_cuts_a_partial_one() -> None:
    views = [memoryview(b"abc"), memoryview(b"de"), memoryview(b"fgh")]
    assert [bytes(v) for v in unwritten(views, 0)] == [b"abc", b"de", b"fgh"]
    assert [bytes(v) for v in unwritten(views, 4)] == [b"e", b"fgh"]
    assert [bytes(v) for v in unwritten(views, 5)] == [b"fgh"]
    assert unwritten(views, 8) == []
