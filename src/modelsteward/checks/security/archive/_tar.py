"""A tar header walker that reads members as slices of the file and never extracts anything.

Legacy PyTorch checkpoints are tars of pickles (``sys_info``, ``pickle``, ``storages``,
``tensors``); other tars ship models whole. Every member is scanned; names and links that an
extraction would follow out of its target directory are reported, since ``tarfile`` before
Python 3.14 extracts them as written.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.archive._members import admit, scan_member

_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)
_SYMLINK, _HARDLINK = b"2", b"1"
_SPECIAL = (b"3", b"4", b"6")
_DIRECTORY = b"5"
_GNU_LONG_NAME, _GNU_LONG_LINK = b"L", b"K"
_PAX, _PAX_GLOBAL = b"x", b"g"
_GNU_SPARSE = b"S"
_USTAR = b"ustar\x00"


@dataclass(frozen=True, slots=True)
class _Header:
    name: str
    linkname: str
    size: int
    kind: bytes


class _BadHeaderError(ValueError):
    """A header block that no tar reader accepts."""


def _number(field: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 when the top bit of its first byte is set."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    text = field.split(b"\x00", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError as error:
        raise _BadHeaderError(f"numeric field {field!r} is not octal") from error


def _text(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", errors="surrogateescape")


def _parse(block: bytes) -> _Header:
    recorded = _number(block[148:156])
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    # Some old tars summed signed bytes; tarfile accepts either.
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:] if b > 0x7F)
    if recorded not in (unsigned, signed):
        raise _BadHeaderError("header checksum does not match")
    name = _text(block[0:100])
    if block[257:263] == _USTAR and block[345] != 0:
        name = _text(block[345:500]) + "/" + name
    size = _number(block[124:136])
    if size < 0:
        raise _BadHeaderError(f"negative member size {size}")
    return _Header(name=name, linkname=_text(block[157:257]), size=size, kind=block[156:157])


def _pax_records(content: bytes) -> dict[str, str]:
    """Records ``"<length> <key>=<value>\\n"`` of a pax extended header."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(content):
        length_text, space, _ = content[pos : pos + 20].partition(b" ")
        if not space or not length_text.isdigit() or int(length_text) <= len(length_text):
            raise _BadHeaderError(f"unreadable pax record at byte {pos}")
        record = content[pos + len(length_text) + 1 : pos + int(length_text)]
        key, equals, value = record.rstrip(b"\n").partition(b"=")
        if not equals:
            raise _BadHeaderError(f"pax record without '=' at byte {pos}")
        records[key.decode("utf-8", errors="replace")] = value.decode("utf-8", errors="surrogateescape")
        pos += int(length_text)
    return records


def scan_tar(data: memoryview, ctx: Context) -> None:
    """Scan every member of a tar archive, and report members an extraction would misplace."""
    pos = 0
    after_end = False
    pending: dict[str, str] = {}
    while pos + _BLOCK <= len(data):
        block = bytes(data[pos : pos + _BLOCK])
        if block == _ZERO_BLOCK:
            # The end marker; members after it are read on, as `tarfile` does with ignore_zeros.
            after_end = True
            pos += _BLOCK
            continue
        try:
            header = _parse(block)
        except _BadHeaderError as error:
            if not after_end:
                ctx.report("TAR-MALFORMED", f"at offset {pos}: {error}")
                ctx.incomplete(f"unreadable tar header at offset {pos}")
            return
        if "size" in pending and header.kind not in (_PAX, _PAX_GLOBAL):
            header = _with_size(header, pending["size"], ctx, at=header.name)
        start = pos + _BLOCK
        content = data[start : start + header.size]
        pos = start + -(-header.size // _BLOCK) * _BLOCK
        if len(content) < header.size:
            ctx.report("TAR-MALFORMED", f"member data runs {header.size - len(content)} bytes past the end")
            ctx.incomplete("tar member is truncated", at=header.name)
        if header.kind in (_GNU_LONG_NAME, _GNU_LONG_LINK, _PAX, _PAX_GLOBAL):
            _extend(pending, header.kind, bytes(content), ctx, at=header.name)
            continue
        header = _Header(
            name=pending.get("path", header.name),
            linkname=pending.get("linkpath", header.linkname),
            size=header.size,
            kind=header.kind,
        )
        pending = {}
        if not admit(ctx, at=header.name):
            return
        _scan_member(header, content, ctx)


def _with_size(header: _Header, size: str, ctx: Context, *, at: str) -> _Header:
    if not size.isdigit():
        ctx.report("TAR-MALFORMED", f"pax size {size!r} is not a number", at=at)
        return header
    return _Header(name=header.name, linkname=header.linkname, size=int(size), kind=header.kind)


def _extend(pending: dict[str, str], kind: bytes, content: bytes, ctx: Context, *, at: str) -> None:
    """Fold a GNU long-name or pax header into what applies to the next member."""
    if kind == _GNU_LONG_NAME:
        pending["path"] = _text(content)
    elif kind == _GNU_LONG_LINK:
        pending["linkpath"] = _text(content)
    elif kind == _PAX:
        try:
            pending.update(_pax_records(content))
        except _BadHeaderError as error:
            ctx.report("TAR-MALFORMED", str(error), at=at)
            ctx.incomplete("unreadable pax header; the next member's name or size may be wrong", at=at)


def _escapes(path: str) -> bool:
    """Whether extracting to ``path`` (relative to the target directory) lands outside it."""
    unified = path.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return True
    normal = posixpath.normpath(unified)
    return normal == ".." or normal.startswith("../")


def _scan_member(header: _Header, content: memoryview, ctx: Context) -> None:
    at = header.name
    if _escapes(header.name):
        ctx.report("TAR-PATH-TRAVERSAL", f"member is named {header.name!r}", at=at)
    if header.kind == _SYMLINK:
        target = posixpath.join(posixpath.dirname(header.name.replace("\\", "/")), header.linkname)
        if header.linkname.startswith("/") or _escapes(target):
            ctx.report("TAR-LINK-OUTSIDE", f"symbolic link to {header.linkname!r}", at=at)
    elif header.kind == _HARDLINK:
        if _escapes(header.linkname):
            ctx.report("TAR-LINK-OUTSIDE", f"hard link to {header.linkname!r}", at=at)
    elif header.kind in _SPECIAL:
        ctx.report("TAR-SPECIAL-FILE", f"type {header.kind.decode('latin-1')!r}", at=at)
    elif header.kind == _GNU_SPARSE:
        ctx.incomplete("GNU sparse members are not read", at=at)
    elif header.kind != _DIRECTORY:
        # tarfile reads unknown member types as regular files.
        scan_member(content, ctx, at=at, name=header.name)
