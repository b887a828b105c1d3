"""Speed benchmark: steward's drift comparison against Evidently's default data-drift report.

The workload: 1,000,000 reference and 1,000,000 current rows of 20 columns (12 numeric of
different distributions, 8 categorical), generated with a seed, of which exactly 3 are shifted
(``num_income`` moved up by 0.19 of its standard deviation, ``num_latency`` 30% wider,
``cat_plan``'s shares moved). It is written once as Parquet under --data-dir.

Each tool runs in a subprocess of its own (steward in the repo venv, Evidently in its pinned venv
under benchmarks/.venvs/evidently/), reads the Parquet files into its own input format (an Arrow
table, a pandas DataFrame), and is timed on the comparison alone: ``compare`` for steward,
``Report([DataDriftPreset()]).run`` for Evidently. Peak memory is the child's own
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at exit: the whole process, data included. Prints
seconds, peak memory, the columns each flagged, and Evidently's time and memory as multiples of
steward's.

    .venv/bin/python benchmarks/drift_speed.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import _peers

DEFAULT_DATA = _peers.REPO_ROOT / "benchmarks" / ".cache" / "drift"
SHIFTED = ("num_income", "num_latency", "cat_plan")
EVIDENTLY = _peers.Tool(
    name="evidently",
    requirements=("evidently==0.7.23", "pandas<3"),
    command=lambda _b, _t, _r: [],  # run through this script's --child mode, not a CLI
    judge=lambda _i, _t: {},
    note="pandas<3: Evidently 0.7.23 imports a pandas helper that pandas 3 removed",
)
GOAL_RATIO = 20.0


@dataclass(frozen=True, slots=True)
class Run:
    """What one child process reported."""

    tool: str
    seconds: float
    """Wall-clock seconds of the comparison alone (best of the runs)."""
    load_seconds: float
    """Reading the Parquet files into the tool's input format."""
    peak_mib: float
    """The child's peak resident memory (ru_maxrss), data included."""
    flagged: tuple[str, ...]
    """Columns the tool called drifted."""


