"""7z archives, read into memory with py7zr within the scan's limits; nothing is written to disk."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.archive._members import admit, scan_member

if TYPE_CHECKING:
    from py7zr.io import WriterFactory


def _collector() -> tuple[dict[str, io.BytesIO], WriterFactory]:
    """A py7zr writer factory that keeps every member in memory, in extraction order."""
    from py7zr.io import Py7zIO, WriterFactory  # noqa: PLC0415 - py7zr is only needed for 7z files

    members: dict[str, io.BytesIO] = {}

    class _Member(Py7zIO):
        def __init__(self, buffer: io.BytesIO) -> None:
            self._buffer = buffer

        def write(self, s: bytes | bytearray) -> int:
            return self._buffer.write(s)

        def read(self, size: int | None = None) -> bytes:
            return self._buffer.read(size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self._buffer.seek(offset, whence)

        def flush(self) -> None:
            self._buffer.flush()

        def size(self) -> int:
            return self._buffer.getbuffer().nbytes

    class _Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            members[filename] = io.BytesIO()
            return _Member(members[filename])

    return members, _Factory()


def scan_7z(data: memoryview, ctx: Context) -> None:
    """Scan every member of a 7z archive; an archive py7zr cannot read is reported incomplete."""
    import py7zr  # noqa: PLC0415 - py7zr is only needed for 7z files

    limits = ctx.options.limits
    budget = limits.max_expanded_bytes - ctx.sink.expanded_bytes
    cap = min(max(limits.ratio_floor, limits.max_ratio * len(data)), max(budget, 0))
    members, factory = _collector()
    try:
        with py7zr.SevenZipFile(io.BytesIO(data), mode="r", max_extract_size=cap) as archive:
            if archive.needs_password():
                ctx.report("ARCHIVE-ENCRYPTED", "7z archive needs a password")
                ctx.incomplete("7z archive is encrypted")
                return
            archive.extractall(factory=factory)
    except py7zr.exceptions.DecompressionBombError:
        ctx.report("ARCHIVE-BOMB", f"7z content expands past {cap} bytes")
        ctx.incomplete("7z extraction stopped at the size limit")
    except Exception as error:  # noqa: BLE001 - py7zr raises many types on hostile input; all mean unreadable
        ctx.incomplete(f"7z archive cannot be read: {type(error).__name__}: {error}")
    for name, buffer in members.items():
        content = buffer.getbuffer()
        if not admit(ctx, at=name) or not ctx.charge(content.nbytes, at=name):
            return
        scan_member(content, ctx, at=name, name=name)
