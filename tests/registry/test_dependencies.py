"""What the registry keeps for dependency audits: components, advisories, vulnerabilities, upstream state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelsteward.core import Component, Origin, Severity, Verdict, Vulnerability
from modelsteward.registry import Registry, RegistryError, RegistryInputError, StoredAdvisory
from tests.registry._samples import digest_of, fixed, manifest_of

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TORCH = Component("torch", Origin.ENVIRONMENT, "2.5.1", evidence="/usr/lib/python3/site-packages")
NUMPY = Component("numpy", Origin.REQUIREMENT, "1.21.0", evidence="requirements.txt:2")
UNPINNED = Component("requests", Origin.REQUIREMENT, specifier=">=2", evidence="requirements.txt:3")
MADE_WITH = Component("transformers", Origin.CONFIG, "4.30.0", evidence="config.json")


def _register(
    registry: Registry,
    name: str,
    content: bytes,
    *components: Component,
    vulnerabilities: tuple[Vulnerability, ...] = (),
) -> str:
    registration = registry.register(
        name=name,
        manifest=manifest_of(content),
        source=f"hf://org/{name}@{'a' * 40}",
        revision="a" * 40,
        verdict=Verdict.APPROVE,
        describe=fixed({}, {"report": digest_of(content)}),
        upstream=f"hf://org/{name}",
        components=components,
        vulnerabilities=vulnerabilities,
        actor="alice",
    )
    return registration.version.ref


def _advisory(id_: str, *packages: str, modified: datetime = T0, withdrawn: bool = False) -> StoredAdvisory:
    return StoredAdvisory(id_, modified, withdrawn, packages, f'{{"id": "{id_}"}}')


def _vulnerability(component: Component, advisory: str, *aliases: str) -> Vulnerability:
    return Vulnerability(component, advisory, aliases, "summary", Severity.HIGH, ("2.6.0",))


def test_components_are_kept_with_the_version_in_order(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH, NUMPY, UNPINNED, MADE_WITH)
    assert registry.components(ref) == (TORCH, NUMPY, UNPINNED, MADE_WITH)
    assert registry.get(ref).upstream == "hf://org/bert"


def test_only_exact_runtime_and_pinned_components_named_by_an_advisory_are_audited(
    registry: Registry,
) -> None:
    first = _register(registry, "bert", b"1", TORCH, NUMPY, UNPINNED, MADE_WITH)
    second = _register(registry, "gpt", b"2", TORCH)
    assert registry.component_uses() == []  # no advisory names anything yet
    registry.store_advisories(
        [_advisory("GHSA-1", "torch"), _advisory("GHSA-2", "numpy", "requests", "transformers")],
        origin="test",
        actor="alice",
    )
    uses = {(u.component.name, u.component.version): u.refs for u in registry.component_uses()}
    # requests has no version and transformers' is the one that made the files: neither is audited.
    assert uses == {("torch", "2.5.1"): (first, second), ("numpy", "1.21.0"): (first,)}
    only = registry.component_uses(advisories=["GHSA-2"])
    assert [(u.component.name, u.refs) for u in only] == [("numpy", (first,))]


def test_a_sync_adds_new_replaces_newer_and_keeps_the_rest(registry: Registry) -> None:
    first = registry.store_advisories(
        [_advisory("GHSA-1", "torch"), _advisory("GHSA-2", "numpy")], origin="a.zip", actor="alice"
    )
    assert first.added == ("GHSA-1", "GHSA-2") and first.total == 2
    later = T0 + timedelta(days=1)
    second = registry.store_advisories(
        [
            _advisory("GHSA-1", "torch"),  # same modified: unchanged
            _advisory("GHSA-2", "scipy", modified=later),  # newer: replaced, now about scipy
            _advisory("GHSA-3", "torch", modified=T0 - timedelta(days=1)),
        ],
        origin="b.zip",
        actor="alice",
    )
    assert (second.added, second.updated, second.unchanged, second.total) == (("GHSA-3",), ("GHSA-2",), 1, 3)
    assert second.changed == ("GHSA-3", "GHSA-2")
    records = registry.advisory_records()
    assert sorted(records) == ["scipy", "torch"]
    assert len(records["torch"]) == 2
    sync_entries = [e for e in registry.audit() if e.action == "advisories.sync"]
    assert [e.payload["from"] for e in sync_entries] == ["a.zip", "b.zip"]
    assert sync_entries[1].payload == {"from": "b.zip", "added": 1, "updated": 1, "unchanged": 1}


def test_withdrawn_advisories_are_stored_but_not_in_force(registry: Registry) -> None:
    registry.store_advisories([_advisory("GHSA-1", "torch", withdrawn=True)], origin="x", actor="alice")
    assert registry.advisory_count() == 1
    assert registry.advisory_records() == {}
    assert registry.advisory_records(["torch"]) == {}


def test_an_advisory_without_an_id_stores_nothing(registry: Registry) -> None:
    with pytest.raises(RegistryInputError, match="without an id"):
        registry.store_advisories([_advisory("GHSA-1", "torch"), _advisory(" ", "x")], origin="x", actor="a")
    assert registry.advisory_count() == 0


def test_new_vulnerabilities_are_recorded_once_and_audited(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH)
    found = [(ref, _vulnerability(TORCH, "GHSA-53q9", "CVE-2025-32434"))]
    first = registry.record_vulnerabilities(found, scope=None, actor="watch")
    assert [(a.ref, a.vulnerability.advisory) for a in first.found] == [(ref, "GHSA-53q9")]
    # The same issue under another record of it (the PYSEC one, aliasing the CVE) is not news.
    again = [(ref, _vulnerability(TORCH, "PYSEC-2025-41", "CVE-2025-32434"))]
    second = registry.record_vulnerabilities(again, scope=None, actor="watch")
    assert second.found == () and second.resolved == () and second.holding == 1
    [held] = registry.vulnerabilities(ref)
    assert held.vulnerability == found[0][1] and held.resolved is None
    entries = [e for e in registry.audit() if e.action.startswith("vulnerability.")]
    assert [(e.action, e.subject) for e in entries] == [("vulnerability.found", ref)]
    assert entries[0].payload["vulnerabilities"][0]["advisory"] == "GHSA-53q9"


def test_what_an_audit_no_longer_finds_in_its_scope_is_resolved(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH, NUMPY)
    torch_issue = _vulnerability(TORCH, "GHSA-1")
    numpy_issue = _vulnerability(NUMPY, "GHSA-2")
    registry.record_vulnerabilities([(ref, torch_issue), (ref, numpy_issue)], scope=None, actor="watch")
    # An incremental audit of GHSA-1 alone that no longer finds it resolves it, and leaves GHSA-2.
    changes = registry.record_vulnerabilities([], scope=["GHSA-1"], actor="watch")
    assert [a.vulnerability.advisory for a in changes.resolved] == ["GHSA-1"]
    assert [a.vulnerability.advisory for a in registry.vulnerabilities(ref)] == ["GHSA-2"]
    history = registry.vulnerabilities(ref, resolved=True)
    assert {(a.vulnerability.advisory, a.resolved is not None) for a in history} == {
        ("GHSA-1", True),
        ("GHSA-2", False),
    }
    assert registry.audit()[-1].action == "vulnerability.resolved"


def test_vulnerabilities_the_gate_found_are_not_news_to_a_later_audit(registry: Registry) -> None:
    issue = _vulnerability(TORCH, "GHSA-1")
    ref = _register(registry, "bert", b"w", TORCH, vulnerabilities=(issue,))
    assert [a.vulnerability for a in registry.vulnerabilities(ref)] == [issue]
    changes = registry.record_vulnerabilities([(ref, issue)], scope=None, actor="watch")
    assert changes.found == () and changes.holding == 1


def test_a_vulnerability_of_an_unknown_version_records_nothing(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH)
    with pytest.raises(RegistryInputError, match="no version bert@9"):
        registry.record_vulnerabilities(
            [(ref, _vulnerability(TORCH, "GHSA-1")), ("bert@9", _vulnerability(TORCH, "GHSA-2"))],
            scope=None,
            actor="watch",
        )
    assert registry.vulnerabilities(ref) == []


def test_the_upstream_state_is_kept_per_model_and_changes_are_audited(registry: Registry) -> None:
    _register(registry, "bert", b"w")
    assert registry.upstream_record("bert") is None
    state = {"revision": "b" * 40, "licenses": ["apache-2.0"], "gated": None, "new_version": None}
    registry.record_upstream("bert", source="hf://org/bert", state=state, changes=[], actor="watch")
    kept = registry.upstream_record("bert")
    assert kept is not None and kept.state == state and kept.source == "hf://org/bert"
    assert registry.audit()[-1].action == "admit"  # nothing changed: nothing audited
    moved = {**state, "licenses": ["cc-by-nc-4.0"]}
    registry.record_upstream("bert", source="hf://org/bert", state=moved, changes=["licence"], actor="watch")
    kept = registry.upstream_record("bert")
    assert kept is not None and kept.state["licenses"] == ["cc-by-nc-4.0"]
    last = registry.audit()[-1]
    assert (last.action, last.subject, last.payload["changes"]) == ("watch.upstream", "bert", ["licence"])
    with pytest.raises(RegistryError, match="no model named gpt"):
        registry.upstream_record("gpt")


def test_many_audit_entries_keep_one_valid_chain(registry: Registry) -> None:
    refs = [_register(registry, f"m{i}", bytes([i]), TORCH) for i in range(30)]
    registry.record_vulnerabilities(
        [(ref, _vulnerability(TORCH, "GHSA-1")) for ref in refs], scope=None, actor="watch"
    )
    report = registry.verify_audit()
    assert report.ok and report.entries == 60


def test_a_finding_that_links_two_records_keeps_both_open(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH)
    apart = [(ref, _vulnerability(TORCH, "GHSA-aaaa")), (ref, _vulnerability(TORCH, "PYSEC-bbbb"))]
    registry.record_vulnerabilities(apart, scope=None, actor="watch")
    merged = [(ref, _vulnerability(TORCH, "GHSA-aaaa", "PYSEC-bbbb", "CVE-1"))]
    changes = registry.record_vulnerabilities(merged, scope=None, actor="watch")
    assert changes.found == () and changes.resolved == () and changes.holding == 2


def test_an_issue_resolved_and_found_again_is_recorded_again(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH)
    issue = [(ref, _vulnerability(TORCH, "GHSA-1"))]
    registry.record_vulnerabilities(issue, scope=None, actor="watch")
    registry.record_vulnerabilities([], scope=None, actor="watch")
    again = registry.record_vulnerabilities(issue, scope=None, actor="watch")
    assert [a.vulnerability.advisory for a in again.found] == ["GHSA-1"]
    assert len(registry.vulnerabilities(ref, resolved=True)) == 2


def test_what_is_told_is_marked_and_the_rest_stays_to_tell(registry: Registry) -> None:
    ref = _register(registry, "bert", b"w", TORCH, NUMPY)
    found = [(ref, _vulnerability(TORCH, "GHSA-1")), (ref, _vulnerability(NUMPY, "GHSA-2"))]
    registry.record_vulnerabilities(found, scope=None, actor="watch")
    untold = registry.unnotified()
    assert [a.vulnerability.advisory for a in untold] == ["GHSA-1", "GHSA-2"]
    registry.mark_notified(untold[:1])
    assert [a.vulnerability.advisory for a in registry.unnotified()] == ["GHSA-2"]
