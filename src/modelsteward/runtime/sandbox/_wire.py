"""The frame format between parent and worker: a JSON header and raw array bytes, never a pickle.

A frame is a fixed prefix (magic, header length, body length), a UTF-8 JSON header and a body
holding each array's bytes in order, every one starting at a multiple of :data:`ALIGNMENT`. The
header names each array's dtype (from a fixed allowlist of numeric types) and shape; the decoder
recomputes the layout from them and insists that it fills the body exactly, so a hostile sender
can neither smuggle code nor make the receiver allocate more than the size bound it chose.

A sender and receiver that share a memory region may lay the body out at its start instead of
sending it (``"body": "shared"``); the frame then only describes the arrays, and the receiver
views them in place. Only the parent sends such frames; the parent's own reader refuses them.
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
WRITEV_MAX = 1024
"""The most buffers one ``writev`` takes on Linux; a frame with more goes in several calls."""

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

_Spec = tuple[str, np.dtype[Any], tuple[int, ...]]
"""An array's name, dtype and shape, as a frame's header describes it."""


def encode(
    message: Message, meta: Mapping[str, Any] | None = None, shared: memoryview | None = None
) -> list[bytes | memoryview]:
    """The buffers of one frame, in order; array bytes are views, not copies, where already contiguous.

    ``meta`` is the envelope (reply kind, peak memory): kept apart from the handler's own header.
    With ``shared``, a writable region the receiver maps too, arrays that fit in it are copied
    there and the frame only describes them; otherwise their bytes follow the header.
    """
    arrays = [np.asarray(value) for value in message.arrays.values()]
    specs: list[_Spec] = []
    for name, array in zip(message.arrays, arrays, strict=True):
        if array.dtype.str not in DTYPES:
            raise ValueError(
                f"array {name!r} has dtype {array.dtype}; only booleans, integers and floats cross"
            )
        specs.append((name, array.dtype, array.shape))
    layout = _layout(specs)
    body_length = layout[-1] if layout else 0
    document: dict[str, Any] = {
        "header": dict(message.header),
        "arrays": [[name, dtype.str, list(shape)] for name, dtype, shape in specs],
        "meta": dict(meta or {}),
    }
    chunks: list[bytes | memoryview] = []
    if shared is not None and 0 < body_length <= shared.nbytes:
        _copy_into(shared, arrays, layout)
        document["body"] = "shared"
    else:
        chunks = _body_chunks(arrays, layout)
    try:
        header = json.dumps(document, separators=(",", ":"), allow_nan=True).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"message header is not JSON: {exc}") from exc
    return [PREFIX.pack(MAGIC, len(header), body_length), header, *chunks]


def _copy_into(shared: memoryview, arrays: list[npt.NDArray[Any]], layout: list[int]) -> None:
    """Lay the body out at the start of ``shared``: one copy per array, strided ones included."""
    for array, end in zip(arrays, layout, strict=True):
        if array.size:
            target = np.frombuffer(shared, array.dtype, array.size, end - array.nbytes)
            np.copyto(target.reshape(array.shape), array)


def _body_chunks(arrays: list[npt.NDArray[Any]], layout: list[int]) -> list[bytes | memoryview]:
    """The body's bytes as they follow the header: each array, padded to its aligned offset."""
    chunks: list[bytes | memoryview] = []
    offset = 0
    for array, end in zip(arrays, layout, strict=True):
        start = end - array.nbytes
        if start > offset:
            chunks.append(bytes(start - offset))
        chunks.append(np.ascontiguousarray(array).reshape(-1).view(np.uint8).data)
        offset = end
    return chunks


def unwritten(views: list[memoryview], count: int) -> list[memoryview]:
    """What is left of ``views`` (byte views, as ``writev`` takes them) once ``count`` bytes were written."""
    while views and count >= views[0].nbytes:
        count -= views[0].nbytes
        views = views[1:]
    if count:
        views = [views[0][count:], *views[1:]]
    return views


def read_frame(
    read_into: ReadInto, max_bytes: int, shared: memoryview | None = None
) -> tuple[Message, dict[str, Any]]:
    """Read and validate one frame; returns the message and its envelope.

    Raises ProtocolError for anything malformed or larger than ``max_bytes`` (checked before
    reading the body) and EOFError when the stream ends. A frame whose body is in a shared region
    is read from ``shared``, its arrays views of it; without ``shared`` such a frame is refused.
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
    header, specs, meta, in_region = _parse_header(raw_header)
    layout = _layout(specs)
    described = layout[-1] if layout else 0
    if described != body_length:
        raise ProtocolError(f"body is {body_length} bytes; its arrays describe {described}")
    body: bytearray | memoryview
    if not in_region:
        body = bytearray(body_length)
        read_into(memoryview(body))
    elif shared is None:
        raise ProtocolError("frame puts its arrays in shared memory, which this reader does not take")
    elif body_length > shared.nbytes:
        raise ProtocolError(f"body of {body_length} bytes exceeds the shared region of {shared.nbytes}")
    else:
        body = shared
    arrays: dict[str, npt.NDArray[Any]] = {}
    for (name, dtype, shape), end in zip(specs, layout, strict=True):
        count = math.prod(shape)
        start = end - count * dtype.itemsize
        arrays[name] = np.frombuffer(body, dtype=dtype, count=count, offset=start).reshape(shape)
    return Message(header=header, arrays=arrays), meta


def _parse_header(raw: bytearray) -> tuple[dict[str, Any], list[_Spec], dict[str, Any], bool]:
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
    body = document.get("body", "stream")
    if body not in ("stream", "shared"):
        raise ProtocolError(f"frame body must be `stream` or `shared`, not {str(body)[:100]!r}")
    return header, parsed, meta, body == "shared"


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
