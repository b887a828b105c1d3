"""Licence statements as terms: one licence, or SPDX expressions joining them with AND and OR."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from license_expression import get_spdx_licensing  # type: ignore[import-untyped]

from modelsteward.checks.license._table import License, LicenseClass, LicenseTable


@dataclass(frozen=True, slots=True)
class Leaf:
    """One licence name and the table entry it resolves to (None when the table lacks it)."""

    name: str
    license: License | None

    @property
    def license_class(self) -> LicenseClass:
        """The entry's class; unknown for a name the table lacks."""
        return LicenseClass.UNKNOWN if self.license is None else self.license.license_class


@dataclass(frozen=True, slots=True)
class AllOf:
    """``A AND B``: every part applies."""

    parts: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``A OR B``: the licensee chooses one option."""

    options: tuple[Term, ...]


Term = Leaf | AllOf | AnyOf

_OPERATOR = re.compile(r"\s(?:and|or|with)\s|[()]", re.IGNORECASE)
_LONGEST_EXPRESSION = 1000
"""Characters; real licence expressions are far shorter, and longer text is read as one unknown name."""


def parse_term(text: str, table: LicenseTable) -> Term:
    """``text`` as a term: a name the table knows, an SPDX expression, or an unknown name."""
    name = text.strip()
    entry = table.resolve(name)
    if entry is not None or not _OPERATOR.search(name) or len(name) > _LONGEST_EXPRESSION:
        return Leaf(name, entry)
    try:
        expression = _spdx_licensing().parse(name, validate=False)
    except Exception:  # noqa: BLE001 - malformed text fails in many ways (ExpressionError, IndexError)
        return Leaf(name, None)
    return _convert(expression, table)


@functools.cache
def _spdx_licensing() -> Any:
    # Loading the SPDX key index takes a tenth of a second; most models declare one plain id.
    return get_spdx_licensing()


def _convert(node: Any, table: LicenseTable) -> Term:
    operator = getattr(node, "operator", "").strip().upper()
    if operator in ("AND", "OR"):
        children = tuple(_convert(child, table) for child in node.args)
        return AllOf(children) if operator == "AND" else AnyOf(children)
    # An exception (``GPL-2.0-only WITH Classpath-exception-2.0``) only adds permissions, so the
    # base licence is the cautious reading.
    symbol = getattr(node, "license_symbol", node)
    key = str(symbol.key)
    return Leaf(key, table.resolve(key))


def leaves(term: Term) -> tuple[Leaf, ...]:
    """Every licence the term names, in order."""
    if isinstance(term, Leaf):
        return (term,)
    children = term.parts if isinstance(term, AllOf) else term.options
    return tuple(leaf for child in children for leaf in leaves(child))


def applicable(term: Term) -> tuple[Leaf, ...]:
    """The licences that bind the licensee: all parts of an AND, the least restrictive option of an OR."""
    if isinstance(term, Leaf):
        return (term,)
    if isinstance(term, AllOf):
        return tuple(leaf for part in term.parts for leaf in applicable(part))
    return min((applicable(option) for option in term.options), key=_burden)


def _burden(chosen: tuple[Leaf, ...]) -> tuple[int, int]:
    # The most restrictive class of an option, then how many obligations it brings; ties keep the
    # first option written.
    worst = max(leaf.license_class.rank for leaf in chosen)
    duties = sum(len(leaf.license.obligations) for leaf in chosen if leaf.license is not None)
    return worst, duties
