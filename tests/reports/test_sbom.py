"""A registered version's SBOM: valid CycloneDX 1.6, the model version depending on its components."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from modelsteward.checks.dependencies import environment_components
from modelsteward.core import Component, Origin, Vulnerability
from modelsteward.reports.cyclonedx import render_mlbom, render_sbom
from tests.reports.admission_fixture import (
    CREATED,
    DEPENDENCIES,
    TORCH_ADVISORY,
    VULNERABILITIES,
    build_admission,
    dependencies_result,
)


def sbom(
    components: tuple[Component, ...] = DEPENDENCIES,
    vulnerabilities: tuple[Vulnerability, ...] = VULNERABILITIES,
    created: datetime = CREATED,
) -> str:
    return render_sbom("acme-encoder", 3, components, vulnerabilities, created=created)


@pytest.mark.parametrize(
    ("components", "vulnerabilities"),
    [
        (DEPENDENCIES, VULNERABILITIES),
        ((), ()),
        (environment_components(), ()),
    ],
    ids=["fixture", "empty", "this-environment"],
)
def test_the_sbom_validates_against_cyclonedx_1_6(
    components: tuple[Component, ...], vulnerabilities: tuple[Vulnerability, ...]
) -> None:
    text = sbom(components, vulnerabilities)

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert json.loads(text)["specVersion"] == "1.6"


def test_the_subject_is_the_model_version_depending_on_each_component() -> None:
    document = json.loads(sbom())

    model = document["metadata"]["component"]
    assert model == {
        "bom-ref": "acme-encoder@3",
        "name": "acme-encoder",
        "type": "machine-learning-model",
        "version": "3",
    }
    assert document["metadata"]["timestamp"] == CREATED.isoformat()
    assert len(document["components"]) == len(DEPENDENCIES)
    edges = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert sorted(edges["acme-encoder@3"]) == sorted(c["bom-ref"] for c in document["components"])
    assert {v["id"] for v in document["vulnerabilities"]} == {TORCH_ADVISORY, "PYSEC-2024-259"}


def test_components_and_vulnerabilities_are_written_as_in_the_ml_bom() -> None:
    standalone = json.loads(sbom())
    embedded = json.loads(render_mlbom(build_admission(results=(dependencies_result(),))))

    assert standalone["components"] == embedded["components"]
    assert standalone["vulnerabilities"] == embedded["vulnerabilities"]


def test_a_component_only_a_vulnerability_names_is_listed_too() -> None:
    installed = Component("pillow", Origin.ENVIRONMENT, version="9.0.0")
    advisory = Vulnerability(installed, "GHSA-test-0000-0000", (), "Decompression bomb", None, ("9.0.1",))

    document = json.loads(sbom(components=(), vulnerabilities=(advisory,)))

    assert [c["purl"] for c in document["components"]] == ["pkg:pypi/pillow@9.0.0"]
    assert document["vulnerabilities"][0]["affects"][0]["ref"] == document["components"][0]["bom-ref"]


def test_the_same_inputs_give_the_same_document_and_others_another_serial_number() -> None:
    def serial(text: str) -> Any:
        return json.loads(text)["serialNumber"]

    assert sbom() == sbom()
    assert serial(sbom()) != serial(sbom(created=CREATED + timedelta(days=1)))
    assert serial(sbom()) != serial(sbom(vulnerabilities=()))
    assert serial(sbom()) != serial(
        render_sbom("acme-encoder", 4, DEPENDENCIES, VULNERABILITIES, created=CREATED)
    )
    assert datetime.fromisoformat(json.loads(sbom())["metadata"]["timestamp"]).tzinfo == UTC
