"""A zip reader as lenient as PyTorch's, reading every way a loader could.

PyTorch (miniz) ignores bad CRCs and most general-purpose flags, takes names from the central
directory and data offsets from the local header; ``zipfile`` refuses some of those files and
accepts others (data prepended to the archive). So the reader works from the end record, takes
every reading where the central directory and a local header disagree, walks local headers when
there is no central directory, and scans whatever lies between members. Stored members are
scanned as slices of the file, never copied.
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.archive._expand import (
    Decompressor,
    ZlibDecompressor,
    bzip2,
    expand,
    zstd,
)
from modelsteward.checks.security.archive._members import admit, scan_member

_LOCAL = b"PK\x03\x04"
_CENTRAL = b"PK\x01\x02"
_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_LOCATOR64 = b"PK\x06\x07"
_DESCRIPTOR = b"PK\x07\x08"

_LOCAL_FORMAT = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_FORMAT = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_FORMAT = struct.Struct("<4sHHHHIIH")
_LOCATOR64_FORMAT = struct.Struct("<4sIQI")
_END64_FORMAT = struct.Struct("<4sQHHIIQQQQ")

_MAX32 = 0xFFFFFFFF
_MAX16 = 0xFFFF
_ZIP64_EXTRA = 0x0001
# The end record hides behind up to 64 KiB of archive comment.
_TAIL = _MAX16 + _END_FORMAT.size

_STORED, _DEFLATED, _BZIP2, _LZMA, _ZSTD = 0, 8, 12, 14, 93
_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_PATCHED = 0x0020
_FLAG_STRONG = 0x0040
_FLAG_UTF8 = 0x0800
# A data descriptor is at most a signature, a CRC and two 64-bit sizes.
_DESCRIPTOR_MAX = 24
# Stored members above this are tensor data: their CRC is not worth reading them for.
_CRC_STORED_LIMIT = 8 << 20
_FIND_STEP = 1 << 20
_NEXT_RECORD = (_DESCRIPTOR, _LOCAL, _CENTRAL)


@dataclass(frozen=True, slots=True)
class _Header:
    """A member as one header (central directory entry or local header) describes it."""

    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int
    """Central entry: where its local header is, as recorded. Local header: where its data starts."""

    @property
    def name(self) -> str:
        return self.raw_name.decode("utf-8" if self.flags & _FLAG_UTF8 else "cp437", errors="replace")

    @property
    def deferred(self) -> bool:
        """A local header that leaves CRC and sizes to a data descriptor after the data."""
        return bool(self.flags & _FLAG_DESCRIPTOR) and self.compressed == 0 and self.size == 0


@dataclass(frozen=True, slots=True)
class _Claims:
    """What a member's headers say about its data: several values where they disagree."""

    start: int
    sizes: tuple[int, ...]
    methods: tuple[int, ...]
    crcs: tuple[int, ...]
    flags: int


@dataclass(frozen=True, slots=True)
class _Directory:
    entries: tuple[_Header, ...]
    start: int
    end: int
    shift: int
    """Added to every recorded offset: the length of data prepended to the archive."""


def scan_zip(data: memoryview, ctx: Context) -> None:
    """Scan every member of a zip archive (or of the zip at the end of a polyglot file)."""
    directory = _find_directory(data)
    if directory is not None:
        _scan_directory(data, directory, ctx)
    elif bytes(data[:4]) == _LOCAL:
        ctx.report("ZIP-MALFORMED", "no readable central directory; members found from local headers")
        ctx.incomplete("zip has no readable central directory; its end is missing or damaged")
        _walk_local(data, 0, len(data), ctx)
    else:
        ctx.incomplete("zip end record found, but no central directory it points to can be read")


