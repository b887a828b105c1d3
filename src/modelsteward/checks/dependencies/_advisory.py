"""OSV advisories: read a record, tell which PyPI versions it affects, keep a compact copy.

An OSV record (schema 1.x, https://ossf.github.io/osv-schema/) names packages and, for each, the
versions it affects: ``ranges`` of events and an explicit ``versions`` list, combined with OR. Only
PyPI entries are kept. ECOSYSTEM and SEMVER ranges are ordered by PEP 440; GIT ranges name commits
and are left out. Each range becomes a few :class:`Interval` values once, when the record is read,
so that matching a version never walks events again.

An event whose version is not PEP 440, or is longer than a component's version may be
(:data:`~modelsteward.core.component.MAX_VERSION` characters), cannot be ordered. It never narrows
what is reported: an ``introduced`` one counts from the first version, and a ``fixed``,
``last_affected`` or ``limit`` one is dropped, leaving its range open. A listed version that is not
PEP 440 matches only the same string; one too long for any component to have is dropped.

Ids and names are stored in bounded columns: a record whose id has more than :data:`MAX_ID`
characters, or that names a PyPI package longer than a component's name may be, is an
:class:`AdvisoryError`; an alias over :data:`MAX_ID` is dropped, since it only joins records of one
issue and no real one comes near it.

Databases copy each other (a PYSEC record aliases the GHSA record of the same CVE): ``merge_aliases``
reports such records once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn

import cvss
from cvss.exceptions import CVSSError
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from modelsteward.core import Component, Severity, Vulnerability
from modelsteward.core.component import MAX_NAME, MAX_VERSION

ECOSYSTEM = "PyPI"
"""The OSV ecosystem whose entries are kept."""
MAX_ID = 100
"""The most characters an advisory's id or alias may have: as many as the registry stores."""

_ORDERED_RANGES = frozenset({"ECOSYSTEM", "SEMVER"})
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_FROM_THE_START = "0"
_CVSS = {"CVSS_V3": cvss.CVSS3, "CVSS_V4": cvss.CVSS4}
# CVSS qualitative ratings (v3.1 and v4.0 share them); a score of 0.0 is CVSS's "None".
_RATING_FLOORS = (
    (Decimal("9.0"), Severity.CRITICAL),
    (Decimal("7.0"), Severity.HIGH),
    (Decimal("4.0"), Severity.MEDIUM),
    (Decimal("0.1"), Severity.LOW),
)
# Which record of one issue names it when several do: GitHub's reviewed ones first, then PyPA's.
_PREFERRED_DATABASES = ("GHSA", "PYSEC")
# ``database_specific.severity`` as GitHub writes it (MODERATE), and the CVSS word for it.
_DATABASE_RATINGS = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}


class AdvisoryError(ValueError):
    """A record that breaks the OSV schema; the message names the record, the field and what was expected."""

    def __init__(self, record: str, field: str, problem: str) -> None:
        super().__init__(f"{record}: {field}: {problem}" if field else f"{record}: {problem}")
        self.record = record
        """The record's id, or where it was read when it has none."""
        self.field = field
        """The offending field as a path (``affected[0].ranges[1].events``); empty for the record itself."""
        self.problem = problem


@functools.lru_cache(maxsize=1 << 16)
def _ordered(text: str) -> Version:
    """``text`` as a PEP 440 version, parsed once however many advisories name it."""
    return Version(text)


def _version(text: str) -> Version | None:
    """``text`` as a PEP 440 version, or None when it is not one or is too long for a component's."""
    if len(text) > MAX_VERSION:
        return None
    try:
        return _ordered(text)
    except InvalidVersion:
        return None


def by_version(versions: Iterable[str]) -> tuple[str, ...]:
    """``versions`` without repeats, lowest first by PEP 440; any that are not PEP 440 go last, by text."""
    unique = dict.fromkeys(versions)
    ordered = sorted((v for v in unique if _version(v) is not None), key=_ordered)
    return (*ordered, *sorted(v for v in unique if _version(v) is None))


