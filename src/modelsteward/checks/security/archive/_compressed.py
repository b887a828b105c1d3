"""Single compressed streams: gzip, bzip2, xz, legacy lzma and zlib, as joblib and tar.gz use them.

Concatenated streams are all read (``gzip``, ``bz2`` and ``lzma`` readers continue into them) and
their output is scanned as one file, which is what such a reader hands its caller.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.archive._expand import (
    Decompressor,
    ZlibDecompressor,
    bzip2,
    expand,
    lzma_alone,
    xz,
)

_Kind = tuple[str, bytes, Callable[[], Decompressor]]

_KINDS: tuple[_Kind, ...] = (
    ("gzip", b"\x1f\x8b", lambda: ZlibDecompressor(16 + zlib.MAX_WBITS)),
    ("bzip2", b"BZh", bzip2),
    ("xz", b"\xfd7zXZ\x00", xz),
    ("lzma", b"\x5d\x00\x00", lzma_alone),
)
_ZLIB: _Kind = ("zlib", b"", lambda: ZlibDecompressor(zlib.MAX_WBITS))

# What the decompressed content is called: the name without its compression suffix.
_SUFFIXES = {".gz": "", ".tgz": ".tar", ".bz2": "", ".xz": "", ".lzma": "", ".z": "", ".zlib": ""}


def _kind(data: memoryview) -> _Kind:
    head = bytes(data[:6])
    for kind in _KINDS:
        if head.startswith(kind[1]):
            return kind
    return _ZLIB


def _inner_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    replacement = _SUFFIXES.get(f".{suffix.lower()}") if dot else None
    return name if replacement is None or not stem else stem + replacement


def scan_compressed(data: memoryview, ctx: Context) -> None:
    """Decompress (within the scan's limits) and scan what the stream holds."""
    label, magic, make = _kind(data)
    pieces: list[memoryview] = []
    pos = 0
    complete = True
    while complete and pos < len(data):
        at = label if not pieces else f"{label} stream {len(pieces) + 1}"
        expanded = expand(make, data[pos:], ctx, at=at)
        pieces.append(expanded.data)
        complete = expanded.complete and expanded.consumed > 0
        pos += expanded.consumed
        if not magic or bytes(data[pos : pos + len(magic)]) != magic:
            break
    if complete and bytes(data[pos:]).strip(b"\x00"):
        ctx.report("ARCHIVE-TRAILING-DATA", f"{len(data) - pos} bytes after the {label} stream")
        ctx.nested(data[pos:], at=f"bytes after the {label} stream")
    content = pieces[0] if len(pieces) == 1 else memoryview(b"".join(pieces))
    ctx.nested(content, at=label, name=_inner_name(ctx.name))