def _u64s(extra: bytes, wanted: int) -> list[int]:
    """The first ``wanted`` 64-bit values of the zip64 extra field, as far as they are present."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if kind == _ZIP64_EXTRA:
            count = min(wanted, len(body) // 8)
            return list(struct.unpack_from(f"<{count}Q", body)) if count else []
        pos += 4 + length
    return []


def _widen(header: _Header, extra: bytes, *, central: bool) -> _Header:
    """Replace 32-bit fields saturated at 0xFFFFFFFF by their zip64 values."""
    fields = ["size", "compressed"] + (["offset"] if central else [])
    if central:
        maxed = [f for f in fields if getattr(header, f) == _MAX32]
    else:
        # A local zip64 field holds both sizes whenever either is saturated.
        maxed = fields if _MAX32 in (header.size, header.compressed) else []
    wide = dict(zip(maxed, _u64s(extra, len(maxed)), strict=False))
    return replace(
        header,
        size=wide.get("size", header.size),
        compressed=wide.get("compressed", header.compressed),
        offset=wide.get("offset", header.offset),
    )


def _central_entries(data: memoryview, start: int, end: int) -> Iterator[_Header]:
    pos = start
    while pos + _CENTRAL_FORMAT.size <= min(end, len(data)):
        fields = _CENTRAL_FORMAT.unpack_from(data, pos)
        if fields[0] != _CENTRAL:
            return
        flags, method, crc, compressed, size = fields[3], fields[4], fields[7], fields[8], fields[9]
        name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
        name_at = pos + _CENTRAL_FORMAT.size
        raw_name = bytes(data[name_at : name_at + name_len])
        extra = bytes(data[name_at + name_len : name_at + name_len + extra_len])
        header = _Header(raw_name, flags, method, crc, compressed, size, offset)
        yield _widen(header, extra, central=True)
        pos = name_at + name_len + extra_len + comment_len


def _end_record(data: memoryview, at: int) -> tuple[int, int, int] | None:
    """(central directory size, its recorded offset, where the records after it begin)."""
    if at + _END_FORMAT.size > len(data):
        return None
    _, _, _, _, total, size, offset, _ = _END_FORMAT.unpack_from(data, at)
    if _MAX32 not in (size, offset) and total != _MAX16:
        return size, offset, at
    locator = at - _LOCATOR64_FORMAT.size
    if locator < 0 or bytes(data[locator : locator + 4]) != _LOCATOR64:
        return size, offset, at
    record = _LOCATOR64_FORMAT.unpack_from(data, locator)[2]
    for candidate in (record, locator - _END64_FORMAT.size):
        if (
            0 <= candidate <= len(data) - _END64_FORMAT.size
            and bytes(data[candidate : candidate + 4]) == _END64
        ):
            fields = _END64_FORMAT.unpack_from(data, candidate)
            return fields[8], fields[9], candidate
    return size, offset, at


def _read_directory(data: memoryview, at: int) -> _Directory | None:
    record = _end_record(data, at)
    if record is None:
        return None
    size, offset, records_at = record
    # Offsets are relative to the archive's start; zipfile also accepts data prepended to it.
    for shift in dict.fromkeys((0, records_at - size - offset)):
        start = offset + shift
        if start < 0 or start + size > records_at:
            continue
        if size == 0 or bytes(data[start : start + 4]) == _CENTRAL:
            entries = tuple(_central_entries(data, start, start + size))
            if entries or size == 0:
                return _Directory(entries, start, records_at, shift)
    return None


def _find_directory(data: memoryview) -> _Directory | None:
    """The central directory of the last end record that leads to one."""
    tail_start = max(0, len(data) - _TAIL)
    tail = bytes(data[tail_start:])
    pos = len(tail)
    while (pos := tail.rfind(_END, 0, pos)) >= 0:
        directory = _read_directory(data, tail_start + pos)
        if directory is not None:
            return directory
    return None


def _local_header(data: memoryview, at: int) -> _Header | None:
    """The local header at ``at``, with ``offset`` set to where its data starts."""
    if at < 0 or at + _LOCAL_FORMAT.size > len(data):
        return None
    fields = _LOCAL_FORMAT.unpack_from(data, at)
    if fields[0] != _LOCAL:
        return None
    flags, method, crc, compressed, size, name_len, extra_len = (
        fields[2], fields[3], fields[6], fields[7], fields[8], fields[9], fields[10],
    )  # fmt: skip
    name_at = at + _LOCAL_FORMAT.size
    raw_name = bytes(data[name_at : name_at + name_len])
    extra = bytes(data[name_at + name_len : name_at + name_len + extra_len])
    header = _Header(raw_name, flags, method, crc, compressed, size, name_at + name_len + extra_len)
    return _widen(header, extra, central=False)


def _scan_directory(data: memoryview, directory: _Directory, ctx: Context) -> None:
    counts = Counter(entry.raw_name for entry in directory.entries)
    for raw_name, count in sorted(counts.items()):
        if count > 1:
            name = raw_name.decode("utf-8", errors="replace")
            ctx.report("ZIP-DUPLICATE-NAME", f"{count} members are named {name!r}", at=name)
    covered: list[tuple[int, int]] = [(directory.start, directory.end)]
    for entry in directory.entries:
        if not admit(ctx, at=entry.name):
            return
        span = _scan_entry(data, entry, directory.shift, ctx)
        if span is not None:
            covered.append(span)
    _scan_uncovered(data, sorted(covered), ctx)


def _scan_entry(data: memoryview, entry: _Header, shift: int, ctx: Context) -> tuple[int, int] | None:
    """Scan one central directory entry; return the bytes it accounts for."""
    at = entry.name
    header_at = entry.offset + shift
    local = _local_header(data, header_at)
    if local is None:
        ctx.report("ZIP-MALFORMED", f"no local header at offset {header_at}", at=at)
        ctx.incomplete("member's local header is missing", at=at)
        return None
    _compare(entry, local, ctx, at=at)
    claims = _Claims(
        start=local.offset,
        sizes=(entry.compressed,) if local.deferred else (entry.compressed, local.compressed),
        methods=(entry.method, local.method),
        crcs=(entry.crc,) if local.deferred else (entry.crc, local.crc),
        flags=entry.flags | local.flags,
    )
    _scan_readings(data, claims, ctx, at=at)
    end = local.offset + max(claims.sizes)
    return header_at, end + (_DESCRIPTOR_MAX if claims.flags & _FLAG_DESCRIPTOR else 0)


def _compare(central: _Header, local: _Header, ctx: Context, *, at: str) -> None:
    """Report where the two headers of a member describe different members."""
    differences = []
    if central.raw_name != local.raw_name:
        differences.append(f"name {central.name!r} vs {local.name!r}")
    if central.method != local.method:
        differences.append(f"method {central.method} vs {local.method}")
    if not local.deferred and (central.compressed, central.size) != (local.compressed, local.size):
        differences.append(
            f"sizes {central.compressed}/{central.size} vs {local.compressed}/{local.size} (compressed/full)"
        )
    if differences:
        detail = "central directory vs local header: " + "; ".join(differences)
        ctx.report("ZIP-HEADER-MISMATCH", detail, at=at)


def _scan_readings(data: memoryview, claims: _Claims, ctx: Context, *, at: str) -> int:
    """Scan the member's data under every (method, size) its headers claim; return where it ends."""
    _check_flags(claims.flags, ctx, at=at)
    readings = [(m, s) for m in dict.fromkeys(claims.methods) for s in dict.fromkeys(claims.sizes)]
    ends = []
    for method, size in readings:
        where = at if len(readings) == 1 else f"{at} (method {method}, {size} bytes)"
        ends.append(_scan_data(data, claims, method, size, ctx, at=where))
    return max(ends)


