"""Evaluations and a leaderboard built from the real values, as the JSON the renderers read.

The values are constructed by hand (no model is run), but the JSON comes from their own ``to_json``
methods, and the group metrics and counterfactual flips are computed by the fairness check's functions,
so a change of shape upstream shows up here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from modelsteward.checks import fairness
from modelsteward.checks.performance.adapters import ModelDescription, Operation
from modelsteward.checks.performance.metrics import Comparison, Estimate, Latency, SignificanceTest
from modelsteward.evaluation import (
    ColumnMapping,
    Efficiency,
    Evaluation,
    FairnessReport,
    Leaderboard,
    Point,
    Standing,
    Task,
    load_dataset,
)

SCRIPT = "<script>alert(1)</script>"
DATA_FILE = "loans.csv"

# Twelve applicants: sex, race, whether they repaid (the label) and what the model predicted.
_ROWS = [
    ("F", "Black", "yes", "yes"),
    ("F", "Black", "no", "no"),
    ("F", "White", "yes", "no"),
    ("F", "White", "no", "no"),
    ("F", "White", "yes", "yes"),
    ("F", "Asian", "no", "yes"),
    ("M", "Black", "yes", "yes"),
    ("M", "White", "yes", "yes"),
    ("M", "White", "no", "yes"),
    ("M", "White", "yes", "yes"),
    ("M", "Black", "no", "no"),
    ("M", "White", "no", "no"),
]
_TEXTS = [f"She asked for a loan of {n}00 euros. {SCRIPT}" for n in range(6)] + [
    f"He asked for a loan of {n}00 euros." for n in range(6)
]


def write_data(folder: Path) -> Path:
    """The evaluation data file: text, label and two sensitive columns."""
    path = folder / DATA_FILE
    lines = ["text,label,sex,race"] + [
        f'"{text}",{label},{sex},{race}' for text, (sex, race, label, _) in zip(_TEXTS, _ROWS, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def estimate(value: float, low: float, high: float) -> Estimate:
    """A 95% interval over 1000 resamples."""
    return Estimate(value=value, low=low, high=high, level=0.95, resamples=1000)


def _latency(p50_ms: float, batches: int = 8) -> Latency:
    seconds = p50_ms / 1e3
    return Latency(p50=seconds, p95=seconds * 1.5, p99=seconds * 1.8, mean=seconds * 1.1, batches=batches)


def efficiency() -> Efficiency:
    """Costs with a scaling curve over batch sizes 1, 8, 32 and one or two copies."""
    points = tuple(
        Point(batch_size=size, concurrency=copies, latency=_latency(0.5 + size * 0.1), throughput=rate)
        for size, copies, rate in (
            (1, 1, 1800.0),
            (8, 1, 6000.0),
            (32, 1, 9000.0),
            (1, 2, 3100.0),
            (8, 2, 10500.0),
            (32, 2, 15000.0),
        )
    )
    return Efficiency(
        batch_size=32,
        latency=_latency(3.7, batches=40),
        throughput=8650.5,
        load_seconds=0.84,
        sandbox_start_seconds=0.12,
        peak_memory_bytes=150 * 2**20,
        size_bytes=48_213,
        scaling=points,
    )


def fairness_report() -> FairnessReport:
    """Group metrics by sex and race (minimum group size 2, so ``Asian`` is too small), one association
    test, and counterfactual flips where the model changed its answer on two swapped texts."""
    groups = fairness.group_fairness(
        [row[2] for row in _ROWS],
        [row[3] for row in _ROWS],
        {"sex": [row[0] for row in _ROWS], "race": [row[1] for row in _ROWS]},
        positive="yes",
        min_group_size=2,
    )
    association = fairness.AssociationResult(
        test="career-family <male, female>",
        method="weat",
        effect_size=1.234,
        statistic=0.42,
        p_value=0.0004,
        exact=False,
        permutations=10000,
        sizes=(8, 8, 8, 8),
        published_effect_size=1.81,
    )
    pairs = fairness.counterfactuals(_TEXTS, fairness.load_families())
    originals = [row[3] for row in _ROWS]
    # The model changes its answer for the first two swapped texts only.
    variants = [
        ("no" if originals[p.source] == "yes" else "yes") if i < 2 else originals[p.source]
        for i, p in enumerate(pairs)
    ]
    flips = fairness.classification_flips(pairs, originals, variants)
    return FairnessReport(
        task="classification", groups=groups, associations=(association,), counterfactual=flips
    )


def evaluation(
    folder: Path, candidate: str = "acme-small", accuracy: float = 0.853, *, isolation: str = "bubblewrap"
) -> Evaluation:
    """A classification evaluation of ``candidate`` on :data:`DATA_FILE` (written into ``folder``)."""
    path = folder / DATA_FILE
    if not path.exists():
        write_data(folder)
    dataset = load_dataset(path, ColumnMapping(text="text", label="label", sensitive=("sex", "race")))
    return Evaluation(
        candidate=candidate,
        task=Task.CLASSIFICATION,
        dataset=dataset,
        model=ModelDescription(
            adapter="sklearn",
            framework="scikit-learn 1.9.0",
            operations=(Operation.CLASSIFY,),
            classes=("no", "yes"),
            parameters=1_234,
            details={"estimator": "LogisticRegression", "features": ["age", "income"]},
        ),
        isolation=isolation,
        metrics={
            "accuracy": estimate(accuracy, accuracy - 0.031, accuracy + 0.028),
            "macro_f1": estimate(0.8123, 0.78, 0.84),
            "roc_auc": estimate(math.nan, math.nan, math.nan),
            "ece": estimate(0.041, 0.02, 0.066),
        },
        efficiency=efficiency(),
        fairness=fairness_report(),
    )


def evaluation_json(folder: Path, candidate: str = "acme-small", accuracy: float = 0.853) -> dict[str, Any]:
    """:func:`evaluation` as the registry stores it."""
    return evaluation(folder, candidate, accuracy).to_json()


def leaderboard_json(folder: Path, names: tuple[str, str, str]) -> dict[str, Any]:
    """Three candidates on accuracy: the best, one significantly worse, one not significantly worse."""
    best, worse, close = (
        evaluation(folder, name, accuracy) for name, accuracy in zip(names, (0.9, 0.8, 0.89), strict=True)
    )

    def gap(difference: float, p_value: float, test: SignificanceTest) -> Comparison:
        return Comparison(
            "accuracy", estimate(difference, difference - 0.02, difference + 0.02), p_value, test, 12
        )

    board = Leaderboard(
        task=Task.CLASSIFICATION,
        metric="accuracy",
        higher_is_better=True,
        dataset_digest=best.dataset.digest,
        rows=best.dataset.rows,
        standings=(
            Standing(1, best.candidate, best.metrics["accuracy"], None),
            Standing(
                2, close.candidate, close.metrics["accuracy"], gap(0.01, 0.5, SignificanceTest.MCNEMAR_EXACT)
            ),
            Standing(
                3, worse.candidate, worse.metrics["accuracy"], gap(0.1, 0.0002, SignificanceTest.MCNEMAR_CHI2)
            ),
        ),
        evaluations=(best, worse, close),
    )
    return board.to_json()
