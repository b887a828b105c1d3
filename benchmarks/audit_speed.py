"""Speed of the dependency audit: 1,000 registered versions against an OSV-sized advisory database.

The database holds the real OSV records of tests/checks/dependencies/osv plus generated ones, about
15,000 in all (the size of OSV's PyPI export), over the packages installed here and 3,000 made-up
ones. The registry (SQLite, in a temporary folder) holds 100 models of 10 versions each; every
version has this environment's installed distributions (some at other versions, as older admissions
would) and a dozen pinned requirements, about 200 components per version.

From one run it prints:
  full audit          every version's components matched against every advisory, results recorded
                      (``audit_registry``: what ``steward watch`` and ``steward audit-deps`` do)
  full audit again    the same with everything already on record: the steady state of the watch
  incremental audit   after 100 new advisories are stored: only what they name is matched
                      (what ``steward advisories sync`` does after storing)
  per-version audit   the baseline: each version audited on its own, its components read and
                      matched one version at a time, as a tool without a registry-wide index would

and the ratios of the baseline to the full audit and of each audit to its goal (under 5 s full and
under 0.5 s incremental on the 2-core machine the project is measured on). Each figure is the best of
--runs, on a fresh copy of the registry.

    .venv/bin/python benchmarks/audit_speed.py [--versions 1000] [--advisories 15000] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modelsteward.checks.dependencies import AdvisoryIndex, environment_components
from modelsteward.core import Component, FileEntry, Manifest, Origin, Verdict
from modelsteward.registry import Description, Registry
from modelsteward.watch import audit_registry, sync_advisories

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "checks" / "dependencies" / "osv"
GOAL_FULL_S = 5.0
GOAL_INCREMENTAL_S = 0.5
MADE_UP_PACKAGES = 3000
MODELS = 100
ACTOR = "benchmark"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--advisories", type=int, default=15000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(5)  # noqa: S311 - reproducible workload, not secrets
    environment = environment_components()
    real = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]
    names = sorted({c.name for c in environment} | {f"made-up-{i:04d}" for i in range(MADE_UP_PACKAGES)})
    installed = {c.name: c.version for c in environment if c.version}
    records = real + [_record(i, rng, names, installed) for i in range(args.advisories - len(real))]
    fresh = [_record(args.advisories + i, rng, names, installed) for i in range(100)]
    print(
        f"{len(records)} advisories ({len(real)} real), {args.versions} versions, "
        f"{len(environment)} distributions installed"
    )

    with tempfile.TemporaryDirectory(prefix="audit-speed-") as tmp:
        folder = Path(tmp)
        _write(folder / "export", records)
        _write(folder / "new", fresh)
        empty, audited = folder / "empty.db", folder / "audited.db"
        with Registry.open(f"sqlite:///{empty}") as registry:
            _register(registry, args.versions, environment, names, rng)
            sync_advisories(registry, str(folder / "export"), actor=ACTOR, progress=_quiet)
            components = len(registry.components("model-000@1"))
            # What that sync's audit recorded is forgotten: the full audit below starts from nothing.
            registry.record_vulnerabilities([], scope=None, actor=ACTOR)
        print(f"{components} components per version")
        shutil.copyfile(empty, audited)
        with Registry.open(f"sqlite:///{audited}") as registry:
            audit_registry(registry, actor=ACTOR)

        def full(registry: Registry) -> int:
            return len(audit_registry(registry, actor=ACTOR).found)

        def incremental(registry: Registry) -> int:
            return len(
                sync_advisories(registry, str(folder / "new"), actor=ACTOR, progress=_quiet).changes.found
            )

        full_s, found = _best(args.runs, empty, folder, full)
        again_s, _ = _best(args.runs, audited, folder, full)
        incremental_s, new = _best(args.runs, audited, folder, incremental)
        baseline_s, base_found = _best(args.runs, empty, folder, _per_version)

    print(f"full audit          {full_s:7.3f} s  ({found} vulnerabilities recorded)")
    print(f"full audit again    {again_s:7.3f} s  (nothing new: what every `steward watch` run does)")
    print(f"incremental sync    {incremental_s:7.3f} s  ({new} new after 100 advisories: read, store, audit)")
    print(f"per-version audit   {baseline_s:7.3f} s  ({base_found} vulnerabilities, baseline)")
    print(f"per-version / full: {baseline_s / full_s:.1f}x")
    met = "met" if full_s < GOAL_FULL_S else "MISSED"
    print(f"full: {full_s / GOAL_FULL_S:.2f} of the {GOAL_FULL_S:g} s goal ({met})")
    met = "met" if incremental_s < GOAL_INCREMENTAL_S else "MISSED"
    print(
        f"incremental: {incremental_s / GOAL_INCREMENTAL_S:.2f} of the {GOAL_INCREMENTAL_S:g} s goal ({met})"
    )
    return 0 if full_s < GOAL_FULL_S and incremental_s < GOAL_INCREMENTAL_S else 1


def _best(runs: int, template: Path, folder: Path, work: Callable[[Registry], int]) -> tuple[float, int]:
    """The shortest time of ``work`` over ``runs`` fresh copies of ``template``, and what it counted."""
    best, counted = float("inf"), 0
    for run in range(runs):
        copy = folder / f"run-{run}.db"
        shutil.copyfile(template, copy)
        with Registry.open(f"sqlite:///{copy}") as registry:
            started = time.perf_counter()
            counted = work(registry)
            best = min(best, time.perf_counter() - started)
    return best, counted


def _quiet(_message: str) -> None:
    pass


def _write(folder: Path, records: list[dict[str, Any]]) -> None:
    """An export as OSV publishes it, unpacked: one ``<id>.json`` per record."""
    folder.mkdir()
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")


def _per_version(registry: Registry) -> int:
    """Each version on its own: read its components, look up and decode its packages' advisories."""
    found = 0
    for model in registry.list_models():
        for number in range(1, model.versions + 1):
            components = registry.components(f"{model.name}@{number}")
            index = AdvisoryIndex(registry.advisory_records({c.name for c in components}))
            found += len(index.audit(components))
    return found


