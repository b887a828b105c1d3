"""integrity.run: the check of the gate, its data contract and its findings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from modelsteward.checks import CheckContext, integrity
from modelsteward.core import CheckStatus, Severity
from modelsteward.core.rules import load_catalogue
from tests.checks.integrity.conftest import Admit, KeyPair, sign_with_library, tamper


@dataclass(frozen=True, slots=True)
class TrustingContext(CheckContext):
    """A context with the publisher keys the policy trusts."""

    trusted_keys: tuple[Path, ...] = ()


def test_an_unsigned_model_passes_with_its_facts(admit: Admit, model: Path) -> None:
    snapshot = admit(model)
    result = integrity.run(snapshot, CheckContext())
    assert result.check == "integrity"
    assert result.status is CheckStatus.PASS
    assert result.findings == ()
    assert result.data == {
        "files": len(snapshot.manifest.files),
        "bytes": snapshot.manifest.size,
        "manifest_digest": snapshot.manifest.digest,
        "upstream_signature": {
            "status": "absent",
            "path": None,
            "detail": "the model ships no signature (model.sig)",
        },
    }


def test_a_signature_by_a_trusted_key_passes_verified(admit: Admit, model: Path, keys: KeyPair) -> None:
    sign_with_library(model, keys.private)
    result = integrity.run(admit(model), TrustingContext(trusted_keys=(keys.public,)))
    assert result.status is CheckStatus.PASS
    assert result.findings == ()
    assert result.data["upstream_signature"]["status"] == "verified"
    assert result.data["upstream_signature"]["path"] == "model.sig"


def test_an_unconfirmed_signer_is_an_info_finding(admit: Admit, model: Path, keys: KeyPair) -> None:
    sign_with_library(model, keys.private)
    result = integrity.run(admit(model), CheckContext())
    assert result.status is CheckStatus.PASS
    (finding,) = result.findings
    assert (finding.rule, finding.severity, finding.path) == (
        "INTEGRITY-SIGNATURE-UNVERIFIED",
        Severity.INFO,
        "model.sig",
    )
    assert finding.message.startswith(
        load_catalogue()["INTEGRITY-SIGNATURE-UNVERIFIED"].title + ": signed with"
    )


def test_tampered_files_fail_with_a_critical_finding(admit: Admit, model: Path, keys: KeyPair) -> None:
    sign_with_library(model, keys.private)
    tamper(model, ["change:model.safetensors"])
    result = integrity.run(admit(model), TrustingContext(trusted_keys=(keys.public,)))
    assert result.status is CheckStatus.FAIL
    (finding,) = result.findings
    assert (finding.rule, finding.severity) == ("INTEGRITY-SIGNATURE-MISMATCH", Severity.CRITICAL)
    assert finding.evidence == "changed: model.safetensors"
    assert result.data["upstream_signature"]["status"] == "mismatch"


def test_an_unreadable_signature_fails_with_a_high_finding(admit: Admit, model: Path) -> None:
    (model / "model.sig").write_text("{not json")
    result = integrity.run(admit(model), CheckContext())
    assert result.status is CheckStatus.FAIL
    (finding,) = result.findings
    assert (finding.rule, finding.severity) == ("INTEGRITY-SIGNATURE-INVALID", Severity.HIGH)
    assert result.data["upstream_signature"]["status"] == "invalid"


def test_an_unusable_trusted_key_is_an_error_not_a_traceback(
    admit: Admit, model: Path, keys: KeyPair
) -> None:
    sign_with_library(model, keys.private)
    missing = model.parent / "absent.pub"
    result = integrity.run(admit(model), TrustingContext(trusted_keys=(missing,)))
    assert result.status is CheckStatus.ERROR
    assert f"{missing}: cannot read the public key" in result.summary
    assert set(result.data) == {"files", "bytes", "manifest_digest", "upstream_signature"}


def test_the_rules_the_check_reports_are_catalogued_with_their_severity() -> None:
    catalogue = load_catalogue()
    assert catalogue["INTEGRITY-SIGNATURE-MISMATCH"].severity is Severity.CRITICAL
    assert catalogue["INTEGRITY-SIGNATURE-INVALID"].severity is Severity.HIGH
    assert catalogue["INTEGRITY-SIGNATURE-UNVERIFIED"].severity is Severity.INFO
    assert {rule.id for rule in catalogue.values() if rule.area == "integrity"} == {
        "INTEGRITY-SIGNATURE-MISMATCH",
        "INTEGRITY-SIGNATURE-INVALID",
        "INTEGRITY-SIGNATURE-UNVERIFIED",
    }
