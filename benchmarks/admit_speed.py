"""Speed of ``steward admit`` on a model directory of --gib GiB (default 2), against what bounds it.

From one run, over the same bytes with the page cache warm (every timing reads from memory):
  raw parallel SHA-256   hashlib over every file, one thread per core: the limit here
  sha256sum              coreutils, one file after another
  model_signing sign     the OpenSSF model-signing CLI signing the directory with a key
  steward admit          fetch (local), copy into a fresh artifact store while hashing, every check,
                         the decision, documents, the enterprise signature and registration (SQLite)

The workload mimics a sharded checkpoint: four safetensors shards plus config, tokenizer and card.
Each timing is the best of --runs, each run after `sync` so that no earlier write is still being
flushed to disk while it runs. Prints the seconds, admit's ratio to the raw parallel pass and to
model_signing, and whether the goals hold (admit within 1.5x raw, faster than model_signing).

    .venv/bin/python benchmarks/admit_speed.py [--gib 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from modelsteward.gate import admit
from modelsteward.policy import default_policy
from modelsteward.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "benchmarks" / ".cache"
SHARDS = 4
_CHUNK = 8 << 20
ADMIT_GOAL = 1.5


def build(folder: Path, gib: float) -> None:
    """Write the workload: SHARDS safetensors files of random float32 and the small files beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    per_shard = int(gib * (1 << 30)) // SHARDS // 4 * 4
    for index in range(SHARDS):
        header = json.dumps(
            {
                f"layer.{index}.weight": {
                    "dtype": "F32",
                    "shape": [per_shard // 4],
                    "data_offsets": [0, per_shard],
                }
            }
        ).encode()
        header += b" " * (-len(header) % 8)
        with (folder / f"model-{index + 1:05d}-of-{SHARDS:05d}.safetensors").open("wb") as out:
            out.write(struct.pack("<Q", len(header)) + header)
            for start in range(0, per_shard, _CHUNK):
                out.write(os.urandom(min(_CHUNK, per_shard - start)))
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 4096}))
    (folder / "tokenizer.json").write_text(
        json.dumps({"model": {"vocab": {f"t{i}": i for i in range(50_000)}}})
    )
    (folder / "README.md").write_text(
        "---\nlicense: apache-2.0\n---\n# bench\n\n## Intended uses\n\nBenchmarks.\n"
    )


def raw_parallel(files: list[Path]) -> None:
    """SHA-256 of every file, one thread per core: hashlib releases the GIL on large updates."""

    def digest(path: Path) -> str:
        hasher = hashlib.sha256()
        with path.open("rb", buffering=0) as handle:
            while chunk := handle.read(_CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(digest, files))


def best(runs: int, task: Callable[[], object], setup: Callable[[], None] = lambda: None) -> float:
    times = []
    for _ in range(runs):
        setup()
        # The previous run's written files go to disk first, not in the background of this one.
        os.sync()
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    folder = args.data_dir / f"admit-{args.gib:g}gib"
    if not (folder / "README.md").exists():
        print(f"building {folder} ...", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
        build(folder, args.gib)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    raw_parallel(files)  # warm the page cache for everyone
    bin_dir = Path(sys.executable).parent
    work = Path(tempfile.mkdtemp(prefix="admit-bench-", dir=args.data_dir))
    key = work / "key.pem"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)], check=True
    )
    home = work / "home"

    def fresh_home() -> None:
        shutil.rmtree(home, ignore_errors=True)

    def steward() -> None:
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'registry.db'}")
        admit(str(folder), name="bench", policy=default_policy(), settings=settings, actor="bench")

    timings = {
        "raw parallel SHA-256": best(args.runs, lambda: raw_parallel(files)),
        "sha256sum": best(
            args.runs,
            lambda: subprocess.run(["sha256sum", *map(str, files)], check=True, capture_output=True),
        ),
        "model_signing sign": best(
            args.runs,
            lambda: subprocess.run(
                [
                    str(bin_dir / "model_signing"),
                    "sign",
                    "key",
                    "--private_key",
                    str(key),
                    "--signature",
                    str(work / "model.sig"),
                    str(folder),
                ],
                check=True,
                capture_output=True,
            ),
        ),
        "steward admit": best(args.runs, steward, setup=fresh_home),
    }
    shutil.rmtree(work, ignore_errors=True)
    raw = timings["raw parallel SHA-256"]
    print(f"{total / (1 << 30):.2f} GiB in {len(files)} files, {os.cpu_count()} cores, best of {args.runs}")
    for name, seconds in timings.items():
        speed = total / seconds / (1 << 30)
        print(f"  {name:<22} {seconds:7.2f} s  {speed:6.2f} GiB/s  {seconds / raw:5.2f}x raw")
    ratio = timings["steward admit"] / raw
    versus = timings["model_signing sign"] / timings["steward admit"]
    print(f"steward admit: {ratio:.2f}x the raw parallel pass (goal <= {ADMIT_GOAL}x), "
          f"model_signing sign takes {versus:.2f}x as long as admit (goal > 1x)")  # fmt: skip
    return 0 if ratio <= ADMIT_GOAL and versus > 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
