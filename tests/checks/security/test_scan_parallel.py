"""Scanning in worker processes gives the same report, in the same order, as scanning in one."""

from __future__ import annotations

import pickle
from pathlib import Path

from modelsteward.checks.security import ScanOptions, scan


def test_parallel_scan_matches_serial(tmp_path: Path, canary: Path) -> None:
    for index in range(120):
        (tmp_path / f"clean_{index:03}.pkl").write_bytes(pickle.dumps({"layer": list(range(index))}))
    (tmp_path / "evil.pkl").write_bytes(f"cposix\nsystem\n(S'touch {canary}'\ntR.".encode())
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps(list(range(100)), protocol=2)[:-7])
    seen: list[str] = []

    serial = scan([tmp_path], ScanOptions(), jobs=1)
    parallel = scan([tmp_path], ScanOptions(), jobs=2, progress=seen.append)

    assert parallel == serial
    assert seen == [report.path for report in serial.files]
    by_path = {report.path: report for report in parallel.files}
    assert by_path["evil.pkl"].findings[0].rule == "PICKLE-GLOBAL-DENIED"
    assert by_path["cut.pkl"].status == "incomplete"
    assert not canary.exists()


def test_few_files_are_scanned_in_process(tmp_path: Path) -> None:
    (tmp_path / "one.pkl").write_bytes(pickle.dumps([1]))
    # Nothing to fork for: the progress callback runs before each file, in this process.
    calls: list[str] = []
    report = scan([tmp_path], ScanOptions(), jobs=8, progress=calls.append)
    assert calls == ["one.pkl"]
    assert report.files[0].status == "scanned"
