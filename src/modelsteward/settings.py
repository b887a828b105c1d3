"""Where ModelSteward keeps its state, read once at the edge (CLI or server) and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    """The workspace: database, artifact store and the enterprise signing key."""

    home: Path
    """The workspace folder (``STEWARD_HOME``, default ``./.steward``)."""
    database_url: str
    """SQLAlchemy URL (``STEWARD_DATABASE_URL``); default SQLite at ``<home>/registry.db``."""
    jobs: int | None = None
    """Worker threads or processes for hashing and scanning; None means one per core."""

    @property
    def store(self) -> Path:
        """The content-addressed artifact store."""
        return self.home / "store"

    @property
    def signing_key(self) -> Path:
        """The enterprise private key (PEM, elliptic curve); made on first use if absent."""
        return self.home / "keys" / "signing-key.pem"

    @property
    def trusted_keys(self) -> tuple[Path, ...]:
        """Publishers' public keys (``<home>/keys/trusted/*.pem``) whose signatures count as verified."""
        return tuple(sorted((self.home / "keys" / "trusted").glob("*.pem")))

    @property
    def events(self) -> Path:
        """The prediction event store: Parquet files partitioned by model, version and day."""
        return self.home / "events"

    @property
    def reports(self) -> Path:
        """Where rendered reports, model cards and ML-BOMs are written for people to open."""
        return self.home / "reports"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
        """Settings from ``STEWARD_HOME`` and ``STEWARD_DATABASE_URL``, with the embedded defaults."""
        env = os.environ if env is None else env
        home = Path(env.get("STEWARD_HOME") or (cwd or Path.cwd()) / ".steward").absolute()
        url = env.get("STEWARD_DATABASE_URL") or f"sqlite:///{home / 'registry.db'}"
        return cls(home=home, database_url=url)
