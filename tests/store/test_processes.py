"""The store across processes: a writer killed mid-ingest, and two writers storing the same content."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from modelsteward.core import Manifest
from modelsteward.store import ArtifactStore, hash_tree

SHARD = 1 << 20

# Stores a 64 MiB file over and over, changing its first bytes each time, until killed: at any
# moment one ingest is (almost always) half-way through copying into tmp/.
_ENDLESS_INGEST = textwrap.dedent(
    """
    import itertools, sys
    from pathlib import Path
    from modelsteward.store import ArtifactStore

    store, source = ArtifactStore(Path(sys.argv[1])), Path(sys.argv[2])
    for round in itertools.count():
        with (source / "big.bin").open("r+b") as handle:
            handle.write(round.to_bytes(8, "little"))
        store.ingest(source, ["big.bin"], jobs=2, shard_size=int(sys.argv[3]))
    """
)

# Waits for the go file, then stores every file of the folder and prints the manifest.
_INGEST_ON_SIGNAL = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from modelsteward.store import ArtifactStore

    store, source, go = ArtifactStore(Path(sys.argv[1])), Path(sys.argv[2]), Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.001)
    files = sorted(p.name for p in source.iterdir())
    print(json.dumps(store.ingest(source, files, jobs=2, shard_size=int(sys.argv[4])).to_json()))
    """
)


def _python(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _kill_mid_write(store: ArtifactStore, source: Path) -> tuple[int, list[str]]:
    """Start the endless writer and SIGKILL it while it writes a temp file, after a first blob is stored;
    return its pid and what it left in tmp/. Tries again in the rare case the kill fell between rounds."""
    blobs = store.root / "blobs" / "sha256"
    for _ in range(5):
        writer = _python(_ENDLESS_INGEST, store.root, source, SHARD)
        deadline = time.monotonic() + 120
        while not (_names(store.root / "tmp") and any(blobs.rglob("*/*"))):
            assert writer.poll() is None, writer.communicate()[1]
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.001)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        left = _names(store.root / "tmp")
        if left:
            return writer.pid, left
    raise AssertionError("five kills in a row missed the writer's temp files")


def test_a_writer_killed_mid_ingest_leaves_no_partial_blob(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    with (source / "big.bin").open("wb") as handle:
        handle.truncate(64 << 20)
    store = ArtifactStore(tmp_path / "store")
    pid, left = _kill_mid_write(store, source)
    assert all(name.startswith(f"{pid}-") for name in left)

    reopened = ArtifactStore(store.root)
    assert _names(reopened.root / "tmp") == []
    stored = [p for p in (store.root / "blobs").rglob("*/*/*") if p.is_file()]
    assert stored
    for blob in stored:
        (entry,) = hash_tree(blob.parent, [blob.name], shard_size=SHARD).files
        assert (entry.sha256, entry.size) == (blob.name, 64 << 20)


def test_two_processes_storing_the_same_content_both_succeed(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for index in range(12):
        (source / f"part-{index:02d}.bin").write_bytes(os.urandom(3 * SHARD + index))
    store = ArtifactStore(tmp_path / "store")
    go = tmp_path / "go"
    writers = [_python(_INGEST_ON_SIGNAL, store.root, source, go, SHARD) for _ in range(2)]
    go.touch()
    outputs = [writer.communicate(timeout=120) for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], [err for _, err in outputs]
    manifests = [Manifest.from_json(json.loads(out)) for out, _ in outputs]
    expected = hash_tree(source, sorted(p.name for p in source.iterdir()), shard_size=SHARD)
    assert manifests == [expected, expected]
    assert all(store.read(e.digest) == (source / e.path).read_bytes() for e in expected.files)
    assert _names(store.root / "tmp") == []
