"""Syncing real OSV records and auditing the whole registry, full and incremental."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelsteward.core import Component, Origin, Severity, Verdict
from modelsteward.registry import Registry
from modelsteward.watch import SyncError, audit_registry, sync_advisories
from tests.registry._samples import digest_of, fixed, manifest_of

OSV = Path(__file__).resolve().parents[1] / "checks" / "dependencies" / "osv"
TORCH_CVE = "CVE-2025-32434"


def _quiet(_message: str) -> None:
    pass


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    with Registry.open(database_url) as opened:
        yield opened


def register(registry: Registry, name: str, *components: Component) -> str:
    content = name.encode()
    return registry.register(
        name=name,
        manifest=manifest_of(content),
        source=f"hf://org/{name}@{'a' * 40}",
        revision="a" * 40,
        verdict=Verdict.APPROVE,
        describe=fixed({}, {"report": digest_of(content)}),
        components=components,
        actor="alice",
    ).version.ref


def export(tmp_path: Path, *ids: str) -> Path:
    """A folder of the real records ``ids`` (every record when none is named)."""
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    for path in OSV.glob("*.json"):
        if not ids or path.stem in ids:
            shutil.copy(path, folder / path.name)
    return folder


def torch(version: str, origin: Origin = Origin.ENVIRONMENT) -> Component:
    return Component("torch", origin, version, evidence="site-packages")


def test_a_new_advisory_reaches_a_version_admitted_before_it(registry: Registry, tmp_path: Path) -> None:
    old = register(registry, "old", torch("2.5.1"), Component("numpy", Origin.REQUIREMENT, "1.26.4"))
    fixed_one = register(registry, "fixed", torch("2.6.0"))
    synced = sync_advisories(registry, str(export(tmp_path)), actor="watch", progress=_quiet)
    assert synced.invalid == () and synced.other_ecosystems == 0
    assert synced.sync.total == 18
    found = [(a.ref, a.vulnerability) for a in synced.changes.found]
    assert {ref for ref, _ in found} == {old}
    [issue] = [v for _, v in found if TORCH_CVE in v.ids]
    # GitHub's record and PyPA's describe one issue: reported once, under the GHSA id, with every id.
    assert issue.advisory == "GHSA-53q9-r3pm-6pq6"
    assert set(issue.ids) >= {"GHSA-53q9-r3pm-6pq6", "PYSEC-2025-41", TORCH_CVE}
    assert issue.severity is Severity.CRITICAL and issue.fixed[0] == "2.6.0"
    assert [a.vulnerability.advisory for a in registry.vulnerabilities(old)] == [v.advisory for _, v in found]
    assert registry.vulnerabilities(fixed_one) == []
    entries = [e for e in registry.audit() if e.action == "vulnerability.found"]
    assert [e.subject for e in entries] == [old]


def test_syncing_the_same_export_again_finds_nothing_new(registry: Registry, tmp_path: Path) -> None:
    register(registry, "old", torch("2.5.1"))
    folder = export(tmp_path)
    sync_advisories(registry, str(folder), actor="watch", progress=_quiet)
    again = sync_advisories(registry, str(folder), actor="watch", progress=_quiet)
    assert again.sync.changed == () and again.sync.unchanged == 18
    assert again.changes.found == () and again.changes.resolved == ()
    assert audit_registry(registry, actor="watch").found == ()


def test_a_withdrawn_update_resolves_what_the_record_had_found(registry: Registry, tmp_path: Path) -> None:
    ref = register(registry, "old", torch("2.5.1"))
    folder = export(tmp_path, "GHSA-53q9-r3pm-6pq6")
    sync_advisories(registry, str(folder), actor="watch", progress=_quiet)
    assert len(registry.vulnerabilities(ref)) == 1
    record = json.loads((folder / "GHSA-53q9-r3pm-6pq6.json").read_text())
    record["modified"] = "2030-01-01T00:00:00Z"
    record["withdrawn"] = "2030-01-01T00:00:00Z"
    (folder / "GHSA-53q9-r3pm-6pq6.json").write_text(json.dumps(record))
    synced = sync_advisories(registry, str(folder), actor="watch", progress=_quiet)
    assert synced.sync.updated == ("GHSA-53q9-r3pm-6pq6",)
    assert [a.ref for a in synced.changes.resolved] == [ref]
    assert registry.vulnerabilities(ref) == []


def test_only_pinned_and_installed_versions_are_audited(registry: Registry, tmp_path: Path) -> None:
    ref = register(
        registry,
        "m",
        Component("torch", Origin.CONFIG, "1.8.1", evidence="config_sentence_transformers.json"),
        Component("transformers", Origin.REQUIREMENT, specifier=">=4.0", evidence="requirements.txt:1"),
        Component("transformers", Origin.IMPORT, evidence="modeling.py:3"),
        Component("requests", Origin.REQUIREMENT, "2.31.0", evidence="requirements.txt:2"),
    )
    synced = sync_advisories(registry, str(export(tmp_path)), actor="watch", progress=_quiet)
    assert {v.vulnerability.component.name for v in synced.changes.found} == {"requests"}
    [issue] = registry.vulnerabilities(ref)
    assert issue.vulnerability.advisory == "GHSA-9wx4-h78v-vm56"  # fixed in 2.32.2
    assert issue.vulnerability.component.origin is Origin.REQUIREMENT


def test_an_export_from_a_zip_and_a_broken_record_in_it(registry: Registry, tmp_path: Path) -> None:
    register(registry, "old", torch("2.5.1"))
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in OSV.glob("*.json"):
            zipped.write(path, path.name)
        zipped.writestr("BROKEN-1.json", json.dumps({"id": "BROKEN-1", "modified": "yesterday"}))
        zipped.writestr(
            "GO-2024-1.json",
            json.dumps(
                {
                    "id": "GO-2024-1",
                    "modified": "2024-01-01T00:00:00Z",
                    "affected": [{"package": {"ecosystem": "Go", "name": "x"}, "versions": ["1.0"]}],
                }
            ),
        )
    synced = sync_advisories(registry, str(archive), actor="watch", progress=_quiet)
    assert synced.sync.total == 18 and synced.other_ecosystems == 1
    [invalid] = synced.invalid
    assert "BROKEN-1" in invalid and "modified" in invalid
    assert any(TORCH_CVE in a.vulnerability.ids for a in synced.changes.found)


def test_an_unreadable_export_stores_nothing(registry: Registry, tmp_path: Path) -> None:
    sync_advisories(registry, str(export(tmp_path, "PYSEC-2025-41")), actor="watch", progress=_quiet)
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(OSV / "GHSA-j8r2-6x86-q33q.json", bad)
    (bad / "GHSA-zzzz.json").write_text("{not json")
    with pytest.raises(SyncError, match=r"GHSA-zzzz\.json"):
        sync_advisories(registry, str(bad), actor="watch", progress=_quiet)
    assert registry.advisory_count() == 1
    with pytest.raises(SyncError, match="no-such"):
        sync_advisories(registry, str(tmp_path / "no-such.zip"), actor="watch", progress=_quiet)


def test_a_token_in_the_sync_url_is_kept_out_of_the_audit_log(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(SyncError) as raised:
        sync_advisories(registry, "http://127.0.0.1:9/all.zip?token=S3CRET", actor="watch", progress=_quiet)
    assert "S3CRET" not in str(raised.value)
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(OSV / "PYSEC-2025-41.json", "PYSEC-2025-41.json")
    shown: list[str] = []
    sync_advisories(registry, f"{archive.as_uri()}?token=S3CRET", actor="watch", progress=shown.append)
    [entry] = [e for e in registry.audit() if e.action == "advisories.sync"]
    assert entry.payload["from"] == archive.as_uri()
    assert not any("S3CRET" in line for line in shown)