@dataclass(frozen=True, slots=True)
class Interval:
    """A run of affected versions, from ``start`` up to ``end``."""

    start: str = _FROM_THE_START
    """First affected version (inclusive); ``"0"`` for every version from the first, prereleases too."""
    end: str = ""
    """The version the run stops at; empty when it does not stop."""
    end_included: bool = False
    """Whether ``end`` is itself affected: True for ``last_affected``, False for ``fixed`` or ``limit``."""

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, Version):
            return False
        if self.start != _FROM_THE_START and version < _ordered(self.start):
            return False
        if not self.end:
            return True
        return version <= _ordered(self.end) if self.end_included else version < _ordered(self.end)

    def __str__(self) -> str:
        """Interval notation, as :meth:`Advisory.to_json` keeps it: ``[0,2.6.0)``, ``[1.0,1.2]``."""
        return f"[{self.start},{self.end}{']' if self.end_included else ')'}"

    @classmethod
    def parse(cls, text: str) -> Interval:
        """The interval ``str`` wrote."""
        start, _, rest = text[1:].partition(",")
        return cls(start=start, end=rest[:-1], end_included=rest.endswith("]"))


@functools.lru_cache(maxsize=1024)
def _listed(versions: tuple[str, ...]) -> frozenset[Version | str]:
    """A versions list as a set to look versions up in: PEP 440 ones parsed, others as written."""
    return frozenset(_version(v) or v for v in versions)


@dataclass(frozen=True, slots=True)
class Affected:
    """What one advisory says of one PyPI package."""

    name: str
    """The canonical PyPI name (PEP 503)."""
    intervals: tuple[Interval, ...] = ()
    """The ECOSYSTEM and SEMVER ranges of every entry for the package, as runs of versions."""
    versions: tuple[str, ...] = ()
    """Versions the record lists as affected, as written, less those the intervals already hold
    (OSV exports list every version of a range again; keeping them would only slow loading) and those
    longer than any component's version."""
    fixed: tuple[str, ...] = ()
    """Versions whose ``fixed`` events end a range, lowest first."""

    def affects(self, version: Version | str) -> bool:
        """Whether ``version`` is affected: inside an interval or listed (PEP 440 equality: 1.0 is 1.0.0).

        A string that is not PEP 440 matches only a listed version written the same way.
        """
        if isinstance(version, str):
            parsed = _version(version)
            if parsed is None:
                return version in self.versions
            version = parsed
        return any(version in interval for interval in self.intervals) or version in _listed(self.versions)


@dataclass(frozen=True, slots=True)
class Advisory:
    """One OSV record, reduced to what auditing PyPI packages needs."""

    id: str
    modified: datetime
    """When the record last changed (aware); OSV requires it."""
    aliases: tuple[str, ...] = ()
    """Other ids of the same issue (``CVE-…``, ``GHSA-…``); none longer than :data:`MAX_ID`."""
    summary: str = ""
    """The record's summary, or the first line of its details when it has none."""
    severity: Severity | None = None
    """The highest rating its CVSS v3 or v4 vectors score, else its database's rating, else None."""
    severity_basis: str = ""
    """What ``severity`` comes from: the CVSS vector, or the rating (``GHSA rating HIGH``)."""
    published: datetime | None = None
    withdrawn: datetime | None = None
    """When the record was withdrawn; a withdrawn advisory no longer stands."""
    affected: tuple[Affected, ...] = ()
    """One entry per PyPI package, by name."""
    references: tuple[str, ...] = ()
    """URLs, in the record's order."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The advisory's id followed by its aliases."""
        return (self.id, *self.aliases)

    def affected_by_name(self, name: str) -> Affected | None:
        """What the advisory says of the package ``name`` (any spelling PEP 503 folds together)."""
        key = canonicalize_name(name)
        return next((entry for entry in self.affected if entry.name == key), None)

    def to_json(self) -> dict[str, Any]:
        """A compact form for storage, strings only; :meth:`from_json` reads it back unchanged."""
        value: dict[str, Any] = {"id": self.id, "modified": self.modified.isoformat()}
        optional = {
            "aliases": list(self.aliases),
            "summary": self.summary,
            "severity": "" if self.severity is None else self.severity.label,
            "basis": self.severity_basis,
            "published": "" if self.published is None else self.published.isoformat(),
            "withdrawn": "" if self.withdrawn is None else self.withdrawn.isoformat(),
            "affected": [_affected_json(entry) for entry in self.affected],
            "references": list(self.references),
        }
        value.update((key, item) for key, item in optional.items() if item)
        return value

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Advisory:
        """The advisory :meth:`to_json` wrote; versions are parsed only when a match needs them."""
        severity = value.get("severity")
        published = value.get("published")
        withdrawn = value.get("withdrawn")
        return cls(
            id=value["id"],
            modified=datetime.fromisoformat(value["modified"]),
            aliases=tuple(value.get("aliases", ())),
            summary=value.get("summary", ""),
            severity=Severity.parse(severity) if severity else None,
            severity_basis=value.get("basis", ""),
            published=datetime.fromisoformat(published) if published else None,
            withdrawn=datetime.fromisoformat(withdrawn) if withdrawn else None,
            affected=tuple(
                Affected(
                    name=entry["name"],
                    intervals=tuple(Interval.parse(text) for text in entry.get("ranges", ())),
                    versions=tuple(entry.get("versions", ())),
                    fixed=tuple(entry.get("fixed", ())),
                )
                for entry in value.get("affected", ())
            ),
            references=tuple(value.get("references", ())),
        )


