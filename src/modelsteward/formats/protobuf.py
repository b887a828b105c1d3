"""A minimal reader of the protobuf wire format, enough to walk ONNX and TensorFlow files.

Nothing here knows a schema: :func:`iter_fields` yields the fields of one message, lazily, with
length-delimited payloads as slices of the caller's memoryview (never copies), so a multi-GB
ONNX initializer costs nothing unless a caller converts it. Callers that descend into nested
messages pass a depth and call :func:`descend`, which bounds recursion.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

MAX_DEPTH = 64
"""Deepest nesting of messages a walker follows (protobuf's own C++ default is 100)."""

_MAX_VARINT_BYTES = 10
_MAX_FIELD_NUMBER = (1 << 29) - 1
# looks_like_protobuf reads at most this many top-level fields before deciding.
_PROBE_FIELDS = 1_000_000


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


class WireType(enum.IntEnum):
    """How a field's value is encoded; groups (3, 4) are deprecated and not accepted."""

    VARINT = 0
    FIXED64 = 1
    LEN = 2
    FIXED32 = 5


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message as it appears on the wire."""

    number: int
    wire_type: WireType
    value: int | memoryview
    """The integer of a varint or fixed field; the payload slice of a length-delimited one."""
    offset: int
    """Where the field's tag starts, relative to the message."""

    @property
    def payload(self) -> memoryview:
        """The bytes of a length-delimited field; raise ProtobufError for any other wire type."""
        if not isinstance(self.value, memoryview):
            raise ProtobufError(f"field {self.number} at {self.offset} is {self.wire_type.name}, not LEN")
        return self.value

    @property
    def integer(self) -> int:
        """The value of a varint or fixed field; raise ProtobufError for a length-delimited one."""
        if isinstance(self.value, memoryview):
            raise ProtobufError(f"field {self.number} at {self.offset} is LEN, not an integer")
        return self.value


def read_varint(data: memoryview, pos: int) -> tuple[int, int]:
    """The varint starting at ``pos`` and the position after it (at most 10 bytes, 64 bits)."""
    result = 0
    for index in range(_MAX_VARINT_BYTES):
        if pos + index >= len(data):
            raise ProtobufError(f"varint at {pos} runs past the end")
        byte = data[pos + index]
        result |= (byte & 0x7F) << (7 * index)
        if byte < 0x80:
            return result & 0xFFFF_FFFF_FFFF_FFFF, pos + index + 1
    raise ProtobufError(f"varint at {pos} is longer than {_MAX_VARINT_BYTES} bytes")


def _read_field(data: memoryview, pos: int) -> tuple[Field, int]:
    tag, cursor = read_varint(data, pos)
    number, wire = tag >> 3, tag & 7
    if not 1 <= number <= _MAX_FIELD_NUMBER:
        raise ProtobufError(f"field number {number} at {pos} is out of range")
    if wire == WireType.VARINT:
        value, cursor = read_varint(data, cursor)
        return Field(number, WireType.VARINT, value, pos), cursor
    if wire == WireType.LEN:
        length, cursor = read_varint(data, cursor)
        if length > len(data) - cursor:
            raise ProtobufError(f"field {number} at {pos} claims {length} bytes, {len(data) - cursor} left")
        return Field(number, WireType.LEN, data[cursor : cursor + length], pos), cursor + length
    if wire in (WireType.FIXED64, WireType.FIXED32):
        size = 8 if wire == WireType.FIXED64 else 4
        if size > len(data) - cursor:
            raise ProtobufError(f"fixed field {number} at {pos} runs past the end")
        value = int.from_bytes(data[cursor : cursor + size], "little")
        return Field(number, WireType(wire), value, pos), cursor + size
    raise ProtobufError(f"field {number} at {pos} has unsupported wire type {wire}")


def iter_fields(data: memoryview) -> Iterator[Field]:
    """Every field of the message ``data``, in order; raise ProtobufError where it is malformed."""
    pos = 0
    while pos < len(data):
        field, pos = _read_field(data, pos)
        yield field


def descend(depth: int) -> int:
    """The depth of a nested message one level below ``depth``; raise ProtobufError past MAX_DEPTH."""
    if depth >= MAX_DEPTH:
        raise ProtobufError(f"messages nested deeper than {MAX_DEPTH} levels")
    return depth + 1


def text(field: Field, limit: int = 4096) -> str:
    """A string field, decoded leniently and cut to ``limit`` characters (names, keys, paths)."""
    return bytes(field.payload[:limit]).decode("utf-8", errors="replace")


def looks_like_protobuf(data: memoryview) -> bool:
    """Whether ``data`` parses as one protobuf message to its very end.

    A cheap plausibility check for binary content that is no other format: it reads only the
    top-level field headers, skipping payloads, and gives up (False) on any malformation.
    """
    if len(data) == 0:
        return False
    try:
        for count, _ in enumerate(iter_fields(data)):
            if count >= _PROBE_FIELDS:
                return False
    except ProtobufError:
        return False
    return True
