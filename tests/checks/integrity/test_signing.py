"""sign / verify: OpenSSF model-signing signatures over our manifests, checked by us and by the library."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelsteward.checks.integrity import (
    ManifestDiff,
    SignatureStatus,
    check_signature,
    ensure_key_pair,
    sign,
    verify,
)
from modelsteward.core import FileEntry, Manifest
from modelsteward.store import hash_tree
from tests.checks.integrity.conftest import (
    SHARD,
    Admit,
    KeyPair,
    library_hashing,
    library_verifying,
    model_files,
    tamper,
)

MODEL_SIGNING_CLI = Path(sys.executable).parent / "model_signing"


def _statement(bundle: bytes) -> Any:
    envelope = json.loads(bundle)["dsseEnvelope"]
    return json.loads(base64.b64decode(envelope["payload"]))


def _library_verifies(
    folder: Path, bundle: bytes, public_key: Path, *, shard_size: int | None = None
) -> None:
    """The library's own verification of ``folder`` (raises ValueError on a mismatch)."""
    signature = folder.parent / f"{folder.name}.sig"
    signature.write_bytes(bundle)
    config = library_verifying().use_elliptic_key_verifier(public_key=public_key)
    if shard_size is not None:
        # model_signing 1.1.1 reads its own shard size back as a float, which its hasher refuses:
        # a shard signature verifies only with the size given again.
        config.set_hashing_config(library_hashing().use_shard_serialization(shard_size=shard_size))
    config.verify(folder, signature)


