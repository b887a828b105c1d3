"""A local file or folder, read in place; pinned to a commit when it is exactly a clean git checkout."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelsteward.sources._git import TreeEntry, ls_tree, rev_parse, run_git
from modelsteward.sources._listing import list_files
from modelsteward.sources._source import Fetched, SourceError, Upstream

_LFS_POINTER_MAX = 1024
"""Git LFS pointer files are never larger than this."""
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class LocalSource:
    """A file or folder on this machine."""

    uri: str
    path: Path
    """Absolute."""
    env: Mapping[str, str] = field(repr=False)

    @property
    def watchable(self) -> bool:
        """Never: a folder on this machine has no upstream."""
        return False

    def fetch(self, into: Path) -> Fetched:
        """List the files where they are; ``into`` stays empty, since the caller copies into its store."""
        del into
        paths: tuple[str, ...]
        if self.path.is_dir():
            root = shown = self.path.resolve()
            files, paths = list_files(root), ()
        elif self.path.is_file():
            root = self.path.parent.resolve()
            files = paths = (self.path.name,)
            shown = root / self.path.name
        else:
            raise SourceError(f"{self.uri}: not a regular file or folder (or no longer there)")
        revision = self._clean_head(root, files, paths)
        return Fetched(root=root, files=files, revision=revision, source=str(shown))

    def upstream(self, *, since: str | None = None) -> Upstream:
        """Never: a folder on this machine has no upstream to watch."""
        del since
        raise SourceError(
            f"{self.uri}: a local file or folder has no upstream to watch; admit the model from "
            "hf://org/name[@branch] or a git URL[@branch] to have its upstream watched"
        )

    def _clean_head(self, root: Path, files: tuple[str, ...], paths: tuple[str, ...]) -> str | None:
        """HEAD's commit when ``files`` are byte for byte what it holds under ``root``, no more, no fewer.

        Only git commands that read objects run here (never ``status``, filters or hooks), so a hostile
        ``.git/config`` in a downloaded folder gets nothing to execute.
        """
        if shutil.which("git", path=self.env.get("PATH")) is None:
            return None
        head = rev_parse(root, "HEAD^{commit}", env=self.env)
        if head is None:
            return None
        entries = {e.path: e for e in ls_tree(root, head, env=self.env, paths=paths)}
        if set(entries) != set(files):
            return None
        object_format = run_git(["rev-parse", "--show-object-format"], cwd=root, env=self.env)
        algorithm = object_format.stdout.decode().strip() or "sha1"
        same = all(self._same(root, root / path, entries[path], algorithm) for path in files)
        return head if same else None

    def _same(self, root: Path, path: Path, entry: TreeEntry, algorithm: str) -> bool:
        if entry.kind != "blob" or entry.size is None:
            return False
        size = path.stat().st_size
        if size == entry.size:
            return _digest(path, algorithm, f"blob {size}\0".encode()) == entry.oid
        # A file tracked through Git LFS: the commit holds a pointer naming its SHA-256 and size.
        if entry.size > _LFS_POINTER_MAX:
            return False
        pointer = run_git(["cat-file", "blob", entry.oid], cwd=root, env=self.env).stdout.decode(
            errors="replace"
        )
        fields = {key: value for key, _, value in (line.partition(" ") for line in pointer.splitlines())}
        return fields.get("size") == str(size) and fields.get("oid") == f"sha256:{_digest(path, 'sha256')}"


def _digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
    hasher = hashlib.new(algorithm, prefix, usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def parse(uri: str, env: Mapping[str, str]) -> LocalSource | None:
    """A :class:`LocalSource` when ``uri`` is a path that exists, else None."""
    path = Path(uri)
    return LocalSource(uri=uri, path=path.absolute(), env=env) if path.exists() else None
