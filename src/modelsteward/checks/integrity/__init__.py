"""Integrity: manifests compared, and OpenSSF model signatures made and checked offline.

:func:`run` is the check of the gate. :func:`compare` tells how two manifests differ;
:func:`sign` signs a manifest in the ``model_signing`` format without reading the files, and
:func:`verify` / :func:`check_signature` check such a signature; :func:`upstream_signature`
checks the one a publisher ships as ``model.sig``.
"""

from modelsteward.checks.integrity._check import run
from modelsteward.checks.integrity._keys import ensure_key_pair
from modelsteward.checks.integrity._signature import (
    SignatureReport,
    SignatureStatus,
    check_signature,
    sign,
    verify,
)
from modelsteward.checks.integrity._upstream import upstream_signature
from modelsteward.core.manifest import ManifestDiff, compare

__all__ = [
    "ManifestDiff",
    "SignatureReport",
    "SignatureStatus",
    "check_signature",
    "compare",
    "ensure_key_pair",
    "run",
    "sign",
    "upstream_signature",
    "verify",
]
