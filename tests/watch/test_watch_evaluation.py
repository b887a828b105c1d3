"""A watched model evaluated on data: the candidate's metrics are compared with the replaced version's."""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.conftest import Steward
from tests.sources.repos import GitRepo

CARD = b"---\nlicense: apache-2.0\n---\n# clf\n\n## Intended use\n\nTests.\n"
EVALUATE = "--task classification --columns label=target --resamples 50 --batch-sizes 32 --concurrency 1"


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STEWARD_DATABASE_URL", raising=False)


def dumped(model: object) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def test_the_candidate_diff_carries_the_metrics_of_both_versions(steward: Steward, tmp_path: Path) -> None:
    frame = load_breast_cancer(as_frame=True).frame
    train, held_out = train_test_split(frame, test_size=0.5, random_state=0, stratify=frame["target"])
    features, labels = train.drop(columns="target"), train["target"]
    data = tmp_path / "eval.csv"
    held_out.to_csv(data, index=False)
    good = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, labels)
    repo = GitRepo.create(tmp_path / "upstream")
    repo.commit("good model", {"README.md": CARD, "model.joblib": dumped(good)})
    source = f"{repo.path.as_uri()}@main"
    options = f"--data {data} {EVALUATE}"

    admitted = steward("admit", source, "--name", "clf", "--quiet", *options.split())
    assert admitted.exit_code == 0, admitted

    repo.commit("a majority-class model", {"model.joblib": dumped(DummyClassifier().fit(features, labels))})
    result = steward("watch", "--json", "--quiet", "--evaluate", f"clf={options}")
    assert result.exit_code == 1, result
    [model] = json.loads(result.stdout)["models"]
    assert model["candidate"] == "clf@2"
    metrics = {m["name"]: m for m in model["diff"]["metrics"]}
    before, after = metrics["accuracy"]["before"], metrics["accuracy"]["after"]
    assert before > 0.9 and 0.5 < after < 0.7  # the held-out majority class is about 63%
    assert model["diff"]["files"]["changed"] == ["model.joblib"]
