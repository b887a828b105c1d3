"""Sample content for registry tests, shared by the fixtures and the worker processes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from modelsteward.core import FileEntry, Manifest, Verdict
from modelsteward.registry import Description, Registration, Registry


def manifest_of(*contents: bytes, shard_size: int = 1 << 20) -> Manifest:
    """The manifest of files ``f0.bin``, ``f1.bin``, ... holding ``contents``."""
    files = tuple(
        FileEntry(f"f{i}.bin", len(data), hashlib.sha256(data).hexdigest()) for i, data in enumerate(contents)
    )
    return Manifest(files=files, shard_size=shard_size)


def digest_of(data: bytes) -> str:
    """The artifact store address of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fixed(record: Mapping[str, Any], documents: Mapping[str, str]) -> Callable[[int], Description]:
    """A ``describe`` for :meth:`Registry.register` that ignores the version number."""
    return lambda _number: Description(record=record, documents=documents)


def admission_record(verdict: Verdict, licenses: tuple[str, ...]) -> dict[str, object]:
    """A record shaped like the admission JSON the gate stores."""
    license_data = {"ids": list(licenses), "class": "permissive"}
    return {
        "decision": {"verdict": verdict.value, "reasons": []},
        "checks": [{"check": "license", "status": "pass", "data": license_data}],
    }


def register_sample(
    registry: Registry,
    name: str,
    *contents: bytes,
    verdict: Verdict = Verdict.APPROVE,
    licenses: tuple[str, ...] = ("apache-2.0",),
    derived_from: str | None = None,
    actor: str = "alice",
) -> Registration:
    """Register files holding ``contents`` as a version of ``name``."""
    return registry.register(
        name=name,
        manifest=manifest_of(*contents),
        source=f"hf://org/{name}@main",
        revision="0123456789abcdef0123456789abcdef01234567",
        verdict=verdict,
        describe=fixed(
            admission_record(verdict, licenses), {"report": digest_of(b"report of " + b"".join(contents))}
        ),
        derived_from=derived_from,
        actor=actor,
    )
