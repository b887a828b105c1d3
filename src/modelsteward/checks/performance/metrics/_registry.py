"""The metrics ModelSteward measures, by the name policies and reports use, and which way is better."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from modelsteward.checks.performance.metrics._retrieval import NDCG_AT, RECALL_AT


class Task(enum.StrEnum):
    """What the evaluated model is asked to do; each task has its own metrics."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    RETRIEVAL = "retrieval"
    GENERATION = "generation"
    ENTITIES = "entities"
    """Token classification: the entities found in each text."""


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """One metric name and how to read it."""

    name: str
    task: Task
    higher_is_better: bool
    description: str


def _table(*entries: tuple[str, Task, bool, str]) -> Mapping[str, MetricInfo]:
    return MappingProxyType({entry[0]: MetricInfo(*entry) for entry in entries})


METRICS: Mapping[str, MetricInfo] = _table(
    ("accuracy", Task.CLASSIFICATION, True, "share of rows classified correctly"),
    ("macro_f1", Task.CLASSIFICATION, True, "unweighted mean of per-class F1"),
    ("roc_auc", Task.CLASSIFICATION, True, "area under the ROC curve (one-vs-rest macro for many classes)"),
    ("ece", Task.CLASSIFICATION, False, "expected calibration error over equal-width confidence bins"),
    ("mae", Task.REGRESSION, False, "mean absolute error"),
    ("rmse", Task.REGRESSION, False, "root mean squared error"),
    ("r2", Task.REGRESSION, True, "coefficient of determination"),
    *(
        (f"recall@{k}", Task.RETRIEVAL, True, f"share of relevant documents in the top {k}")
        for k in RECALL_AT
    ),
    ("mrr", Task.RETRIEVAL, True, "mean reciprocal rank of the first relevant document"),
    (f"ndcg@{NDCG_AT}", Task.RETRIEVAL, True, f"normalised discounted cumulative gain of the top {NDCG_AT}"),
    ("exact_match", Task.GENERATION, True, "share of answers equal to the reference after normalisation"),
    ("token_f1", Task.GENERATION, True, "mean token-overlap F1 with the reference"),
    ("rouge_l", Task.GENERATION, True, "mean longest-common-subsequence F-measure with the reference"),
    ("entity_precision", Task.ENTITIES, True, "share of found entities that are expected (label and span)"),
    ("entity_recall", Task.ENTITIES, True, "share of expected entities that are found (label and span)"),
    ("entity_f1", Task.ENTITIES, True, "harmonic mean of entity precision and recall"),
)
"""Every metric by name, in the order reports list them."""