def _affected_json(entry: Affected) -> dict[str, Any]:
    value: dict[str, Any] = {"name": entry.name}
    optional = {
        "ranges": [str(interval) for interval in entry.intervals],
        "versions": list(entry.versions),
        "fixed": list(entry.fixed),
    }
    value.update((key, item) for key, item in optional.items() if item)
    return value


class _Fields:
    """Typed reads of a record's fields, each failing with an :class:`AdvisoryError` that names the field."""

    def __init__(self, record: str) -> None:
        self.record = record

    def fail(self, field: str, problem: str) -> NoReturn:
        raise AdvisoryError(self.record, field, problem)

    def text(self, value: object, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, f"expected a string, got {_shown(value)}")
        return value

    def mapping(self, value: object, field: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(field, f"expected an object, got {_shown(value)}")
        return value

    def items(self, parent: Mapping[str, Any], key: str, field: str) -> list[Any]:
        """The list at ``key``; empty when absent or null."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(field, f"expected a list, got {_shown(value)}")
        return value

    def texts(self, parent: Mapping[str, Any], key: str, field: str) -> list[str]:
        return [self.text(item, f"{field}[{i}]") for i, item in enumerate(self.items(parent, key, field))]

    def optional_text(self, parent: Mapping[str, Any], key: str) -> str:
        value = parent.get(key)
        return "" if value is None else self.text(value, key)

    def time(self, parent: Mapping[str, Any], key: str) -> datetime | None:
        """An RFC 3339 time, None when absent; one without a zone is UTC, as OSV writes every time."""
        value = parent.get(key)
        if value is None:
            return None
        text = self.text(value, key)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(key, f"expected an RFC 3339 time such as 2024-04-10T22:20:57Z, got {value!r}")
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _shown(value: object) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def _too_long(text: str, limit: int) -> str:
    return f"{len(text)} characters, more than the {limit} recorded ({text[:40]!r}…)"


def parse_osv(record: Mapping[str, Any], *, where: str = "") -> Advisory:
    """The advisory an OSV record states, with its PyPI entries only.

    ``where`` (a file or archive member) is named in errors beside the record's id. Raises
    :class:`AdvisoryError` for a record that breaks the schema; a CVSS vector that cannot be scored
    is passed over, not an error.
    """
    if not isinstance(record, Mapping):
        raise AdvisoryError(where or "record", "", f"an OSV record is a JSON object, got {_shown(record)}")
    ident = record.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise AdvisoryError(where or "record", "id", f"expected the record's id, got {_shown(ident)}")
    if len(ident) > MAX_ID:
        raise AdvisoryError(
            where or "record", "id", f"{_too_long(ident, MAX_ID)}; no advisory database writes ids that long"
        )
    fields = _Fields(f"{where} ({ident})" if where else ident)
    modified = fields.time(record, "modified")
    if modified is None:
        fields.fail(
            "modified", "missing; OSV requires when the record last changed, e.g. 2024-04-10T22:20:57Z"
        )
    published = fields.time(record, "published")
    withdrawn = fields.time(record, "withdrawn")
    aliases = [
        alias
        for alias in fields.texts(record, "aliases", "aliases")
        if alias != ident and len(alias) <= MAX_ID
    ]
    summary = fields.optional_text(record, "summary").strip()
    if not summary:
        details = fields.optional_text(record, "details")
        summary = next((line.strip() for line in details.splitlines() if line.strip()), "")
    entries, vectors = _pypi_entries(record, fields)
    vectors = [*_vectors(record, "severity", fields), *vectors]  # OSV sets one or the other
    database = record.get("database_specific")
    rating = fields.mapping(database, "database_specific").get("severity") if database is not None else None
    severity, basis = _severity(vectors, rating, ident)
    references = [
        fields.text(fields.mapping(item, f"references[{i}]").get("url"), f"references[{i}].url")
        for i, item in enumerate(fields.items(record, "references", "references"))
    ]
    return Advisory(
        id=ident,
        modified=modified,
        aliases=tuple(dict.fromkeys(aliases)),
        summary=summary,
        severity=severity,
        severity_basis=basis,
        published=published,
        withdrawn=withdrawn,
        affected=entries,
        references=tuple(dict.fromkeys(references)),
    )


def _pypi_entries(
    record: Mapping[str, Any], fields: _Fields
) -> tuple[tuple[Affected, ...], list[tuple[str, str]]]:
    """One :class:`Affected` per PyPI package (entries for one package joined), and their CVSS vectors."""
    intervals: dict[str, list[Interval]] = {}
    listed: dict[str, list[str]] = {}
    fixed: dict[str, list[str]] = {}
    vectors: list[tuple[str, str]] = []
    for i, item in enumerate(fields.items(record, "affected", "affected")):
        field = f"affected[{i}]"
        entry = fields.mapping(item, field)
        if entry.get("package") is None:  # GIT-only entries name a repository, not a package
            continue
        package = fields.mapping(entry["package"], f"{field}.package")
        ecosystem = fields.text(package.get("ecosystem"), f"{field}.package.ecosystem")
        name = fields.text(package.get("name"), f"{field}.package.name")
        if ecosystem != ECOSYSTEM:
            continue
        key = canonicalize_name(name)
        if len(key) > MAX_NAME:
            fields.fail(f"{field}.package.name", f"{_too_long(key, MAX_NAME)}; no PyPI name is that long")
        for j, span in enumerate(fields.items(entry, "ranges", f"{field}.ranges")):
            found, fixes = _range(
                fields.mapping(span, f"{field}.ranges[{j}]"), f"{field}.ranges[{j}]", fields
            )
            intervals.setdefault(key, []).extend(found)
            fixed.setdefault(key, []).extend(fixes)
        listed.setdefault(key, []).extend(fields.texts(entry, "versions", f"{field}.versions"))
        vectors.extend(_vectors(entry, f"{field}.severity", fields))
    entries = []
    for package_name, versions in listed.items():
        runs = tuple(sorted(dict.fromkeys(intervals.get(package_name, ())), key=_interval_order))
        loose = (
            v
            for v in dict.fromkeys(versions)
            if len(v) <= MAX_VERSION and not any(_version(v) in run for run in runs)
        )
        fixed_in = by_version(fixed.get(package_name, ()))
        entries.append(Affected(name=package_name, intervals=runs, versions=tuple(loose), fixed=fixed_in))
    return tuple(entries), vectors


def _interval_order(interval: Interval) -> tuple[int, Version | None]:
    if interval.start == _FROM_THE_START:
        return (0, None)
    return (1, _ordered(interval.start))


def _range(span: Mapping[str, Any], field: str, fields: _Fields) -> tuple[list[Interval], list[str]]:
    """The intervals of one range and the versions its ``fixed`` events name (none for a GIT range)."""
    kind = fields.text(span.get("type"), f"{field}.type")
    if "events" not in span:
        fields.fail(f"{field}.events", "missing; a range lists its events, at least one introduced")
    events = [
        _event(item, f"{field}.events[{k}]", fields)
        for k, item in enumerate(fields.items(span, "events", f"{field}.events"))
    ]
    kinds = {event_kind for event_kind, _ in events}
    if "introduced" not in kinds:
        fields.fail(f"{field}.events", "has no introduced event; a range needs at least one")
    if {"fixed", "last_affected"} <= kinds:
        fields.fail(f"{field}.events", "has both fixed and last_affected events; OSV allows one or the other")
    if kind not in _ORDERED_RANGES:  # GIT ranges order commits; other types are not defined for PyPI
        return [], []
    return _intervals(events), [
        text for event_kind, text in events if event_kind == "fixed" and _version(text)
    ]


def _event(item: object, field: str, fields: _Fields) -> tuple[str, str]:
    event = fields.mapping(item, field)
    kinds = [kind for kind in _EVENT_KINDS if kind in event]
    if len(kinds) != 1:
        fields.fail(
            field, f"expected exactly one of {', '.join(_EVENT_KINDS)}, got {sorted(event) or 'none'}"
        )
    return kinds[0], fields.text(event[kinds[0]], f"{field}.{kinds[0]}")


def _intervals(events: list[tuple[str, str]]) -> list[Interval]:
    """The spec's evaluation, done once: sorted events open a run at ``introduced`` and close it at the
    next ``fixed`` (excluded) or ``last_affected`` (included); ``limit`` events cap the whole range."""
    # A version is below the limits when it is below any one of them, so below the highest.
    limits = [text for kind, text in events if kind == "limit"]
    ordered_limits = [text for text in limits if _version(text) is not None]
    cap = (
        None
        if any("*" in text for text in limits) or not ordered_limits
        else max(ordered_limits, key=_ordered)
    )
    timeline: list[tuple[tuple[int, Version | None], str, str]] = []
    for kind, text in events:
        version = _version(text)
        if kind == "introduced" and (text == _FROM_THE_START or version is None):
            timeline.append(((0, None), kind, _FROM_THE_START))
        elif kind in ("introduced", "fixed", "last_affected") and version is not None:
            timeline.append(((1, version), kind, text))
    timeline.sort(key=lambda entry: entry[0])  # stable: events at one version keep the record's order
    runs: list[Interval] = []
    start: str | None = None
    for _, kind, text in timeline:
        if kind == "introduced":
            start = text if start is None else start
        elif start is not None:
            runs.append(Interval(start, text, end_included=kind == "last_affected"))
            start = None
    if start is not None:
        runs.append(Interval(start))
    return runs if cap is None else [run for run in (_capped(run, cap) for run in runs) if run is not None]


def _capped(run: Interval, cap: str) -> Interval | None:
    """``run`` less every version at or above the limit ``cap``; None when nothing is left."""
    limit = _ordered(cap)
    if run.start != _FROM_THE_START and _ordered(run.start) >= limit:
        return None
    if run.end and (_ordered(run.end) < limit or (_ordered(run.end) == limit and not run.end_included)):
        return run
    return Interval(run.start, cap)


def _vectors(parent: Mapping[str, Any], field: str, fields: _Fields) -> list[tuple[str, str]]:
    """The (type, score) pairs of ``parent``'s ``severity`` list."""
    result = []
    for i, item in enumerate(fields.items(parent, "severity", field)):
        entry = fields.mapping(item, f"{field}[{i}]")
        kind = fields.text(entry.get("type"), f"{field}[{i}].type")
        result.append((kind, fields.text(entry.get("score"), f"{field}[{i}].score")))
    return result


def _severity(vectors: list[tuple[str, str]], rating: object, ident: str) -> tuple[Severity | None, str]:
    """The highest rating a scorable CVSS vector gives, else the database's rating word, else none."""
    best: tuple[Decimal, str] | None = None
    for kind, vector in vectors:
        calculator = _CVSS.get(kind)
        if calculator is None:
            continue
        try:
            score = Decimal(str(calculator(vector).base_score))
        except CVSSError:  # a malformed vector falls back to the next source, as if absent
            continue
        if best is None or score > best[0]:
            best = (score, vector)
    if best is not None:
        score, vector = best
        return next((severity for floor, severity in _RATING_FLOORS if score >= floor), Severity.INFO), vector
    if isinstance(rating, str) and rating.strip().upper() in _DATABASE_RATINGS:
        word = rating.strip().upper()
        return _DATABASE_RATINGS[word], f"{ident.partition('-')[0]} rating {word}"
    return None, ""


def merge_aliases(vulnerabilities: Iterable[Vulnerability]) -> tuple[Vulnerability, ...]:
    """Each issue once per component: records that hit one component and share an id, directly or
    through others, become one vulnerability.

    It is named by a GHSA id if one of them has one, else PYSEC, else the lowest id; the other ids
    become its aliases (sorted). It takes the highest severity, every fixed version (lowest first) and
    the summary of the record it is named by (another's when that one has none). Issues keep the
    order in which they first appear.
    """
    items = list(vulnerabilities)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[Component, str], int] = {}
    for i, vulnerability in enumerate(items):
        for ident in vulnerability.ids:
            j = first.setdefault((vulnerability.component, ident), i)
            parent[root(i)] = root(j)
    groups: dict[int, list[Vulnerability]] = {}
    for i, vulnerability in enumerate(items):
        groups.setdefault(root(i), []).append(vulnerability)
    return tuple(group[0] if len(group) == 1 else _merged(group) for group in groups.values())


def _merged(group: list[Vulnerability]) -> Vulnerability:
    named = min(group, key=lambda v: (_database_rank(v.advisory), v.advisory))
    ids = {ident for v in group for ident in v.ids} - {named.advisory}
    rated = [v.severity for v in group if v.severity is not None]
    return Vulnerability(
        component=named.component,
        advisory=named.advisory,
        aliases=tuple(sorted(ids)),
        summary=named.summary or next((v.summary for v in group if v.summary), ""),
        severity=max(rated, default=None),
        fixed=by_version(version for v in group for version in v.fixed),
    )


def _database_rank(ident: str) -> int:
    prefix = ident.partition("-")[0]
    return _PREFERRED_DATABASES.index(prefix) if prefix in _PREFERRED_DATABASES else len(_PREFERRED_DATABASES)
