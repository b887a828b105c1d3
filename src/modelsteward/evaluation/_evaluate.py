"""``evaluate``: one candidate, one dataset, one task -> metrics with intervals, costs and fairness."""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.checks.performance.adapters import Entity, ModelDescription
from modelsteward.checks.performance.metrics import (
    Estimate,
    MetricError,
    Statistic,
    bootstrap_all,
    classification_statistics,
    entity_statistics,
    generation_statistics,
    latency,
    regression_statistics,
    retrieval_statistics,
)
from modelsteward.core import CheckResult, CheckStatus, Finding, Severity
from modelsteward.core.progress import Progress
from modelsteward.evaluation import _fairness
from modelsteward.evaluation._batches import Inputs, Run, run_all
from modelsteward.evaluation._dataset import Dataset, DatasetError
from modelsteward.evaluation._efficiency import Efficiency, scaling_curve
from modelsteward.evaluation._fairness import FairnessSettings
from modelsteward.evaluation._session import Candidate, EvaluationError, Session
from modelsteward.evaluation._task import Task, operation_of
from modelsteward.runtime.sandbox import SandboxConfig


@dataclass(frozen=True, slots=True)
class EvaluationSettings:
    """How to evaluate: the task, the batches, the intervals, fairness and the sandbox."""

    task: Task
    batch_size: int = 32
    """Rows per batch in the evaluation pass."""
    batch_sizes: tuple[int, ...] = (1, 8, 32)
    """Batch sizes of the scaling curve; empty for none."""
    concurrency: tuple[int, ...] = (1,)
    """Copies of the model answering at once on the scaling curve (each a sandboxed worker)."""
    rows_per_point: int = 64
    """Rows each copy runs for one point of the scaling curve (at least three batches)."""
    resamples: int = 1000
    level: float = 0.95
    seed: int = 0
    run_options: Mapping[str, Any] = field(default_factory=dict)
    """Options of every batch: ``max_new_tokens``, ``system_prompt`` and ``temperature`` for generation."""
    fairness: FairnessSettings = field(default_factory=FairnessSettings)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one candidate achieved on one dataset."""

    candidate: str
    task: Task
    dataset: Dataset
    model: ModelDescription
    isolation: str
    """``bubblewrap``, ``unshare``, ``none`` (``--no-sandbox``) or ``endpoint`` (served elsewhere)."""
    metrics: Mapping[str, Estimate]
    efficiency: Efficiency
    fairness: _fairness.FairnessReport | None
    statistics: Mapping[str, Statistic] = field(repr=False, compare=False, default_factory=dict)
    """The metrics as functions of row weights, for paired comparisons with other candidates."""
    correct: npt.NDArray[np.bool_] | None = field(repr=False, compare=False, default=None)
    """Classification: whether each row was right, for McNemar's test."""

    def to_json(self) -> dict[str, Any]:
        """The evaluation as JSON: what a registry record, a report and ``--json`` hold."""
        return {
            "candidate": self.candidate,
            "task": str(self.task),
            "dataset": {
                "path": str(self.dataset.path),
                "digest": self.dataset.digest,
                "rows": self.dataset.rows,
                "source_rows": self.dataset.source_rows,
                "inputs": "features" if self.dataset.mapping.text is None else "text",
                # What the monitor needs to use this data as the reference of served predictions.
                "columns": self._input_columns(),
            },
            "model": {
                "adapter": self.model.adapter,
                "framework": self.model.framework,
                "parameters": self.model.parameters,
                "details": dict(self.model.details),
            },
            "isolation": self.isolation,
            "metrics": {name: e.to_json() for name, e in self.metrics.items()},
            "efficiency": self.efficiency.to_json(),
            "fairness": None if self.fairness is None else self.fairness.to_json(),
        }

    def _input_columns(self) -> dict[str, list[str]]:
        """The model's input columns by role: ``text`` or ``features`` (resolved to names)."""
        mapping = self.dataset.mapping
        if mapping.text is not None:
            return {"text": [mapping.text]}
        if mapping.query is not None:
            return {"text": [mapping.query]}
        return {"features": list(self.dataset.feature_names())}

    def check_results(self) -> tuple[CheckResult, ...]:
        """The performance result and, when fairness was assessed, the fairness result."""
        data = self.to_json()
        findings: tuple[Finding, ...] = ()
        if self.isolation == "none":
            findings = (
                Finding(
                    rule="EVAL-UNSANDBOXED",
                    severity=Severity.MEDIUM,
                    message="the model was loaded and run without a sandbox (--no-sandbox)",
                    path="",
                ),
            )
        shown = ", ".join(f"{name} {e.value:.3f}" for name, e in list(self.metrics.items())[:3])
        performance = CheckResult(
            check="performance",
            status=CheckStatus.WARN if findings else CheckStatus.PASS,
            findings=findings,
            data={
                key: data[key] for key in ("task", "dataset", "model", "isolation", "metrics", "efficiency")
            },
            summary=f"{self.task} on {self.dataset.rows} rows: {shown}; "
            f"p95 {self.efficiency.latency.p95 * 1e3:.1f} ms per batch of {self.efficiency.batch_size}",
        )
        if self.fairness is None:
            return (performance,)
        return performance, self.fairness.check_result()


