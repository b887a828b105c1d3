"""CycloneDX 1.6 documents (JSON), built with cyclonedx-python-lib: an admission's ML-BOM, a version's SBOM.

The ML-BOM describes one ``machine-learning-model`` component (``metadata.component``): its hashes,
licences, source, lineage and the gate's decision as properties, with every file of the snapshot as a
nested ``file`` component. The library has no model-card type yet, so the ``modelCard`` object is added
to the serialised JSON; the tests validate the whole document against the 1.6 schema.

Both documents list the Python components the dependencies check found as ``library`` components the
model depends on, and the advisories that affect them as ``vulnerabilities``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.model.vulnerability import Vulnerability as BomVulnerability
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import fixup_id
from packageurl import PackageURL

from modelsteward import __version__
from modelsteward.core import Admission, FileEntry, Vulnerability
from modelsteward.core import Component as Dependency
from modelsteward.formats.model_card import CardError, parse_card

PREFIX = "modelsteward:"
"""The namespace of every property ModelSteward adds."""

# Serial numbers derive from the admission, so rendering one admission twice gives the same document.
_SERIAL_NAMESPACE = uuid.UUID("6f1c2b5e-3d7a-4c89-9b0e-2a4f8d1e7c35")


def render_mlbom(admission: Admission, upstream: str | None = None) -> str:
    """The ML-BOM of ``admission`` as indented JSON.

    ``upstream`` is the model's own card, if it has one: its metadata (``pipeline_tag``, ``datasets``,
    ``base_model``, ``model-index``) fills the model card's parameters, metrics and lineage.
    """
    metadata = _card_metadata(upstream)
    model = _model(admission, metadata)
    bom = _bom(_identity(admission), admission.created, model)
    dependencies = admission.assessment.get("dependencies")
    if dependencies is not None:
        _add_dependencies(
            bom,
            model,
            [Dependency.from_json(item) for item in dependencies.data.get("components", ())],
            [Vulnerability.from_json(item) for item in dependencies.data.get("vulnerabilities", ())],
        )
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    component = document["metadata"]["component"]
    manifest = admission.snapshot.manifest
    # Files are written as plain JSON: the library keeps components in sorted sets whose comparisons
    # make thousands of files cost seconds each; the manifest is already in path order.
    component["components"] = [
        _file(entry, component["bom-ref"], manifest.shard_size) for entry in manifest.files
    ]
    card = _model_card(admission, metadata)
    if card:
        component["modelCard"] = card
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_sbom(
    name: str,
    version: int,
    components: Sequence[Dependency],
    vulnerabilities: Sequence[Vulnerability],
    *,
    created: datetime,
) -> str:
    """The SBOM of registered version ``version`` of model ``name`` as indented JSON: the model version
    (a ``machine-learning-model``, as in its ML-BOM, with the same ``bom-ref``) depends on each of
    ``components``; ``vulnerabilities`` are the advisories that affect them."""
    model = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=name,
        version=str(version),
        bom_ref=f"{name}@{version}",
    )
    # The serial number derives from everything the document says, so the same inputs give the same document.
    identity = [
        "sbom",
        name,
        str(version),
        created.isoformat(),
        *(json.dumps(c.to_json(), sort_keys=True) for c in components),
        *(json.dumps(v.to_json(), sort_keys=True) for v in vulnerabilities),
    ]
    bom = _bom("\n".join(identity), created, model)
    _add_dependencies(bom, model, components, vulnerabilities)
    return json.dumps(json.loads(JsonV1Dot6(bom).output_as_string()), indent=2, ensure_ascii=False) + "\n"


def _bom(identity: str, created: datetime, subject: Component) -> Bom:
    """A BOM about ``subject`` made by ModelSteward at ``created``, numbered after ``identity``."""
    bom = Bom(serial_number=uuid.uuid5(_SERIAL_NAMESPACE, identity))
    bom.metadata.timestamp = created
    bom.metadata.component = subject
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="modelsteward", version=__version__)
    )
    return bom


def _add_dependencies(
    bom: Bom, subject: Component, components: Sequence[Dependency], vulnerabilities: Sequence[Vulnerability]
) -> None:
    """Each component as a ``library`` that ``subject`` depends on; each advisory as a vulnerability that
    affects the components it was matched to (a component only a vulnerability names is added too)."""
    libraries: dict[str, Component] = {}
    for dependency in (*components, *(v.component for v in vulnerabilities)):
        reference = _dependency_reference(subject, dependency)
        libraries.setdefault(reference, _library(dependency, reference))
    if not libraries:
        return
    bom.components.update(libraries.values())
    bom.register_dependency(subject, libraries.values())
    by_advisory: dict[str, list[Vulnerability]] = {}
    for vulnerability in vulnerabilities:
        by_advisory.setdefault(vulnerability.advisory, []).append(vulnerability)
    bom.vulnerabilities.update(_vulnerability(subject, matched) for matched in by_advisory.values())


def _dependency_reference(subject: Component, dependency: Dependency) -> str:
    """Unique per component: one distribution can be required, imported, installed and named by a config."""
    reference = f"{subject.bom_ref.value}/{dependency.origin.value}/{dependency.purl}"
    return f"{reference} {dependency.specifier}" if dependency.specifier else reference


def _library(dependency: Dependency, reference: str) -> Component:
    properties = [
        Property(name=f"{PREFIX}origin", value=dependency.origin.value),
        Property(name=f"{PREFIX}audited", value=str(dependency.audited).lower()),
    ]
    if dependency.specifier:
        properties.append(Property(name=f"{PREFIX}specifier", value=dependency.specifier))
    if dependency.evidence:
        properties.append(Property(name=f"{PREFIX}evidence", value=dependency.evidence))
    return Component(
        type=ComponentType.LIBRARY,
        name=dependency.name,
        version=dependency.version,
        purl=PackageURL.from_string(dependency.purl),
        bom_ref=reference,
        properties=properties,
    )


def _vulnerability(subject: Component, matched: Sequence[Vulnerability]) -> BomVulnerability:
    """One advisory, affecting each component it was matched to at that component's version."""
    first = matched[0]
    severity = (
        VulnerabilitySeverity.UNKNOWN
        if first.severity is None
        else VulnerabilitySeverity(first.severity.label)
    )
    recommendations = dict.fromkeys(_recommendation(v) for v in matched)
    return BomVulnerability(
        # Without a reference the library makes up a random one, and the document would differ each time.
        bom_ref=f"{subject.bom_ref.value}/vulnerability/{first.advisory}",
        id=first.advisory,
        source=_osv(first.advisory),
        references=[VulnerabilityReference(id=alias, source=_osv(alias)) for alias in first.aliases],
        ratings=[VulnerabilityRating(source=_osv(first.advisory), severity=severity)],
        description=first.summary or None,
        recommendation=" ".join(recommendations),
        affects=[
            BomTarget(
                ref=_dependency_reference(subject, v.component),
                versions=[
                    BomTargetVersionRange(
                        version=v.component.version, status=ImpactAnalysisAffectedStatus.AFFECTED
                    )
                ]
                if v.component.version
                else [],
            )
            for v in matched
        ],
    )


