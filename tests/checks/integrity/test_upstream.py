"""upstream_signature: a publisher's model.sig, made by the model_signing library itself, checked offline."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from model_signing import hashing

from modelsteward.checks.integrity import ManifestDiff, SignatureStatus, upstream_signature
from modelsteward.core import FileEntry, Manifest
from tests.checks.integrity.conftest import (
    SHARD,
    Admit,
    KeyPair,
    library_hashing,
    library_signing,
    sign_with_library,
    tamper,
)


def _config(kind: str) -> hashing.Config:
    """The library's hashing configurations a publisher may sign with."""
    config = library_hashing()
    if kind == "shards-as-ours":
        config.use_shard_serialization(shard_size=SHARD)
    elif kind == "shards-of-1000":
        config.use_shard_serialization(shard_size=1000)
    elif kind == "blake2":
        config.use_file_serialization(hashing_algorithm="blake2")
    return config


# "files" is the library's default: whole-file SHA-256, which the sharded weights file needs read again.
CONFIGS = ["files", "shards-as-ours", "shards-of-1000", "blake2"]


@pytest.mark.parametrize("kind", CONFIGS)
def test_a_signature_by_a_trusted_key_is_verified(
    admit: Admit, model: Path, keys: KeyPair, kind: str
) -> None:
    sign_with_library(model, keys.private, hashing_config=_config(kind))
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest, trusted_keys=[keys.public])
    assert report.status is SignatureStatus.VERIFIED, report.detail
    assert report.path == "model.sig"
    assert report.detail == f"signed by the trusted key {keys.public}"


@pytest.mark.parametrize("kind", CONFIGS)
def test_files_changed_after_signing_are_a_mismatch(
    admit: Admit, model: Path, keys: KeyPair, kind: str
) -> None:
    sign_with_library(model, keys.private, hashing_config=_config(kind))
    tamper(model, ["change:model.safetensors", "remove:config.json", "add:backdoor.py"])
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest, trusted_keys=[keys.public])
    assert report.status is SignatureStatus.MISMATCH
    assert report.diff == ManifestDiff(
        changed=("model.safetensors",), missing=("config.json",), extra=("backdoor.py",)
    )


def test_without_trusted_keys_a_matching_signature_is_unverified(
    admit: Admit, model: Path, keys: KeyPair
) -> None:
    sign_with_library(model, keys.private)
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest)
    assert report.status is SignatureStatus.UNVERIFIED
    assert report.detail.startswith("signed with the key ")
    assert report.detail.endswith("and no key is trusted")


def test_a_signature_by_an_untrusted_key_is_unverified(
    admit: Admit, model: Path, keys: KeyPair, other_keys: KeyPair
) -> None:
    sign_with_library(model, keys.private)
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest, trusted_keys=[other_keys.public])
    assert report.status is SignatureStatus.UNVERIFIED
    assert "not among the trusted keys" in report.detail


def test_a_statement_rewritten_to_match_tampered_files_is_invalid(
    admit: Admit, model: Path, keys: KeyPair
) -> None:
    signature = sign_with_library(model, keys.private)
    tamper(model, ["change:config.json"])
    # The attacker rewrites the signed digest (and the subject digest over all of them) to fit the
    # changed file, keeping the publisher's signature.
    document = json.loads(signature.read_bytes())
    statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
    resources = statement["predicate"]["resources"]
    for resource in resources:
        if resource["name"] == "config.json":
            resource["digest"] = hashlib.sha256((model / "config.json").read_bytes()).hexdigest()
    subject = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    statement["subject"][0]["digest"]["sha256"] = subject
    document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    signature.write_text(json.dumps(document))
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest, trusted_keys=[keys.public])
    assert report.status is SignatureStatus.INVALID
    assert "the signed content was altered" in report.detail
    # A bare-key bundle names its key only by a hash: without the key, the forgery cannot be told.
    assert upstream_signature(snapshot.root, snapshot.manifest).status is SignatureStatus.UNVERIFIED


