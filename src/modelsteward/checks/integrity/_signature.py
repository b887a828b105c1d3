"""OpenSSF model signing (the ``model_signing`` library's format) over our manifests, without rehashing.

A signature is a Sigstore bundle holding a DSSE envelope around an in-toto statement that lists
every file's digest. We build that statement from a manifest's digests in the exact shape the
library's own serialization gives, so the library verifies our signatures on the stored folder:
by whole files when no file of the manifest is sharded, else by shards of the manifest's size.
Reading a bundle, checking its signature and comparing its digests is done here, offline.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, cast

from cryptography import exceptions, x509
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing import hashing
from model_signing import manifest as library
from model_signing._hashing.hashing import Digest
from model_signing._signing import sign_ec_key, sign_sigstore_pb, signing

from modelsteward.checks.integrity._keys import key_hint, load_private_key, load_public_key
from modelsteward.core import FileEntry, Manifest
from modelsteward.core.manifest import ManifestDiff, diff_paths

SIGNATURE_NAME = "model.sig"
"""The name model_signing gives a signature, and looks for next to a model's files."""
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
"""Git metadata: model_signing leaves it out of every signature and of every verification."""
IGNORED_PATHS = (SIGNATURE_NAME, *GIT_PATHS)
"""What our signatures leave out (and record that they leave out), as model_signing's CLI does."""

_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle"
# model_signing's names for the hash of its serialization -> its hashing.Config's names.
_HASH_TYPES: dict[str, Literal["sha256", "blake2", "blake3"]] = {
    "sha256": "sha256",
    "blake2b": "blake2",
    "blake3": "blake3",
}
_NO_DIFF = ManifestDiff()
# Errors a malformed bundle or payload raises while it is read.
_MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError)


