"""What each evaluation task asks of the model, and the metric a leaderboard ranks it by."""

from __future__ import annotations

from modelsteward.checks.performance.adapters import Operation
from modelsteward.checks.performance.metrics import Task

_OPERATION = {
    Task.CLASSIFICATION: Operation.CLASSIFY,
    Task.REGRESSION: Operation.REGRESS,
    Task.RETRIEVAL: Operation.EMBED,
    Task.GENERATION: Operation.GENERATE,
    Task.ENTITIES: Operation.TAG,
}
_PRIMARY = {
    Task.CLASSIFICATION: "accuracy",
    Task.REGRESSION: "mae",
    Task.RETRIEVAL: "ndcg@10",
    Task.GENERATION: "rouge_l",
    Task.ENTITIES: "entity_f1",
}


def operation_of(task: Task) -> Operation:
    """What each batch of ``task`` asks the model to do."""
    return _OPERATION[task]


def primary_metric(task: Task) -> str:
    """The metric a leaderboard of ``task`` ranks by unless told otherwise."""
    return _PRIMARY[task]


__all__ = ["Task", "operation_of", "primary_metric"]
