"""The metric registry names every metric the entry points produce, with the direction that is better."""

from __future__ import annotations

import numpy as np

from modelsteward.checks.performance.adapters._base import Entity
from modelsteward.checks.performance.metrics import (
    METRICS,
    Task,
    classification_statistics,
    entity_statistics,
    generation_statistics,
    regression_statistics,
    retrieval_statistics,
)


def test_every_produced_metric_is_registered_under_its_task() -> None:
    produced = {
        Task.CLASSIFICATION: classification_statistics([0, 1], [0, 1], [[0.9, 0.1], [0.2, 0.8]], [0, 1]),
        Task.REGRESSION: regression_statistics([1.0, 2.0], [1.5, 2.0]),
        Task.RETRIEVAL: retrieval_statistics(np.eye(2), np.eye(2)),
        Task.GENERATION: generation_statistics(["a"], ["a"]),
        Task.ENTITIES: entity_statistics([[Entity("PER", 0, 1)]], [[]]),
    }
    for task, statistics in produced.items():
        assert [name for name, info in METRICS.items() if info.task is task] == list(statistics)


def test_errors_and_calibration_are_better_low() -> None:
    lower = {name for name, info in METRICS.items() if not info.higher_is_better}
    assert lower == {"ece", "mae", "rmse"}
    assert all(info.name == name and info.description for name, info in METRICS.items())
