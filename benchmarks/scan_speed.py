"""Speed benchmark: ``steward scan`` against picklescan and ModelAudit on three workloads.

Workloads (built once, cached under --data-dir):
  safetensors   one safetensors file of --gib GiB (default 2) holding 8 float32 tensors
  torch-zip     a torch.save checkpoint (zip) of --gib/2 GiB of tensors
  small-files   2,000 small files: pickles, JSON configs, text and tiny safetensors

Every tool runs as a subprocess of its CLI; after one warm-up round (so the page cache is warm
for everyone) each is timed --runs times and the best time counts. Prints seconds per tool and
workload, each peer's time as a multiple of steward's, and whether steward is faster than every
peer on every workload and under 2 s on the small files.

    .venv/bin/python benchmarks/scan_speed.py [--gib 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import re
import shutil
import struct
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import _peers
from _peers import Invocation, Tool

DEFAULT_DATA = _peers.REPO_ROOT / "benchmarks" / ".cache"
SMALL_FILES = 2000
SMALL_FILES_LIMIT_S = 2.0
TOOLS = (_peers.STEWARD, _peers.PICKLESCAN, _peers.MODELAUDIT)
_CHUNK = 16 << 20


@dataclass(frozen=True, slots=True)
class Workload:
    """Something to scan, and how to make it."""

    name: str
    folder: Path
    target: Path
    """What the tools are pointed at: a file inside ``folder``, or ``folder`` itself."""
    nbytes: int
    """About how much disk it takes."""
    build: Callable[[Path], None]
    """Writes the workload into the (empty) folder it is given."""


@dataclass(frozen=True, slots=True)
class Timing:
    """The best of a tool's timed runs on one workload."""

    seconds: float | None
    """None when a run timed out or failed to start."""
    status: str
    """Exit status and what the tool says it scanned, from the best run."""


def write_safetensors(path: Path, nbytes: int, tensors: int = 8) -> None:
    """A valid safetensors file of about ``nbytes``: ``tensors`` float32 matrices of pseudo-random bytes."""
    cols = 4096
    rows = max(1, nbytes // tensors // (4 * cols))
    size = rows * cols * 4
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    for i in range(tensors):
        header[f"model.layers.{i}.weight"] = {
            "dtype": "F32",
            "shape": [rows, cols],
            "data_offsets": [i * size, (i + 1) * size],
        }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format aligns the data section to 8 bytes
    block = _noise(_CHUNK)
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)) + encoded)
        left = size * tensors
        while left:
            step = min(left, len(block))
            handle.write(block[:step])
            left -= step


