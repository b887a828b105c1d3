"""safetensors files, judged from their header alone.

The layout is an 8-byte little-endian header length, a JSON header, then the data area that the
header's tensors tile exactly. Only the header is copied; the data area is never read except
for bytes no tensor accounts for, which are handed to the scanner as content of their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from modelsteward.checks.security._context import Context

# The reference implementation refuses larger headers (safetensors' MAX_HEADER_SIZE).
_MAX_HEADER = 100_000_000
# Bits per element of every dtype the reference implementation knows.
_DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}  # fmt: skip
_REPORTED_REGIONS = 10


@dataclass(frozen=True, slots=True, order=True)
class _Span:
    begin: int
    end: int
    name: str


class _MalformedError(ValueError):
    """One reason the header is not a valid safetensors header."""


def scan(data: memoryview, ctx: Context) -> None:
    """Validate the header and the tiling of the data area; never read tensor values."""
    try:
        header, data_start, duplicates = _header(data)
    except _MalformedError as error:
        ctx.report("SAFETENSORS-MALFORMED", str(error), at="header")
        ctx.incomplete(f"safetensors header unreadable: {error}")
        return
    for key in duplicates:
        ctx.report("SAFETENSORS-DUPLICATE-KEY", repr(key), at="header", evidence=key)
    spans = []
    for name, entry in sorted(header.items()):
        try:
            if name == "__metadata__":
                _check_metadata(entry)
            else:
                spans.append(_span(name, entry, len(data) - data_start))
        except _MalformedError as error:
            ctx.report("SAFETENSORS-MALFORMED", f"{name!r}: {error}", at=f"header > {name}")
            ctx.incomplete(f"tensor {name!r} not validated: {error}")
    _check_tiling(data, data_start, sorted(spans), ctx)


def _header(data: memoryview) -> tuple[dict[str, Any], int, list[str]]:
    """The parsed header, where the data area starts, and keys the JSON repeats."""
    if len(data) < 8:
        raise _MalformedError("shorter than the 8-byte header length")
    length = int.from_bytes(data[:8], "little")
    if length > _MAX_HEADER or length > len(data) - 8:
        raise _MalformedError(f"header length {length} exceeds the file or the {_MAX_HEADER}-byte limit")
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        duplicates.extend(sorted({k for k in keys if keys.count(k) > 1}))
        return dict(items)

    try:
        header = json.loads(bytes(data[8 : 8 + length]).decode("utf-8"), object_pairs_hook=pairs)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _MalformedError(f"header is not UTF-8 JSON: {error}") from None
    if not isinstance(header, dict):
        raise _MalformedError(f"header is a JSON {type(header).__name__}, not an object")
    return header, 8 + length, duplicates


def _check_metadata(entry: object) -> None:
    if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
        raise _MalformedError("__metadata__ must map strings to strings")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _span(name: str, entry: object, data_size: int) -> _Span:
    """The byte range of one tensor, after checking it agrees with the tensor's dtype and shape."""
    if not isinstance(entry, dict):
        raise _MalformedError("tensor entry is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in _DTYPE_BITS:
        raise _MalformedError(f"unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise _MalformedError(f"shape {shape!r} is not a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise _MalformedError(f"data_offsets {offsets!r} is not two non-negative integers")
    begin, end = offsets
    if begin > end or end > data_size:
        raise _MalformedError(f"data_offsets [{begin}, {end}] outside the {data_size}-byte data area")
    bits = _bits(shape, _DTYPE_BITS[dtype], limit=8 * data_size)
    if bits is None:
        raise _MalformedError(f"{dtype} {shape} needs more bytes than the data area holds")
    if bits % 8 or bits // 8 != end - begin:
        raise _MalformedError(f"{dtype} {shape} needs {bits / 8:g} bytes, offsets give {end - begin}")
    return _Span(begin, end, name)


def _bits(shape: list[int], bits: int, *, limit: int) -> int | None:
    """Bits the tensor needs, or None past ``limit``: a hostile shape never builds a huge integer."""
    if 0 in shape:
        return 0
    total = bits
    for dim in shape:
        total *= dim
        if total > limit:
            return None
    return total


def _check_tiling(data: memoryview, data_start: int, spans: list[_Span], ctx: Context) -> None:
    """Tensors must cover the data area exactly: report gaps (hidden bytes) and shared bytes."""
    gaps: list[tuple[int, int]] = []
    cursor, previous = 0, ""
    for span in spans:
        if span.begin > cursor:
            gaps.append((cursor, span.begin))
        elif span.begin < cursor and span.end > span.begin:
            detail = f"{span.name!r} starts at {span.begin}, inside {previous!r} which ends at {cursor}"
            ctx.report("SAFETENSORS-OVERLAP", detail, at=f"header > {span.name}")
        if span.end >= cursor:
            cursor, previous = span.end, span.name
    if data_start + cursor < len(data):
        gaps.append((cursor, len(data) - data_start))
    for begin, end in gaps[:_REPORTED_REGIONS]:
        start, stop = data_start + begin, data_start + end
        at = f"bytes {start}-{stop}"
        ctx.report("SAFETENSORS-HIDDEN-DATA", f"{stop - start} bytes at file offset {start}", at=at)
        ctx.nested(data[start:stop], at=at, name="hidden-data")
    if len(gaps) > _REPORTED_REGIONS:
        ctx.incomplete(f"{len(gaps) - _REPORTED_REGIONS} more regions of hidden bytes not scanned")
