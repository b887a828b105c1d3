"""Span-level entity precision, recall and F1: only exact label-and-span matches count."""

from __future__ import annotations

import pytest

from modelsteward.checks.performance.adapters._base import Entity
from modelsteward.checks.performance.metrics import MetricError, bootstrap_all, entity_statistics


def test_micro_counts_over_rows() -> None:
    expected = [
        [Entity("PER", 0, 5), Entity("LOC", 10, 16)],
        [Entity("ORG", 3, 7)],
    ]
    found = [
        [Entity("PER", 0, 5), Entity("LOC", 10, 15)],  # the second's span is off by one: no match
        [Entity("PER", 3, 7), Entity("ORG", 3, 7)],  # a wrong label does not match
    ]
    result = {k: s.value() for k, s in entity_statistics(expected, found).items()}
    assert result["entity_precision"] == pytest.approx(2 / 4)
    assert result["entity_recall"] == pytest.approx(2 / 3)
    assert result["entity_f1"] == pytest.approx(2 * 2 / (4 + 3))


def test_estimates_and_undefined_without_entities() -> None:
    estimates = bootstrap_all(
        entity_statistics([[Entity("PER", 0, 1)], []], [[Entity("PER", 0, 1)], []]), resamples=50
    )
    assert estimates["entity_f1"].value == 1.0
    assert estimates["entity_f1"].resamples <= 50
    with pytest.raises(MetricError, match="expected entities has 1 rows but found entities has 2"):
        entity_statistics([[]], [[], []])