def _register(
    registry: Registry,
    versions: int,
    environment: tuple[Component, ...],
    names: list[str],
    rng: random.Random,
) -> None:
    for i in range(versions):
        model, number = f"model-{i % MODELS:03d}", i // MODELS + 1
        installed = [
            # An older admission ran on older releases of some packages.
            Component(c.name, Origin.ENVIRONMENT, _older(c.version, rng) if rng.random() < 0.1 else c.version)
            for c in environment
        ]
        pinned = [
            Component(
                name, Origin.REQUIREMENT, f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
            )
            for name in rng.sample(names, 12)
        ]
        data = f"{model}/{number}".encode()
        entry = FileEntry("model.safetensors", len(data), hashlib.sha256(data).hexdigest())
        registry.register(
            name=model,
            manifest=Manifest(files=(entry,), shard_size=1 << 20),
            source=f"hf://org/{model}@{i:040x}",
            revision=f"{i:040x}",
            verdict=Verdict.APPROVE,
            describe=lambda _n: Description(record={}, documents={}),
            upstream=f"hf://org/{model}",
            components=[*installed, *pinned],
            actor=ACTOR,
        )


def _older(version: str | None, rng: random.Random) -> str | None:
    """A release before ``version`` (by major or minor number), or ``version`` when none can be made."""
    parts = (version or "").split(".")
    if not all(p.isdigit() for p in parts[:2]) or len(parts) < 2:
        return version
    major, minor = int(parts[0]), int(parts[1])
    if minor > 0 and rng.random() < 0.5:
        return f"{major}.{rng.randint(0, minor - 1)}.0"
    return f"{major - 1}.{rng.randint(0, 9)}.0" if major > 0 else version


def _record(i: int, rng: random.Random, names: list[str], installed: dict[str, str]) -> dict[str, Any]:
    """An OSV record shaped like PyPI's: one package, a range, a CVSS vector or a database rating.

    As in OSV's export, most advisories of an installed package are old: fixed in a release before
    the installed one, so current installs are mostly clear while older pins and installs are hit.
    """
    name = rng.choice(names)
    current = installed.get(name)
    if current is not None and rng.random() < 0.97:
        fixed = _older(current, rng) or "0.1"
    else:
        fixed = f"{rng.randint(0, 3)}.{rng.randint(1, 9)}.{rng.randint(0, 9)}"
    introduced = "0" if rng.random() < 0.7 else f"{fixed.split('.')[0]}.0.0"
    modified = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
    stamp = modified.isoformat().replace("+00:00", "Z")
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": f"GHSA-gen{i:05d}-bench",
        "modified": stamp,
        "published": stamp,
        "aliases": [f"CVE-2099-{i:05d}"],
        "summary": f"generated advisory {i}",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}],
            }
        ],
    }
    if rng.random() < 0.6:
        record["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"}]
    else:
        record["database_specific"] = {"severity": rng.choice(["LOW", "MODERATE", "HIGH", "CRITICAL"])}
    return record


if __name__ == "__main__":
    sys.exit(main())
