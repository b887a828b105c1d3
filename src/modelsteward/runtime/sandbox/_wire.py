"""The frame format between parent and worker: a JSON header and raw array bytes, never a pickle.

A frame is a fixed prefix (magic, header length, body length), a UTF-8 JSON header and a body
holding each array's bytes in order, every one starting at a multiple of :data:`ALIGNMENT`. The
header names each array's dtype (from a fixed allowlist of numeric types) and shape; the decoder
recomputes the layout from them and insists that it fills the body exactly, so a hostile sender
can neither smuggle code nor make the receiver allocate more than the size bound it chose.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from modelsteward.runtime.sandbox._errors import ProtocolError
from modelsteward.runtime.sandbox._message import Message

MAGIC = b"MSW1"
PREFIX = struct.Struct("<4sIQ")
"""Magic, header length, body length."""
ALIGNMENT = 64
MAX_HEADER_BYTES = 16 << 20
MAX_ARRAYS = 4096
MAX_DIMENSIONS = 32

_BYTE_ORDERS: tuple[Literal["<", ">"], ...] = ("<", ">")
_NUMERIC_CODES = ("b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")
DTYPES: Mapping[str, np.dtype[Any]] = {
    dtype.str: dtype
    for code in _NUMERIC_CODES
    for order in _BYTE_ORDERS
    for dtype in (np.dtype(code).newbyteorder(order),)
}
"""Every dtype that may cross the boundary, by its ``dtype.str``; looked up, never parsed."""

ReadInto = Callable[[memoryview], None]
"""Fills the whole view from the stream, or raises EOFError at its end."""


def encode(message: Message, meta: Mapping[str, Any] | None = None) -> list[bytes | memoryview]:
    """The buffers of one frame, in order; array bytes are views, not copies, where already contiguous.

    ``meta`` is the envelope (reply kind, peak memory): kept apart from the handler's own header.
    """
    specs: list[list[Any]] = []
    chunks: list[bytes | memoryview] = []
    body_length = 0
    for name, value in message.arrays.items():
        array = np.ascontiguousarray(value)
        if array.dtype.str not in DTYPES:
            raise ValueError(
                f"array {name!r} has dtype {array.dtype}; only booleans, integers and floats cross"
            )
        padding = -body_length % ALIGNMENT
        if padding:
            chunks.append(bytes(padding))
        data = array.reshape(-1).view(np.uint8).data
        chunks.append(data)
        body_length += padding + data.nbytes
        specs.append([name, array.dtype.str, list(array.shape)])
    try:
        header = json.dumps(
            {"header": dict(message.header), "arrays": specs, "meta": dict(meta or {})},
            separators=(",", ":"),
            allow_nan=True,
        ).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"message header is not JSON: {exc}") from exc
    return [PREFIX.pack(MAGIC, len(header), body_length), header, *chunks]


def read_frame(read_into: ReadInto, max_bytes: int) -> tuple[Message, dict[str, Any]]:
    """Read and validate one frame; returns the message and its envelope.

    Raises ProtocolError for anything malformed or larger than ``max_bytes`` (checked before
    reading the body) and EOFError when the stream ends.
    """
    prefix = bytearray(PREFIX.size)
    read_into(memoryview(prefix))
    magic, header_length, body_length = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ProtocolError(f"bad frame magic {bytes(magic)!r}")
    if header_length > MAX_HEADER_BYTES or header_length + body_length > max_bytes:
        raise ProtocolError(f"frame of {header_length + body_length} bytes exceeds the limit of {max_bytes}")
    raw_header = bytearray(header_length)
    read_into(memoryview(raw_header))
    header, specs, meta = _parse_header(raw_header)
    layout = _layout(specs)
    described = layout[-1] if layout else 0
    if described != body_length:
        raise ProtocolError(f"body is {body_length} bytes; its arrays describe {described}")
    body = bytearray(body_length)
    read_into(memoryview(body))
    arrays: dict[str, npt.NDArray[Any]] = {}
    for (name, dtype, shape), end in zip(specs, layout, strict=True):
        count = math.prod(shape)
        start = end - count * dtype.itemsize
        arrays[name] = np.frombuffer(body, dtype=dtype, count=count, offset=start).reshape(shape)
    return Message(header=header, arrays=arrays), meta


_Spec = tuple[str, np.dtype[Any], tuple[int, ...]]


def _parse_header(raw: bytearray) -> tuple[dict[str, Any], list[_Spec], dict[str, Any]]:
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame header is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ProtocolError("frame header is not a JSON object")
    header, specs, meta = document.get("header"), document.get("arrays"), document.get("meta")
    if not isinstance(header, dict) or not isinstance(meta, dict) or not isinstance(specs, list):
        raise ProtocolError("frame header needs the objects `header` and `meta` and the list `arrays`")
    if len(specs) > MAX_ARRAYS:
        raise ProtocolError(f"frame has {len(specs)} arrays; at most {MAX_ARRAYS} are accepted")
    parsed = [_parse_spec(spec) for spec in specs]
    if len({name for name, _, _ in parsed}) != len(parsed):
        raise ProtocolError("frame names an array twice")
    return header, parsed, meta


def _parse_spec(spec: object) -> _Spec:
    match spec:
        case [str(name), str(code), list(shape)] if len(shape) <= MAX_DIMENSIONS and all(
            type(n) is int and n >= 0 for n in shape
        ):
            dtype = DTYPES.get(code)
            if dtype is None:
                raise ProtocolError(
                    f"array {name!r} has dtype {code!r}; only booleans, integers and floats cross"
                )
            return name, dtype, tuple(shape)
    raise ProtocolError(f"bad array description {str(spec)[:200]}")


def _layout(specs: list[_Spec]) -> list[int]:
    """The offset at which each array ends, each aligned like :func:`encode` lays them out."""
    ends: list[int] = []
    offset = 0
    for _, dtype, shape in specs:
        offset += -offset % ALIGNMENT
        # Python integers: a hostile shape cannot overflow, it can only be too big for the body.
        offset += math.prod(shape) * dtype.itemsize
        ends.append(offset)
    return ends
