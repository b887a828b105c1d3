"""Detection benchmark: steward against picklescan, ModelScan, fickling and ModelAudit.

Every tool runs as a subprocess of its own CLI on the same labelled files (by default the two
peer corpora in ../shared/peer-corpora), one file per run unless ``--batch``. Prints, per tool,
malicious files detected, benign files falsely flagged, errors and total seconds, then whether
steward detects strictly more than each peer with fewer false positives.

    .venv/bin/python benchmarks/scan_peers.py [--batch] [--with-generated] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _peers
from _peers import Outcome, Targets, Tool

DEFAULT_CORPORA = tuple(
    _peers.REPO_ROOT.parent / "shared" / "peer-corpora" / n for n in ("picklescan", "modelaudit")
)
LABELS = ("malicious", "benign", "unparseable", "unlabelled")


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled file (or directory) to scan."""

    key: str
    """``<corpus>/<path>``: how the sample is named in the report."""
    path: Path
    label: str
    corpus: Path
    """The directory batch mode points the tools at."""


@dataclass(frozen=True, slots=True)
class Row:
    """One tool's results over the whole corpus."""

    tool: str
    version: str
    seconds: float
    outcomes: dict[str, Outcome]
    install_error: str = ""


def read_labels(corpus: Path) -> list[Sample]:
    """The samples listed in ``corpus/LABELS.tsv`` (path, label per line)."""
    table = corpus / "LABELS.tsv"
    samples = []
    with table.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 2 or row[1] not in LABELS:
                raise ValueError(f"{table}:{number}: expected '<path>\\t<{'|'.join(LABELS)}>'")
            samples.append(
                Sample(f"{corpus.name}/{row[0]}", (corpus / row[0]).resolve(), row[1], corpus.resolve())
            )
    return samples


def generated_samples(root: Path) -> list[Sample]:
    """Write the test suite's generated corpus (tests/corpus) under ``root`` and label it."""
    sys.path.insert(0, str(_peers.REPO_ROOT))
    from tests.corpus import build

    written = build(root / "samples", canary=root / "canary").values()
    return [Sample(f"generated/{s.label}/{s.name}", s.path, s.label, root / "samples") for s in written]


def run_tool(tool: Tool, bindir: Path, samples: Sequence[Sample], *, batch: bool, timeout: float) -> Row:
    """Scan every sample with ``tool``; per file, or per corpus directory with ``batch``."""
    outcomes: dict[str, Outcome] = {}
    seconds = 0.0
    for targets in _runs(samples, batch=batch and tool.batch):
        verdicts, took = _peers.scan(tool, bindir, targets, timeout=timeout)
        outcomes.update(verdicts)
        seconds += took
    return Row(tool.name, _peers.version(tool, bindir), seconds, outcomes)


def _runs(samples: Sequence[Sample], *, batch: bool) -> Iterator[Targets]:
    if not batch:
        for s in samples:
            yield Targets(root=s.path, files={s.key: s.path})
        return
    for corpus in dict.fromkeys(s.corpus for s in samples):
        yield Targets(root=corpus, files={s.key: s.path for s in samples if s.corpus == corpus})


@dataclass(frozen=True, slots=True)
class Score:
    """The counts the table prints for one tool."""

    detected: int
    malicious: int
    false_positives: int
    benign: int
    unparseable_reported: int
    unparseable: int
    errors: int


def score(row: Row, samples: Sequence[Sample]) -> Score:
    """Count detections on malicious files, alarms on benign ones, and errors on all."""
    label = {s.key: s.label for s in samples}
    got = [(label[k], o) for k, o in row.outcomes.items()]
    return Score(
        detected=sum(1 for lab, o in got if lab == "malicious" and o.flagged),
        malicious=sum(1 for s in samples if s.label == "malicious"),
        false_positives=sum(1 for lab, o in got if lab == "benign" and o.alarmed),
        benign=sum(1 for s in samples if s.label == "benign"),
        unparseable_reported=sum(1 for lab, o in got if lab == "unparseable" and (o.error or o.alarmed)),
        unparseable=sum(1 for s in samples if s.label == "unparseable"),
        errors=sum(1 for _, o in got if o.error),
    )


def goal(steward: Score, peers: dict[str, Score | None]) -> list[tuple[str, bool | None]]:
    """One line per peer and criterion; None when the peer could not be run.

    "Fewer false positives" holds when steward has strictly fewer, or none at all.
    """
    lines: list[tuple[str, bool | None]] = []
    for name, peer in peers.items():
        if peer is None:
            lines.append((f"steward vs {name}: not run", None))
            continue
        lines.append(
            (
                f"detects more than {name} ({steward.detected} > {peer.detected})",
                steward.detected > peer.detected,
            )
        )
        fewer = steward.false_positives < peer.false_positives or steward.false_positives == 0
        lines.append(
            (
                f"fewer false positives than {name} ({steward.false_positives} vs {peer.false_positives})",
                fewer,
            )
        )
    return lines