def make_data(folder: Path, rows: int, seed: int = 7) -> tuple[Path, Path]:
    """Write reference.parquet and current.parquet (if not there for this size) and return them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    reference, current = folder / f"reference-{rows}.parquet", folder / f"current-{rows}.parquet"
    if reference.is_file() and current.is_file():
        return reference, current
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for path, shifted in ((reference, False), (current, True)):
        pq.write_table(pa.table(_columns(rng, rows, shifted=shifted)), path)
    return reference, current


def _columns(rng: np.random.Generator, n: int, *, shifted: bool) -> dict[str, Any]:
    """Twenty columns; only the three in SHIFTED differ between the windows."""
    plan = [0.5, 0.3, 0.15, 0.05] if not shifted else [0.35, 0.3, 0.2, 0.15]
    mix = rng.random(n) < 0.3
    return {
        "num_income": rng.lognormal(10, 0.5, n) + (2500.0 if shifted else 0.0),  # sd about 13,300
        "num_latency": rng.normal(100, 15 * (1.3 if shifted else 1.0), n),
        "num_age": rng.normal(40, 12, n),
        "num_wait": rng.exponential(3.0, n),
        "num_ratio": rng.uniform(0, 1, n),
        "num_clicks": rng.poisson(4, n),
        "num_returns": rng.standard_t(4, n),
        "num_spend": rng.gamma(2.0, 50.0, n),
        "num_share": rng.beta(2, 5, n),
        "num_bimodal": np.where(mix, rng.normal(-2, 0.5, n), rng.normal(2, 0.5, n)),
        "num_items": rng.integers(0, 50, n),
        "num_score": rng.normal(0.6, 0.1, n).astype(np.float32),
        "cat_plan": rng.choice(np.array(["free", "basic", "pro", "team"]), n, p=plan),
        "cat_country": rng.choice(np.array([f"c{i:02d}" for i in range(30)]), n),
        "cat_device": rng.choice(np.array(["ios", "android", "web"]), n, p=[0.4, 0.4, 0.2]),
        "cat_channel": rng.choice(np.array(["ads", "search", "direct", "email", "social"]), n),
        "cat_tier": rng.choice(np.array(["a", "b"]), n, p=[0.9, 0.1]),
        "cat_region": rng.choice(np.array(["north", "south", "east", "west"]), n),
        "cat_language": rng.choice(np.array(["en", "fr", "de", "es", "it", "nl"]), n),
        "cat_weekday": rng.choice(np.array(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), n),
    }


# --- the children: one tool each, timed inside its own process --------------------------------


def _steward(reference: Path, current: Path, runs: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from modelsteward.monitoring._drift import compare

    start = time.perf_counter()
    ref, cur = pq.read_table(reference), pq.read_table(current)
    loaded = time.perf_counter() - start
    best, report = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        report = compare(ref, cur)
        best = min(best, time.perf_counter() - start)
    assert report is not None
    return {"load": loaded, "seconds": best, "flagged": [c.column for c in report.columns if c.drifted]}


def _evidently(reference: Path, current: Path, runs: int) -> dict[str, Any]:
    pandas = importlib.import_module("pandas")
    evidently = importlib.import_module("evidently")
    presets = importlib.import_module("evidently.presets")
    start = time.perf_counter()
    ref, cur = pandas.read_parquet(reference), pandas.read_parquet(current)
    loaded = time.perf_counter() - start
    best, snapshot = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        snapshot = evidently.Report([presets.DataDriftPreset()]).run(current_data=cur, reference_data=ref)
        best = min(best, time.perf_counter() - start)
    assert snapshot is not None
    return {"load": loaded, "seconds": best, "flagged": _evidently_flagged(snapshot.dict())}


def _evidently_flagged(document: dict[str, Any]) -> list[str]:
    """Columns whose ``ValueDrift`` metric crossed its method's threshold: a p-value under it, or
    a distance at or over it (Evidently's own rule, as its drift-count metric applies it).
    """
    flagged = []
    for metric in document.get("metrics", []):
        config = metric.get("config", {})
        if config.get("type", "").rsplit(":", 1)[-1] != "ValueDrift":
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        method = str(config.get("method", ""))
        p_value = "p_value" in method  # e.g. "K-S p_value", "chi-square p_value"
        if (value < threshold) if p_value else (value >= threshold):
            flagged.append(str(config["column"]))
    return flagged


def child(tool: str, reference: Path, current: Path, runs: int) -> None:
    """Run one tool and print its figures as JSON on the last line of stdout."""
    result = (_steward if tool == "steward" else _evidently)(reference, current, runs)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(result))


def measure(tool: str, python: Path, reference: Path, current: Path, runs: int) -> Run:
    """Start ``python`` on this script in child mode for ``tool`` and read back its figures."""
    argv = [str(python), __file__, "--child", tool, "--reference", str(reference), "--current", str(current)]
    done = subprocess.run([*argv, "--runs", str(runs)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(tool, figures["seconds"], figures["load"], figures["peak_mib"], tuple(figures["flagged"]))


def main(argv: list[str] | None = None) -> int:
    """Build the workload, run both tools, print the comparison; exit 1 if a goal is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool; the best counts")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache-dir", type=Path, default=_peers.DEFAULT_CACHE)
    parser.add_argument("--child", choices=("steward", "evidently"), help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--current", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.reference, args.current, args.runs)
        return 0

    reference, current = make_data(args.data_dir, args.rows)
    evidently_bin = _peers.install(EVIDENTLY, args.cache_dir)
    print(f"workload: {args.rows:,} reference + {args.rows:,} current rows x 20 columns")
    print(f"shifted: {', '.join(SHIFTED)}; best of {args.runs} timed run(s) per tool")
    print(f"evidently {_peers.version(EVIDENTLY, evidently_bin)}: Report([DataDriftPreset()])")
    runs = [
        measure("steward", Path(sys.executable), reference, current, args.runs),
        measure("evidently", evidently_bin / "python", reference, current, args.runs),
    ]
    print(f"\n{'tool':<10} {'seconds':>9} {'load s':>8} {'peak MiB':>9}  flagged")
    for run in runs:
        flagged = ", ".join(run.flagged) or "-"
        print(f"{run.tool:<10} {run.seconds:>9.2f} {run.load_seconds:>8.2f} {run.peak_mib:>9.0f}  {flagged}")
    steward, peer = runs
    speed, memory = peer.seconds / steward.seconds, peer.peak_mib / steward.peak_mib
    print(f"\nevidently / steward: {speed:.1f}x the time, {memory:.2f}x the peak memory")
    goals = {
        f"at least {GOAL_RATIO:g}x faster": speed >= GOAL_RATIO,
        "less memory": memory > 1,
        "exactly the shifted columns flagged": set(steward.flagged) == set(SHIFTED),
    }
    for goal, met in goals.items():
        print(f"{'met' if met else 'MISSED'}: {goal}")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
