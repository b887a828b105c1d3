"""GGUF files (versions 1 to 3): header, metadata, tensor layout and chat templates.

The header is walked with a cursor that checks every claimed count and length against the bytes
left before reading or allocating anything, so a header claiming 2^60 tensors costs nothing.
Tensor data is never read; its layout is checked against the file size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from modelsteward.checks.security._context import Context

_MAGIC = b"GGUF"
_DEFAULT_ALIGNMENT = 32
_MAX_DIMS = 4  # GGML_MAX_DIMS
_MAX_ARRAY_NESTING = 4
_TEMPLATE_KEY = "tokenizer.chat_template"
_REPORTED_REGIONS = 10

# Metadata value types (gguf_type) with a fixed size, in bytes.
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_UINT32, _STRING, _ARRAY = 4, 8, 9

# ggml_type -> (elements per block, bytes per block), as ggml defines them (gguf.GGML_QUANT_SIZES).
_GGML_TYPES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8),
    28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
    40: (64, 36), 41: (128, 18),
}  # fmt: skip


class _HeaderError(ValueError):
    """The header breaks the format; ``rule`` says how."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule


@dataclass(slots=True)
class _Cursor:
    """Reads the header front to back; every size is checked against the bytes left."""

    data: memoryview
    pos: int = 0
    wide: bool = True
    """Counts and lengths are 64-bit from version 2 on, 32-bit in version 1."""

    def take(self, size: int, what: str) -> memoryview:
        if size > len(self.data) - self.pos:
            left = len(self.data) - self.pos
            raise _HeaderError(
                "GGUF-IMPOSSIBLE-SIZE", f"{what} at {self.pos} claims {size} bytes, {left} left"
            )
        view = self.data[self.pos : self.pos + size]
        self.pos += size
        return view

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "little")

    def count(self, what: str) -> int:
        return self.uint(8 if self.wide else 4, what)

    def string(self, what: str) -> memoryview:
        return self.take(self.count(f"{what} length"), what)

    def bound(self, count: int, least: int, what: str) -> int:
        """``count`` itself, once it is shown that ``count`` items of ``least`` bytes each fit."""
        if count * least > len(self.data) - self.pos:
            raise _HeaderError("GGUF-IMPOSSIBLE-SIZE", f"{what}: {count} claimed, the file cannot hold them")
        return count


@dataclass(frozen=True, slots=True)
class _Tensor:
    name: str
    offset: int
    size: int | None
    """Bytes of data, or None for a ggml type the scanner does not know."""


@dataclass(slots=True)
class _Header:
    keys: list[str] = field(default_factory=list)
    templates: list[tuple[str, str]] = field(default_factory=list)
    alignment: int = _DEFAULT_ALIGNMENT
    tensors: list[_Tensor] = field(default_factory=list)
    end: int = 0


def scan(data: memoryview, ctx: Context) -> None:
    """Validate the header and tensor layout, and judge every chat template in the metadata."""
    header = _Header()
    try:
        _read_header(_Cursor(data), header)
    except _HeaderError as error:
        ctx.report(error.rule, str(error), at=f"header byte {header.end}")
        ctx.incomplete(f"GGUF header unreadable: {error}")
    else:
        _check_layout(data, header, ctx)
    finally:  # templates read before a malformation are judged all the same
        _check_names(header, ctx)
        _check_templates(header, ctx)


def _read_header(cursor: _Cursor, header: _Header) -> None:
    if bytes(cursor.take(4, "magic")) != _MAGIC:
        raise _HeaderError("GGUF-MALFORMED", "magic is not GGUF")
    version = cursor.uint(4, "version")
    if version not in (1, 2, 3):
        raise _HeaderError("GGUF-MALFORMED", f"unknown version {version}")
    cursor.wide = version >= 2
    tensors, entries = cursor.count("tensor count"), cursor.count("metadata count")
    # Least sizes: a key-value is a key length, a type and a one-byte value; a tensor info a name
    # length, a dimension count, a type and an offset.
    cursor.bound(entries, 13 if cursor.wide else 9, "metadata entries")
    for _ in range(entries):
        header.end = cursor.pos
        _read_entry(cursor, header)
    cursor.bound(tensors, 24 if cursor.wide else 20, "tensor infos")
    for _ in range(tensors):
        header.end = cursor.pos
        header.tensors.append(_read_tensor(cursor))
    header.end = cursor.pos


def _read_entry(cursor: _Cursor, header: _Header) -> None:
    key = bytes(cursor.string("key")).decode("utf-8", errors="replace")
    header.keys.append(key)
    kind = cursor.uint(4, f"type of {key}")
    if key == _TEMPLATE_KEY or key.startswith(_TEMPLATE_KEY + "."):
        if kind != _STRING:
            raise _HeaderError("GGUF-MALFORMED", f"{key} has type {kind}, not string")
        source = bytes(cursor.string(key)).decode("utf-8", errors="replace")
        header.templates.append((key, source))
    elif key == "general.alignment":
        if kind != _UINT32:
            raise _HeaderError("GGUF-MALFORMED", f"general.alignment has type {kind}, not uint32")
        alignment = cursor.uint(4, key)
        if alignment == 0 or alignment & (alignment - 1):
            raise _HeaderError("GGUF-MALFORMED", f"general.alignment {alignment} is not a power of two")
        header.alignment = alignment
    else:
        _skip_value(cursor, kind, key, 0)


