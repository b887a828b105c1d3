"""Admissions built by hand for the document renderers' tests (and any test that needs one).

Digests are real: the manifest is computed from the bytes in :data:`FILES` the way the store computes it,
with one file larger than the shard size so that both digest forms appear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modelsteward.core import (
    Admission,
    Assessment,
    CheckResult,
    CheckStatus,
    Component,
    Decision,
    FileEntry,
    Finding,
    Manifest,
    Origin,
    Reason,
    Severity,
    Snapshot,
    Verdict,
    Vulnerability,
)

SHARD_SIZE = 32
"""Small, so that :data:`FILES` holds a file of several shards."""

FILES: Mapping[str, bytes] = {
    "README.md": b"# Acme encoder\n",
    "config.json": b'{"model_type": "bert"}\n',
    "model.safetensors": bytes(range(100)),  # four shards
    "pytorch_model.bin": b"PK\x03\x04 not a real zip",
}

REVISION = "0123456789abcdef0123456789abcdef01234567"
CREATED = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def manifest_of(files: Mapping[str, bytes], shard_size: int = SHARD_SIZE) -> Manifest:
    """The manifest of ``files`` (path -> bytes), hashed as documented on :class:`FileEntry`."""
    entries = []
    for path, data in sorted(files.items()):
        if len(data) <= shard_size:
            entries.append(FileEntry(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest()))
            continue
        shards = tuple(
            hashlib.sha256(data[start : start + shard_size]).hexdigest()
            for start in range(0, len(data), shard_size)
        )
        combined = hashlib.sha256(b"".join(bytes.fromhex(s) for s in shards)).hexdigest()
        entries.append(FileEntry(path=path, size=len(data), sha256=combined, shards=shards))
    return Manifest(files=tuple(entries), shard_size=shard_size)


def security_result(
    findings: Sequence[Finding] = (), incomplete: Sequence[Mapping[str, Any]] = (), files: int = len(FILES)
) -> CheckResult:
    """A security result following the data contract; status from the findings as the check sets it."""
    highest = max((f.severity for f in findings), default=None)
    if highest is not None and highest >= Severity.HIGH:
        status = CheckStatus.FAIL
    elif findings or incomplete:
        status = CheckStatus.WARN
    else:
        status = CheckStatus.PASS
    return CheckResult(
        check="security",
        status=status,
        findings=tuple(findings),
        data={
            "files": files,
            "incomplete": [dict(entry) for entry in incomplete],
            "highest": None if highest is None else highest.label,
        },
        summary=f"{len(findings)} findings in {files} files",
    )


def integrity_result(
    manifest: Manifest, signature: str = "absent", path: str | None = None, detail: str = "no signature"
) -> CheckResult:
    """An integrity result; ``signature`` is the upstream signature's status."""
    return CheckResult(
        check="integrity",
        status=CheckStatus.FAIL if signature in {"mismatch", "invalid"} else CheckStatus.PASS,
        data={
            "files": len(manifest.files),
            "bytes": manifest.size,
            "manifest_digest": manifest.digest,
            "upstream_signature": {"status": signature, "path": path, "detail": detail},
        },
        summary=f"upstream signature {signature}",
    )


def license_result(
    licenses: Sequence[tuple[str, str]] = (("apache-2.0", "README.md metadata `license`"),),
    license_class: str = "permissive",
    obligations: Sequence[tuple[str, str]] = (("notice", "Keep the NOTICE file with every copy."),),
    *,
    known: bool = True,
    conflict_detail: str = "",
) -> CheckResult:
    """A licence result: ``licenses`` as (id, where) pairs, ``obligations`` as (id, text) pairs."""
    ids = list(dict.fromkeys(license_id for license_id, _ in licenses))
    return CheckResult(
        check="license",
        status=CheckStatus.PASS if known and license_class == "permissive" else CheckStatus.WARN,
        data={
            "licenses": [{"id": license_id, "where": where} for license_id, where in licenses],
            "class": license_class,
            "ids": ids,
            "known": known,
            "conflict": bool(conflict_detail),
            "conflict_detail": conflict_detail,
            "obligations": [{"id": oid, "text": text} for oid, text in obligations],
        },
        summary=f"{', '.join(ids) or 'no licence'} ({license_class})",
    )


def documentation_result(
    card: str | None = "README.md", missing: Sequence[str] = ("evaluation",)
) -> CheckResult:
    """A documentation result; ``missing`` names the sections the card lacks."""
    sections = {
        s: card is not None and s not in missing
        for s in ("intended_use", "limitations", "training_data", "evaluation")
    }
    return CheckResult(
        check="documentation",
        status=CheckStatus.PASS if all(sections.values()) else CheckStatus.WARN,
        data={"card": card, "metadata": card is not None, "sections": sections},
        summary="model card complete" if all(sections.values()) else "model card incomplete",
    )


