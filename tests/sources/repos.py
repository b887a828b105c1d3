"""Real git repositories built in a test's temporary folder, away from the user's git configuration.

Other test folders may use them too, for example to back :func:`tests.sources.hub_server.hub_server`::

    repo = GitRepo.create(tmp_path / "model", {"config.json": b"{}"})
    first = repo.commit("first")
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Only what these tests configure counts: no global or system configuration (signing, hooks, templates).
_ISOLATED = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
_IDENTITY = ("-c", "user.name=Steward Tests", "-c", "user.email=tests@example.invalid")


def git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without git's repository variables, isolated."""
    base = os.environ if base is None else base
    return {k: v for k, v in base.items() if not k.startswith("GIT_")} | _ISOLATED


@dataclass(frozen=True, slots=True)
class GitRepo:
    """A work tree with its repository; every method runs git in it."""

    path: Path

    @classmethod
    def create(cls, path: Path, files: Mapping[str, bytes] | None = None, *, bare: bool = False) -> GitRepo:
        """``git init`` at ``path`` with branch ``main``, then write ``files`` (not yet committed)."""
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "--quiet", "--initial-branch=main", *(["--bare"] if bare else []))
        repo.write(files or {})
        return repo

    def git(self, *args: str) -> str:
        """Run git here and return what it printed."""
        done = subprocess.run(
            ["git", *_IDENTITY, *args], cwd=self.path, env=git_env(), capture_output=True, check=False
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr.decode()}"
        return done.stdout.decode().strip()

    def write(self, files: Mapping[str, bytes]) -> None:
        """Write ``files`` (relative path -> bytes) into the work tree."""
        for name, data in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def commit(self, message: str, files: Mapping[str, bytes] | None = None) -> str:
        """Write ``files``, stage everything and commit; the new commit's id."""
        self.write(files or {})
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "--message", message)
        return self.git("rev-parse", "HEAD")
