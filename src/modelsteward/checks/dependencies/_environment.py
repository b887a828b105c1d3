"""The environment a model is evaluated and served in: the distributions installed for its interpreter."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable

from packaging.utils import InvalidName, canonicalize_name

from modelsteward.core import Component, Origin
from modelsteward.core.component import length_problem


def environment_components(
    distributions: Iterable[importlib.metadata.Distribution] | None = None,
) -> tuple[Component, ...]:
    """Each installed distribution as an ``environment`` component, sorted by name.

    ``distributions`` defaults to those of the running interpreter, the one the sandboxed worker runs.
    A name installed twice counts once, as the first on the path, the copy ``import`` would load;
    a distribution whose metadata lacks a valid name or a version is skipped, since pip and import
    ignore it as well, and so is one whose name or version is too long to record (no real one is).
    """
    found: dict[str, Component | None] = {}
    for distribution in importlib.metadata.distributions() if distributions is None else distributions:
        name, version = _name(distribution), _version(distribution)
        if name is None or version is None or name in found:
            continue
        # One too long to record is left out, yet still shadows the copies after it, as for import.
        found[name] = (
            None
            if length_problem(name, version) is not None
            else Component(name, Origin.ENVIRONMENT, version, evidence=_location(distribution))
        )
    return tuple(component for name in sorted(found) if (component := found[name]) is not None)


def _name(distribution: importlib.metadata.Distribution) -> str | None:
    # A missing Name field reads as None (KeyError from Python 3.14); unreadable metadata raises OSError.
    try:
        name = distribution.metadata["Name"]
    except (KeyError, OSError, ValueError):
        return None
    if not isinstance(name, str):
        return None
    try:
        return canonicalize_name(name.strip(), validate=True)
    except InvalidName:
        return None


def _version(distribution: importlib.metadata.Distribution) -> str | None:
    try:
        version = distribution.version
    except (KeyError, OSError, ValueError):
        return None
    return (version.strip() or None) if isinstance(version, str) else None


def _location(distribution: importlib.metadata.Distribution) -> str:
    """The folder the distribution is installed in (``site-packages``), where it can say."""
    try:
        return str(distribution.locate_file(""))
    except (NotImplementedError, OSError, TypeError):
        return ""
