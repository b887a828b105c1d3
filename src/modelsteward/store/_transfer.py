"""Hash files shard by shard on a pool of threads, copying each byte as it is read.

A file longer than the shard size is cut into shards that threads read, hash and copy on their
own (``os.preadv`` into a reused buffer, ``os.pwrite`` at the same offset of the target), so one
big file keeps every core busy. hashlib and the file calls release the GIL on large buffers.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modelsteward.core import FileEntry, Manifest

DEFAULT_SHARD_SIZE = 64 << 20
"""Files longer than this many bytes are hashed in pieces of this size, in parallel: 2 GB in one
file is 32 pieces, enough for 32 cores, and a manifest of a 100 GB model stays under 2,000 digests."""

# Bytes read, hashed and written per system call. Measured on a 2 GB copy: 256 KiB to 1 MiB cost
# the least CPU (the chunk stays in cache between hashing and writing); 4 MiB and more cost more.
_CHUNK = 1 << 20


class StoreError(Exception):
    """A file could not be read, copied or stored; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class _Piece:
    """One shard of one file: the unit of work of a thread."""

    file: int
    """Index of the file in the list being transferred."""
    shard: int
    start: int
    end: int


def check_paths(files: Sequence[str]) -> None:
    """Raise StoreError unless every path is relative, ``/``-separated, inside its root and listed once."""
    seen: set[str] = set()
    for path in files:
        parts = path.split("/")
        if not path or path.startswith("/") or "\0" in path or any(p in ("", ".", "..") for p in parts):
            raise StoreError(f"{path!r}: not a relative path inside the folder (no '', '.', '..', leading /)")
        if path in seen:
            raise StoreError(f"{path}: listed twice")
        seen.add(path)


def combine(shards: Sequence[str]) -> str:
    """A file's SHA-256 from its shard digests: the digest itself for one shard, else the SHA-256 of
    the digests concatenated as raw bytes (see :class:`modelsteward.core.FileEntry`)."""
    if len(shards) == 1:
        return shards[0]
    return hashlib.sha256(b"".join(bytes.fromhex(s) for s in shards)).hexdigest()


def transfer(
    root: Path,
    files: Sequence[str],
    *,
    targets: Sequence[Path] | None,
    jobs: int | None,
    shard_size: int,
) -> Generator[tuple[int, FileEntry], None, None]:
    """Hash ``root/files[i]`` (copying it to ``targets[i]`` if given) and yield ``(i, entry)`` as each
    file is complete, in no particular order. Raise StoreError naming the first file that fails."""
    if shard_size < 1:
        raise StoreError(f"shard size must be a positive number of bytes (got {shard_size})")
    check_paths(files)
    sizes = [_size(root, path) for path in files]
    pieces = [
        _Piece(index, shard, start, min(start + shard_size, size))
        for index, size in enumerate(sizes)
        for shard, start in enumerate(range(0, max(size, 1), shard_size))
    ]
    # Longest pieces first, so that the last to finish are short and no thread idles long; among
    # equal ones, the first shard of every file before the second: threads writing different files
    # do not queue for the same file's lock.
    pieces.sort(key=lambda p: (p.start - p.end, p.shard, p.file))
    digests: list[list[str]] = [[""] * max(1, -(-size // shard_size)) for size in sizes]
    remaining = [len(d) for d in digests]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(pieces)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store-hash") as pool:
        futures: dict[Future[str], _Piece] = {
            pool.submit(
                _copy_range,
                root / files[p.file],
                None if targets is None else targets[p.file],
                p,
                sizes[p.file],
                files[p.file],
            ): p
            for p in pieces
        }
        try:
            for future in as_completed(futures):
                piece = futures[future]
                digests[piece.file][piece.shard] = future.result()
                remaining[piece.file] -= 1
                if remaining[piece.file] == 0:
                    shards = digests[piece.file]
                    yield (
                        piece.file,
                        FileEntry(
                            path=files[piece.file],
                            size=sizes[piece.file],
                            sha256=combine(shards),
                            shards=tuple(shards) if len(shards) > 1 else (),
                        ),
                    )
        finally:
            # On a failure (or an abandoned generator) no new piece starts; running ones finish
            # before the pool closes, so no thread writes a target after this returns.
            for future in futures:
                future.cancel()


def hash_tree(
    root: Path, files: Sequence[str], *, jobs: int | None = None, shard_size: int = DEFAULT_SHARD_SIZE
) -> Manifest:
    """The manifest of ``files`` (relative, ``/``-separated) under ``root``, hashed as the store does
    when it ingests them, but without copying: for checking a folder against a manifest."""
    entries = [entry for _, entry in transfer(root, files, targets=None, jobs=jobs, shard_size=shard_size)]
    return Manifest(files=tuple(sorted(entries, key=lambda e: e.path)), shard_size=shard_size)


def _size(root: Path, path: str) -> int:
    try:
        info = (root / PurePosixPath(path)).stat()
    except OSError as error:
        raise StoreError(f"{path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path}: not a regular file")
    return info.st_size


def _copy_range(source: Path, target: Path | None, piece: _Piece, size: int, name: str) -> str:
    """SHA-256 of ``source[piece.start:piece.end]``, written at the same offset of ``target`` on the way."""
    hasher = hashlib.sha256()
    buffer = memoryview(bytearray(max(1, min(_CHUNK, piece.end - piece.start))))
    try:
        reader = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
        try:
            # Tell the kernel to read ahead: a file not yet in the page cache streams from disk.
            os.posix_fadvise(reader, piece.start, piece.end - piece.start, os.POSIX_FADV_SEQUENTIAL)
            writer = None if target is None else os.open(target, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC)
            try:
                offset = piece.start
                while offset < piece.end:
                    count = os.preadv(reader, [buffer[: piece.end - offset]], offset)
                    if count == 0:
                        raise StoreError(f"{name}: shorter than {size} bytes: it changed while being read")
                    chunk = buffer[:count]
                    hasher.update(chunk)
                    if writer is not None:
                        _write_all(writer, chunk, offset)
                    offset += count
                if piece.end == size and os.fstat(reader).st_size != size:
                    raise StoreError(f"{name}: no longer {size} bytes long: it changed while being read")
            finally:
                if writer is not None:
                    os.close(writer)
        finally:
            os.close(reader)
    except OSError as error:
        raise StoreError(f"{name}: {error.strerror or error}") from None
    return hasher.hexdigest()


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written
