"""What a source is, what fetching one gives, and what it holds upstream now.

What an upstream says (card declarations, commit titles, messages and authors) reaches terminals,
notifications and the registry, so it is made printable and bounded as it is read
(:func:`modelsteward._text.printable`).
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from modelsteward._text import printable

FULL_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
"""A full commit id (SHA-1 or SHA-256): a revision that names one commit and never moves."""
_NAMES_SHOWN = 10
"""How many branches and tags a message lists before it says how many more there are."""
TEXT_CHARS = 200
"""The most characters kept of a card's declared value, a commit's title or an author's name."""
MESSAGE_CHARS = 2000
"""The most characters kept of a commit's message."""


class SourceError(Exception):
    """A source that cannot be read: what went wrong, with which source, and what would be right."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A model's files at one pinned revision, readable under ``root``."""

    root: Path
    """The directory under which every listed file lies."""
    files: tuple[str, ...]
    """Relative, ``/``-separated paths, sorted; never version-control internals."""
    revision: str | None
    """The commit the source resolved to; None for a local path not pinned by a clean git checkout."""
    source: str
    """The canonical, pinned source: ``hf://org/name@<sha>``, ``<git url>@<sha>`` or an absolute path."""


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit upstream, as a notification tells it."""

    id: str
    """The full commit id."""
    title: str
    """The first line of its message, printable, at most :data:`TEXT_CHARS` characters."""
    message: str
    """The rest of its message, printable but for line breaks, at most :data:`MESSAGE_CHARS`
    characters; empty when there is none."""
    authors: tuple[str, ...]
    """Author names (git) or user names (the Hub), printable, at most :data:`TEXT_CHARS` characters each."""
    date: datetime
    """When it was committed, with its time zone."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """What a source holds now at the branch or tag it tracks, read without downloading model files."""

    source: str
    """The tracked source as given (``hf://org/name@main``), less any password in a URL."""
    revision: str
    """The full commit the tracked branch or tag points to now."""
    pinned: bool
    """True when the source names a commit rather than a branch or tag: its files and card never change."""
    licenses: tuple[str, ...]
    """Licence ids the card's ``license`` declares, lower-case, in its order; ``other`` is replaced by
    ``license_name`` when the card gives one, as the licence check reads it. Empty without a card.
    Like every declared value, printable and at most :data:`TEXT_CHARS` characters each."""
    license_link: str | None
    """The card's ``license_link`` (a URL or a file of the repository), as written but made printable."""
    gated: str | None
    """``auto`` or ``manual`` when the Hub gates access to the files; None when not gated (always for git)."""
    new_version: str | None
    """The card's ``new_version``: the repository the publisher points to as this model's successor
    (printable)."""
    files: Mapping[str, str]
    """Every file of the revision: path -> content id (the Git LFS SHA-256 on the Hub where the file is
    stored with LFS, else the git blob id), so changed files show without reading them."""
    commits: tuple[Commit, ...] = ()
    """The commits after ``since`` up to ``revision``, newest first; empty when ``since`` was not given,
    is ``revision``, or is not in its history (then ``diverged``)."""
    diverged: bool = False
    """True when ``since`` is not in the history of ``revision``: the tracked ref was rewritten (force
    pushed) or now points to another line of history."""


class CardMetadata(Protocol):
    """A card's parsed metadata: a mapping, or the Hub client's ``CardData``."""

    def get(self, key: str, /) -> Any:
        """The value of ``key``, or None."""
        ...


class Source(Protocol):
    """Somewhere a model can be fetched from at a pinned revision."""

    @property
    def uri(self) -> str:
        """The source as the user gave it, less any password in a URL."""
        ...

    @property
    def watchable(self) -> bool:
        """Whether it has an upstream that :meth:`upstream` reads: False for a local file or folder."""
        ...

    def fetch(self, into: Path) -> Fetched:
        """Resolve the revision and make the files readable; ``into`` is an empty folder the caller owns."""
        ...

    def upstream(self, *, since: str | None = None) -> Upstream:
        """What the tracked branch or tag holds now, with the commits after ``since`` (a full commit id).

        Reads metadata, the file listing and the card only: model files are never downloaded. Raises
        :class:`SourceError` for a source that has no upstream (a local folder) or cannot be read.
        """
        ...


def since_commit(uri: str, since: str | None) -> str | None:
    """``since`` in lower case, as commit ids are written; a :class:`SourceError` unless it is a full one."""
    if since is None:
        return None
    if not FULL_COMMIT.fullmatch(since):
        raise SourceError(
            f"{uri}: commits can be listed since a full commit id (40 or 64 hex digits), not {since!r}"
        )
    return since.lower()


def card_declarations(metadata: CardMetadata, where: str) -> tuple[tuple[str, ...], str | None, str | None]:
    """The licence ids, ``license_link`` and ``new_version`` a card's metadata declares.

    ``where`` names the card in errors (``hf://org/name: README.md at <commit>``). A value of the wrong
    type is a :class:`SourceError`, so a broken declaration is reported rather than read as none.
    """
    licenses = _ids(metadata, "license", where)
    if "other" in licenses and metadata.get("license_name") is not None:
        named = _ids(metadata, "license_name", where)
        licenses = tuple(i for i in licenses if i != "other") + named
    return licenses, _text(metadata, "license_link", where), _text(metadata, "new_version", where)


def upstream_commit(oid: str, title: str, message: str, authors: Iterable[str], date: datetime) -> Commit:
    """A :class:`Commit` as an upstream tells it, its text made printable and bounded."""
    return Commit(
        id=oid,
        title=printable(title, TEXT_CHARS),
        message=printable(message, MESSAGE_CHARS, keep="\n"),
        authors=tuple(printable(author, TEXT_CHARS) for author in authors),
        date=date,
    )


def vanished(uri: str, revision: str, branches: Sequence[str], tags: Sequence[str]) -> SourceError:
    """The error for a tracked branch or tag that the repository no longer has, naming those it has."""
    return SourceError(
        f"{uri}: the repository has no branch or tag {revision!r} (it may have been deleted or renamed); "
        f"it has {_listed('branches', branches)} and {_listed('tags', tags)}; track one of those, "
        "or give a full commit id to follow one commit"
    )


def _ids(metadata: CardMetadata, key: str, where: str) -> tuple[str, ...]:
    value = metadata.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise SourceError(f"{where}: `{key}` must be a licence id or a list of them (got {_brief(value)})")
    return tuple(printable(item.strip().lower(), TEXT_CHARS) for item in items)


def _text(metadata: CardMetadata, key: str, where: str) -> str | None:
    value = metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SourceError(f"{where}: `{key}` must be text (got {_brief(value)})")
    return printable(value.strip(), TEXT_CHARS)


def _brief(value: object) -> str:
    brief = reprlib.Repr()
    brief.maxlevel, brief.maxstring, brief.maxother = 2, 40, 40
    return brief.repr(value)


def _listed(kind: str, names: Sequence[str]) -> str:
    if not names:
        return f"no {kind}"
    shown = ", ".join(sorted(names)[:_NAMES_SHOWN])
    more = len(names) - _NAMES_SHOWN
    return f"{kind} {shown} and {more} more" if more > 0 else f"{kind} {shown}"
