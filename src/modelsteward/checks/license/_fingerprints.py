"""Recognise licence texts by distinctive phrases (``data/licenses/fingerprints.yaml``), read once."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from modelsteward.checks.license._table import LicenseTable, load_table
from modelsteward.data import load_yaml

FINGERPRINTS_FILE = "licenses/fingerprints.yaml"

# Typographic variants that licence files, their Markdown renderings and re-typed copies use for the
# same text; Markdown emphasis, headings, code and escapes carry no words.
_PLAIN = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("*_#`>|\\\u00a0", " "),
    }
)
_SPACES = re.compile(r"\s+")
_WRAPPED_HYPHEN = re.compile(r"- ")


def normalise(text: str) -> str:
    """``text`` as fingerprints compare it: plain, case-folded, on one line, hyphenation joined."""
    plain = _SPACES.sub(" ", text.translate(_PLAIN).casefold())
    # A line wrapped after a hyphen ("non-\ntransferable") reads as one word; spaced dashes are
    # folded the same way in texts and phrases, so "License - Version" matches either spacing.
    return _WRAPPED_HYPHEN.sub("-", plain).strip()


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The phrases that identify one licence's text."""

    license: str
    """The licence table id the text is."""
    any: tuple[tuple[re.Pattern[str], ...], ...]
    """Alternatives: the text matches when every phrase of one of them is found."""
    unless: tuple[re.Pattern[str], ...] = ()
    """Phrases of close relatives: any of them rules this licence out."""

    def matches(self, normalised: str) -> bool:
        """Whether a text, already :func:`normalise`-d, is this licence."""
        if any(p.search(normalised) for p in self.unless):
            return False
        return any(all(p.search(normalised) for p in phrases) for phrases in self.any)


def identify(text: str, fingerprints: tuple[Fingerprint, ...]) -> tuple[str, ...]:
    """The ids of every licence whose fingerprint ``text`` matches, in fingerprint order."""
    normalised = normalise(text)
    return tuple(f.license for f in fingerprints if f.matches(normalised))


@functools.cache
def load_fingerprints() -> tuple[Fingerprint, ...]:
    """The fingerprints shipped with the package; raise ValueError naming a malformed entry."""
    return parse_fingerprints(load_yaml(FINGERPRINTS_FILE), load_table())


def parse_fingerprints(raw: Any, table: LicenseTable) -> tuple[Fingerprint, ...]:
    """Validate the parsed YAML of a fingerprint file against ``table`` and compile it."""
    if not isinstance(raw, list):
        raise ValueError(f"{FINGERPRINTS_FILE}: expected a list of fingerprints")
    fingerprints = tuple(_parse_fingerprint(item, index, table) for index, item in enumerate(raw))
    ids = [f.license for f in fingerprints]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"{FINGERPRINTS_FILE}: more than one fingerprint for {', '.join(duplicates)}")
    return fingerprints


def _parse_fingerprint(item: Any, index: int, table: LicenseTable) -> Fingerprint:
    where = f"{FINGERPRINTS_FILE}: [{index}]"
    if not isinstance(item, dict) or not set(item) <= {"license", "any", "unless"}:
        raise ValueError(f"{where}: expected `license`, `any` and optionally `unless` (got {item!r})")
    license_id = item.get("license")
    if not isinstance(license_id, str) or license_id not in table:
        raise ValueError(f"{where}: license {license_id!r} is not an id of the licence table")
    alternatives = item.get("any")
    if not isinstance(alternatives, list) or not alternatives:
        raise ValueError(f"{where} ({license_id}): `any` must be a non-empty list of phrase lists")
    return Fingerprint(
        license=license_id,
        any=tuple(_phrases(a, f"{where} ({license_id})") for a in alternatives),
        unless=_phrases(item.get("unless", []), f"{where} ({license_id})", allow_empty=True),
    )


def _phrases(raw: Any, where: str, *, allow_empty: bool = False) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and normalise(p) for p in raw):
        raise ValueError(f"{where}: phrases must be a list of non-empty strings (got {raw!r})")
    if not raw and not allow_empty:
        raise ValueError(f"{where}: an alternative needs at least one phrase")
    return tuple(_compile(normalise(p)) for p in raw)


def _compile(phrase: str) -> re.Pattern[str]:
    # Whole words, and whole version numbers: "llama 3" must not be found in "llama 3.1".
    return re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9]|\.[0-9])")
