"""Where a snapshot states its licence: model card metadata, licence files and configs."""

from __future__ import annotations

import enum
import json
import re
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from modelsteward.checks.license._fingerprints import Fingerprint, identify, load_fingerprints
from modelsteward.core import FileEntry, Snapshot
from modelsteward.formats.model_card import CardError, parse_card

_READ_LIMIT = 1 << 20
"""Bytes read of a card or licence file: far more than any licence text."""
_CONFIG_LIMIT = 64 << 20
"""Configs larger than this (none is; tokenizer configs reach a few MiB) are not read."""

# A licence word as a whole part of a file name: LICENSE, LICENSE.txt, LICENSE-MODEL, COPYING.LESSER,
# Qwen-LICENSE. Files that accompany a licence (NOTICE, USE_POLICY.md) are read as well, but only a
# licence file whose text is not recognised makes the licence unknown.
_LICENSE_NAME = re.compile(r"(?:^|[._-])(?:licen[cs]e|copying)(?:$|[._-])")
_COMPANION_NAME = re.compile(
    r"(?:^|[._-])(?:notice|(?:acceptable|prohibited)[_-]?use(?:[_-]?policy)?|use[_-]?policy)(?:$|[._-])"
)
_CONFIG_NAME = re.compile(r"(?:^|[._-])config\.json$|^model_index\.json$")


class Origin(enum.StrEnum):
    """What kind of place a licence statement comes from."""

    CARD = "card"
    """The YAML metadata of the model card (README.md)."""
    FILE = "file"
    """A licence file, recognised by its text."""
    CONFIG = "config"
    """A ``license`` field of a JSON config."""


@dataclass(frozen=True, slots=True)
class Declaration:
    """One licence statement found in a snapshot."""

    text: str
    """As written: an id, a name, an SPDX expression, or the table id a licence text matched
    (``unrecognised`` or ``unreadable`` for a statement with a ``problem``)."""
    where: str
    """For a reviewer: ``README.md metadata `license```, ``LICENSE (text fingerprint)``."""
    origin: Origin
    path: str
    """The file, relative to the snapshot root."""
    problem: str = ""
    """Why the statement could not be read (a licence text no fingerprint matches, broken
    metadata); such a statement names no licence and makes the licence unknown."""


def detect(snapshot: Snapshot) -> tuple[Declaration, ...]:
    """Every licence statement of ``snapshot``: card metadata first, then licence files, then configs."""
    card = _card_entry(snapshot)
    card_declarations, linked = _card_declarations(snapshot, card) if card else ((), None)
    return (
        *card_declarations,
        *_file_declarations(snapshot, linked, load_fingerprints()),
        *_config_declarations(snapshot),
    )


def _card_entry(snapshot: Snapshot) -> FileEntry | None:
    return next((f for f in snapshot.manifest.files if f.path.casefold() == "readme.md"), None)


def _read(snapshot: Snapshot, entry: FileEntry, limit: int = _READ_LIMIT) -> str | None:
    """The first ``limit`` bytes of a file as text, or None when they hold binary data.

    Raise OSError when the file cannot be read.
    """
    with (snapshot.root / entry.path).open("rb") as handle:
        data = handle.read(limit)
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _cannot_read(error: OSError) -> str:
    # The OS's reason without the absolute path, which says nothing about the snapshot.
    return f"cannot be read ({error.strerror or type(error).__name__})"


def _card_declarations(snapshot: Snapshot, card: FileEntry) -> tuple[tuple[Declaration, ...], str | None]:
    """The card's ``license`` (or ``license_name`` for ``other``), and the file ``license_link`` names."""
    where = f"{card.path} metadata"
    try:
        text = _read(snapshot, card)
    except OSError as error:
        return (_unreadable(card.path, where, Origin.CARD, f"the model card {_cannot_read(error)}"),), None
    if text is None:
        return (_unreadable(card.path, where, Origin.CARD, "the model card is not text"),), None
    try:
        metadata = parse_card(text, filename=card.path).metadata
    except CardError as error:
        problem = f"{error.line}:{error.column}: {error.reason}"
        return (_unreadable(card.path, where, Origin.CARD, problem),), None
    if "license" not in metadata:
        return (), None
    names = _names(metadata["license"], card.path, f"{where} `license`", Origin.CARD)
    if any(d.text.casefold() == "other" and not d.problem for d in names) and "license_name" in metadata:
        named = _names(metadata["license_name"], card.path, f"{where} `license_name`", Origin.CARD)
        names = tuple(d for d in names if d.text.casefold() != "other") + named
    return names, _linked_file(snapshot, metadata.get("license_link"))


