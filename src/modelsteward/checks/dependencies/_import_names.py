"""Which distribution an imported module comes from (``data/dependencies/import_names.yaml``), read once."""

from __future__ import annotations

import functools
import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import InvalidName, canonicalize_name

from modelsteward.data import load_yaml

TABLE_FILE = "dependencies/import_names.yaml"


@dataclass(frozen=True, slots=True)
class ImportNames:
    """The table: explicit entries and shared namespaces (the file's header says how they apply)."""

    distributions: Mapping[str, tuple[str, ...]]
    """Dotted import name -> the distributions that provide it, the one a component names first;
    empty when no PyPI distribution does."""
    namespaces: frozenset[str]
    """Dotted names of packages several distributions share (``google.cloud``)."""

    def distribution(self, module: str) -> str | None:
        """The canonical name of the distribution that provides ``module`` (a dotted absolute name),
        or None when the table says none on PyPI does or the name cannot be a distribution's."""
        parts = module.split(".")
        for depth in range(len(parts), 0, -1):
            provided = self.distributions.get(".".join(parts[:depth]))
            if provided is not None:
                return provided[0] if provided else None
        for depth in range(len(parts), 0, -1):
            if ".".join(parts[:depth]) in self.namespaces:
                # The namespace itself is no distribution's; one part deeper names one.
                return None if depth == len(parts) else _canonical("-".join(parts[: depth + 1]))
        return _canonical(parts[0])


def _canonical(name: str) -> str | None:
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName:
        return None  # `_private` modules and other names no distribution can have


@functools.cache
def load_import_names() -> ImportNames:
    """The table shipped with the package; raise ValueError naming a malformed entry."""
    return parse_import_names(load_yaml(TABLE_FILE))


def parse_import_names(raw: Any) -> ImportNames:
    """Validate the parsed YAML of an import-name table and build it."""
    if not isinstance(raw, dict) or set(raw) != {"distributions", "namespaces"}:
        raise ValueError(f"{TABLE_FILE}: expected a mapping with exactly `distributions` and `namespaces`")
    entries, namespaces = raw["distributions"], raw["namespaces"]
    if not isinstance(entries, dict):
        raise ValueError(f"{TABLE_FILE}: `distributions` must map import names to distribution names")
    if not isinstance(namespaces, list):
        raise ValueError(f"{TABLE_FILE}: `namespaces` must be a list of dotted import names")
    for index, name in enumerate(namespaces):
        _check_module(name, f"namespaces[{index}]")
    if len(set(namespaces)) != len(namespaces):
        raise ValueError(f"{TABLE_FILE}: `namespaces` lists a name twice")
    distributions = {}
    for module, value in entries.items():
        _check_module(module, "distributions")
        distributions[module] = _providers(module, value)
        shadowed = [n for n in namespaces if n == module or n.startswith(f"{module}.")]
        if shadowed:
            raise ValueError(
                f"{TABLE_FILE}: {module}: an entry may not name a namespace or a package holding one "
                f"({', '.join(shadowed)}); name the modules inside it instead"
            )
    return ImportNames(distributions=distributions, namespaces=frozenset(namespaces))


def _check_module(name: Any, where: str) -> None:
    if not isinstance(name, str) or not all(
        part.isidentifier() and not keyword.iskeyword(part) for part in name.split(".")
    ):
        raise ValueError(
            f"{TABLE_FILE}: {where}: {name!r} is not a dotted import name (like `google.protobuf`)"
        )


def _providers(module: str, value: Any) -> tuple[str, ...]:
    names = [] if value is None else [value] if isinstance(value, str) else value
    if not isinstance(names, list) or (not names and value is not None):
        raise ValueError(
            f"{TABLE_FILE}: {module}: expected a distribution name, a list of them, or null (got {value!r})"
        )
    for name in names:
        if not isinstance(name, str) or _canonical(name) != name:
            right = f"; write {_canonical(name)!r}" if isinstance(name, str) and _canonical(name) else ""
            raise ValueError(f"{TABLE_FILE}: {module}: {name!r} is not a canonical distribution name{right}")
    if len(set(names)) != len(names):
        raise ValueError(f"{TABLE_FILE}: {module}: a distribution is listed twice")
    return tuple(names)
