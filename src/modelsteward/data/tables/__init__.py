"""Data tables the scanners look names up in, one YAML file per format.

Each file maps a category to a list of names; a scanner reads it once, by name.
"""

from __future__ import annotations

import functools

from modelsteward.data import load_yaml


@functools.cache
def load(name: str) -> dict[str, frozenset[str]]:
    """The table ``name``.yaml as category -> names; raise ValueError if it is not that shape."""
    raw = load_yaml(f"tables/{name}.yaml")
    if not isinstance(raw, dict):
        raise ValueError(f"data/tables/{name}.yaml: expected a mapping of category to names")
    table: dict[str, frozenset[str]] = {}
    for category, names in raw.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"data/tables/{name}.yaml: {category} must be a list of strings")
        table[str(category)] = frozenset(names)
    return table