def _names(value: Any, path: str, where: str, origin: Origin) -> tuple[Declaration, ...]:
    """A ``license`` value (a string, or a list of them) as declarations; anything else is a problem."""
    if isinstance(value, str) and value.strip():
        return (Declaration(value.strip(), where, origin, path),)
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        if len(value) == 1:
            return (Declaration(value[0].strip(), where, origin, path),)
        return tuple(
            Declaration(v.strip(), f"{where} (item {i})", origin, path) for i, v in enumerate(value, start=1)
        )
    problem = f"must be a licence id or a list of them (got {_brief(value)})"
    return (_unreadable(path, where, origin, problem),)


def _brief(value: Any) -> str:
    """A malformed value as a problem quotes it: short, however large or deeply nested it is."""
    brief = reprlib.Repr()
    brief.maxlevel, brief.maxstring, brief.maxother = 2, 40, 40
    return brief.repr(value)


def _unreadable(path: str, where: str, origin: Origin, problem: str) -> Declaration:
    return Declaration("unreadable", where, origin, path, problem=problem)


def _linked_file(snapshot: Snapshot, link: Any) -> str | None:
    """The snapshot file a relative ``license_link`` names, if any."""
    if not isinstance(link, str) or "://" in link:
        return None
    path = str(PurePosixPath(link.strip().removeprefix("./")))
    return path if snapshot.manifest.get(path) is not None else None


def _file_declarations(
    snapshot: Snapshot, linked: str | None, fingerprints: tuple[Fingerprint, ...]
) -> Iterator[Declaration]:
    """Licence files at the snapshot root (and the file the card links to), by their texts."""
    for entry in snapshot.manifest.files:
        name = PurePosixPath(entry.path).name.casefold()
        is_license = entry.path == linked or ("/" not in entry.path and _LICENSE_NAME.search(name))
        if not is_license and ("/" in entry.path or not _COMPANION_NAME.search(name)):
            continue
        try:
            text = _read(snapshot, entry)
        except OSError as error:
            if is_license:
                yield _unreadable(entry.path, entry.path, Origin.FILE, f"the file {_cannot_read(error)}")
            continue
        if text is None:
            continue  # binary data is no licence text, whatever the file's name
        found = identify(text, fingerprints)
        for license_id in found:
            yield Declaration(license_id, f"{entry.path} (text fingerprint)", Origin.FILE, entry.path)
        if not found and is_license:
            yield Declaration(
                "unrecognised",
                f"{entry.path} (text matches no known licence)",
                Origin.FILE,
                entry.path,
                problem="the text matches no licence fingerprint",
            )


def _config_declarations(snapshot: Snapshot) -> Iterator[Declaration]:
    """``license`` fields of JSON configs (``config.json``, ``tokenizer_config.json``, ...)."""
    for entry in snapshot.manifest.files:
        if entry.size > _CONFIG_LIMIT or not _CONFIG_NAME.search(PurePosixPath(entry.path).name.casefold()):
            continue
        try:
            text = _read(snapshot, entry, _CONFIG_LIMIT)
        except OSError as error:
            yield _unreadable(entry.path, entry.path, Origin.CONFIG, f"the config {_cannot_read(error)}")
            continue
        try:
            config = json.loads(text) if text is not None else None
        except (ValueError, RecursionError):
            continue  # a broken config is the security scan's finding, not a licence statement
        if isinstance(config, dict) and "license" in config:
            yield from _names(config["license"], entry.path, f"{entry.path} `license`", Origin.CONFIG)