def write_torch_zip(path: Path, nbytes: int, tensors: int = 8) -> None:
    """A ``torch.save`` state dict (zip format) of ``tensors`` float32 tensors, about ``nbytes`` in all."""
    import torch

    rows = max(1, nbytes // tensors // (4 * 4096))
    state = OrderedDict(
        (f"encoder.layer.{i}.weight", torch.full((rows, 4096), float(i))) for i in range(tensors)
    )
    torch.save(state, path)


def write_small_files(folder: Path, count: int = SMALL_FILES) -> None:
    """``count`` small files in 20 folders: a quarter each of pickles, JSON, text and tiny safetensors."""
    for i in range(count):
        sub = folder / f"part-{i % 20:02d}"
        sub.mkdir(exist_ok=True)
        kind = i // 20 % 4
        if kind == 0:
            # A plain-data pickle, as a tokenizer or sklearn preprocessing file would hold.
            state = OrderedDict((f"w{j}", [float(j)] * 8) for j in range(16))
            (sub / f"state-{i}.pkl").write_bytes(pickle.dumps(state, protocol=4))
        elif kind == 1:
            config = {
                "architectures": ["BertModel"],
                "hidden_size": 768,
                "layers": i % 24,
                "vocab_size": 30522,
            }
            (sub / f"config-{i}.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        elif kind == 2:
            (sub / f"README-{i}.md").write_text(
                f"# Model card {i}\n\nA small model.\n" * 20, encoding="utf-8"
            )
        else:
            write_safetensors(sub / f"adapter-{i}.safetensors", 4096, tensors=2)


def _noise(nbytes: int) -> bytes:
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, nbytes, dtype=np.uint8).tobytes()


def workloads(data: Path, gib: float) -> list[Workload]:
    """The three workloads for a safetensors file of ``gib`` GiB (the torch checkpoint is half that)."""
    big = int(gib * (1 << 30))
    tag = f"{gib:g}GiB"
    st = data / f"safetensors-{tag}"
    pt = data / f"torch-zip-{tag}"
    small = data / f"small-files-{SMALL_FILES}"
    return [
        Workload(
            f"safetensors {tag}",
            st,
            st / "model.safetensors",
            big,
            lambda f: write_safetensors(f / "model.safetensors", big),
        ),
        Workload(
            f"torch zip {gib / 2:g}GiB",
            pt,
            pt / "pytorch_model.bin",
            big // 2,
            lambda f: write_torch_zip(f / "pytorch_model.bin", big // 2),
        ),
        Workload(f"{SMALL_FILES} small files", small, small, 16 << 20, write_small_files),
    ]


def ensure(workload: Workload) -> None:
    """Build ``workload`` unless a complete build is cached; check free disk first."""
    marker = workload.folder.with_name(workload.folder.name + ".complete")  # outside: it is not scanned
    if marker.is_file() and workload.folder.is_dir():
        return
    if workload.folder.exists():
        shutil.rmtree(workload.folder)
    workload.folder.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(workload.folder.parent).free
    if free < workload.nbytes + (1 << 30):
        needs = f"{workload.name} needs {workload.nbytes >> 20} MiB + 1 GiB"
        raise OSError(f"{workload.folder.parent}: {free >> 20} MiB free, {needs}")
    print(f"building {workload.name} in {workload.folder} ...", file=sys.stderr)
    workload.folder.mkdir()
    workload.build(workload.folder)
    marker.write_text("", encoding="utf-8")


def time_tool(tool: Tool, bindir: Path, target: Path, *, runs: int, timeout: float, slow: float) -> Timing:
    """One warm-up, then the best of ``runs`` timed runs.

    A tool whose warm-up takes over ``slow`` seconds is timed by that run alone: at that length
    the page cache (already warmed by the tools before it) and interpreter start-up no longer
    matter, and repeating it would only make the benchmark take minutes longer.
    """
    warm = _peers.invoke(tool, bindir, target, timeout=timeout)
    if warm.returncode is None:
        return Timing(None, f"timed out after {timeout:g} s")
    if warm.seconds > slow:
        return Timing(
            warm.seconds, f"exit {warm.returncode}, {_scanned(tool, warm)}; 1 run (over {slow:g} s)"
        )
    best = min((_peers.invoke(tool, bindir, target, timeout=timeout) for _ in range(runs)), key=_sort_key)
    if best.returncode is None:
        return Timing(None, f"timed out after {timeout:g} s")
    return Timing(best.seconds, f"exit {best.returncode}, {_scanned(tool, best)}")


def _sort_key(invocation: Invocation) -> float:
    # A timed-out run sorts first so that a single timeout is never hidden by a faster run.
    return -1.0 if invocation.returncode is None else invocation.seconds


def _scanned(tool: Tool, invocation: Invocation) -> str:
    """What the tool says it covered, so a tool that skips a file is not mistaken for a fast one."""
    if tool is _peers.PICKLESCAN:
        found = re.search(r"Scanned files: (\d+)", invocation.output)
        return f"{found.group(1) if found else '?'} files scanned"
    document = _peers.read_json(invocation.report)
    if not isinstance(document, dict):
        return "no report"
    if tool is _peers.MODELAUDIT:
        return f"{document.get('files_scanned', '?')} files scanned"
    summary = document.get("summary", {})
    return f"{summary.get('scanned', '?')} files scanned, {summary.get('incomplete', '?')} incomplete"


def render(names: Sequence[str], table: dict[str, dict[str, Timing]]) -> str:
    """Seconds per tool and workload, peer/steward ratios, and the goal lines."""
    header = ("workload", "tool", "seconds", "x steward", "status")
    rows = [header]
    for workload in names:
        base = table[workload]["steward"].seconds
        for tool, timing in table[workload].items():
            ratio = "-" if timing.seconds is None or not base else f"{timing.seconds / base:.1f}"
            secs = "-" if timing.seconds is None else f"{timing.seconds:.2f}"
            rows.append((workload, tool, secs, ratio, timing.status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    verdicts = []
    for workload in names:
        base = table[workload]["steward"].seconds
        for tool, timing in table[workload].items():
            if tool == "steward":
                continue
            ok = base is not None and (timing.seconds is None or base < timing.seconds)
            verdicts.append(ok)
            lines.append(f"{'PASS' if ok else 'FAIL'}  {workload}: steward faster than {tool}")
    small = table[names[-1]]["steward"].seconds
    ok = small is not None and small < SMALL_FILES_LIMIT_S
    verdicts.append(ok)
    lines.append(f"{'PASS' if ok else 'FAIL'}  {names[-1]}: steward under {SMALL_FILES_LIMIT_S:g} s")
    lines.append(f"{'PASS' if all(verdicts) else 'FAIL'}  goal: steward fastest on every workload")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the workloads, time every tool and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gib", type=float, default=2.0, help="size of the safetensors file in GiB")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool and workload (best counts)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--slow", type=float, default=60.0, help="a warm-up longer than this is the only run")
    parser.add_argument("--tools", default=",".join(t.name for t in TOOLS), help="comma list")
    parser.add_argument(
        "--cache-dir", type=Path, default=_peers.DEFAULT_CACHE, help="where the peer venvs live"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="where the workloads are built")
    args = parser.parse_args(argv)
    if not 0 < args.gib <= 8 or args.runs < 1 or not math.isfinite(args.gib):
        parser.error("--gib must be in (0, 8] and --runs at least 1")
    try:
        tools = _peers.pick(t.strip() for t in args.tools.split(",") if t.strip())
        if _peers.STEWARD not in tools:
            raise ValueError("--tools must include steward: every time is compared with it")
        loads = workloads(args.data_dir.resolve(), args.gib)
        for workload in loads:
            ensure(workload)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    bindirs: dict[str, Path] = {}
    table: dict[str, dict[str, Timing]] = {w.name: {} for w in loads}
    for tool in tools:
        try:
            bindirs[tool.name] = _peers.install(tool, args.cache_dir)
        except (OSError, RuntimeError) as error:
            for workload in loads:
                table[workload.name][tool.name] = Timing(None, f"install failed: {error}".splitlines()[0])
    for workload in loads:
        for tool in tools:
            if tool.name in bindirs:
                print(f"timing {tool.name} on {workload.name} ...", file=sys.stderr)
                table[workload.name][tool.name] = time_tool(
                    tool,
                    bindirs[tool.name],
                    workload.target,
                    runs=args.runs,
                    timeout=args.timeout,
                    slow=args.slow,
                )
    print(render([w.name for w in loads], table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