def evaluate(
    candidate: Candidate, dataset: Dataset, settings: EvaluationSettings, *, progress: Progress | None = None
) -> Evaluation:
    """Load ``candidate`` in the sandbox, run ``dataset`` through it, and measure what the task asks.

    Raise :class:`EvaluationError` when the model cannot be loaded or run (a crashed or killed worker
    included), and :class:`DatasetError` when the data lacks what the task needs.
    """
    say = progress or (lambda _message: None)
    # Bad data fails before any model is loaded: a large model can take minutes to load and run.
    inputs = _task_inputs(dataset, settings.task)
    _fairness.check(dataset, settings.task, settings.fairness)
    if settings.task is Task.REGRESSION:
        dataset.targets()
    copies = max((*settings.concurrency, 1))
    with ExitStack() as stack:
        say(f"loading {candidate.label}")
        first = stack.enter_context(Session(candidate, settings.sandbox))
        sessions = [first]
        operation = operation_of(settings.task)
        if operation not in first.description.operations:
            can = ", ".join(first.description.operations) or "nothing steward can evaluate"
            raise EvaluationError(
                f"{candidate.label} can {can}, not {operation}, which the {settings.task} task needs"
            )
        runs = {
            what: run_all(
                first,
                operation,
                values,
                batch_size=settings.batch_size,
                options=settings.run_options,
                say=say,
                what=what,
            )
            for what, values in inputs.items()
        }
        statistics, correct = _statistics(dataset, settings.task, runs)
        metrics = bootstrap_all(
            statistics, resamples=settings.resamples, level=settings.level, seed=settings.seed
        )
        fairness = _fairness.assess(
            first, dataset, settings.task, runs, settings.fairness, options=settings.run_options, say=say
        )
        for _ in range(copies - 1):
            sessions.append(stack.enter_context(Session(candidate, settings.sandbox)))
        points = scaling_curve(
            sessions,
            operation,
            next(iter(inputs.values())),
            batch_sizes=settings.batch_sizes,
            concurrency=settings.concurrency,
            rows_per_point=settings.rows_per_point,
            options=settings.run_options,
            say=say,
        )
        all_latencies = [seconds for run in runs.values() for seconds in run.latencies]
        efficiency = Efficiency(
            batch_size=settings.batch_size,
            latency=latency(all_latencies),
            throughput=sum(run.rows for run in runs.values()) / sum(all_latencies),
            load_seconds=first.load_seconds,
            sandbox_start_seconds=first.start_seconds,
            peak_memory_bytes=first.peak_memory,
            size_bytes=candidate.size_bytes,
            scaling=points,
        )
    return Evaluation(
        candidate=candidate.label,
        task=settings.task,
        dataset=dataset,
        model=first.description,
        isolation=first.isolation,
        metrics=metrics,
        efficiency=efficiency,
        fairness=fairness,
        statistics=statistics,
        correct=correct,
    )


def _task_inputs(dataset: Dataset, task: Task) -> dict[str, Inputs]:
    """The model inputs of each pass the task makes, by name."""
    if task is Task.RETRIEVAL:
        retrieval = dataset.retrieval()
        return {"queries": list(retrieval.queries), "documents": list(retrieval.documents)}
    if task is Task.GENERATION:
        return {"prompts": list(dataset.texts())}
    if task is Task.ENTITIES:
        _expected_entities(dataset)
        return {"rows": list(dataset.texts())}
    if task is Task.CLASSIFICATION and dataset.mapping.text is not None:
        return {"rows": list(dataset.texts())}
    return {"rows": dataset.features()}


def _expected_entities(dataset: Dataset) -> list[tuple[Entity, ...]]:
    """The ``reference`` column of an entities task: per row, a JSON list of {label, start, end}."""
    rows = []
    for number, cell in enumerate(dataset.references(), start=1):
        try:
            items = json.loads(cell)
            rows.append(tuple(Entity(str(i["label"]), int(i["start"]), int(i["end"])) for i in items))
        except (ValueError, TypeError, KeyError) as error:
            raise DatasetError(
                f"{dataset.path}: row {number}: the reference must be a JSON list of "
                f'{{"label", "start", "end"}} objects ({error})'
            ) from None
    return rows


def _statistics(
    dataset: Dataset, task: Task, runs: Mapping[str, Run]
) -> tuple[dict[str, Statistic], npt.NDArray[np.bool_] | None]:
    try:
        if task is Task.CLASSIFICATION:
            prediction = runs["rows"].prediction
            labels = list(dataset.label_texts())
            predicted = _need(prediction.labels, "labels")
            statistics = classification_statistics(labels, predicted, prediction.scores, prediction.classes)
            return statistics, np.asarray(labels) == np.asarray(predicted)
        if task is Task.REGRESSION:
            values = _need(runs["rows"].prediction.values, "values")
            targets = dataset.targets()
            return regression_statistics(targets, values), None
        if task is Task.RETRIEVAL:
            queries = _unit(_need(runs["queries"].prediction.embeddings, "embeddings"))
            documents = _unit(_need(runs["documents"].prediction.embeddings, "embeddings"))
            return retrieval_statistics(queries @ documents.T, dataset.retrieval().relevance), None
        if task is Task.ENTITIES:
            found = _need(runs["rows"].prediction.entities, "entities")
            return entity_statistics(_expected_entities(dataset), found), None
        generated = _need(runs["prompts"].prediction.texts, "texts")
        return generation_statistics(dataset.references(), generated), None
    except (MetricError, ValueError) as error:
        if isinstance(error, DatasetError):
            raise
        raise EvaluationError(f"cannot score the {task} task: {error}") from None


def _need(value: Any, what: str) -> Any:
    if value is None:
        raise EvaluationError(f"the model returned no {what}, which the task needs")
    return value


def _unit(vectors: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Rows scaled to unit length, so that a dot product is the cosine similarity."""
    matrix = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def size_on_disk(root: Path) -> int:
    """Bytes of every file under ``root``."""
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