def _recommendation(vulnerability: Vulnerability) -> str:
    name = vulnerability.component.name
    if not vulnerability.fixed:
        return f"No fixed version of {name} is published."
    return f"Upgrade {name} to a fixed version: {', '.join(vulnerability.fixed)}."


def _osv(advisory: str) -> VulnerabilitySource:
    """The OSV database, where ModelSteward's advisories come from, at the advisory's page."""
    return VulnerabilitySource(
        name="OSV", url=XsUri(f"https://osv.dev/vulnerability/{quote(advisory, safe='')}")
    )


def _identity(admission: Admission) -> str:
    return "\n".join(
        (
            admission.name,
            str(admission.version),
            admission.snapshot.manifest.digest,
            admission.created.isoformat(),
        )
    )


def _card_metadata(upstream: str | None) -> Mapping[str, Any]:
    """The upstream card's metadata; none when there is no card or its YAML is unreadable (the model
    card document says so; the BOM records only what it can read)."""
    if upstream is None:
        return {}
    try:
        return parse_card(upstream).metadata
    except CardError:
        return {}


def _model(admission: Admission, metadata: Mapping[str, Any]) -> Component:
    snapshot = admission.snapshot
    manifest = snapshot.manifest
    reference = f"{admission.name}@{admission.version if admission.version is not None else manifest.digest}"
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=admission.name,
        version=None if admission.version is None else str(admission.version),
        bom_ref=reference,
        # The manifest digest is the model's content address: the SHA-256 of the manifest's canonical JSON.
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=manifest.digest.removeprefix("sha256:"))],
        licenses=_licenses(admission),
        purl=_purl(snapshot.source, snapshot.revision),
        external_references=_source_references(snapshot.source, snapshot.revision),
        properties=list(_properties(admission)),
        pedigree=_pedigree(admission, metadata, reference),
    )


