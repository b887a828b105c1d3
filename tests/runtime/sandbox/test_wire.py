"""The frame codec: round trips, and refusal of everything a hostile worker could send."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from modelsteward.runtime.sandbox import Message
from modelsteward.runtime.sandbox._errors import ProtocolError
from modelsteward.runtime.sandbox._wire import MAGIC, PREFIX, ReadInto, encode, read_frame


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
