"""Find files hidden in a pickle's string and bytes values: raw, base64 or hex encoded.

A pickle can carry a second pickle (or an archive) as data for a later ``pickle.loads``; that
inner file is scanned as a file of its own. Only values long enough to hold one are looked at,
and only decoded when their alphabet allows it, so ordinary strings cost a length check.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from modelsteward.checks.security._context import Context
from modelsteward.formats.pickle_ops import Op
from modelsteward.formats.sniff import Format, signatures

_MIN_LENGTH = 16
_MAX_ENCODED = 64 << 20
"""Encoded values longer than this are not decoded (the raw value is still looked at)."""
_BASE64 = re.compile(rb"[A-Za-z0-9+/\s]+={0,2}\s*")
# Pairs may be split by whitespace anywhere (bytes.fromhex reads "63 6f 73" and "\\n636f73").
_HEX = re.compile(rb"[0-9a-fA-F\s]+")
# Formats with a distinctive signature; weaker ones (zlib, lzma) match too much data.
_SCANNABLE: frozenset[Format] = frozenset({
    Format.PICKLE, Format.ZIP, Format.TAR, Format.GZIP, Format.BZIP2, Format.XZ,
    Format.SEVENZIP, Format.NUMPY, Format.SAFETENSORS, Format.GGUF, Format.HDF5,
})  # fmt: skip


def _decodings(raw: memoryview) -> list[tuple[str, bytes]]:
    if len(raw) > _MAX_ENCODED:
        return []
    head = bytes(raw[:64])
    found: list[tuple[str, bytes]] = []
    compact = b"".join(bytes(raw).split()) if _HEX.fullmatch(head) and _HEX.fullmatch(raw) else b""
    if compact and len(compact) % 2 == 0:
        found.append(("hex", binascii.unhexlify(compact)))
    elif _BASE64.fullmatch(head) and _BASE64.fullmatch(raw):
        compact = b"".join(bytes(raw).split())
        if len(compact) % 4 == 0:
            found.append(("base64", base64.b64decode(compact, validate=True)))
    return found


def _scannable(data: memoryview) -> bool:
    # Magic numbers only: a value is never read as text or protobuf, so detect()'s work on those
    # (and on every string value of a large pickle) would be thrown away.
    return any(fmt in _SCANNABLE for fmt in signatures(data))


def look_inside(op: Op, ctx: Context, place: Callable[[int], str]) -> None:
    """Scan the value of string/bytes opcode ``op`` as a file if it is (or encodes) one.

    ``place`` turns the opcode's offset into a location, only for values that hold a file: most
    values are short or plain strings, and formatting a location for each would cost more.
    """
    arg = op.arg
    if not isinstance(arg, str | memoryview) or len(arg) < _MIN_LENGTH:
        return
    raw = memoryview(arg.encode("utf-8", "surrogatepass")) if isinstance(arg, str) else arg
    # Every file format, and every pickle that imports anything, has a newline, a control byte or a
    # byte above 0x7f: a printable one-line string can only hold an encoded file.
    if not (isinstance(arg, str) and arg.isprintable()) and _scannable(raw):
        ctx.nested(raw, at=place(op.offset), speculative=True)
        return
    for encoding, decoded in _decodings(raw):
        if len(decoded) >= _MIN_LENGTH and _scannable(memoryview(decoded)):
            at = place(op.offset)
            if ctx.charge(len(decoded), at=at):
                ctx.nested(memoryview(decoded), at=f"{at} ({encoding})", speculative=True)
