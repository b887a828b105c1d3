"""The ML-BOM: valid CycloneDX 1.6 by the library's strict validator, with hashes, licences and lineage."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from modelsteward.core import Admission, CheckResult, CheckStatus, Verdict
from modelsteward.reports.cyclonedx import render_mlbom
from tests.reports.admission_fixture import (
    DEPENDENCIES,
    FILES,
    REVISION,
    TORCH_ADVISORY,
    build_admission,
    dependencies_result,
    documentation_result,
    license_result,
    security_result,
)

CARD = """\
---
license: apache-2.0
pipeline_tag: fill-mask
datasets: [wikitext, bookcorpus]
base_model: acme/base-encoder
model-index:
- name: acme-encoder
  results:
  - task: {type: fill-mask}
    dataset: {name: WikiText, type: wikitext}
    metrics:
    - {type: accuracy, value: 0.71}
    - {type: broken}
  - not a result
---
# Acme encoder
"""


@pytest.fixture(scope="module")
def validator() -> JsonStrictValidator:
    return JsonStrictValidator(SchemaVersion.V1_6)


def _bom(admission: Admission, upstream: str | None = None) -> dict[str, Any]:
    document = json.loads(render_mlbom(admission, upstream))
    assert isinstance(document, dict)
    return document


def _model(document: dict[str, Any]) -> dict[str, Any]:
    model = document["metadata"]["component"]
    assert isinstance(model, dict)
    return model


def _properties(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in component.get("properties", [])]


@pytest.mark.parametrize(
    "admission",
    [
        build_admission(derived_from="base-encoder@2"),
        build_admission(version=None, source="/models/acme", revision=None, results=(), reasons=()),
        build_admission(source="https://git.example.test/acme/encoder.git@" + REVISION),
        build_admission(
            results=(license_result(licenses=[("llama3", "LICENSE")], license_class="vendor-community"),),
            verdict=Verdict.REVIEW,
        ),
        build_admission(results=(security_result(), dependencies_result())),
        build_admission(version=None, results=(dependencies_result(vulnerabilities=()),)),
    ],
    ids=["full", "local-unregistered", "git", "vendor-licence", "dependencies", "dependencies-clean"],
)
def test_the_bom_validates_against_cyclonedx_1_6(
    admission: Admission, validator: JsonStrictValidator
) -> None:
    text = render_mlbom(admission, CARD)

    assert validator.validate_str(text) is None
    assert json.loads(text)["specVersion"] == "1.6"


def test_the_model_is_a_machine_learning_model_hashed_by_its_manifest() -> None:
    admission = build_admission()

    model = _model(_bom(admission))

    assert model["type"] == "machine-learning-model"
    assert model["name"] == "acme-encoder"
    assert model["version"] == "3"
    assert model["hashes"] == [
        {"alg": "SHA-256", "content": admission.snapshot.manifest.digest.removeprefix("sha256:")}
    ]
    assert model["purl"] == f"pkg:huggingface/acme/encoder@{REVISION}"


def test_every_file_is_a_sub_component_whose_hash_matches_its_bytes() -> None:
    admission = build_admission()
    manifest = admission.snapshot.manifest

    files = {c["name"]: c for c in _model(_bom(admission))["components"]}

    assert set(files) == set(FILES)
    for entry in manifest.files:
        component = files[entry.path]
        assert component["type"] == "file"
        if entry.shards:
            assert "hashes" not in component
            assert ("modelsteward:sha256-of-shards", entry.sha256) in _properties(component)
            assert ("modelsteward:shards", str(len(entry.shards))) in _properties(component)
        else:
            assert component["hashes"] == [
                {"alg": "SHA-256", "content": hashlib.sha256(FILES[entry.path]).hexdigest()}
            ]
    assert any(e.shards for e in manifest.files)
    assert any(not e.shards for e in manifest.files)


def test_licences_use_spdx_ids_where_they_exist_and_names_otherwise() -> None:
    result = license_result(
        licenses=[("apache-2.0", "README.md"), ("llama3", "LICENSE"), ("cc-by-nc-4.0", "NOTICE")],
        license_class="non-commercial",
    )

    licenses = _model(_bom(build_admission(results=(result,))))["licenses"]

    assert [entry["license"] for entry in licenses] == [
        {"id": "Apache-2.0", "acknowledgement": "declared"},
        {"id": "CC-BY-NC-4.0", "acknowledgement": "declared"},
        {"name": "llama3", "acknowledgement": "declared"},
    ]


def test_lineage_names_the_registered_parent_and_the_declared_base_model() -> None:
    ancestors = _model(_bom(build_admission(derived_from="base-encoder@2"), CARD))["pedigree"]["ancestors"]

    by_name = {a["name"]: a for a in ancestors}
    assert by_name["base-encoder"]["version"] == "2"
    assert by_name["base-encoder"]["type"] == "machine-learning-model"
    assert ("modelsteward:lineage", "registry") in _properties(by_name["base-encoder"])
    assert ("modelsteward:lineage", "model card base_model") in _properties(by_name["acme/base-encoder"])


def test_no_lineage_without_a_parent() -> None:
    assert "pedigree" not in _model(_bom(build_admission()))


def test_the_decision_and_check_outcomes_are_properties() -> None:
    properties = _properties(_model(_bom(build_admission())))

    assert ("modelsteward:decision", "reject") in properties
    reason = (
        "reject max_severity.security (security): A critical finding exceeds the highest severity allowed"
    )
    assert ("modelsteward:decision:reason", f"{reason} (medium).") in properties
    assert ("modelsteward:check:security", "fail") in properties
    assert ("modelsteward:check:documentation", "warn") in properties
    assert ("modelsteward:license:class", "permissive") in properties
    assert ("modelsteward:license:obligation", "notice") in properties
    assert ("modelsteward:security:highest", "critical") in properties
    assert ("modelsteward:integrity:upstream-signature", "absent") in properties


def test_the_model_card_carries_task_datasets_metrics_and_documentation() -> None:
    card = _model(_bom(build_admission(), CARD))["modelCard"]

    assert card["modelParameters"] == {
        "task": "fill-mask",
        "datasets": [{"type": "dataset", "name": "wikitext"}, {"type": "dataset", "name": "bookcorpus"}],
    }
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "accuracy", "value": "0.71", "slice": "WikiText / fill-mask"}
    ]
    assert {"name": "modelsteward:documentation:evaluation", "value": "missing"} in card["properties"]
    assert {"name": "modelsteward:documentation:card", "value": "README.md"} in card["properties"]


def test_no_model_card_object_without_anything_to_put_in_it() -> None:
    admission = build_admission(results=(CheckResult(check="security", status=CheckStatus.PASS),))

    assert "modelCard" not in _model(_bom(admission, "---\nlicense: [mit\n---\nbroken metadata"))
    assert "modelCard" in _model(_bom(build_admission(results=(documentation_result(),))))


def test_the_source_is_an_external_reference_of_the_right_kind() -> None:
    hub = _model(_bom(build_admission()))["externalReferences"]
    git_source = f"https://git.example.test/acme/encoder.git@{REVISION}"
    git = _model(_bom(build_admission(source=git_source)))["externalReferences"]
    local = _model(_bom(build_admission(source="/models/acme", revision=None)))["externalReferences"]

    assert hub == [
        {
            "type": "distribution",
            "url": f"hf://acme/encoder@{REVISION}",
            "comment": f"pinned at revision {REVISION}",
        }
    ]
    assert git == [
        {
            "type": "vcs",
            "url": "https://git.example.test/acme/encoder.git",
            "comment": f"pinned at revision {REVISION}",
        }
    ]
    assert local == [
        {"type": "distribution", "url": "file:///models/acme", "comment": "not version-controlled"}
    ]


def test_rendering_one_admission_twice_gives_the_same_document() -> None:
    admission = build_admission()

    first, second = render_mlbom(admission), render_mlbom(admission)

    assert first == second
    assert json.loads(first)["metadata"]["timestamp"] == admission.created.isoformat()
    assert (
        json.loads(first)["serialNumber"]
        != json.loads(render_mlbom(build_admission(version=4)))["serialNumber"]
    )


def _origin(component: dict[str, Any]) -> str:
    return dict(_properties(component))["modelsteward:origin"]


def _dependencies_bom() -> dict[str, Any]:
    return _bom(build_admission(results=(security_result(), dependencies_result())))


def test_each_dependency_is_a_library_the_model_depends_on() -> None:
    document = _dependencies_bom()

    libraries = {(c["name"], _origin(c)): c for c in document["components"]}
    assert len(libraries) == len(document["components"]) == len(DEPENDENCIES)
    assert all(c["type"] == "library" for c in libraries.values())
    pinned = libraries["torch", "requirement"]
    assert pinned["version"] == "2.1.0"
    assert pinned["purl"] == "pkg:pypi/torch@2.1.0"
    assert sorted(_properties(pinned)) == [
        ("modelsteward:audited", "true"),
        ("modelsteward:evidence", "requirements.txt:1"),
        ("modelsteward:origin", "requirement"),
    ]
    unpinned = libraries["transformers", "requirement"]
    assert "version" not in unpinned
    assert unpinned["purl"] == "pkg:pypi/transformers"
    assert ("modelsteward:specifier", "<5,>=4.38") in _properties(unpinned)
    assert ("modelsteward:audited", "false") in _properties(libraries["transformers", "config"])
    assert ("modelsteward:evidence", "modeling.py:3") in _properties(libraries["numpy", "import"])
    edges = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert sorted(edges["acme-encoder@3"]) == sorted(c["bom-ref"] for c in document["components"])


def test_vulnerabilities_name_their_advisory_severity_fix_and_affected_components() -> None:
    document = _dependencies_bom()

    references = {c["bom-ref"]: c for c in document["components"]}
    vulnerabilities = {v["id"]: v for v in document["vulnerabilities"]}
    assert set(vulnerabilities) == {TORCH_ADVISORY, "PYSEC-2024-259"}
    torch = vulnerabilities[TORCH_ADVISORY]
    assert torch["source"] == {"name": "OSV", "url": f"https://osv.dev/vulnerability/{TORCH_ADVISORY}"}
    assert torch["references"] == [
        {
            "id": "CVE-2024-31580",
            "source": {"name": "OSV", "url": "https://osv.dev/vulnerability/CVE-2024-31580"},
        }
    ]
    assert [r["severity"] for r in torch["ratings"]] == ["critical"]
    assert torch["description"] == "Heap buffer overflow"
    assert torch["recommendation"] == "Upgrade torch to a fixed version: 2.2.0."
    affected = {_origin(references[a["ref"]]): a for a in torch["affects"]}
    assert set(affected) == {"requirement", "environment"}
    assert all(a["versions"] == [{"version": "2.1.0", "status": "affected"}] for a in affected.values())
    unrated = vulnerabilities["PYSEC-2024-259"]
    assert [r["severity"] for r in unrated["ratings"]] == ["unknown"]
    assert unrated["recommendation"] == "No fixed version of torch is published."
    assert "description" not in unrated


def test_no_dependencies_result_adds_no_components_or_vulnerabilities() -> None:
    document = _bom(build_admission())

    assert "components" not in document
    assert "vulnerabilities" not in document
    assert render_mlbom(build_admission(results=(dependencies_result(),))) == render_mlbom(
        build_admission(results=(dependencies_result(),))
    )
