"""From licence statements to one class, its obligations, and whether the statements agree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelsteward.checks.license._detect import Declaration, Origin
from modelsteward.checks.license._expression import Leaf, applicable, leaves, parse_term
from modelsteward.checks.license._table import License, LicenseClass, LicenseTable, Obligation


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A licence name the table cannot judge, and the statement that names it."""

    name: str
    declaration: Declaration
    entry: License | None
    """The table entry when the name is in the table but names no judgeable licence (``other``)."""


@dataclass(frozen=True, slots=True)
class Classification:
    """What the licence statements of a snapshot add up to."""

    license_class: LicenseClass
    """The most restrictive class of the licences that apply; unknown unless ``known``."""
    known: bool
    """Something states a licence, and every licence that applies is one the table can judge."""
    ids: tuple[str, ...]
    """Table ids of every licence named, in the order found (both sides of an OR)."""
    named_by: Mapping[str, Declaration]
    """The statement that first names each id of ``ids``."""
    licenses: tuple[License, ...]
    """The licences that apply: every part of an AND, the least restrictive option of an OR."""
    obligations: tuple[Obligation, ...]
    """Every obligation of the licences that apply, without repeats."""
    unresolved: tuple[Unresolved, ...]
    """Names that apply but that the table lacks or cannot judge (``other``, ``cc``)."""
    conflict: bool
    """The card, the licence files and the configs name different licences."""
    conflict_detail: str


def classify(declarations: Sequence[Declaration], table: LicenseTable) -> Classification:
    """Classify ``declarations`` by ``table``; never guess: anything unresolved makes the class unknown.

    All statements apply together (an AND): a licence file adds to the card, it does not replace it.
    A generic id (``gpl``, ``cc``, ``openrail``) that another statement refines gives way to it.
    """
    readable = [d for d in declarations if not d.problem]
    terms = [(d, parse_term(d.text, table)) for d in readable]
    named = [(d, leaf.license) for d, term in terms for leaf in leaves(term) if leaf.license is not None]
    refined = {entry.family for _, entry in named if entry.family is not None}
    binding = [
        (d, leaf)
        for d, term in terms
        for leaf in applicable(term)
        if leaf.license is None or leaf.license.id not in refined
    ]
    unresolved = tuple(Unresolved(leaf.name, d, leaf.license) for d, leaf in binding if not _judged(leaf))
    licenses = tuple(dict.fromkeys(leaf.license for _, leaf in binding if leaf.license and _judged(leaf)))
    known = bool(licenses) and len(readable) == len(declarations) and not unresolved
    most_restrictive = max((e.license_class for e in licenses), key=lambda c: c.rank, default=None)
    conflict_detail = _conflicts(named)
    return Classification(
        license_class=most_restrictive if known and most_restrictive else LicenseClass.UNKNOWN,
        known=known,
        ids=tuple(dict.fromkeys(entry.id for _, entry in named)),
        named_by={entry.id: d for d, entry in reversed(named)},
        licenses=licenses,
        obligations=tuple(dict.fromkeys(o for entry in licenses for o in entry.obligations)),
        unresolved=unresolved,
        conflict=bool(conflict_detail),
        conflict_detail=conflict_detail,
    )


def _judged(leaf: Leaf) -> bool:
    return leaf.license is not None and leaf.license.known


def _conflicts(named: list[tuple[Declaration, License]]) -> str:
    """Why the card, the licence files and the configs disagree; empty when they do not.

    Two sources disagree when neither names a licence the other names (or refines); a source that
    names more than the other (code under MIT beside model weights under a vendor licence) does not.
    """
    by_origin: dict[Origin, list[tuple[Declaration, License]]] = {}
    for declaration, entry in named:
        by_origin.setdefault(declaration.origin, []).append((declaration, entry))
    origins = [o for o in Origin if o in by_origin]
    details = []
    for index, first in enumerate(origins):
        for second in origins[index + 1 :]:
            if not any(a.agrees_with(b) for _, a in by_origin[first] for _, b in by_origin[second]):
                details.append(f"{_says(by_origin[first])}, but {_says(by_origin[second])}")
    return "; ".join(details)


def _says(statements: list[tuple[Declaration, License]]) -> str:
    ids: dict[str, list[str]] = {}
    for declaration, entry in statements:
        ids.setdefault(declaration.where, []).append(entry.id)
    return " and ".join(f"{where} says {' and '.join(dict.fromkeys(i))}" for where, i in ids.items())
