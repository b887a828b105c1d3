"""The scanner against corpora it did not write: picklescan's and ModelAudit's own test files.

Labels come from each folder's LABELS.tsv. The files are live exploits: they are only read.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from modelsteward.checks.security import FileReport, ScanOptions, scan
from modelsteward.core import Severity

# The repository's parent holds shared/ both here and in CI, wherever the repository is cloned.
PEER_CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "peer-corpora"
CORPORA = ("picklescan", "modelaudit")


class Labelled(NamedTuple):
    corpus: str
    path: str
    label: str


def _labelled(label: str) -> list[Labelled]:
    entries = []
    for corpus in CORPORA:
        for line in (PEER_CORPORA / corpus / "LABELS.tsv").read_text().splitlines():
            if line.strip():
                path, file_label = line.split("\t")
                if file_label == label:
                    entries.append(Labelled(corpus, path, file_label))
    return entries


def _scan(entry: Labelled) -> FileReport:
    (report,) = scan([PEER_CORPORA / entry.corpus / entry.path], ScanOptions()).files
    return report


def _describe(report: FileReport) -> str:
    lines = [f"{report.path} [{report.format}, {report.status}]"]
    lines += [f"  {f.severity.label} {f.rule} {f.location}: {f.message}" for f in report.findings]
    return "\n".join(lines + [f"  incomplete: {reason}" for reason in report.incomplete])


def _ids(entries: list[Labelled]) -> list[str]:
    return [f"{e.corpus}/{e.path}" for e in entries]


MALICIOUS, BENIGN, UNPARSEABLE = _labelled("malicious"), _labelled("benign"), _labelled("unparseable")


def test_labels_are_read() -> None:
    assert len(MALICIOUS) >= 140 and len(BENIGN) >= 30 and UNPARSEABLE
    for entry in MALICIOUS + BENIGN + UNPARSEABLE:
        assert (PEER_CORPORA / entry.corpus / entry.path).is_file(), entry


@pytest.mark.parametrize("entry", MALICIOUS, ids=_ids(MALICIOUS))
def test_malicious_peer_file_is_flagged_high(entry: Labelled) -> None:
    report = _scan(entry)
    assert report.worst is not None and report.worst >= Severity.HIGH, _describe(report)


@pytest.mark.parametrize("entry", BENIGN, ids=_ids(BENIGN))
def test_benign_peer_file_is_not_flagged(entry: Labelled) -> None:
    report = _scan(entry)
    assert report.worst is None or report.worst < Severity.MEDIUM, _describe(report)


@pytest.mark.parametrize("entry", UNPARSEABLE, ids=_ids(UNPARSEABLE))
def test_unparseable_peer_file_is_incomplete(entry: Labelled) -> None:
    report = _scan(entry)
    assert report.status == "incomplete", _describe(report)