def _file(entry: FileEntry, parent: str, shard_size: int) -> dict[str, Any]:
    """A ``file`` component in CycloneDX 1.6 JSON."""
    component: dict[str, Any] = {"type": "file", "bom-ref": f"{parent}/file/{entry.path}", "name": entry.path}
    if not entry.shards:
        component["hashes"] = [{"alg": "SHA-256", "content": entry.sha256}]
    else:
        # A sharded file's manifest digest is not the SHA-256 of its bytes, so it is no CycloneDX hash.
        component["properties"] = [
            {"name": f"{PREFIX}sha256-of-shards", "value": entry.sha256},
            {"name": f"{PREFIX}shard-size", "value": str(shard_size)},
            {"name": f"{PREFIX}shards", "value": str(len(entry.shards))},
        ]
    return component


def _licenses(admission: Admission) -> list[DisjunctiveLicense]:
    """Each licence id the licence check found: by SPDX id where it is one, else by name."""
    result = admission.assessment.get("license")
    if result is None:
        return []
    licenses = []
    for license_id in dict.fromkeys(str(i) for i in result.data.get("ids", ())):
        spdx = fixup_id(license_id)
        ack = LicenseAcknowledgement.DECLARED
        licenses.append(
            DisjunctiveLicense(name=license_id, acknowledgement=ack)
            if spdx is None
            else DisjunctiveLicense(id=spdx, acknowledgement=ack)
        )
    return licenses


def _purl(source: str, revision: str | None) -> PackageURL | None:
    """``pkg:huggingface/ORG/NAME@COMMIT`` for a Hugging Face source; other sources have no package URL."""
    if not source.startswith("hf://"):
        return None
    repository, _, pinned = source.removeprefix("hf://").partition("@")
    namespace, _, name = repository.rpartition("/")
    return PackageURL(
        type="huggingface", namespace=namespace or None, name=name, version=revision or pinned or None
    )


def _source_references(source: str, revision: str | None) -> list[ExternalReference]:
    """Where the files came from: a version-controlled source is ``vcs``, anything else ``distribution``."""
    if "://" in source:
        url = source
    elif Path(source).is_absolute():
        url = Path(source).as_uri()
    else:
        return []
    kind = ExternalReferenceType.DISTRIBUTION
    if revision and not source.startswith("hf://"):
        # A repository URL, without the ``@revision`` a pinned git source ends with; the comment pins it.
        kind, url = ExternalReferenceType.VCS, url.removesuffix(f"@{revision}")
    try:
        uri = XsUri(url)
    except InvalidUriException:
        return []
    comment = f"pinned at revision {revision}" if revision else "not version-controlled"
    return [ExternalReference(type=kind, url=uri, comment=comment)]


