"""A small real model folder, key pairs, and the store that snapshots it as the gate does."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from model_signing import hashing, signing, verifying
from safetensors.numpy import save_file

from modelsteward.checks.integrity import ensure_key_pair
from modelsteward.core import Manifest, Snapshot
from modelsteward.store import ArtifactStore

SHARD = 4096
"""Small enough that the weights file spans several shards."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    private: Path
    public: Path


def model_files(folder: Path) -> list[str]:
    """Every file under ``folder``, relative and sorted, as a source lists them."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A BERT-like folder: safetensors weights over several shards, configs, a card, git metadata."""
    folder = tmp_path / "model"
    (folder / "tokenizer").mkdir(parents=True)
    rng = np.random.default_rng(7)
    save_file(
        {"embeddings.weight": rng.standard_normal((48, 64), dtype=np.float32)},
        str(folder / "model.safetensors"),
    )
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 64}))
    (folder / "tokenizer" / "vocab.txt").write_text("\n".join(f"token{i}" for i in range(200)))
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny-bert\n")
    (folder / ".gitattributes").write_text("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
    (folder / "empty.txt").write_bytes(b"")
    assert (folder / "model.safetensors").stat().st_size > 2 * SHARD
    return folder


@pytest.fixture
def keys(tmp_path: Path) -> KeyPair:
    """The enterprise key pair, made as the gate makes it."""
    private = tmp_path / "keys" / "signing-key.pem"
    return KeyPair(private=private, public=ensure_key_pair(private))


@pytest.fixture
def other_keys(tmp_path: Path) -> KeyPair:
    """A second, unrelated key pair."""
    private = tmp_path / "other-keys" / "key.pem"
    return KeyPair(private=private, public=ensure_key_pair(private))


Admit = Callable[..., Snapshot]


@pytest.fixture
def admit(tmp_path: Path) -> Admit:
    """Copy a folder into a store and return the snapshot the checks read (``shard_size`` optional)."""
    store = ArtifactStore(tmp_path / "store")

    def run(folder: Path, *, shard_size: int = SHARD) -> Snapshot:
        manifest: Manifest = store.ingest(folder, model_files(folder), shard_size=shard_size)
        return Snapshot(root=store.materialize(manifest), manifest=manifest, source=str(folder))

    return run


def library_hashing() -> hashing.Config:
    """model_signing's hashing configuration, at its defaults (whole files, SHA-256)."""
    return hashing.Config()  # type: ignore[no-untyped-call]


def library_signing() -> signing.Config:
    """model_signing's signing configuration, to be given a signer."""
    return signing.Config()  # type: ignore[no-untyped-call]


def library_verifying() -> verifying.Config:
    """model_signing's verifying configuration, to be given a verifier."""
    return verifying.Config()  # type: ignore[no-untyped-call]


def sign_with_library(
    folder: Path, private_key: Path, *, hashing_config: hashing.Config | None = None, name: str = "model.sig"
) -> Path:
    """Sign ``folder`` in place as ``model_signing sign key`` does: the signature file left out."""
    config = hashing_config or library_hashing()
    config.set_ignored_paths(paths=[name])
    signature = folder / name
    library_signing().use_elliptic_key_signer(private_key=private_key).set_hashing_config(config).sign(
        folder, signature
    )
    return signature


def tamper(folder: Path, changes: Sequence[str]) -> None:
    """``change:PATH`` flips a byte, ``remove:PATH`` deletes, ``add:PATH`` creates a file."""
    for change in changes:
        action, path = change.split(":", 1)
        target = folder / path
        if action == "change":
            data = bytearray(target.read_bytes())
            data[len(data) // 2] ^= 0xFF
            target.write_bytes(bytes(data))
        elif action == "remove":
            target.unlink()
        else:
            target.write_bytes(os.urandom(10))