def _certificate_signer(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a code-signing certificate for release@example.org: (private key, certificate, CA)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def builder(subject: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca = builder("Test CA", ca_key).add_extension(
        x509.BasicConstraints(ca=True, path_length=None), critical=True
    )
    leaf = (
        builder("publisher", leaf_key)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("release@example.org")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    )
    paths = (folder / "leaf.key", folder / "leaf.pem", folder / "ca.pem")
    paths[0].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths[1].write_bytes(leaf.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(ca.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.pub").write_bytes(
        leaf_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return paths


def test_certificate_signatures_are_unverified_offline_unless_their_key_is_trusted(
    admit: Admit, model: Path, tmp_path: Path
) -> None:
    key, certificate, ca = _certificate_signer(tmp_path)
    config = library_hashing().set_ignored_paths(paths=["model.sig"])
    signer = library_signing().use_certificate_signer(
        private_key=key, signing_certificate=certificate, certificate_chain=[ca]
    )
    signer.set_hashing_config(config).sign(model, model / "model.sig")
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest)
    assert report.status is SignatureStatus.UNVERIFIED
    assert report.detail.startswith("signed with a certificate for release@example.org")
    assert "not checked offline" in report.detail
    trusted = upstream_signature(snapshot.root, snapshot.manifest, trusted_keys=[tmp_path / "leaf.pub"])
    assert trusted.status is SignatureStatus.VERIFIED


def test_a_certificate_bundle_whose_signature_fails_is_invalid(
    admit: Admit, model: Path, tmp_path: Path
) -> None:
    key, certificate, ca = _certificate_signer(tmp_path)
    config = library_hashing().set_ignored_paths(paths=["model.sig"])
    signer = library_signing().use_certificate_signer(
        private_key=key, signing_certificate=certificate, certificate_chain=[ca]
    )
    signer.set_hashing_config(config).sign(model, model / "model.sig")
    document = json.loads((model / "model.sig").read_bytes())
    statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
    statement["subject"][0]["name"] = "renamed"
    document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (model / "model.sig").write_text(json.dumps(document))
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest)
    assert report.status is SignatureStatus.INVALID
    assert report.detail == "the signature does not verify with the bundle's certificate"


def test_another_bundle_at_the_top_is_found(admit: Admit, model: Path, keys: KeyPair) -> None:
    sign_with_library(model, keys.private, name="tiny-bert.sig")
    (model / "weights.bin.sig").write_text("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n")
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest, trusted_keys=[keys.public])
    assert (report.status, report.path) == (SignatureStatus.MISMATCH, "tiny-bert.sig")
    # The library left tiny-bert.sig out, not the PGP file added after signing: that is extra.
    assert report.diff == ManifestDiff(extra=("weights.bin.sig",))


def test_no_signature_or_one_that_is_no_bundle_is_absent(admit: Admit, model: Path) -> None:
    (model / "model.bin.sig").write_text("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n")
    (model / "tokenizer" / "nested.sig").write_text("{}")
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest)
    assert (report.status, report.path) == (SignatureStatus.ABSENT, None)
    assert report.to_json() == {
        "status": "absent",
        "path": None,
        "detail": "the model ships no signature (model.sig)",
    }


def test_a_model_sig_that_is_no_bundle_is_invalid(admit: Admit, model: Path) -> None:
    (model / "model.sig").write_text("-----BEGIN PGP SIGNATURE-----\n")
    snapshot = admit(model)
    report = upstream_signature(snapshot.root, snapshot.manifest)
    assert (report.status, report.path) == (SignatureStatus.INVALID, "model.sig")
    assert report.detail.startswith("unreadable Sigstore bundle: ")


def test_an_oversized_model_sig_is_invalid_unread(tmp_path: Path) -> None:
    huge = FileEntry(path="model.sig", size=(64 << 20) + 1, sha256="0" * 64)
    report = upstream_signature(tmp_path, Manifest(files=(huge,), shard_size=SHARD))
    assert report.status is SignatureStatus.INVALID
    assert report.detail == f"{(64 << 20) + 1} bytes, more than a bundle ever needs"
