"""The gate across processes: concurrent admits lose nothing, a killed admit leaves nothing half-done."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from modelsteward.registry import Registry
from modelsteward.settings import Settings
from modelsteward.store import ArtifactStore
from tests.gate.test_admit import model_folder

REPO = Path(__file__).resolve().parents[2]


def steward(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STEWARD_HOME": str(settings.home), "STEWARD_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "modelsteward", *args]
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


def test_concurrent_admits_lose_nothing(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url)
    same = model_folder(tmp_path / "same")
    others = [model_folder(tmp_path / f"other{i}", weights=bytes([i + 1]) * 64) for i in range(2)]
    sources = [same, same, *others]
    runs = [
        steward(settings, "admit", str(source), "--name", "tiny", "--quiet", "--json") for source in sources
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    with Registry.open(database_url) as registry:
        versions = [registry.get(f"tiny@{n}") for n in range(1, 4)]
        assert registry.verify_audit().ok
        assert registry.list_models()[0].versions == 3
    assert len({v.manifest_digest for v in versions}) == 3


def test_a_killed_admit_leaves_no_version_and_no_half_written_blob(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url)
    big = model_folder(tmp_path / "big", weights=os.urandom(96 << 20))
    process = steward(settings, "admit", str(big), "--name", "big", "--quiet")
    temp = settings.store / "tmp"
    deadline = time.monotonic() + 60
    # Kill it while it copies: as soon as a temporary blob exists.
    while time.monotonic() < deadline and not (temp.is_dir() and any(temp.iterdir())):
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with Registry.open(database_url) as registry:
        assert registry.list_models() == []
    ArtifactStore(settings.store)  # opening the store sweeps what the dead process left
    assert not any(temp.iterdir())
    # Whatever became a blob is whole: its name is its content's digest.
    for blob in (settings.store / "blobs").rglob("*"):
        if blob.is_file():
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    again = steward(settings, "admit", str(big), "--name", "big", "--quiet")
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr.decode()
    with Registry.open(database_url) as registry:
        assert registry.get("big@1").manifest.size == sum(f.stat().st_size for f in big.iterdir())