def _properties(admission: Admission) -> Iterator[Property]:
    """The decision, and each check's outcome, as ``modelsteward:`` properties."""
    decision = admission.decision
    yield Property(name=f"{PREFIX}decision", value=decision.verdict.value)
    for reason in decision.reasons:
        text = f"{reason.verdict.value} {reason.rule} ({reason.check}): {reason.message}"
        yield Property(name=f"{PREFIX}decision:reason", value=text)
    yield Property(name=f"{PREFIX}policy", value=admission.policy)
    yield Property(name=f"{PREFIX}source", value=admission.snapshot.source)
    if admission.snapshot.revision:
        yield Property(name=f"{PREFIX}revision", value=admission.snapshot.revision)
    yield Property(name=f"{PREFIX}manifest-digest", value=admission.snapshot.manifest.digest)
    for result in admission.assessment.results:
        yield Property(name=f"{PREFIX}check:{result.check}", value=result.status.value)
    license_result = admission.assessment.get("license")
    if license_result is not None:
        yield Property(name=f"{PREFIX}license:class", value=str(license_result.data.get("class", "unknown")))
        for obligation in license_result.data.get("obligations", ()):
            yield Property(name=f"{PREFIX}license:obligation", value=str(obligation["id"]))
    security = admission.assessment.get("security")
    if security is not None and security.data.get("highest"):
        yield Property(name=f"{PREFIX}security:highest", value=str(security.data["highest"]))
    integrity = admission.assessment.get("integrity")
    if integrity is not None:
        signature = integrity.data.get("upstream_signature") or {}
        yield Property(
            name=f"{PREFIX}integrity:upstream-signature", value=str(signature.get("status", "absent"))
        )


def _pedigree(admission: Admission, metadata: Mapping[str, Any], reference: str) -> Pedigree | None:
    """Lineage: the registered model this one derives from, and the base models its card declares."""
    ancestors = []
    if admission.derived_from:
        name, _, version = admission.derived_from.rpartition("@")
        ancestors.append(
            Component(
                type=ComponentType.MACHINE_LEARNING_MODEL,
                name=name or admission.derived_from,
                version=version if name else None,
                bom_ref=f"{reference}/derived-from/{admission.derived_from}",
                properties=[Property(name=f"{PREFIX}lineage", value="registry")],
            )
        )
    for base in _strings(metadata.get("base_model")):
        ancestors.append(
            Component(
                type=ComponentType.MACHINE_LEARNING_MODEL,
                name=base,
                bom_ref=f"{reference}/base-model/{base}",
                properties=[Property(name=f"{PREFIX}lineage", value="model card base_model")],
            )
        )
    return Pedigree(ancestors=ancestors) if ancestors else None


def _model_card(admission: Admission, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The ``modelCard`` object, with what the upstream card declares and what the documentation check saw."""
    card: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    if isinstance(metadata.get("pipeline_tag"), str):
        parameters["task"] = metadata["pipeline_tag"]
    datasets = [{"type": "dataset", "name": name} for name in _strings(metadata.get("datasets"))]
    if datasets:
        parameters["datasets"] = datasets
    if parameters:
        card["modelParameters"] = parameters
    metrics = list(_metrics(metadata.get("model-index")))
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    documentation = admission.assessment.get("documentation")
    if documentation is not None:
        properties = [
            {"name": f"{PREFIX}documentation:card", "value": str(documentation.data.get("card") or "")}
        ]
        properties += [
            {"name": f"{PREFIX}documentation:{section}", "value": "present" if present else "missing"}
            for section, present in (documentation.data.get("sections") or {}).items()
        ]
        card["properties"] = properties
    return card


def _metrics(model_index: Any) -> Iterator[dict[str, str]]:
    """Each metric of a Hugging Face ``model-index``, sliced by dataset and task; malformed parts skipped."""
    for entry in _dicts(model_index):
        for result in _dicts(entry.get("results")):
            dataset, task = _mapping(result.get("dataset")), _mapping(result.get("task"))
            where = [str(part) for part in (dataset.get("name"), task.get("type")) if part]
            for metric in _dicts(result.get("metrics")):
                if metric.get("type") is None or metric.get("value") is None:
                    continue
                measured = {"type": str(metric["type"]), "value": str(metric["value"])}
                if where:
                    measured["slice"] = " / ".join(where)
                yield measured


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[Any, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    """A card field that may be one string or a list of them (``datasets``, ``base_model``)."""
    if isinstance(value, str):
        return [value]
    return (
        list(dict.fromkeys(item for item in value if isinstance(item, str)))
        if isinstance(value, list)
        else []
    )
