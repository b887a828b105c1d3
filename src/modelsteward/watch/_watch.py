"""One run of the watch: every model's upstream, then every version against the advisories."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelsteward.checks.dependencies import UNRATED
from modelsteward.checks.license import load_table
from modelsteward.core import Severity
from modelsteward.core.progress import Progress
from modelsteward.gate import AdmitError, EvaluationRequest, Outcome, admit
from modelsteward.notify import Delivery, Notification, Notifier, deliver
from modelsteward.policy import Policy
from modelsteward.registry import AffectedVersion, Registry, RegistryError, VersionInfo, VulnerabilityChanges
from modelsteward.settings import Settings
from modelsteward.sources import SourceError, Upstream, open_source
from modelsteward.watch._audit import audit_registry
from modelsteward.watch._diff import CandidateDiff, candidate_diff

_COMMITS_SHOWN = 3


@dataclass(frozen=True, slots=True)
class ModelWatch:
    """What the watch saw upstream of one model."""

    name: str
    """The registered model."""
    source: str
    """The tracked source (``hf://org/name@main``)."""
    followed: str
    """``NAME@NUMBER`` of the newest live version admitted from that source."""
    revision: str | None = None
    """The commit the tracked ref points to now; None when the upstream could not be read."""
    candidate: Outcome | None = None
    """The admission of a new revision, if there was one."""
    diff: CandidateDiff | None = None
    """A new candidate against the version it would replace."""
    error: str | None = None
    """Why the upstream could not be read, or a new revision not admitted."""


@dataclass(frozen=True, slots=True)
class WatchReport:
    """One run of the watch."""

    at: datetime
    """When it started (UTC)."""
    models: tuple[ModelWatch, ...]
    """Every model with an upstream, by name."""
    vulnerabilities: VulnerabilityChanges
    """What the full audit found and resolved."""
    notifications: tuple[Notification, ...]
    """Everything worth telling, in the order it was found."""
    deliveries: tuple[Delivery, ...]
    """What became of each notification at each notifier that wanted it."""


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
    and to ``notifiers``; one model whose upstream cannot be read does not stop the others. A
    vulnerability is told once: until a notifier that wanted it has taken it, later runs tell it again.
    """
    say = progress or (lambda _message: None)
    at = datetime.now(UTC)
    models: list[ModelWatch] = []
    notes: list[Notification] = []
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
                at=at,
                say=say,
            )
            models.append(watched)
            notes += found
        say("auditing every version against the advisories")
        changes = audit_registry(registry, actor=actor)
        # What this audit found, and what an audit after a sync found since: each told once.
        untold = registry.unnotified()
        telling = list(_vulnerability_notes(untold, changes.resolved, at))
        notes += [note for note, _ in telling]
        deliveries: list[Delivery] = []
        told: list[AffectedVersion] = []
        for note in notes:
            delivered = deliver(note, notifiers)
            deliveries += delivered
            # Taken when some notifier took it, or none wanted it (nobody to tell, or filtered out).
            if not delivered or any(d.ok for d in delivered):
                told += next((items for n, items in telling if n is note), [])
        registry.mark_notified(told)
    return WatchReport(at, tuple(models), changes, tuple(notes), tuple(deliveries))


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
    at: datetime,
    say: Progress,
) -> tuple[ModelWatch, list[Notification]]:
    source, name = followed.upstream or "", followed.name
    try:
        upstream = open_source(source, env=env).upstream(since=followed.revision)
    except SourceError as error:
        note = _note(
            "watch.error", name, f"{name}: the upstream cannot be read", str(error), at, Severity.MEDIUM
        )
        return ModelWatch(name, source, followed.ref, error=str(error)), [note]
    previous = registry.upstream_record(name)
    seen = None if previous is None else previous.state
    notes = list(_upstream_notes(name, source, seen, upstream, at))
    watched = ModelWatch(name, source, followed.ref, revision=upstream.revision)
    state = _state_json(upstream)
    # A revision seen before (admitted, archived since, or already reported) is never admitted again.
    if upstream.revision not in {followed.revision, None if seen is None else seen.get("revision")}:
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
            replaced = _replaced(registry, name, followed)
            diff = candidate_diff(
                replaced, outcome.registered, registry.diff(replaced.ref, outcome.registered.ref)
            )
        except (AdmitError, RegistryError) as error:
            title = f"{name}: the new revision {upstream.revision[:12]} could not be admitted"
            notes.append(_note("watch.error", name, title, str(error), at, Severity.MEDIUM))
            watched = ModelWatch(name, source, followed.ref, upstream.revision, error=str(error))
            # Not seen as far as admitting goes: the next run tries this revision again.
            state["revision"] = followed.revision if seen is None else seen.get("revision")
        else:
            watched = ModelWatch(name, source, followed.ref, upstream.revision, outcome, diff)
            notes.append(_candidate_note(replaced, outcome, diff, upstream, at))
    changes = [note.title for note in notes]
    registry.record_upstream(name, source=source, state=state, changes=changes, actor=actor)
    return watched, notes


def _replaced(registry: Registry, name: str, followed: VersionInfo) -> VersionInfo:
    """The version a candidate would replace: the newest one an alias points to, else the one followed."""
    summary = next(m for m in registry.list_models() if m.name == name)
    aliased = max(summary.aliases.values(), default=None)
    return followed if aliased is None else registry.get(f"{name}@{aliased}")


def _state_json(upstream: Upstream) -> dict[str, Any]:
    return {
        "revision": upstream.revision,
        "licenses": list(upstream.licenses),
        "gated": upstream.gated,
        "new_version": upstream.new_version,
    }


def _licence_ids(names: Sequence[str]) -> list[str]:
    """Licence names as the licence table identifies them, so spelling alone is never a change."""
    table = load_table()
    return sorted(
        {entry.id if (entry := table.resolve(n)) is not None else n.strip().casefold() for n in names}
    )


def _upstream_notes(
    name: str, source: str, seen: Mapping[str, Any] | None, upstream: Upstream, at: datetime
) -> Iterator[Notification]:
    """Licence, gating and ``new_version`` changes since the watch last looked.

    The first look only records: the card it reads is the one the admission judged, or a newer
    revision that is admitted (and judged) as a candidate.
    """
    if upstream.new_version and (seen is None or upstream.new_version != seen.get("new_version")):
        yield _note(
            "watch.new-version-pointer",
            name,
            f"{name}: the publisher points to a newer model, {upstream.new_version}",
            f"The model card of {source} names {upstream.new_version} as its new version; it is another "
            "repository, so it is not admitted by the watch. Admit it to compare.",
            at,
            Severity.LOW,
            {"new_version": upstream.new_version},
        )
    if seen is None:
        return
    was, now = _licence_ids(seen.get("licenses", [])), _licence_ids(upstream.licenses)
    if was != now:
        before, after = ", ".join(was) or "none", ", ".join(now) or "none"
        yield _note(
            "watch.license-changed",
            name,
            f"{name}: upstream licence changed from {before} to {after}",
            f"{source} now declares {after} (was {before} when last watched).",
            at,
            Severity.HIGH,
            {"before": before, "after": after, "revision": upstream.revision},
        )
    if seen.get("gated") != upstream.gated:
        before, after = seen.get("gated") or "not gated", upstream.gated or "not gated"
        yield _note(
            "watch.gating-changed",
            name,
            f"{name}: upstream access changed from {before} to {after}",
            f"{source}: access is now {after} (was {before}).",
            at,
            Severity.MEDIUM,
            {"before": str(before), "after": str(after)},
        )


def _candidate_note(
    replaced: VersionInfo, outcome: Outcome, diff: CandidateDiff, upstream: Upstream, at: datetime
) -> Notification:
    candidate = outcome.registered
    verdict = outcome.admission.decision.verdict.value
    if not outcome.new:
        # Upstream moved to files already registered (a revert): nothing new to judge.
        return _note(
            "watch.known-revision",
            candidate.ref,
            f"{candidate.ref}: upstream moved to files already registered as this version",
            f"{upstream.source} moved to {upstream.revision}, whose files are those of {candidate.ref}.",
            at,
            Severity.LOW,
            {"revision": upstream.revision, "verdict": candidate.verdict.value},
        )
    files = diff.files
    facts = {
        "replaces": replaced.ref,
        "revision": upstream.revision,
        "verdict": verdict,
        "files": f"{len(files.added)} added, {len(files.removed)} removed, {len(files.changed)} changed",
    }
    if upstream.diverged:
        facts["history"] = f"rewritten: {replaced.revision} is no longer an ancestor (a force-push)"
    elif upstream.commits:
        titles = "; ".join(c.title for c in upstream.commits[:_COMMITS_SHOWN])
        more = len(upstream.commits) - _COMMITS_SHOWN
        facts["commits"] = f"{len(upstream.commits)}: {titles}" + (f"; and {more} more" if more > 0 else "")
    if diff.license_changed:
        facts["licence"] = f"{_listed(files.licenses[0])} -> {_listed(files.licenses[1])}"
    if diff.obligations[0] != diff.obligations[1]:
        facts["obligations"] = f"{_listed(diff.obligations[0])} -> {_listed(diff.obligations[1])}"
    for change in diff.findings:
        facts[f"findings {change.name}"] = f"{_shown(change.before)} -> {_shown(change.after)}"
    for change in diff.metrics:
        facts[f"metric {change.name}"] = f"{_shown(change.before)} -> {_shown(change.after)}"
    severity = {"approve": Severity.INFO, "review": Severity.MEDIUM, "reject": Severity.HIGH}[verdict]
    return _note(
        "watch.new-revision",
        candidate.ref,
        f"{candidate.ref}: new upstream revision admitted as a candidate ({verdict})",
        f"{upstream.source} moved to {upstream.revision}; it was admitted as {candidate.ref}, which would "
        f"replace {replaced.ref}. No alias was moved.",
        at,
        severity,
        facts,
    )


def _vulnerability_notes(
    found: Sequence[AffectedVersion], resolved: Sequence[AffectedVersion], at: datetime
) -> Iterator[tuple[Notification, list[AffectedVersion]]]:
    """One notification per version with vulnerabilities to tell, and one per version with resolved ones."""
    for kind, affected in (("watch.vulnerability", found), ("watch.vulnerability-resolved", resolved)):
        by_ref: dict[str, list[AffectedVersion]] = defaultdict(list)
        for item in affected:
            by_ref[item.ref].append(item)
        for ref, items in by_ref.items():
            count = f"{len(items)} known vulnerabilit{'ies' if len(items) > 1 else 'y'}"
            if kind == "watch.vulnerability":
                title = f"{ref}: {count} in its dependencies"
                # Unrated counts as high here as in the check: unknown is not harmless.
                severity = max(i.vulnerability.severity or UNRATED for i in items)
            else:
                title = f"{ref}: {count} no longer apply"
                severity = Severity.INFO
            facts = {
                f"{i.vulnerability.advisory} {i.vulnerability.component.name}": i.vulnerability.line()
                for i in items
            }
            text = "\n".join(i.vulnerability.line() for i in items)
            yield _note(kind, ref, title, text, at, severity, facts), items


def _note(
    kind: str,
    subject: str,
    title: str,
    text: str,
    at: datetime,
    severity: Severity | None,
    facts: Mapping[str, str] | None = None,
) -> Notification:
    # Titles carry upstream text (licence names, model names): whatever it holds, a title is one line.
    return Notification(
        kind=kind,
        title=" ".join(title.split()),
        text=text,
        subject=subject,
        at=at,
        severity=severity,
        facts=facts or {},
    )


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items) or "none"


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


__all__ = ["ModelWatch", "WatchReport", "watch_once"]
