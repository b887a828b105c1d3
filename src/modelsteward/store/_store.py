"""The artifact store: blobs addressed by their SHA-256, written once, never changed.

Layout under the store's root::

    blobs/sha256/<aa>/<hex>      the bytes of one file (read-only), <aa> = first two hex digits
    snapshots/<manifest hex>/    a read-only folder of hard links to the blobs of one manifest
    tmp/<pid>-<token>[-<n>]      files and folders being written, named after the writer's process

Every write goes to ``tmp/`` first and is renamed into place, so a reader (or a process killed
mid-write) never sees part of a blob. What a killed process leaves in ``tmp/`` is removed the next
time a store is opened on the same root.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from modelsteward.core import Manifest
from modelsteward.store._transfer import DEFAULT_SHARD_SIZE, StoreError, check_paths, combine, transfer

_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
_TEMP = re.compile(r"(\d+)-[0-9a-f]+(-\d+)?")
_READ_ONLY_FILE = 0o444
_READ_ONLY_FOLDER = 0o555


class ArtifactStore:
    """Content-addressed storage of model files and documents under ``root``.

    Opening a store creates its folders and removes temporary files of writers that are no longer
    running. Processes on one host may share a store: concurrent writes of the same content both
    succeed. A process id names each writer, so hosts must not share one store folder.
    """

    __slots__ = ("durable", "root")

    def __init__(self, root: Path, *, durable: bool = False) -> None:
        self.root = root
        """The store's folder."""
        self.durable = durable
        """Flush every blob to disk (fsync) before it becomes visible: blobs then survive a power
        loss, at the disk's write speed. Without it a blob survives any process crash, not an OS
        crash; a truncated blob is then found by its size and replaced on the next ingest."""
        for folder in (self._blobs, self._snapshots, self._tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self._sweep()

    @property
    def _blobs(self) -> Path:
        return self.root / "blobs" / "sha256"

    @property
    def _snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def _tmp(self) -> Path:
        return self.root / "tmp"

    def ingest(
        self,
        root: Path,
        files: Sequence[str],
        *,
        jobs: int | None = None,
        shard_size: int = DEFAULT_SHARD_SIZE,
    ) -> Manifest:
        """Copy ``files`` (relative, ``/``-separated) from ``root`` into the store, hashing each byte as
        it is copied, on ``jobs`` threads (default one per core); return their manifest.

        Content already stored is not stored twice. Raises StoreError naming a file that cannot be
        read or that changes while it is read; nothing of that file becomes visible.
        """
        token = self._temp_name()
        targets = [self._tmp / f"{token}-{index}" for index in range(len(files))]
        entries = []
        done = transfer(root, files, targets=targets, jobs=jobs, shard_size=shard_size)
        try:
            for index, entry in done:
                self._commit(targets[index], entry.sha256, entry.size, entry.path)
                entries.append(entry)
        finally:
            done.close()  # waits for the transfer's threads: none writes a target once it is removed
            # Committed targets were renamed away; these are the ones a failure left behind.
            for target in targets:
                target.unlink(missing_ok=True)
        return Manifest(files=tuple(sorted(entries, key=lambda e: e.path)), shard_size=shard_size)

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its address, ``sha256:<hex>`` (sharded as :meth:`ingest` would)."""
        view = memoryview(data)
        shards = [
            hashlib.sha256(view[start : start + DEFAULT_SHARD_SIZE]).hexdigest()
            for start in range(0, max(len(data), 1), DEFAULT_SHARD_SIZE)
        ]
        sha256 = combine(shards)
        if not self._holds(sha256, len(data)):
            temp = self._tmp / self._temp_name()
            try:
                temp.write_bytes(data)
                self._commit(temp, sha256, len(data), f"sha256:{sha256}")
            except OSError as error:
                raise StoreError(f"sha256:{sha256}: cannot store {len(data)} bytes: {error}") from None
            finally:
                temp.unlink(missing_ok=True)
        return f"sha256:{sha256}"

    def has(self, digest: str) -> bool:
        """Whether the store holds ``digest`` (``sha256:<hex>``)."""
        return self._blob(_parse(digest)).is_file()

    def path(self, digest: str) -> Path:
        """The read-only file holding ``digest``; StoreError if the store does not hold it."""
        blob = self._blob(_parse(digest))
        if not blob.is_file():
            raise StoreError(f"{digest}: not in the store at {self.root}")
        return blob

    def open(self, digest: str) -> BinaryIO:
        """The bytes of ``digest``, opened for reading."""
        return self.path(digest).open("rb")

    def read(self, digest: str) -> bytes:
        """The bytes of ``digest``."""
        return self.path(digest).read_bytes()

    def materialize(self, manifest: Manifest) -> Path:
        """A read-only folder holding every file of ``manifest`` at its path: hard links to the blobs
        (copies where the file system refuses links). Built once per manifest, then reused.

        Raises StoreError naming the files the store does not hold.
        """
        target = self._snapshots / manifest.digest.removeprefix("sha256:")
        if target.is_dir():
            return target
        check_paths([entry.path for entry in manifest.files])
        missing = [entry.path for entry in manifest.files if not self._holds(entry.sha256, entry.size)]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise StoreError(f"the store at {self.root} lacks files of manifest {manifest.digest}: {shown}")
        temp = self._tmp / self._temp_name()
        try:
            self._build_view(temp, manifest)
            try:
                temp.rename(target)
            except OSError:
                if not target.is_dir():
                    raise
                # Another writer built the same view first; theirs is identical.
                return target
            target.chmod(_READ_ONLY_FOLDER)
        except OSError as error:
            raise StoreError(f"cannot build {target}: {error}") from None
        finally:
            if temp.exists():
                _remove(temp)
        return target

    def _build_view(self, folder: Path, manifest: Manifest) -> None:
        folder.mkdir()
        for entry in manifest.files:
            destination = folder / PurePosixPath(entry.path)
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise StoreError(f"{entry.path}: the manifest also lists a parent of it as a file") from None
            blob = self._blob(entry.sha256)
            try:
                os.link(blob, destination)
            except OSError:
                # File systems without hard links (or at their link limit) get a copy.
                shutil.copyfile(blob, destination)
                destination.chmod(_READ_ONLY_FILE)
        # Children first: a read-only folder cannot take new entries. The top folder stays
        # writable until renamed, which moving a folder to a new parent may require.
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            sub.chmod(_READ_ONLY_FOLDER)

    def _blob(self, sha256: str) -> Path:
        return self._blobs / sha256[:2] / sha256

    def _holds(self, sha256: str, size: int) -> bool:
        # A blob of the wrong size is what an OS crash can leave of a write that was never flushed.
        try:
            return self._blob(sha256).stat().st_size == size
        except FileNotFoundError:
            return False

    def _commit(self, temp: Path, sha256: str, size: int, name: str) -> None:
        """Make the complete file ``temp`` the blob ``sha256``, unless an intact one exists."""
        try:
            if self._holds(sha256, size):
                temp.unlink()
                return
            temp.chmod(_READ_ONLY_FILE)
            blob = self._blob(sha256)
            blob.parent.mkdir(exist_ok=True)
            if self.durable:
                _fsync(temp)
            # Atomic, and safe when another process stores the same content at the same moment.
            temp.replace(blob)
            if self.durable:
                _fsync(blob.parent)
        except OSError as error:
            raise StoreError(f"{name}: cannot store it: {error.strerror or error}") from None

    def _temp_name(self) -> str:
        return f"{os.getpid()}-{secrets.token_hex(8)}"

    def _sweep(self) -> None:
        """Remove what writers that are no longer running left in ``tmp/``."""
        for entry in self._tmp.iterdir():
            match = _TEMP.fullmatch(entry.name)
            if match and not _running(int(match.group(1))):
                _remove(entry)


def _parse(digest: str) -> str:
    match = _DIGEST.fullmatch(digest)
    if match is None:
        raise StoreError(f"{digest!r}: not a store address; expected sha256: and 64 lower-case hex digits")
    return match.group(1)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def _remove(path: Path) -> None:
    """Remove a temp file, or a temp folder with its read-only subfolders; another process opening
    the store may be removing it at the same time."""
    try:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o700)
            for sub in path.rglob("*"):
                if sub.is_dir() and not sub.is_symlink():
                    sub.chmod(0o700)
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
