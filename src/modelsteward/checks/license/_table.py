"""The licence table (``data/licenses/table.yaml``): classes, entries and their obligations, read once."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.data import load_yaml

TABLE_FILE = "licenses/table.yaml"


class LicenseClass(enum.StrEnum):
    """What a licence lets a business do, from the least to the most restrictive."""

    PERMISSIVE = "permissive"
    WEAK_COPYLEFT = "weak-copyleft"
    RESPONSIBLE_AI = "responsible-ai"
    """Use-restricted: the OpenRAIL family, BLOOM RAIL and licences built like them."""
    VENDOR_COMMUNITY = "vendor-community"
    """A model vendor's own terms: Llama, Gemma, Qwen and the like."""
    STRONG_COPYLEFT = "strong-copyleft"
    NO_DERIVATIVES = "no-derivatives"
    NON_COMMERCIAL = "non-commercial"
    """Non-commercial or research-only."""
    UNKNOWN = "unknown"
    """No licence the table can judge: the model goes to review."""

    @property
    def rank(self) -> int:
        """Position in the order of restrictiveness: 0 for permissive, highest for unknown."""
        return list(LicenseClass).index(self)


@dataclass(frozen=True, slots=True)
class Obligation:
    """A condition of a licence that matters to a business."""

    id: str
    """A stable slug from the table's ``obligations`` catalogue (``user-threshold``, ``attribution``)."""
    text: str
    """What this licence asks, with its figures."""


@dataclass(frozen=True, slots=True)
class License:
    """One entry of the licence table."""

    id: str
    """The Hugging Face licence id where there is one (``apache-2.0``, ``llama3.1``)."""
    name: str
    license_class: LicenseClass
    spdx: str | None = None
    """The SPDX license identifier, when SPDX has one."""
    family: str | None = None
    """The generic entry this one refines (``gpl`` for ``gpl-3.0``), if any."""
    aliases: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    notes: str = ""

    @property
    def known(self) -> bool:
        """Whether the entry names a licence the check can judge (its class is not unknown)."""
        return self.license_class is not LicenseClass.UNKNOWN

    def agrees_with(self, other: License) -> bool:
        """Whether both name the same licence, or one is the generic family of the other."""
        return other.id in (self.id, self.family) or other.family == self.id


def lookup_key(name: str) -> str:
    """How names are compared: case folded, runs of spaces, underscores and commas as one hyphen."""
    return re.sub(r"[\s_,;]+", "-", name.strip().casefold()).strip("-")


class LicenseTable(Mapping[str, License]):
    """Licence entries by id, and a lookup by any of their names."""

    def __init__(self, entries: tuple[License, ...], obligations: Mapping[str, str]) -> None:
        self._entries = {entry.id: entry for entry in entries}
        self.obligations: Mapping[str, str] = dict(obligations)
        """Every obligation id the table uses, with what it means in general."""
        self._by_name: dict[str, License] = {}
        for entry in entries:
            for name in (entry.id, entry.name, entry.spdx, *entry.aliases):
                if name is None:
                    continue
                key = lookup_key(name)
                holder = self._by_name.setdefault(key, entry)
                if holder is not entry:
                    raise ValueError(f"{TABLE_FILE}: {name!r} names both {holder.id} and {entry.id}")

    def __getitem__(self, license_id: str) -> License:
        return self._entries[license_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def resolve(self, name: str) -> License | None:
        """The entry ``name`` identifies (id, name, SPDX id or alias, in any case), or None."""
        return self._by_name.get(lookup_key(name))


@functools.cache
def load_table() -> LicenseTable:
    """The licence table shipped with the package; raise ValueError naming a malformed entry."""
    return parse_table(load_yaml(TABLE_FILE))


_ENTRY_FIELDS = {"id", "name", "class", "spdx", "family", "aliases", "obligations", "notes"}


def parse_table(raw: Any) -> LicenseTable:
    """Validate the parsed YAML of a licence table and build it."""
    if not isinstance(raw, dict) or not isinstance(raw.get("licenses"), list):
        raise ValueError(f"{TABLE_FILE}: expected a mapping with `obligations` and a `licenses` list")
    catalogue = raw.get("obligations")
    if not isinstance(catalogue, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in catalogue.items()
    ):
        raise ValueError(f"{TABLE_FILE}: `obligations` must map obligation ids to descriptions")
    entries = tuple(_parse_entry(item, index, catalogue) for index, item in enumerate(raw["licenses"]))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise ValueError(f"{TABLE_FILE}: duplicate licence id {entry.id}")
        seen.add(entry.id)
    for entry in entries:
        if entry.family is not None and entry.family not in seen:
            raise ValueError(f"{TABLE_FILE}: {entry.id}: family {entry.family!r} is not a licence id")
    return LicenseTable(entries, catalogue)


def _parse_entry(item: Any, index: int, catalogue: Mapping[str, str]) -> License:
    where = f"{TABLE_FILE}: licenses[{index}]"
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a mapping (got {item!r})")
    where = f"{TABLE_FILE}: {item.get('id', f'licenses[{index}]')}"
    unknown = set(item) - _ENTRY_FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_FIELDS)}")
    for field in ("id", "name", "class"):
        if not isinstance(item.get(field), str) or not item[field]:
            raise ValueError(f"{where}: `{field}` must be a non-empty string")
    try:
        license_class = LicenseClass(item["class"])
    except ValueError:
        choices = ", ".join(c.value for c in LicenseClass)
        raise ValueError(f"{where}: class must be one of {choices} (got {item['class']!r})") from None
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ValueError(f"{where}: `aliases` must be a list of names")
    for field in ("spdx", "family", "notes"):
        if item.get(field) is not None and not isinstance(item[field], str):
            raise ValueError(f"{where}: `{field}` must be a string")
    return License(
        id=item["id"],
        name=item["name"],
        license_class=license_class,
        spdx=item.get("spdx"),
        family=item.get("family"),
        aliases=tuple(aliases),
        obligations=tuple(_parse_obligation(o, where, catalogue) for o in item.get("obligations") or ()),
        notes=" ".join(str(item.get("notes", "")).split()),
    )


def _parse_obligation(item: Any, where: str, catalogue: Mapping[str, str]) -> Obligation:
    if not isinstance(item, dict) or set(item) != {"id", "text"}:
        raise ValueError(f"{where}: each obligation needs exactly `id` and `text` (got {item!r})")
    if item["id"] not in catalogue:
        known = ", ".join(sorted(catalogue))
        raise ValueError(f"{where}: obligation {item['id']!r} is not in `obligations` ({known})")
    text = " ".join(str(item["text"]).split())
    if not text:
        raise ValueError(f"{where}: obligation {item['id']} has no text")
    return Obligation(id=item["id"], text=text)
