"""One run of the watch: every model's upstream, then every version against the advisories."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelsteward.core import Severity
from modelsteward.core.progress import Progress
from modelsteward.gate import AdmitError, EvaluationRequest, Outcome, admit
from modelsteward.notify import Delivery, Notification, Notifier, deliver
from modelsteward.policy import Policy
from modelsteward.registry import (
    AffectedVersion,
    Registry,
    VersionInfo,
    VulnerabilityChanges,
)
from modelsteward.settings import Settings
from modelsteward.sources import SourceError, Upstream, open_source
from modelsteward.watch._audit import audit_registry
from modelsteward.watch._diff import CandidateDiff, candidate_diff


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the watch found that someone should hear about."""

    kind: str
    """``watch.new-revision``, ``watch.license-changed``, ``watch.gating-changed``,
    ``watch.new-version-pointer``, ``watch.vulnerability``, ``watch.vulnerability-resolved``,
    ``watch.error``."""
    subject: str
    """The model (``org/bert``) or version (``org/bert@3``) it is about."""
    title: str
    text: str
    severity: Severity | None = None
    facts: Mapping[str, str] = field(default_factory=dict)

    def notification(self, at: datetime) -> Notification:
        """The event as the notifiers send it."""
        return Notification(
            kind=self.kind,
            # Titles carry upstream text (licence names): whatever it holds, the title stays one line.
            title=" ".join(self.title.split()),
            text=self.text,
            severity=self.severity,
            subject=self.subject,
            facts=self.facts,
            link=None,
            at=at,
        )


@dataclass(frozen=True, slots=True)
class ModelWatch:
    """What the watch saw upstream of one model."""

    name: str
    source: str
    """The tracked source."""
    followed: str
    """``NAME@NUMBER`` of the newest version admitted from that source."""
    revision: str | None = None
    """The commit the tracked ref points to now; None when the upstream could not be read."""
    candidate: Outcome | None = None
    """The admission of a new revision, if there was one."""
    diff: CandidateDiff | None = None
    """The candidate against the version it would replace."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class WatchReport:
    """One run of the watch."""

    at: datetime
    models: tuple[ModelWatch, ...]
    vulnerabilities: VulnerabilityChanges
    events: tuple[Event, ...]
    deliveries: tuple[Delivery, ...]


def watch_once(
    *,
    settings: Settings,
    policy: Policy,
    notifiers: Sequence[Notifier],
    actor: str,
    env: Mapping[str, str],
    evaluations: Mapping[str, EvaluationRequest] | None = None,
    progress: Progress | None = None,
) -> WatchReport:
    """Check every model's upstream, admit new revisions as candidates, audit every version, notify.

    A new revision is admitted through the gate under ``policy`` (evaluated on the data of
    ``evaluations[name]`` where given) and never takes an alias. What is found goes to the audit log
    and to ``notifiers``; one model whose upstream cannot be read does not stop the others.
    """
    say = progress or (lambda _message: None)
    at = datetime.now(UTC)
    models: list[ModelWatch] = []
    events: list[Event] = []
    with Registry.open(settings.database_url) as registry:
        for followed in _followed(registry):
            say(f"checking {followed.upstream} for {followed.name}")
            watched, found = _watch_model(
                registry,
                followed,
                settings=settings,
                policy=policy,
                actor=actor,
                env=env,
                evaluation=(evaluations or {}).get(followed.name),
                say=say,
            )
            models.append(watched)
            events += found
        say("auditing every version against the advisories")
        changes = audit_registry(registry, actor=actor)
        # What this audit found, and what a sync's audit found since the last run: each told once.
        untold = registry.claim_unnotified()
    events += _vulnerability_events(untold, changes.resolved)
    deliveries = [d for event in events for d in deliver(event.notification(at), notifiers)]
    return WatchReport(at, tuple(models), changes, tuple(events), tuple(deliveries))


def _followed(registry: Registry) -> Iterator[VersionInfo]:
    """For each live model, the newest live version admitted from an upstream source."""
    for model in registry.list_models():
        if model.archived or model.latest is None:
            continue
        for number in range(model.latest, 0, -1):
            version = registry.get(f"{model.name}@{number}")
            if version.upstream is not None and not version.archived:
                yield version
                break


def _watch_model(
    registry: Registry,
    followed: VersionInfo,
    *,
    settings: Settings,
    policy: Policy,
    actor: str,
    env: Mapping[str, str],
    evaluation: EvaluationRequest | None,
    say: Progress,
) -> tuple[ModelWatch, list[Event]]:
    source = followed.upstream or ""
    name = followed.name
    try:
        upstream = open_source(source, env=env).upstream(since=followed.revision)
    except SourceError as error:
        message = str(error)
        event = Event("watch.error", name, f"{name}: the upstream cannot be read", message, Severity.MEDIUM)
        return ModelWatch(name, source, followed.ref, error=message), [event]
    previous = registry.upstream_record(name)
    before = previous.state if previous is not None else _state_of(followed)
    events = list(_upstream_events(name, followed, before, upstream, first=previous is None))
    watched = ModelWatch(name, source, followed.ref, revision=upstream.revision)
    if upstream.revision != followed.revision:
        say(f"admitting {source} at {upstream.revision} as a candidate")
        try:
            outcome = admit(
                source,
                name=name,
                policy=policy,
                settings=settings,
                actor=actor,
                evaluation=evaluation,
                env=env,
            )
        except AdmitError as error:
            events.append(
                Event(
                    "watch.error",
                    name,
                    f"{name}: the new revision {upstream.revision[:12]} could not be admitted",
                    str(error),
                    Severity.MEDIUM,
                )
            )
        else:
            diff = candidate_diff(
                followed, outcome.registered, registry.diff(followed.ref, outcome.registered.ref)
            )
            watched = ModelWatch(name, source, followed.ref, upstream.revision, outcome, diff)
            events.append(_candidate_event(followed, outcome, diff, upstream))
    changes = [event.title for event in events]
    registry.record_upstream(name, source=source, state=_state_json(upstream), changes=changes, actor=actor)
    return watched, events


def _state_of(version: VersionInfo) -> dict[str, Any]:
    """The upstream state a version's admission implies, for a model the watch has not looked at yet."""
    licenses: list[str] = next(
        (
            c.get("data", {}).get("ids", [])
            for c in version.record.get("checks", ())
            if c.get("check") == "license"
        ),
        [],
    )
    return {"revision": version.revision, "licenses": [str(i).lower() for i in licenses]}


