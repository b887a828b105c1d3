"""Matching components to advisories: an index by package, decoded only where a component needs it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from packaging.version import InvalidVersion, Version

from modelsteward.checks.dependencies._advisory import Advisory, merge_aliases
from modelsteward.core import Component, Vulnerability


class AdvisoryIndex:
    """The advisories in force, by the canonical name of each package they affect.

    Built from compact records (``Advisory.to_json`` as text), as the registry keeps them; a record
    is decoded the first time a component of one of its packages is matched, so an audit of a few
    hundred components over a database of tens of thousands decodes only the few it needs.
    """

    def __init__(self, records: Mapping[str, Sequence[str]]) -> None:
        self._records = records
        self._decoded: dict[str, list[Advisory]] = {}
        self._by_text: dict[str, Advisory] = {}

    @classmethod
    def of(cls, advisories: Iterable[Advisory]) -> AdvisoryIndex:
        """An index of parsed advisories; withdrawn ones are left out, as the registry leaves them out."""
        records: dict[str, list[str]] = {}
        for advisory in advisories:
            if advisory.withdrawn is not None:
                continue
            text = json.dumps(advisory.to_json())
            for affected in advisory.affected:
                records.setdefault(affected.name, []).append(text)
        return cls(records)

    @property
    def packages(self) -> frozenset[str]:
        """Canonical names of the packages some advisory affects."""
        return frozenset(self._records)

    def advisories(self, name: str) -> list[Advisory]:
        """The advisories that affect package ``name`` (canonical), decoded once."""
        found = self._decoded.get(name)
        if found is None:
            found = [self._decode(text) for text in self._records.get(name, ())]
            self._decoded[name] = found
        return found

    def match(self, component: Component) -> tuple[Vulnerability, ...]:
        """Every advisory that affects ``component`` at its version, one entry per issue.

        A component without an exact version, or with one that is not a PEP 440 version, matches nothing.
        """
        if component.version is None or component.name not in self._records:
            return ()
        try:
            version = Version(component.version)
        except InvalidVersion:
            return ()
        found = []
        for advisory in self.advisories(component.name):
            for affected in advisory.affected:
                if affected.name == component.name and affected.affects(version):
                    found.append(
                        Vulnerability(
                            component=component,
                            advisory=advisory.id,
                            aliases=advisory.aliases,
                            summary=advisory.summary,
                            severity=advisory.severity,
                            fixed=affected.fixed,
                        )
                    )
                    break
        return merge_aliases(found)

    def audit(self, components: Iterable[Component]) -> tuple[Vulnerability, ...]:
        """The vulnerabilities of every audited component (see :attr:`Component.audited`).

        A package pinned and installed at the same version is reported once, under its first component.
        """
        found: dict[tuple[str, str | None, str], Vulnerability] = {}
        for component in components:
            if component.audited:
                for vulnerability in self.match(component):
                    found.setdefault(
                        (component.name, component.version, vulnerability.advisory), vulnerability
                    )
        return tuple(found.values())

    def _decode(self, text: str) -> Advisory:
        # An advisory of several packages is one record under each name: decode it once.
        advisory = self._by_text.get(text)
        if advisory is None:
            advisory = Advisory.from_json(json.loads(text))
            self._by_text[text] = advisory
        return advisory
