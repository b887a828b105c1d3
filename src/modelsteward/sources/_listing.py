"""The regular files of a folder, listed so that nothing outside it can slip in."""

from __future__ import annotations

import os
from pathlib import Path

from modelsteward.sources._source import SourceError

_VCS_INTERNALS = ".git"


def list_files(root: Path, *, skip: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every regular file under ``root`` as sorted, relative, ``/``-separated paths.

    ``.git`` folders and files are left out wherever they are, and so are the relative paths in
    ``skip``. A symbolic link is followed only when its target lies inside ``root``: one that leads
    out, a link loop, a broken link or anything that is not a regular file or folder is a
    :class:`SourceError` naming it, because the caller copies what the listing names.
    """
    real_root = Path(os.path.realpath(root))
    found: list[str] = []
    # (prefix of the listed path, folder to read, real folders from the root down, to see loops)
    pending: list[tuple[str, Path, tuple[Path, ...]]] = [("", root, (real_root,))]
    while pending:
        prefix, folder, chain = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            raise SourceError(f"{root}: cannot list {prefix or './'}: {error.strerror}") from None
        for entry in entries:
            path = prefix + entry.name
            if entry.name == _VCS_INTERNALS or path in skip:
                continue
            _check_name(root, path)
            if entry.is_symlink():
                real = _link_target(root, real_root, path, entry.path)
            elif entry.is_dir(follow_symlinks=False):
                real = chain[-1] / entry.name
            else:
                real = Path(entry.path)
            if real.is_dir():
                if real in chain:
                    raise SourceError(f"{root}: {path} links back to a folder that holds it; remove the loop")
                pending.append((path + "/", Path(entry.path), (*chain, real)))
            elif real.is_file():
                found.append(path)
            else:
                raise SourceError(
                    f"{root}: {path} is not a regular file (a broken link, pipe, socket or device); "
                    "remove it, or admit a folder without it"
                )
    return tuple(sorted(found))


def _link_target(root: Path, real_root: Path, path: str, link: str) -> Path:
    target = Path(os.path.realpath(link))
    if not target.is_relative_to(real_root):
        raise SourceError(
            f"{root}: {path} is a symbolic link to {target}, outside the folder; "
            "copy the target in place of the link, or admit the folder that holds it"
        )
    return target


def _check_name(root: Path, path: str) -> None:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise SourceError(
            f"{root}: {path!r} is not a valid UTF-8 name; rename it so the manifest can record it"
        ) from None