TORCH = Component("torch", Origin.REQUIREMENT, version="2.1.0", evidence="requirements.txt:1")
TORCH_INSTALLED = Component("torch", Origin.ENVIRONMENT, version="2.1.0", evidence="/opt/venv/site-packages")
DEPENDENCIES = (
    TORCH,
    Component("transformers", Origin.REQUIREMENT, specifier="<5,>=4.38", evidence="requirements.txt:2"),
    Component("numpy", Origin.IMPORT, evidence="modeling.py:3"),
    Component("transformers", Origin.CONFIG, version="4.8.2", evidence="config.json"),
    TORCH_INSTALLED,
)
"""One component of each origin; torch is both required and installed at a vulnerable version."""
TORCH_ADVISORY = "GHSA-pg7h-5qx3-wjr3"
VULNERABILITIES = (
    Vulnerability(
        TORCH, TORCH_ADVISORY, ("CVE-2024-31580",), "Heap buffer overflow", Severity.CRITICAL, ("2.2.0",)
    ),
    Vulnerability(
        TORCH_INSTALLED,
        TORCH_ADVISORY,
        ("CVE-2024-31580",),
        "Heap buffer overflow",
        Severity.CRITICAL,
        ("2.2.0",),
    ),
    Vulnerability(TORCH, "PYSEC-2024-259", (), "", None, ()),
)
"""One advisory matched to two components, and one unrated advisory with no fix."""


def dependencies_result(
    components: Sequence[Component] = DEPENDENCIES, vulnerabilities: Sequence[Vulnerability] = VULNERABILITIES
) -> CheckResult:
    """A dependencies result following the check's data contract."""
    return CheckResult(
        check="dependencies",
        status=CheckStatus.WARN if vulnerabilities else CheckStatus.PASS,
        data={
            "audited": True,
            "components": [c.to_json() for c in components],
            "vulnerabilities": [v.to_json() for v in vulnerabilities],
        },
        summary=f"{len(components)} components; {len(vulnerabilities)} known vulnerabilities",
    )


PICKLE_FINDING = Finding(
    rule="PICKLE-GLOBAL-DENIED",
    severity=Severity.CRITICAL,
    message="The pickle calls os.system, which runs a shell command when the file is loaded.",
    path="pytorch_model.bin",
    location="archive/data.pkl > offset 42",
    evidence="os.system",
)
TEMPLATE_FINDING = Finding(
    rule="TEMPLATE-SUSPICIOUS",
    severity=Severity.LOW,
    message="The chat template reads an attribute of a string.",
    path="tokenizer_config.json",
    location="/chat_template",
)


def build_admission(
    *,
    name: str = "acme-encoder",
    version: int | None = 3,
    source: str = f"hf://acme/encoder@{REVISION}",
    revision: str | None = REVISION,
    files: Mapping[str, bytes] = FILES,
    results: Sequence[CheckResult] | None = None,
    verdict: Verdict = Verdict.REJECT,
    reasons: Sequence[Reason] | None = None,
    policy: str = "acme-default sha256:" + "ab" * 32,
    derived_from: str | None = None,
) -> Admission:
    """An admission of ``files``; by default every check ran, the scanner found a denied pickle global
    and the policy rejected the model."""
    manifest = manifest_of(files)
    if results is None:
        results = (
            security_result([PICKLE_FINDING, TEMPLATE_FINDING]),
            integrity_result(manifest),
            license_result(),
            documentation_result(),
        )
    if reasons is None:
        reasons = (
            Reason(
                verdict=Verdict.REJECT,
                rule="max_severity.security",
                check="security",
                message="A critical finding exceeds the highest severity allowed (medium).",
                evidence="PICKLE-GLOBAL-DENIED in pytorch_model.bin",
            ),
            Reason(
                verdict=Verdict.REVIEW,
                rule="documentation.require",
                check="documentation",
                message="The model card has no evaluation section.",
            ),
        )
    return Admission(
        name=name,
        snapshot=Snapshot(
            root=Path("/nonexistent/snapshot"), manifest=manifest, source=source, revision=revision
        ),
        assessment=Assessment(tuple(results)),
        decision=Decision(verdict=verdict, reasons=tuple(reasons)),
        policy=policy,
        created=CREATED,
        version=version,
        derived_from=derived_from,
    )
