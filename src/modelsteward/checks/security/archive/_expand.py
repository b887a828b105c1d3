"""Bounded, incremental decompression shared by every container format.

A hostile file can claim anything in its headers, so the only sizes trusted here are the
compressed bytes at hand and the limits of the scan: output grows in steps, each step is charged
to the file's budget, and a stream that outgrows its ratio is cut off and reported as a bomb.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from modelsteward.checks.security._context import Context

# Output produced per decompressor call, and input fed per call: small enough that a bomb is
# caught after at most one step past its limit.
_STEP = 1 << 20

# What the decompressors of zlib (wrapped), bz2, lzma and zstd raise on corrupt input.
_CORRUPT = (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError)


class Decompressor(Protocol):
    """The incremental interface bz2, lzma and zstd decompressors share."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class ZlibDecompressor:
    """zlib's decompressor behind the interface of the others (``wbits`` picks the wrapper)."""

    def __init__(self, wbits: int) -> None:
        self._inner = zlib.decompressobj(wbits)
        self._full = False

    @property
    def eof(self) -> bool:
        return self._inner.eof

    @property
    def needs_input(self) -> bool:
        # zlib keeps input it could not expand yet in unconsumed_tail, and may hold output back
        # when the last call filled max_length.
        return not self._inner.unconsumed_tail and not self._full

    @property
    def unused_data(self) -> bytes:
        return self._inner.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        source = self._inner.unconsumed_tail or data
        out = self._inner.decompress(source, max(max_length, 0))
        self._full = 0 < max_length == len(out)
        return out


def lzma_alone() -> Decompressor:
    """The legacy ``.lzma`` format (LZMA "alone"), as joblib's lzma compressor writes it."""
    return lzma.LZMADecompressor(lzma.FORMAT_ALONE)


def xz() -> Decompressor:
    """The ``.xz`` container."""
    return lzma.LZMADecompressor(lzma.FORMAT_XZ)


def bzip2() -> Decompressor:
    """A bzip2 stream."""
    return bz2.BZ2Decompressor()


def zstd() -> Callable[[], Decompressor] | None:
    """A maker of zstd decompressors, where the optional zstd module is installed."""
    try:
        from backports import zstd as module  # noqa: PLC0415 - optional, and only for zstd members
    except ImportError:
        return None
    make: Callable[[], Decompressor] = module.ZstdDecompressor
    return make


@dataclass(frozen=True, slots=True)
class Expanded:
    """What one compressed stream gave."""

    data: memoryview
    """The decompressed bytes (what was produced before any failure or limit)."""
    consumed: int
    """Compressed bytes the stream took; anything after them is not part of it."""
    complete: bool
    """Whether the stream ended properly and was fully expanded."""


def expand(make: Callable[[], Decompressor], source: memoryview, ctx: Context, *, at: str) -> Expanded:
    """Decompress one stream from the start of ``source`` within the scan's limits.

    Failures are reported on ``ctx`` (incomplete, ``ARCHIVE-BOMB``); whatever was produced
    before them is returned so that it can still be scanned.
    """
    limit = max(ctx.options.limits.ratio_floor, ctx.options.limits.max_ratio * len(source))
    decompressor = make()
    out = bytearray()
    fed = 0
    try:
        while not decompressor.eof:
            if decompressor.needs_input:
                if fed >= len(source):
                    ctx.incomplete("compressed stream is truncated", at=at)
                    return Expanded(memoryview(out), fed, complete=False)
                chunk = bytes(source[fed : fed + _STEP])
                fed += len(chunk)
            else:
                chunk = b""
            piece = decompressor.decompress(chunk, min(_STEP, limit - len(out) + 1))
            if len(out) + len(piece) > limit:
                ctx.report(
                    "ARCHIVE-BOMB",
                    f"{len(source)} compressed bytes expand past {limit} (ratio limit "
                    f"{ctx.options.limits.max_ratio})",
                    at=at,
                )
                ctx.incomplete("decompression stopped at the ratio limit", at=at)
                return Expanded(memoryview(out), fed, complete=False)
            if not ctx.charge(len(piece), at=at):
                return Expanded(memoryview(out), fed, complete=False)
            out += piece
    except _CORRUPT as error:
        ctx.incomplete(f"compressed stream is corrupt ({error})", at=at)
        return Expanded(memoryview(out), fed, complete=False)
    return Expanded(memoryview(out), fed - len(decompressor.unused_data), complete=True)
