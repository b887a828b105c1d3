"""The README's main job: the example script admits its four models with the expected verdicts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_example_script_gives_each_model_its_expected_verdict(tmp_path: Path) -> None:
    steward = Path(sys.executable).parent / "steward"
    env = {**os.environ, "STEWARD": str(steward), "STEWARD_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        ["bash", str(ROOT / "examples" / "admit-examples.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = [line for line in result.stdout.splitlines() if line.startswith("exit status")]
    assert statuses == [
        "exit status 0 (expected 0)",
        "exit status 1 (expected 1)",
        "exit status 3 (expected 3)",
        "exit status 0 (expected 0)",
    ]
    assert "performance.minimum.accuracy" in result.stdout
