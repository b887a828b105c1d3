"""What the worker sees of the host's filesystem: one plan, rendered by each isolation mechanism.

The worker gets a fresh root holding the system's libraries, the interpreter and its packages and
the model, all read-only at their host paths, and a private writable directory as ``/tmp``. Paths
that hold secrets, the user's home, the steward home (registry database and store) and the current
directory, are never mounted whole: a path that would expose one of them is skipped when it comes
from ``sys.path`` and refused when the caller named it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from modelsteward.runtime.sandbox._errors import SandboxUnavailable

_SYSTEM_DIRECTORIES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
"""What the dynamic loader and the time functions read from /etc; nothing else of it is needed."""


@dataclass(frozen=True, slots=True)
class ReadOnly:
    """A host path mounted read-only at the same path."""

    path: Path


@dataclass(frozen=True, slots=True)
class Symlink:
    """A symbolic link in the new root, as the host has it (``/lib -> usr/lib`` on merged-/usr systems)."""

    target: str
    path: Path


@dataclass(frozen=True, slots=True)
class PrivateTmp:
    """The worker's own writable directory, mounted as ``/tmp``; also its HOME."""

    source: Path


Mount = ReadOnly | Symlink | PrivateTmp

SANDBOX_TMP = "/tmp"  # noqa: S108 - inside the sandbox this is the worker's own directory
"""Where the private directory appears to the worker, and its HOME."""


@dataclass(frozen=True, slots=True)
class MountPlan:
    """The mounts in the order they must be made (a mount under ``/tmp`` comes after ``/tmp``)."""

    mounts: tuple[Mount, ...]


def protected_paths(environ: Mapping[str, str], cwd: Path) -> tuple[Path, ...]:
    """The paths a worker must never see whole: the user's home, the steward home and ``cwd``."""
    home = Path(environ.get("HOME") or Path.home())
    steward_home = Path(environ["STEWARD_HOME"]) if environ.get("STEWARD_HOME") else cwd / ".steward"
    return tuple(path.resolve() for path in (home, steward_home, cwd))


def plan_mounts(
    *, model_root: Path, python_path: Iterable[Path], private_tmp: Path, protected: Iterable[Path]
) -> MountPlan:
    """The mounts for a worker that runs this interpreter on ``model_root``.

    Raises SandboxUnavailable when ``model_root`` or an entry of ``python_path`` would expose a
    protected path (by being it or a directory above it).
    """
    guarded = tuple(protected)
    for path in (model_root, *python_path):
        exposed = _exposes(path.resolve(), guarded)
        if exposed is not None:
            raise SandboxUnavailable(f"refusing to mount {path} in the sandbox: it would expose {exposed}")
    interpreter = [Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)]
    interpreter.append(Path(sys.executable).resolve().parent)
    # sys.path also holds what the parent's tooling put there (the script's directory, the current
    # directory): entries that would expose a protected path are dropped, not mounted.
    imports = [Path(p) for p in sys.path if p and Path(p).exists()]
    wanted = [p.resolve() for p in (*interpreter, *imports)]
    wanted = [p for p in wanted if _exposes(p, guarded) is None]
    wanted += [p.resolve() for p in (*python_path, model_root)]
    mounts: list[Mount] = [*_system_mounts(), PrivateTmp(private_tmp)]
    mounts += [ReadOnly(p) for p in _outermost(wanted)]
    return MountPlan(tuple(mounts))


def _system_mounts() -> list[Mount]:
    mounts: list[Mount] = []
    for name in _SYSTEM_DIRECTORIES:
        path = Path(name)
        if path.is_symlink():
            mounts.append(Symlink(str(path.readlink()), path))
        elif path.is_dir():
            mounts.append(ReadOnly(path))
    mounts += [ReadOnly(Path(name)) for name in _SYSTEM_FILES if Path(name).exists()]
    return mounts


def _exposes(path: Path, protected: tuple[Path, ...]) -> Path | None:
    return next((p for p in protected if p == path or path in p.parents), None)


def _outermost(paths: list[Path]) -> list[Path]:
    """Each path once, dropping those inside another, in a stable order."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(k == path or k in path.parents for k in kept):
            kept.append(path)
    return kept
