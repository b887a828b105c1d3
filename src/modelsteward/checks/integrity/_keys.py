"""Elliptic-curve key pairs in PEM files: the enterprise signing key and the keys it trusts."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# The curves model_signing accepts (those of the Sigstore specifications).
_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def ensure_key_pair(private_key: Path) -> Path:
    """Make a P-256 key pair at ``private_key`` (mode 0600) unless one is there; return the public key's
    path, ``private_key`` with the suffix ``.pub`` (PEM), written from the private key if missing or stale.

    Raises ValueError if an existing file is not a PEM elliptic-curve private key.
    """
    if not private_key.exists():
        private_key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temp = private_key.with_name(f".{private_key.name}.{os.getpid()}-{secrets.token_hex(8)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
        finally:
            os.close(fd)
        try:
            # A link publishes the complete file at once, and fails if another process was first.
            os.link(temp, private_key)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    public_key = private_key.with_suffix(".pub")
    pem = (
        load_private_key(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    if not public_key.exists() or public_key.read_bytes() != pem:
        temp = public_key.with_name(f".{public_key.name}.{os.getpid()}-{secrets.token_hex(8)}")
        temp.write_bytes(pem)
        temp.replace(public_key)
    return public_key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """The elliptic-curve public key in the PEM file ``path``; ValueError naming the file otherwise."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise ValueError(f"{path}: cannot read the public key: {error.strerror}") from None
    except ValueError:
        raise ValueError(f"{path}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise ValueError(f"{path}: not an elliptic-curve public key on {', '.join(_CURVES)}")
    return key


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """How model_signing names a key in a bundle: the SHA-256 of its PEM form, in hex."""
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The elliptic-curve private key in the PEM file ``path``; ValueError naming the file otherwise."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the private key: {error.strerror}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in _CURVES:
        raise ValueError(f"{path}: not an elliptic-curve private key on {', '.join(_CURVES)}")
    return key
