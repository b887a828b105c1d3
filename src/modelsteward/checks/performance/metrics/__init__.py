"""Evaluation metrics as pure functions of labels, predictions and scores, with bootstrap intervals.

Each metric is built as a :class:`Statistic` (a function of row weights), so one code path gives its
value, its bootstrap interval (:func:`bootstrap`) and paired comparisons between candidates
(:func:`paired_bootstrap`, :func:`mcnemar`). Each task has one entry point returning a
:class:`Statistic` per metric name, which :func:`bootstrap_all` turns into estimates on shared
resamples; :data:`METRICS` lists the names and which way is better.
"""

from modelsteward.checks.performance.metrics._arrays import MetricError
from modelsteward.checks.performance.metrics._bootstrap import (
    Estimate,
    bootstrap,
    bootstrap_all,
    draw_counts,
    resample,
)
from modelsteward.checks.performance.metrics._classification import (
    accuracy,
    classification_statistics,
    expected_calibration_error,
    macro_f1,
    roc_auc,
)
from modelsteward.checks.performance.metrics._compare import (
    Comparison,
    SignificanceTest,
    mcnemar,
    mcnemar_p_value,
    paired_bootstrap,
)
from modelsteward.checks.performance.metrics._efficiency import Latency, Throughput, latency, throughput
from modelsteward.checks.performance.metrics._entities import Span, entity_statistics
from modelsteward.checks.performance.metrics._generation import (
    exact_match,
    generation_statistics,
    normalize,
    rouge_l,
    token_f1,
)
from modelsteward.checks.performance.metrics._registry import METRICS, MetricInfo, Task
from modelsteward.checks.performance.metrics._regression import (
    mean_absolute_error,
    r2,
    regression_statistics,
    root_mean_squared_error,
)
from modelsteward.checks.performance.metrics._retrieval import (
    relevance_matrix,
    retrieval_statistics,
)
from modelsteward.checks.performance.metrics._statistic import Statistic

__all__ = [
    "METRICS",
    "Comparison",
    "Estimate",
    "Latency",
    "MetricError",
    "MetricInfo",
    "SignificanceTest",
    "Span",
    "Statistic",
    "Task",
    "Throughput",
    "accuracy",
    "bootstrap",
    "bootstrap_all",
    "classification_statistics",
    "draw_counts",
    "entity_statistics",
    "exact_match",
    "expected_calibration_error",
    "generation_statistics",
    "latency",
    "macro_f1",
    "mcnemar",
    "mcnemar_p_value",
    "mean_absolute_error",
    "normalize",
    "paired_bootstrap",
    "r2",
    "regression_statistics",
    "relevance_matrix",
    "resample",
    "retrieval_statistics",
    "roc_auc",
    "root_mean_squared_error",
    "rouge_l",
    "throughput",
    "token_f1",
]