def _skip_value(cursor: _Cursor, kind: int, what: str, depth: int) -> None:
    if kind in _SCALAR_SIZES:
        cursor.take(_SCALAR_SIZES[kind], what)
    elif kind == _STRING:
        cursor.string(what)
    elif kind == _ARRAY:
        if depth >= _MAX_ARRAY_NESTING:
            raise _HeaderError("GGUF-MALFORMED", f"{what}: arrays nested deeper than {_MAX_ARRAY_NESTING}")
        item = cursor.uint(4, f"item type of {what}")
        count = cursor.count(f"length of {what}")
        if item in _SCALAR_SIZES:
            cursor.take(cursor.bound(count, _SCALAR_SIZES[item], what) * _SCALAR_SIZES[item], what)
            return
        # Every string or array item starts with at least a 4-byte length or type.
        for _ in range(cursor.bound(count, 4, what)):
            _skip_value(cursor, item, what, depth + 1)
    else:
        raise _HeaderError("GGUF-MALFORMED", f"{what} has unknown value type {kind}")


def _read_tensor(cursor: _Cursor) -> _Tensor:
    name = bytes(cursor.string("tensor name")).decode("utf-8", errors="replace")
    dims = cursor.uint(4, f"dimensions of {name}")
    if dims > _MAX_DIMS:
        raise _HeaderError("GGUF-MALFORMED", f"tensor {name!r} has {dims} dimensions, at most {_MAX_DIMS}")
    shape = [cursor.count(f"shape of {name}") for _ in range(dims)]
    ggml_type = cursor.uint(4, f"type of {name}")
    offset = cursor.uint(8, f"offset of {name}")
    if ggml_type not in _GGML_TYPES:
        return _Tensor(name, offset, None)
    block, block_bytes = _GGML_TYPES[ggml_type]
    elements = 1
    for dim in shape:
        elements *= dim  # at most four 64-bit factors: a bounded integer
    if shape and shape[0] % block:
        raise _HeaderError(
            "GGUF-MALFORMED", f"tensor {name!r}: row of {shape[0]} is not whole blocks of {block}"
        )
    return _Tensor(name, offset, elements // block * block_bytes)


def _align(position: int, alignment: int) -> int:
    return -(-position // alignment) * alignment


def _check_layout(data: memoryview, header: _Header, ctx: Context) -> None:
    """Tensors must lie within the file, aligned, and tile the data section without hidden bytes."""
    start = _align(header.end, header.alignment)
    known = []
    for tensor in header.tensors:
        if tensor.offset % header.alignment:
            ctx.report("GGUF-MALFORMED", f"tensor {tensor.name!r} offset {tensor.offset} is not aligned")
        if tensor.size is None:
            ctx.incomplete(f"tensor {tensor.name!r} has a ggml type the scanner cannot size")
        elif start + tensor.offset + tensor.size > len(data):
            detail = (
                f"{tensor.name!r} ends at {start + tensor.offset + tensor.size}, file has {len(data)} bytes"
            )
            ctx.report("GGUF-TENSOR-BOUNDS", detail, at=f"tensor {tensor.name}")
            ctx.incomplete(
                f"tensor {tensor.name!r} lies past the end of the file", at=f"tensor {tensor.name}"
            )
        else:
            known.append((tensor.offset, tensor.offset + tensor.size, tensor.name))
    if len(known) == len(header.tensors):  # an unsized tensor would look like a gap
        _check_tiling(data, header, start, sorted(known), ctx)


def _check_tiling(
    data: memoryview, header: _Header, start: int, spans: list[tuple[int, int, str]], ctx: Context
) -> None:
    gaps = []  # file offsets of the regions no tensor claims
    cursor, previous = 0, ""
    for begin, end, name in spans:
        if begin > _align(cursor, header.alignment):
            gaps.append((start + cursor, start + begin))
        elif begin < cursor and end > begin:
            detail = f"{name!r} starts at {begin}, inside {previous!r} which ends at {cursor}"
            ctx.report("GGUF-TENSOR-OVERLAP", detail, at=f"tensor {name}")
        if end >= cursor:
            cursor, previous = end, name
    # Writers pad the last tensor, or the header of a file without tensors, to the alignment.
    tail = start + cursor if spans else header.end
    if _align(tail, header.alignment) < len(data):
        gaps.append((tail, len(data)))
    elif spans and _align(tail, header.alignment) > len(data):
        # Writers always pad the last tensor; a file ending inside that padding was cut short.
        ctx.incomplete(f"file ends at {len(data)}, inside the padding of the last tensor: truncated")
    for begin, end in gaps[:_REPORTED_REGIONS]:
        at = f"bytes {begin}-{end}"
        ctx.report("GGUF-HIDDEN-DATA", f"{end - begin} bytes at file offset {begin}", at=at)
        ctx.nested(data[begin:end], at=at, name="hidden-data")
    if len(gaps) > _REPORTED_REGIONS:
        ctx.incomplete(f"{len(gaps) - _REPORTED_REGIONS} more regions of hidden bytes not scanned")


def _check_names(header: _Header, ctx: Context) -> None:
    names = [*header.keys, *(t.name for t in header.tensors)]
    for name in _repeated(names):
        ctx.report("GGUF-DUPLICATE-NAME", repr(name), at=name, evidence=name)


def _repeated(names: list[str]) -> Iterator[str]:
    seen: set[str] = set()
    reported: set[str] = set()
    for name in names:
        if name in seen and name not in reported:
            reported.add(name)
            yield name
        seen.add(name)


def _check_templates(header: _Header, ctx: Context) -> None:
    if not header.templates:
        return
    from modelsteward.checks.security.templates import check_template  # noqa: PLC0415 - a sibling scanner

    for key, source in header.templates:
        check_template(source, ctx, at=key)
