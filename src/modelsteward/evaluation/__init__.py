"""Evaluation: how well and how fast a model does its task on the enterprise's own data.

:func:`evaluate` loads one :class:`Candidate` in a sandboxed worker, runs a :class:`Dataset` through it
and gives an :class:`Evaluation`: metrics with bootstrap intervals, efficiency (latency, throughput,
memory, load time, a scaling curve) and, where the task allows, fairness evidence. :func:`compare`
ranks several evaluations on the same rows with the significance of each gap.
"""

from modelsteward.evaluation._dataset import (
    ColumnMapping,
    Dataset,
    DatasetError,
    load_dataset,
    parse_columns,
)
from modelsteward.evaluation._efficiency import Efficiency, Point
from modelsteward.evaluation._evaluate import Evaluation, EvaluationSettings, evaluate, size_on_disk
from modelsteward.evaluation._fairness import FairnessReport, FairnessSettings
from modelsteward.evaluation._leaderboard import Leaderboard, Standing, compare
from modelsteward.evaluation._session import Candidate, EvaluationError
from modelsteward.evaluation._task import Task, primary_metric

__all__ = [
    "Candidate",
    "ColumnMapping",
    "Dataset",
    "DatasetError",
    "Efficiency",
    "Evaluation",
    "EvaluationError",
    "EvaluationSettings",
    "FairnessReport",
    "FairnessSettings",
    "Leaderboard",
    "Point",
    "Standing",
    "Task",
    "compare",
    "evaluate",
    "load_dataset",
    "parse_columns",
    "primary_metric",
    "size_on_disk",
]
