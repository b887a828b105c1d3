"""From a registry reference to what a worker loads: resolve the version, verify its stored files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.gate import verify
from modelsteward.runtime.sandbox import SandboxConfig
from modelsteward.runtime.serving._pool import ModelSpec, ServingError
from modelsteward.settings import Settings
from modelsteward.store import StoreError

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Deployment:
    """A verified version, ready to be loaded into a :class:`SandboxedModel`."""

    model: str
    """The registered model's name."""
    version: int
    """The version's number (an alias resolved)."""
    spec: ModelSpec
    """The verified files and how to load them."""


class RefusedToServe(ServingError):  # noqa: N818 - names the outcome, as the CLI reports it
    """The version's stored files differ from its registered manifest, or its signature fails."""


def prepare(
    ref: str,
    *,
    settings: Settings,
    sandbox: SandboxConfig,
    adapter: str | None = None,
    adapter_options: Mapping[str, Any] | None = None,
) -> Deployment:
    """Resolve version ``ref`` (``NAME@ALIAS`` or ``NAME@VERSION``) and verify it for serving.

    The stored copy is hashed against the registered manifest and its enterprise signature checked first;
    any difference, or a file the store no longer holds, raises :class:`RefusedToServe` naming the files.
    Raises ``RegistryError`` for an unknown reference. The check is made here, once: a worker restarted
    later loads the same folder without hashing it again.
    """
    try:
        checked = verify(ref, settings=settings)
    except StoreError as error:
        raise RefusedToServe(f"{ref}: {error}; refusing to serve it") from None
    version = checked.version
    label = f"{version.name}@{version.number}"
    if not checked.ok:
        problems = [
            f"{kind} {_listed(paths)}"
            for kind, paths in (
                ("changed", checked.diff.changed),
                ("missing", checked.diff.missing),
                ("extra", checked.diff.extra),
            )
            if paths
        ]
        if not checked.signature:
            problems.append("the enterprise signature over its manifest does not verify")
        raise RefusedToServe(
            f"{label}: the stored files do not match the registered manifest ({'; '.join(problems)}); "
            "refusing to serve it"
        )
    return Deployment(
        version.name, version.number, ModelSpec(checked.path, sandbox, adapter, adapter_options)
    )


def _listed(paths: tuple[str, ...]) -> str:
    shown = ", ".join(paths[:_SHOWN])
    return shown + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")