def _check_flags(flags: int, ctx: Context, *, at: str) -> None:
    if flags & (_FLAG_ENCRYPTED | _FLAG_STRONG):
        ctx.report("ARCHIVE-ENCRYPTED", f"general-purpose flags {flags:#06x}", at=at)
        ctx.incomplete("member is encrypted; its bytes were scanned only as stored", at=at)
    if flags & (_FLAG_PATCHED | _FLAG_STRONG):
        ctx.report("ZIP-UNUSUAL-FLAGS", f"general-purpose flags {flags:#06x}", at=at)


def _scan_data(data: memoryview, claims: _Claims, method: int, size: int, ctx: Context, *, at: str) -> int:
    """Scan one reading of a member; return where its data ends (a compressed stream may end early)."""
    raw = data[claims.start : claims.start + size]
    if len(raw) < size:
        ctx.report("ZIP-MALFORMED", f"member data runs {size - len(raw)} bytes past the end", at=at)
        ctx.incomplete("member is truncated", at=at)
    if method == _STORED:
        view, complete, used = raw, True, len(raw)
    else:
        decoder = _decoder(method, raw)
        if decoder is None:
            ctx.incomplete(f"compression method {method} is not supported", at=at)
            return claims.start + len(raw)
        expanded = expand(decoder[0], decoder[1], ctx, at=at)
        view, complete = expanded.data, expanded.complete
        used = len(raw) - len(decoder[1]) + expanded.consumed if complete else len(raw)
    encrypted = claims.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG)
    if complete and not encrypted and (method != _STORED or len(view) <= _CRC_STORED_LIMIT):
        actual = zlib.crc32(view)
        if any(crc != actual for crc in claims.crcs):
            expected = "/".join(f"{crc:08x}" for crc in dict.fromkeys(claims.crcs))
            ctx.report("ZIP-CRC-MISMATCH", f"recorded {expected}, content has {actual:08x}", at=at)
    scan_member(view, ctx, at=at, name=at)
    return claims.start + used