def _state_json(upstream: Upstream) -> dict[str, Any]:
    return {
        "revision": upstream.revision,
        "licenses": list(upstream.licenses),
        "gated": upstream.gated,
        "new_version": upstream.new_version,
    }


def _upstream_events(
    name: str, followed: VersionInfo, before: Mapping[str, Any], upstream: Upstream, *, first: bool
) -> Iterator[Event]:
    """Licence, gating and ``new_version`` changes against what was seen (or admitted) before."""
    old_licenses = sorted(before.get("licenses", []))
    if sorted(upstream.licenses) != old_licenses:
        was = ", ".join(old_licenses) or "none"
        now = ", ".join(upstream.licenses) or "none"
        yield Event(
            "watch.license-changed",
            name,
            f"{name}: upstream licence changed from {was} to {now}",
            f"{followed.upstream} now declares {now} "
            f"(was {was} when {followed.ref} was admitted or last watched).",
            Severity.HIGH,
            {"before": was, "after": now, "revision": upstream.revision},
        )
    if not first and before.get("gated") != upstream.gated:
        was, now = before.get("gated") or "not gated", upstream.gated or "not gated"
        yield Event(
            "watch.gating-changed",
            name,
            f"{name}: upstream access changed from {was} to {now}",
            f"{followed.upstream}: access is now {now} (was {was}).",
            Severity.MEDIUM,
            {"before": str(was), "after": str(now)},
        )
    if upstream.new_version and upstream.new_version != before.get("new_version"):
        yield Event(
            "watch.new-version-pointer",
            name,
            f"{name}: the publisher points to a newer model, {upstream.new_version}",
            f"The model card of {followed.upstream} names {upstream.new_version} as its new version; "
            "it is a different repository, so it is not admitted automatically.",
            Severity.LOW,
            {"new_version": upstream.new_version},
        )


def _candidate_event(
    followed: VersionInfo, outcome: Outcome, diff: CandidateDiff, upstream: Upstream
) -> Event:
    candidate = outcome.registered
    files = diff.files
    verdict = outcome.admission.decision.verdict.value
    facts = {
        "replaces": followed.ref,
        "revision": upstream.revision,
        "verdict": verdict,
        "files": f"{len(files.added)} added, {len(files.removed)} removed, {len(files.changed)} changed",
    }
    if diff.license_changed:
        facts["licence"] = (
            f"{', '.join(files.licenses[0]) or 'none'} -> {', '.join(files.licenses[1]) or 'none'}"
        )
    if diff.obligations[0] != diff.obligations[1]:
        facts["obligations"] = (
            f"{', '.join(diff.obligations[0]) or 'none'} -> {', '.join(diff.obligations[1]) or 'none'}"
        )
    for change in diff.findings:
        facts[f"findings {change.name}"] = f"{change.before:g} -> {change.after:g}"
    for change in diff.metrics:
        facts[f"metric {change.name}"] = f"{_shown(change.before)} -> {_shown(change.after)}"
    severity = {"approve": Severity.INFO, "review": Severity.MEDIUM, "reject": Severity.HIGH}[verdict]
    return Event(
        "watch.new-revision",
        candidate.ref,
        f"{candidate.ref}: new upstream revision admitted as a candidate ({verdict})",
        f"{followed.upstream} moved to {upstream.revision}; it was admitted as {candidate.ref}, which "
        f"would replace {followed.ref}. No alias was moved.",
        severity,
        facts,
    )


def _vulnerability_events(
    found: Sequence[AffectedVersion], resolved: Sequence[AffectedVersion]
) -> Iterator[Event]:
    """One event per version with newly found vulnerabilities, and one per version with resolved ones."""
    for kind, affected in (("watch.vulnerability", found), ("watch.vulnerability-resolved", resolved)):
        by_ref: dict[str, list[AffectedVersion]] = defaultdict(list)
        for item in affected:
            by_ref[item.ref].append(item)
        for ref, items in by_ref.items():
            worst = max((i.vulnerability.severity for i in items if i.vulnerability.severity), default=None)
            lines = [_line(i) for i in items]
            if kind == "watch.vulnerability":
                title = f"{ref}: {len(items)} new known vulnerabilities in its dependencies"
            else:
                title = f"{ref}: {len(items)} vulnerabilities no longer apply"
            facts = {i.vulnerability.advisory: _line(i) for i in items}
            yield Event(
                kind,
                ref,
                title,
                "\n".join(lines),
                worst if kind == "watch.vulnerability" else Severity.INFO,
                facts,
            )


def _line(item: AffectedVersion) -> str:
    v = item.vulnerability
    severity = v.severity.label if v.severity is not None else "unrated"
    fixed = f"fixed in {', '.join(v.fixed)}" if v.fixed else "no fix published"
    return f"{v.component.name} {v.component.version}: {' / '.join(v.ids)} ({severity}), {fixed}"


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


__all__ = ["Event", "ModelWatch", "WatchReport", "watch_once"]
