"""A component: one Python distribution a model version depends on, and where that is said."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

MAX_NAME = 200
"""The most characters a component's name may have: as many as the registry stores."""
MAX_VERSION = 100
"""The most characters a component's version may have: as many as the registry stores."""


class Origin(enum.StrEnum):
    """Where a component was found; it decides whether the component has a version to audit."""

    REQUIREMENT = "requirement"
    """Declared by the repository: a requirements file, ``pyproject.toml`` or ``setup.cfg``."""
    IMPORT = "import"
    """Imported by Python code the repository ships; no version is known."""
    CONFIG = "config"
    """The framework and version a config file says the model was made with (``transformers_version``)."""
    ENVIRONMENT = "environment"
    """Installed in the environment the model is evaluated and served in."""


@dataclass(frozen=True, slots=True)
class Component:
    """One distribution, by its canonical name, with the version known for it."""

    name: str
    """The canonical PyPI name (PEP 503: lower case, runs of ``-_.`` as one ``-``)."""
    origin: Origin
    version: str | None = None
    """The exact version: installed, pinned with ``==`` or named by a config; None when not known."""
    specifier: str = ""
    """The version constraint as declared (``>=2.1,<3``), for a requirement that does not pin one."""
    evidence: str = ""
    """Where it was found: ``requirements.txt:3``, ``modeling.py:12``, ``config.json``, or the
    distribution's install location for the environment."""

    def __post_init__(self) -> None:
        # The last line of defence: readers turn a longer declaration into a problem (see length_problem).
        problem = length_problem(self.name, self.version)
        if problem is not None:
            raise ValueError(f"component {problem}")
        if canonicalize_name(self.name) != self.name:
            canonical = canonicalize_name(self.name)
            raise ValueError(f"component name {self.name!r} is not canonical; use {canonical!r}")

    @property
    def audited(self) -> bool:
        """Whether advisories are matched against it: an exact version the model runs or installs with.

        A config's version names what made the files, not what runs them, so it is recorded and not
        audited; an import or an unpinned requirement has no version to match.
        """
        return self.version is not None and self.origin in {Origin.REQUIREMENT, Origin.ENVIRONMENT}

    @property
    def purl(self) -> str:
        """The package URL: ``pkg:pypi/name@version``, without a version when none is known."""
        return _purl(self.name, self.version)

    def to_json(self) -> dict[str, Any]:
        """The component as JSON, as the check's data and the registry keep it."""
        return {
            "name": self.name,
            "origin": self.origin.value,
            "version": self.version,
            "specifier": self.specifier,
            "evidence": self.evidence,
            "purl": self.purl,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Component:
        """The component :meth:`to_json` wrote."""
        return cls(
            name=value["name"],
            origin=Origin(value["origin"]),
            version=value.get("version"),
            specifier=value.get("specifier", ""),
            evidence=value.get("evidence", ""),
        )


def length_problem(name: str, version: str | None) -> str | None:
    """Why a component named ``name`` at ``version`` cannot be recorded, or None when it can: its name
    over :data:`MAX_NAME` characters or its version over :data:`MAX_VERSION`.

    Worded to follow "its" or "component": ``name has 250 characters, more than the 200 recorded``.
    """
    if len(name) > MAX_NAME:
        return f"name has {len(name)} characters, more than the {MAX_NAME} recorded"
    if version is not None and len(version) > MAX_VERSION:
        return f"version has {len(version)} characters, more than the {MAX_VERSION} recorded"
    return None


@functools.lru_cache(maxsize=8192)
def _purl(name: str, version: str | None) -> str:
    # An audit writes the same few thousand components many times over; building a purl is not cheap.
    return PackageURL(type="pypi", name=name, version=version).to_string()