def _decoder(method: int, raw: memoryview) -> tuple[Callable[[], Decompressor], memoryview] | None:
    if method == _DEFLATED:
        return (lambda: ZlibDecompressor(-zlib.MAX_WBITS)), raw
    if method == _BZIP2:
        return bzip2, raw
    if method == _LZMA:
        return _zip_lzma(raw)
    if method == _ZSTD:
        make = zstd()
        return None if make is None else (make, raw)
    return None


def _zip_lzma(raw: memoryview) -> tuple[Callable[[], Decompressor], memoryview] | None:
    """A zip LZMA member: a 4-byte version and size, 5 bytes of properties, then a raw LZMA1 stream."""
    if len(raw) < 9:
        return None
    props_len = int.from_bytes(raw[2:4], "little")
    if props_len != 5:
        return None
    packed, dict_size = raw[4], int.from_bytes(raw[5:9], "little")
    lc, rest = packed % 9, packed // 9
    lp, pb = rest % 5, rest // 5
    lzma1 = {"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}
    return (lambda: lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma1])), raw[9:]


def _find(data: memoryview, needles: tuple[bytes, ...], start: int, end: int) -> int:
    """The first offset in [start, end) where any of ``needles`` begins, or ``end``; reads in chunks."""
    overlap = max(len(n) for n in needles) - 1
    pos = start
    while pos < end:
        chunk = bytes(data[pos : min(end, pos + _FIND_STEP + overlap)])
        hits = [i for i in (chunk.find(n) for n in needles) if i >= 0]
        if hits:
            return pos + min(hits)
        pos += _FIND_STEP
    return end


def _walk_local(data: memoryview, start: int, end: int, ctx: Context) -> None:
    """Scan members by their local headers alone, from ``start`` while headers follow each other."""
    pos = start
    while (local := _local_header(data[:end], pos)) is not None:
        at = local.name
        if not admit(ctx, at=at):
            return
        size = local.compressed
        if local.deferred:
            # The size is in a descriptor after the data: a compressed stream ends by itself, a
            # stored one where the next record's signature begins.
            last = end if local.method != _STORED else _find(data, _NEXT_RECORD, local.offset, end)
            size = last - local.offset
        crcs = () if local.deferred else (local.crc,)
        claims = _Claims(local.offset, (size,), (local.method,), crcs, local.flags)
        pos = _scan_readings(data[:end], claims, ctx, at=at)
        if local.deferred:
            pos = _skip_descriptor(data, pos)
    if pos < end:
        ctx.incomplete(f"bytes from offset {pos} follow no readable local header")


def _skip_descriptor(data: memoryview, at: int) -> int:
    """Where the next header starts after a data descriptor at ``at``."""
    for length in (16, 12, 24, 20):
        if bytes(data[at + length : at + length + 4]) in (_LOCAL, _CENTRAL, _END):
            return at + length
    return at + (16 if bytes(data[at : at + 4]) == _DESCRIPTOR else 12)


def _scan_uncovered(data: memoryview, covered: list[tuple[int, int]], ctx: Context) -> None:
    """Report and scan bytes between members that no central directory entry accounts for."""
    first = covered[0][0]
    if first > 0:
        ctx.report("ZIP-PREPENDED-DATA", f"{first} bytes come before the archive's first member")
    reach = first
    for begin, finish in covered:
        if begin > reach:
            _scan_gap(data, reach, begin, ctx)
        reach = max(reach, finish)


def _scan_gap(data: memoryview, begin: int, end: int, ctx: Context) -> None:
    gap = data[begin:end]
    if not bytes(gap).strip(b"\x00"):
        return
    ctx.report("ZIP-UNLISTED-DATA", f"{end - begin} bytes at offset {begin} belong to no listed member")
    if bytes(gap[:4]) == _LOCAL:
        _walk_local(data, begin, end, ctx)
    else:
        ctx.nested(gap, at=f"unlisted bytes at offset {begin}")
