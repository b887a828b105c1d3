"""The signature a model's publisher ships with it (``model.sig``), checked offline."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from modelsteward.checks.integrity._signature import (
    SIGNATURE_NAME,
    SignatureReport,
    SignatureStatus,
    check_signature,
    is_bundle,
)
from modelsteward.core import FileEntry, Manifest

MAX_BUNDLE_SIZE = 64 << 20
"""A larger signature file is not read: the bundle of a 1 TB model in 64 MiB shards is about 3 MB."""


def upstream_signature(
    root: Path, manifest: Manifest, *, trusted_keys: Sequence[Path] = (), jobs: int | None = None
) -> SignatureReport:
    """Check the publisher's signature among the files under ``root`` against them and ``trusted_keys``.

    The signature is ``model.sig``, else the first other ``*.sig`` at the top level that is a
    Sigstore bundle (other ``.sig`` files, such as detached OpenPGP signatures, are not ours to read).
    Raises ValueError for an unusable trusted key and OSError for an unreadable file.
    """
    for entry in _candidates(manifest):
        if entry.size > MAX_BUNDLE_SIZE:
            if entry.path != SIGNATURE_NAME:
                continue
            return SignatureReport(
                SignatureStatus.INVALID, entry.path, f"{entry.size} bytes, more than a bundle ever needs"
            )
        bundle = (root / PurePosixPath(entry.path)).read_bytes()
        if entry.path == SIGNATURE_NAME or is_bundle(bundle):
            return check_signature(
                manifest, bundle, trusted_keys=trusted_keys, root=root, path=entry.path, jobs=jobs
            )
    return SignatureReport(SignatureStatus.ABSENT, None, f"the model ships no signature ({SIGNATURE_NAME})")


def _candidates(manifest: Manifest) -> Iterator[FileEntry]:
    named = manifest.get(SIGNATURE_NAME)
    if named is not None:
        yield named
    yield from (f for f in manifest.files if "/" not in f.path and f.path.endswith(".sig") and f is not named)
