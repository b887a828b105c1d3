"""The server's read path in the registry: pages, filters and single versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from modelsteward.core import Component, Origin, Verdict, Vulnerability
from modelsteward.registry import Registry, RegistryError
from tests.registry.conftest import Admit


def test_models_page_filters_counts_and_pages(registry: Registry, admit: Admit) -> None:
    for i in range(12):
        admit(f"org/m{i:02d}", f"a{i}".encode(), verdict=Verdict.REVIEW if i % 4 == 0 else Verdict.APPROVE)
    admit("org/m01", b"second")
    registry.set_alias("org/m01", "production", 2, actor="owner")
    registry.tag("org/m05@1", "gpu/a100", actor="owner")
    page = registry.models_page(limit=5, offset=0)
    assert page.total == 12 and [m.name for m in page.items] == [f"org/m{i:02d}" for i in range(5)]
    m01 = page.items[1]
    assert (m01.versions, m01.latest, dict(m01.aliases)) == (2, 2, {"production": 2})
    assert registry.models_page(limit=5, offset=10).total == 12
    past = registry.models_page(limit=5, offset=50)
    assert past.items == () and past.total == 12
    assert [m.name for m in registry.models_page(q="M1").items] == ["org/m10", "org/m11"]
    assert registry.models_page(q="%").total == 0 and registry.models_page(q="_").total == 0
    review = registry.models_page(verdict="review")
    assert [m.name for m in review.items] == ["org/m00", "org/m04", "org/m08"] and review.total == 3
    assert [m.name for m in registry.models_page(tag="gpu/a100").items] == ["org/m05"]
    assert registry.models_page(tag="gpu/a100", verdict="review", q="m").total == 0


def test_versions_page_and_one_version(registry: Registry, admit: Admit) -> None:
    admit("acme/cancer", b"one", actor="sam")
    admit("acme/cancer", b"two", derived_from="acme/cancer@1", actor="sam")
    registry.set_alias("acme/cancer", "production", 1, actor="owner")
    registry.tag("acme/cancer@1", "exp", actor="owner")
    approval = registry.approve("acme/cancer@1", role="security", actor="rita", comment='ok, "quoted"')
    registry.approve("acme/cancer@1", role="legal", actor="lena")
    page = registry.versions_page("acme/cancer", limit=1, offset=1)
    assert page.total == 2 and [v.number for v in page.items] == [1]
    assert page.items[0].aliases == ("production",) and page.items[0].tags == ("exp",)
    second = registry.version_summary("acme/cancer", number=2)
    assert second.derived_from == "acme/cancer@1" and second.submitted_by == "sam" and second.aliases == ()
    aliased = registry.version_summary("acme/cancer", alias="production")
    assert aliased.number == 1 and [(a.role, a.actor) for a in aliased.approvals] == [
        ("security", "rita"),
        ("legal", "lena"),
    ]
    # Gathered into JSON inside the query, an approval reads back exactly as it was recorded.
    assert aliased.approvals[0] == approval
    assert registry.versions_page("acme/cancer", limit=10, offset=5).total == 2
    detail, recent = registry.model_detail("acme/cancer", recent=1)
    assert recent.total == 2 and [(v.number, v.aliases) for v in recent.items] == [(2, ())]
    assert dict(detail.aliases) == {"production": 1}
    assert registry.model_detail("acme/cancer")[1].items[1].aliases == ("production",)
    assert (detail.versions, detail.latest, detail.archived) == (2, 2, False)


def test_missing_things_are_named(registry: Registry, admit: Admit) -> None:
    admit("acme/cancer", b"one")
    with pytest.raises(RegistryError, match="no model named acme/other"):
        registry.versions_page("acme/other")
    with pytest.raises(RegistryError, match="has no version 7"):
        registry.version_summary("acme/cancer", number=7)
    with pytest.raises(RegistryError, match="has no alias staging"):
        registry.version_summary("acme/cancer", alias="staging")
    with pytest.raises(RegistryError, match="no model named"):
        registry.model_detail("nobody")


def test_audit_page_filters_by_subject_actor_and_action(registry: Registry, admit: Admit) -> None:
    admit("acme/cancer", b"one", actor="sam")
    admit("acme/cancer_x", b"one", actor="sam")
    registry.tag("acme/cancer@1", "exp", actor="olga")
    page = registry.audit_page(subject="acme/cancer")
    assert [(e.action, e.subject) for e in page.items] == [
        ("tag", "acme/cancer@1"),
        ("admit", "acme/cancer@1"),
    ]
    assert registry.audit_page(actor="sam").total == 2
    assert registry.audit_page(action="tag", limit=1).items[0].actor == "olga"


def test_vulnerabilities_page_filters_by_model_advisory_and_status(registry: Registry, admit: Admit) -> None:
    admit("acme/cancer", b"one")
    admit("acme/cancer", b"two")
    admit("team/x", b"x")
    torch = Component("torch", Origin.REQUIREMENT, version="2.0.0")
    rce = Vulnerability(torch, "GHSA-test-0001", ("CVE-2099-0001",), "remote code execution", None, ())
    other = Vulnerability(torch, "GHSA-test-00011", (), "another", None, ())
    found = [("acme/cancer@1", rce), ("acme/cancer@2", rce), ("acme/cancer@2", other), ("team/x@1", other)]
    registry.record_vulnerabilities(found, scope=None, actor="audit")
    page = registry.vulnerabilities_page(limit=2, offset=1)
    assert page.total == 4 and [v.ref for v in page.items] == ["acme/cancer@2", "acme/cancer@1"]
    # An id or alias matches whole, in any case: GHSA-test-0001 is not GHSA-test-00011.
    assert [v.ref for v in registry.vulnerabilities_page(advisory="cve-2099-0001").items] == [
        "acme/cancer@2",
        "acme/cancer@1",
    ]
    assert registry.vulnerabilities_page(advisory="GHSA-TEST-0001").total == 2
    assert registry.vulnerabilities_page(advisory="GHSA-test-000").total == 0
    assert registry.vulnerabilities_page(model="team/x").items[0].vulnerability == other
    assert registry.vulnerabilities_page(status="resolved").total == 0
    assert registry.vulnerabilities_page(offset=10).total == 4
    with pytest.raises(RegistryError, match="no model named acme/none"):
        registry.vulnerabilities_page(model="acme/none")