class SignatureStatus(enum.StrEnum):
    """What checking a signature established."""

    ABSENT = "absent"
    """There is no signature."""
    VERIFIED = "verified"
    """It signs exactly these files, with a trusted key."""
    MISMATCH = "mismatch"
    """The digests it signs differ from the files: they were changed after signing."""
    UNVERIFIED = "unverified"
    """It signs exactly these files, but its signer cannot be confirmed offline."""
    INVALID = "invalid"
    """It cannot be read, or its cryptographic signature does not hold."""


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The outcome of checking one signature against a manifest."""

    status: SignatureStatus
    path: str | None
    """The signature file inside the snapshot; None when absent or given as bytes."""
    detail: str
    """One sentence for a reviewer: who signed, or what does not hold."""
    diff: ManifestDiff = _NO_DIFF
    """Signed files against present ones; not clean only for ``mismatch``."""

    def to_json(self) -> dict[str, str | None]:
        """The ``upstream_signature`` value of the integrity check's data."""
        return {"status": self.status.value, "path": self.path, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class _Serialization:
    """How a signature's digests were computed: by whole files or by shards, with which hash."""

    method: str
    """``files`` or ``shards``."""
    hash_type: str
    """``sha256``, ``blake2b`` or ``blake3``."""
    shard_size: int
    """Bytes per shard; 0 for ``files``."""
    ignored: frozenset[str]
    """Paths the signer left out."""

    def file_of(self, identifier: str) -> str:
        """The file a resource belongs to: the identifier, or ``path`` of a shard's ``path:start:end``."""
        return identifier.rsplit(":", 2)[0] if self.method == "shards" else identifier

    def __str__(self) -> str:
        shards = f" in shards of {self.shard_size} bytes" if self.method == "shards" else ""
        return f"{self.method} with {self.hash_type}{shards}"


@dataclass(frozen=True, slots=True)
class _Envelope:
    """The parts of a Sigstore bundle that a check needs."""

    payload: bytes
    payload_type: str
    signature: bytes
    key_hint: str
    """SHA-256 of the signer's PEM public key, when signed with a bare key."""
    certificate: x509.Certificate | None
    """The signer's certificate, when signed with one (certificate chain or Sigstore)."""


def sign(manifest: Manifest, *, model_name: str, private_key: Path) -> bytes:
    """A model_signing signature (the bundle JSON it writes as ``model.sig``) of ``manifest``'s files.

    Signs the manifest's digests; reads no model file. ``model_name`` is recorded as the subject.
    Raises ValueError if ``private_key`` is not a PEM elliptic-curve private key.
    """
    load_private_key(private_key)  # a clear error before the library's own
    signer = sign_ec_key.Signer(private_key)
    signature = signer.sign(signing.Payload(_library_manifest(manifest, model_name)))
    return cast(sign_sigstore_pb.Signature, signature).bundle.to_json().encode()


def verify(manifest: Manifest, bundle: bytes, public_key: Path) -> bool:
    """Whether ``bundle`` is a signature of exactly ``manifest``'s files by ``public_key``'s pair.

    :func:`check_signature` says why not. Raises ValueError if ``public_key`` is not a usable key.
    """
    report = check_signature(manifest, bundle, trusted_keys=(public_key,))
    return report.status is SignatureStatus.VERIFIED


def check_signature(
    manifest: Manifest,
    bundle: bytes,
    *,
    trusted_keys: Sequence[Path] = (),
    root: Path | None = None,
    path: str | None = None,
    jobs: int | None = None,
) -> SignatureReport:
    """Check the signature ``bundle`` against ``manifest``'s files and the ``trusted_keys`` (PEM).

    Digests the manifest holds are compared as they are. A signature made with other hashing
    parameters (whole files of a sharded manifest, another hash) needs the files, read from
    ``root`` on ``jobs`` threads; without ``root`` that raises ValueError. ``path`` is the
    signature's own file inside ``root``, which it cannot sign. Raises ValueError for an unusable
    trusted key.
    """
    keys = [(key_path, load_public_key(key_path)) for key_path in trusted_keys]

    def report(status: SignatureStatus, detail: str, diff: ManifestDiff = _NO_DIFF) -> SignatureReport:
        return SignatureReport(status=status, path=path, detail=detail, diff=diff)

    try:
        envelope = _read_envelope(bundle)
    except _MALFORMED as error:
        return report(SignatureStatus.INVALID, f"unreadable Sigstore bundle: {_reason(error)}")
    signer = next((key_path for key_path, key in keys if _signed_by(key, envelope)), None)
    if signer is None:
        if envelope.certificate is not None and not _signed_by(envelope.certificate.public_key(), envelope):
            return report(
                SignatureStatus.INVALID, "the signature does not verify with the bundle's certificate"
            )
        named = next((key_path for key_path, key in keys if key_hint(key) == envelope.key_hint), None)
        if named is not None:
            return report(
                SignatureStatus.INVALID,
                f"the signature does not verify with the trusted key the bundle names ({named}): "
                "the signed content was altered",
            )
    try:
        signed, serialization = _signed_manifest(envelope)
    except _MALFORMED as error:
        return report(SignatureStatus.INVALID, f"unreadable signed statement: {_reason(error)}")
    diff = _compare(signed, serialization, manifest, root=root, path=path, jobs=jobs)
    if not diff.clean:
        return report(
            SignatureStatus.MISMATCH, f"the files differ from the signed digests: {diff.describe()}", diff
        )
    if signer is not None:
        return report(SignatureStatus.VERIFIED, f"signed by the trusted key {signer}")
    return report(SignatureStatus.UNVERIFIED, _unverified_detail(envelope, bool(keys)))


def is_bundle(data: bytes) -> bool:
    """Whether ``data`` is JSON that calls itself a Sigstore bundle."""
    try:
        return _names_itself_a_bundle(json.loads(data))
    except ValueError:
        return False


def _names_itself_a_bundle(document: object) -> bool:
    return isinstance(document, dict) and str(document.get("mediaType", "")).startswith(_BUNDLE_MEDIA_TYPE)


def _library_manifest(manifest: Manifest, model_name: str) -> library.Manifest:
    """``manifest`` as model_signing's serialization of the stored folder would produce it."""
    files = [entry for entry in manifest.files if not _ignored(entry.path, IGNORED_PATHS)]
    common = {"hash_type": "sha256", "allow_symlinks": False, "ignore_paths": list(IGNORED_PATHS)}
    items: list[library.ManifestItem]
    if not any(entry.shards for entry in files):
        # Every digest is a whole file's SHA-256: the library's default, by-file serialization.
        serialization = library.SerializationType.from_args({"method": "files", **common})
        items = [
            library.FileManifestItem(
                path=PurePosixPath(entry.path), digest=Digest("sha256", bytes.fromhex(entry.sha256))
            )
            for entry in files
        ]
    else:
        size = manifest.shard_size
        serialization = library.SerializationType.from_args(
            {"method": "shards", "shard_size": size, **common}
        )
        algorithm = f"sha256-sharded-{size}"
        items = [
            library.ShardedFileManifestItem(
                path=PurePosixPath(entry.path),
                start=start,
                end=min(start + size, entry.size),
                digest=Digest(algorithm, bytes.fromhex(digest)),
            )
            for entry in files
            for start, digest in zip(
                range(0, entry.size, size), entry.shards or (entry.sha256,), strict=False
            )
        ]
    return library.Manifest(model_name, items, serialization)


def _read_envelope(bundle: bytes) -> _Envelope:
    document = json.loads(bundle)
    if not _names_itself_a_bundle(document):
        raise ValueError("mediaType is not a Sigstore bundle's")
    envelope = document["dsseEnvelope"]
    material = document.get("verificationMaterial") or {}
    raw_certificate = (material.get("certificate") or {}).get("rawBytes") or next(
        iter((material.get("x509CertificateChain") or {}).get("certificates") or [{}])
    ).get("rawBytes")
    return _Envelope(
        payload=base64.b64decode(envelope["payload"], validate=True),
        payload_type=str(envelope["payloadType"]),
        signature=base64.b64decode(envelope["signatures"][0]["sig"], validate=True),
        key_hint=str((material.get("publicKey") or {}).get("hint") or ""),
        certificate=(
            None
            if raw_certificate is None
            else x509.load_der_x509_certificate(base64.b64decode(raw_certificate, validate=True))
        ),
    )


def _signed_by(key: object, envelope: _Envelope) -> bool:
    """Whether ``key`` made the envelope's signature (DSSE pre-authentication encoding, as the library)."""
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        algorithm = ec.ECDSA(sign_ec_key.get_ec_key_hash(key))
    except ValueError:
        return False
    # The second encoding is that of signatures made before model_signing 1.0.
    for encoded in (sign_sigstore_pb.pae(envelope.payload), sign_sigstore_pb.pae_compat(envelope.payload)):
        try:
            key.verify(envelope.signature, encoded, algorithm)
        except exceptions.InvalidSignature:
            continue
        return True
    return False


def _signed_manifest(envelope: _Envelope) -> tuple[library.Manifest, _Serialization]:
    if envelope.payload_type != signing._IN_TOTO_JSON_PAYLOAD_TYPE:
        raise ValueError(f"payload type {envelope.payload_type!r} is not an in-toto statement")
    # The library's reading checks the predicate type and the subject digest over every resource.
    signed = signing.dsse_payload_to_manifest(json.loads(envelope.payload))
    parameters = signed.serialization_type
    method, hash_type = parameters["method"], parameters["hash_type"]
    if method not in ("files", "shards") or hash_type not in _HASH_TYPES:
        raise ValueError(f"unsupported serialization {method!r} with hash {hash_type!r}")
    return signed, _Serialization(
        method=method,
        hash_type=hash_type,
        shard_size=int(parameters["shard_size"]) if method == "shards" else 0,
        ignored=frozenset(str(PurePosixPath(p)) for p in parameters.get("ignore_paths", ())),
    )


def _compare(
    signed: library.Manifest,
    serialization: _Serialization,
    manifest: Manifest,
    *,
    root: Path | None,
    path: str | None,
    jobs: int | None,
) -> ManifestDiff:
    """The signed digests against those of ``manifest``'s files, grouped by file."""
    ignored = serialization.ignored | set(GIT_PATHS) | ({path} if path else set())
    expected: dict[str, dict[str, str]] = {}
    for descriptor in signed.resource_descriptors():
        identifier = descriptor.identifier
        expected.setdefault(serialization.file_of(identifier), {})[identifier] = descriptor.digest.digest_hex
    files = [entry for entry in manifest.files if not _ignored(entry.path, ignored)]
    actual = _digests(files, serialization, manifest.shard_size, root=root, jobs=jobs)
    return diff_paths(
        {p: tuple(sorted(d.items())) for p, d in expected.items()},
        {p: tuple(sorted(d.items())) for p, d in actual.items()},
    )


def _digests(
    files: Sequence[FileEntry],
    serialization: _Serialization,
    shard_size: int,
    *,
    root: Path | None,
    jobs: int | None,
) -> dict[str, dict[str, str]]:
    """Each file's resources as the signature's serialization names them, with their digests."""
    digests: dict[str, dict[str, str]] = {}
    unknown = []
    for entry in files:
        known = _known(entry, serialization, shard_size)
        if known is None:
            unknown.append(entry.path)
        elif known:  # an empty file has no shard to list
            digests[entry.path] = known
    if not unknown:
        return digests
    if root is None:
        raise ValueError(
            f"the signature hashes {serialization}, unlike the manifest: its digests can only be "
            "compared by reading the files"
        )
    algorithm = _HASH_TYPES[serialization.hash_type]
    config = hashing.Config()  # type: ignore[no-untyped-call]
    if serialization.method == "files":
        config.use_file_serialization(hashing_algorithm=algorithm, max_workers=jobs)
    else:
        config.use_shard_serialization(
            hashing_algorithm=algorithm, shard_size=serialization.shard_size, max_workers=jobs
        )
    config.set_allow_symlinks(True).set_ignored_paths(paths=[], ignore_git_paths=False)
    hashed = config.hash(root, files_to_hash=[root / PurePosixPath(p) for p in unknown])
    for descriptor in hashed.resource_descriptors():
        identifier = descriptor.identifier
        digests.setdefault(serialization.file_of(identifier), {})[identifier] = descriptor.digest.digest_hex
    return digests


def _known(entry: FileEntry, serialization: _Serialization, shard_size: int) -> dict[str, str] | None:
    """The file's resources from the digests the manifest holds, or None if they must be computed."""
    if serialization.hash_type != "sha256":
        return None
    if serialization.method == "files":
        return None if entry.shards else {entry.path: entry.sha256}
    if entry.size == 0:
        return {}  # the library lists no shard for an empty file
    if not entry.shards and entry.size <= serialization.shard_size:
        return {f"{entry.path}:0:{entry.size}": entry.sha256}
    if serialization.shard_size != shard_size:
        return None
    starts = range(0, entry.size, shard_size)
    return {
        f"{entry.path}:{start}:{min(start + shard_size, entry.size)}": digest
        for start, digest in zip(starts, entry.shards or (entry.sha256,), strict=True)
    }


def _ignored(path: str, ignored: Collection[str]) -> bool:
    return any(path == p or path.startswith(f"{p}/") for p in ignored)


def _unverified_detail(envelope: _Envelope, any_trusted: bool) -> str:
    if envelope.certificate is not None:
        names = _certificate_names(envelope.certificate)
        return (
            f"signed with a certificate for {names}: a certificate (Sigstore) signature needs its trust "
            "root and transparency log to confirm the signer, which are not checked offline; trust the "
            "signer's public key to verify it"
        )
    who = f"the key {envelope.key_hint[:16]}..." if envelope.key_hint else "a key the bundle does not name"
    trusted = "which is not among the trusted keys" if any_trusted else "and no key is trusted"
    return f"signed with {who}, {trusted}"


def _certificate_names(certificate: x509.Certificate) -> str:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        values = [str(getattr(name, "value", name)) for name in names]
    except x509.ExtensionNotFound:
        values = []
    return ", ".join(values) or certificate.subject.rfc4514_string() or "an unnamed subject"


def _reason(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error}"
    if isinstance(error, binascii.Error):
        return f"bad base64: {error}"
    return str(error) or type(error).__name__