def render(rows: Sequence[Row], samples: Sequence[Sample], *, misses: bool) -> str:
    """The table, the goal lines and, with ``misses``, which files each tool got wrong."""
    header = (
        "tool",
        "version",
        "detected/malicious",
        "false pos/benign",
        "unparseable reported",
        "errors",
        "seconds",
    )
    table = [header]
    scores: dict[str, Score | None] = {}
    for row in rows:
        if row.install_error:
            table.append((row.tool, "-", "-", "-", "-", "install failed", "-"))
            scores[row.tool] = None
            continue
        s = score(row, samples)
        scores[row.tool] = s
        table.append(
            (
                *(row.tool, row.version, f"{s.detected}/{s.malicious}", f"{s.false_positives}/{s.benign}"),
                *(f"{s.unparseable_reported}/{s.unparseable}", str(s.errors), f"{row.seconds:.1f}"),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for row in rows:
        if row.install_error:
            lines.append(f"{row.tool}: {row.install_error}")
    steward = scores.pop("steward", None)
    if steward is not None:
        lines.append("")
        verdicts = goal(steward, scores)
        lines.extend(f"{_mark(ok)}  {text}" for text, ok in verdicts)
        overall = all(ok is True for _, ok in verdicts)
        lines.append(
            f"{_mark(overall)}  goal: steward detects more than every peer with fewer false positives"
        )
    if misses:
        lines.extend(_misses(rows, samples))
    return "\n".join(lines)


def _mark(ok: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a "}[ok]


def _misses(rows: Sequence[Row], samples: Sequence[Sample]) -> Iterator[str]:
    for row in rows:
        for s in samples:
            o = row.outcomes.get(s.key)
            if o is None:
                continue
            if s.label == "malicious" and not o.flagged:
                yield f"{row.tool}: missed {s.key}" + (f" (error: {o.error})" if o.error else "")
            elif s.label == "benign" and o.alarmed:
                yield f"{row.tool}: false positive {s.key}"
            elif o.error:
                yield f"{row.tool}: error on {s.label} {s.key}: {o.error}"


def as_json(rows: Sequence[Row], samples: Sequence[Sample]) -> dict[str, Any]:
    """Every tool's per-file outcomes and counts, for other programs."""
    label = {s.key: s.label for s in samples}
    tools = []
    for row in rows:
        entry: dict[str, Any] = {"tool": row.tool, "version": row.version, "seconds": round(row.seconds, 3)}
        if row.install_error:
            entry["install_error"] = row.install_error
        else:
            entry["score"] = asdict(score(row, samples))
            entry["files"] = {k: {"label": label[k], **asdict(o)} for k, o in sorted(row.outcomes.items())}
        tools.append(entry)
    return {"samples": len(samples), "tools": tools}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, install the peers, run every tool and print the comparison."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, action="append", help="a directory with LABELS.tsv (repeatable)"
    )
    parser.add_argument("--with-generated", action="store_true", help="add the test suite's generated corpus")
    parser.add_argument(
        "--tools", default="steward,picklescan,modelscan,fickling,modelaudit", help="comma list"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=_peers.DEFAULT_CACHE, help="where the peer venvs live"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per run (per file, or per directory)"
    )
    parser.add_argument("--batch", action="store_true", help="one run per corpus directory, not per file")
    parser.add_argument(
        "--misses", action="store_true", help="list each tool's misses, false positives, errors"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    try:
        tools = _peers.pick(t.strip() for t in args.tools.split(",") if t.strip())
        corpora = args.corpus or [c for c in DEFAULT_CORPORA if c.is_dir()]
        samples = [s for c in corpora for s in read_labels(c)]
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    with tempfile.TemporaryDirectory(prefix="steward-generated-") as scratch:
        if args.with_generated:
            samples += generated_samples(Path(scratch))
        if not samples:
            print("error: no samples (give --corpus or --with-generated)", file=sys.stderr)
            return 4
        rows = [_row(t, samples, args) for t in tools]
        canary_fired = args.with_generated and Path(scratch, "canary").exists()
    if args.json:
        print(json.dumps(as_json(rows, samples), indent=2))
    else:
        print(
            f"{len(samples)} samples: "
            + ", ".join(f"{sum(s.label == x for s in samples)} {x}" for x in LABELS)
        )
        print(render(rows, samples, misses=args.misses))
    if canary_fired:
        print(
            "error: a generated payload's canary file appeared: some tool executed a sample", file=sys.stderr
        )
        return 3
    return 0


def _row(tool: Tool, samples: Sequence[Sample], args: argparse.Namespace) -> Row:
    try:
        bindir = _peers.install(tool, args.cache_dir)
    except (OSError, RuntimeError) as error:
        return Row(tool.name, "", 0.0, {}, install_error=str(error))
    print(f"running {tool.name} on {len(samples)} samples ...", file=sys.stderr)
    return run_tool(tool, bindir, samples, batch=args.batch, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