def test_ensure_key_pair_makes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    private = tmp_path / "home" / "keys" / "signing-key.pem"
    public = ensure_key_pair(private)
    assert public == private.with_suffix(".pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert [p.name for p in private.parent.iterdir()] == sorted(["signing-key.pem", "signing-key.pub"])


def test_ensure_key_pair_keeps_an_existing_key_and_mends_its_public_half(tmp_path: Path) -> None:
    private = tmp_path / "signing-key.pem"
    public = ensure_key_pair(private)
    key, pub = private.read_bytes(), public.read_bytes()
    assert ensure_key_pair(private) == public
    assert (private.read_bytes(), public.read_bytes()) == (key, pub)
    public.write_bytes(b"stale")
    ensure_key_pair(private)
    assert public.read_bytes() == pub


def test_ensure_key_pair_refuses_a_file_that_is_no_key(tmp_path: Path) -> None:
    private = tmp_path / "signing-key.pem"
    private.write_text("not a key")
    with pytest.raises(ValueError, match=r"signing-key\.pem: not an unencrypted PEM private key"):
        ensure_key_pair(private)


def test_round_trip_of_a_manifest_of_whole_files(admit: Admit, model: Path, keys: KeyPair) -> None:
    snapshot = admit(model, shard_size=1 << 20)
    bundle = sign(snapshot.manifest, model_name="tiny-bert", private_key=keys.private)
    assert verify(snapshot.manifest, bundle, keys.public)
    statement = _statement(bundle)
    predicate = statement["predicate"]
    assert predicate["serialization"]["method"] == "files"
    # Git metadata is left out, as model_signing leaves it out; the empty file is signed.
    resources = predicate["resources"]
    assert [r["name"] for r in resources] == [p for p in model_files(model) if p != ".gitattributes"]
    assert [r["digest"] for r in resources] == [
        hashlib.sha256((model / r["name"]).read_bytes()).hexdigest() for r in resources
    ]
    subject = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    assert statement["subject"] == [{"name": "tiny-bert", "digest": {"sha256": subject}}]


def test_round_trip_of_a_sharded_manifest(admit: Admit, model: Path, keys: KeyPair) -> None:
    snapshot = admit(model)
    assert any(entry.shards for entry in snapshot.manifest.files)
    bundle = sign(snapshot.manifest, model_name="tiny-bert", private_key=keys.private)
    assert verify(snapshot.manifest, bundle, keys.public)
    predicate = _statement(bundle)["predicate"]
    assert predicate["serialization"]["method"] == "shards"
    weights = [r for r in predicate["resources"] if r["name"].startswith("model.safetensors:")]
    assert [r["name"] for r in weights][:2] == ["model.safetensors:0:4096", "model.safetensors:4096:8192"]
    assert {r["algorithm"] for r in weights} == {"sha256-sharded-4096"}


def test_signing_reads_no_model_file(tmp_path: Path, keys: KeyPair) -> None:
    entry = FileEntry(
        path="weights.bin", size=3 * SHARD, sha256="a" * 64, shards=("b" * 64, "c" * 64, "d" * 64)
    )
    manifest = Manifest(files=(entry,), shard_size=SHARD)
    bundle = sign(manifest, model_name="absent", private_key=keys.private)
    assert verify(manifest, bundle, keys.public)
    digests = [r["digest"] for r in _statement(bundle)["predicate"]["resources"]]
    assert digests == ["b" * 64, "c" * 64, "d" * 64]


def test_the_library_verifies_our_whole_file_signature_on_the_stored_folder(
    admit: Admit, model: Path, keys: KeyPair
) -> None:
    snapshot = admit(model, shard_size=1 << 20)
    bundle = sign(snapshot.manifest, model_name="tiny-bert", private_key=keys.private)
    _library_verifies(snapshot.root, bundle, keys.public)
    signature = snapshot.root.parent / "cli.sig"
    signature.write_bytes(bundle)
    cli = [
        str(MODEL_SIGNING_CLI),
        "verify",
        "key",
        "--signature",
        str(signature),
        "--public_key",
        str(keys.public),
    ]
    result = subprocess.run([*cli, str(snapshot.root)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout.strip()) == (0, "Verification succeeded"), result.stderr
    copy = snapshot.root.parent / "copy"
    shutil.copytree(snapshot.root, copy)
    copy.chmod(0o755)
    (copy / "config.json").chmod(0o644)
    tamper(copy, ["change:config.json"])
    result = subprocess.run([*cli, str(copy)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Hash mismatch for 'config.json'" in result.stderr


def test_the_library_verifies_our_sharded_signature_on_the_stored_folder(
    admit: Admit, model: Path, keys: KeyPair
) -> None:
    snapshot = admit(model)
    bundle = sign(snapshot.manifest, model_name="tiny-bert", private_key=keys.private)
    _library_verifies(snapshot.root, bundle, keys.public, shard_size=SHARD)
    with pytest.raises(ValueError, match="Key mismatch"):
        _library_verifies(snapshot.root, bundle, ensure_key_pair(model.parent / "k2.pem"), shard_size=SHARD)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (["change:model.safetensors"], ManifestDiff(changed=("model.safetensors",))),
        (["remove:config.json"], ManifestDiff(missing=("config.json",))),
        (["add:extra.bin"], ManifestDiff(extra=("extra.bin",))),
    ],
)
@pytest.mark.parametrize("shard_size", [SHARD, 1 << 20])
def test_tampered_files_fail_verification(
    admit: Admit, model: Path, keys: KeyPair, changes: list[str], expected: ManifestDiff, shard_size: int
) -> None:
    signed = admit(model, shard_size=shard_size).manifest
    bundle = sign(signed, model_name="tiny-bert", private_key=keys.private)
    tamper(model, changes)
    actual = hash_tree(model, model_files(model), shard_size=shard_size)
    assert not verify(actual, bundle, keys.public)
    report = check_signature(actual, bundle, trusted_keys=[keys.public])
    assert report.status is SignatureStatus.MISMATCH
    assert report.diff == expected
    assert report.detail.startswith("the files differ from the signed digests: ")


def test_another_key_does_not_verify(admit: Admit, model: Path, keys: KeyPair, other_keys: KeyPair) -> None:
    manifest = admit(model).manifest
    bundle = sign(manifest, model_name="tiny-bert", private_key=keys.private)
    assert not verify(manifest, bundle, other_keys.public)
    report = check_signature(manifest, bundle, trusted_keys=[other_keys.public])
    assert report.status is SignatureStatus.UNVERIFIED
    assert "which is not among the trusted keys" in report.detail


def test_a_signed_statement_altered_after_signing_is_invalid(
    admit: Admit, model: Path, keys: KeyPair
) -> None:
    manifest = admit(model).manifest
    document = json.loads(sign(manifest, model_name="tiny-bert", private_key=keys.private))
    statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
    statement["subject"][0]["name"] = "someone-else"
    document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    report = check_signature(manifest, json.dumps(document).encode(), trusted_keys=[keys.public])
    assert report.status is SignatureStatus.INVALID
    assert "does not verify with the trusted key the bundle names" in report.detail


@pytest.mark.parametrize(
    ("bundle", "reason"),
    [
        (b"\x00\x01binary", "unreadable Sigstore bundle"),
        (b'{"mediaType": "application/json"}', "mediaType is not a Sigstore bundle's"),
        (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}', "missing field 'dsseEnvelope'"),
    ],
)
def test_unreadable_bundles_are_invalid(
    admit: Admit, model: Path, keys: KeyPair, bundle: bytes, reason: str
) -> None:
    report = check_signature(admit(model).manifest, bundle, trusted_keys=[keys.public])
    assert report.status is SignatureStatus.INVALID
    assert reason in report.detail


def test_sign_names_an_unusable_private_key(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError, match=r"key\.pem: not an unencrypted PEM private key"):
        sign(Manifest(files=(), shard_size=SHARD), model_name="m", private_key=key)


def test_verify_names_an_unusable_public_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"absent\.pub: cannot read the public key"):
        verify(Manifest(files=(), shard_size=SHARD), b"{}", tmp_path / "absent.pub")
