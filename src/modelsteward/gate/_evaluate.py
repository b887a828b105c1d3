"""``evaluate`` and ``compare`` for registered versions (or model folders): load, run, record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelsteward.checks.performance.adapters import AdapterError, EndpointAdapter, EndpointConfig
from modelsteward.core import CheckResult, CheckStatus, Snapshot
from modelsteward.core.progress import Progress
from modelsteward.evaluation import (
    Candidate,
    ColumnMapping,
    Dataset,
    Evaluation,
    EvaluationError,
    EvaluationSettings,
    Leaderboard,
    Task,
    compare,
    evaluate,
    load_dataset,
    size_on_disk,
)
from modelsteward.registry import Registry
from modelsteward.settings import Settings
from modelsteward.store import ArtifactStore, StoreError


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    """What to evaluate a model on, and how."""

    data: Path
    """The evaluation data: CSV, Parquet or JSONL."""
    columns: ColumnMapping
    settings: EvaluationSettings
    limit: int | None = None
    """Evaluate a sample of this many rows (stratified by label, seeded)."""
    adapter: str | None = None
    """The adapter to load the model with; None picks one by the files' content."""
    adapter_options: Mapping[str, Any] = field(default_factory=dict)
    """Options for loading the model (``trust_remote_code``, ``file``, ``threads``, ...)."""
    endpoint_model: str | None = None
    """For a model given as an OpenAI-compatible base URL: the model name the server serves."""
    api_key_env: str | None = None
    """For an endpoint: the environment variable holding its API key."""

    def dataset(self) -> Dataset:
        """The evaluation data, read and checked against the column mapping."""
        return load_dataset(self.data, self.columns, limit=self.limit, seed=self.settings.seed)


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One evaluation and where it was recorded."""

    evaluation: Evaluation
    ref: str | None
    """``NAME@NUMBER`` of the registered version evaluated; None for a folder outside the registry."""
    recorded: bool


def evaluate_model(
    target: str,
    request: EvaluationRequest,
    *,
    settings: Settings,
    actor: str,
    record: bool = True,
    progress: Progress | None = None,
) -> Evaluated:
    """Evaluate ``target`` (``NAME@VERSION``, ``NAME@ALIAS`` or a model folder) and record the result.

    A registered version's evaluation is kept in the registry (and the audit log) unless ``record``
    is false. Raises :class:`EvaluationError`, :class:`DatasetError` or :class:`RegistryError`.
    """
    dataset = request.dataset()
    candidate, ref = _candidate(target, request, dataset, settings)
    evaluation = evaluate(candidate, dataset, request.settings, progress=progress)
    if ref is None or not record:
        return Evaluated(evaluation, ref, recorded=False)
    with Registry.open(settings.database_url) as registry:
        registry.record_evaluation(
            ref,
            task=str(evaluation.task),
            dataset_digest=dataset.digest,
            record=evaluation.to_json(),
            actor=actor,
        )
    return Evaluated(evaluation, ref, recorded=True)


def compare_models(
    targets: Sequence[str],
    request: EvaluationRequest,
    *,
    settings: Settings,
    metric: str | None = None,
    progress: Progress | None = None,
) -> Leaderboard:
    """Evaluate each of ``targets`` on the same rows and rank them by ``metric``, one at a time."""
    if len(targets) < 2:
        raise EvaluationError("a comparison needs at least two candidates")
    dataset = request.dataset()
    say = progress or (lambda _message: None)
    candidates = [_candidate(target, request, dataset, settings)[0] for target in targets]
    if len({c.label for c in candidates}) != len(candidates):
        # Folders of the same name (a/model, b/model): named as the user gave them instead.
        candidates = [replace(c, label=target) for c, target in zip(candidates, targets, strict=True)]
    evaluations = []
    for candidate in candidates:
        say(f"evaluating {candidate.label}")
        evaluations.append(evaluate(candidate, dataset, request.settings, progress=progress))
    s = request.settings
    return compare(evaluations, metric=metric, resamples=s.resamples, level=s.level, seed=s.seed)


def evaluation_results(
    snapshot: Snapshot, request: EvaluationRequest, dataset: Dataset, progress: Progress
) -> tuple[CheckResult, ...]:
    """The performance (and fairness) results of the snapshot being admitted.

    A model that cannot be loaded or run gives an error result, which the policy never approves;
    evaluation data that does not fit the task is the caller's error and raises.
    """
    candidate = Candidate(
        label=snapshot.source,
        root=snapshot.root,
        adapter=request.adapter,
        adapter_options=request.adapter_options,
        size_bytes=snapshot.manifest.size,
    )
    try:
        return evaluate(candidate, dataset, request.settings, progress=progress).check_results()
    except EvaluationError as error:
        return (CheckResult(check="performance", status=CheckStatus.ERROR, summary=str(error)),)


def _candidate(
    target: str, request: EvaluationRequest, dataset: Dataset, settings: Settings
) -> tuple[Candidate, str | None]:
    if target.startswith(("http://", "https://")):
        return Candidate(target, endpoint=_endpoint(target, request, dataset)), None
    folder = Path(target)
    if not folder.exists() and target.startswith((".", "/", "~")):
        raise EvaluationError(f"{target}: no such folder")
    if folder.exists():
        root = folder.absolute()
        label = root.name
        return Candidate(
            label, root, request.adapter, request.adapter_options, size_bytes=size_on_disk(root)
        ), None
    with Registry.open(settings.database_url) as registry:
        version = registry.get(target)
    try:
        root = ArtifactStore(settings.store).materialize(version.manifest)
    except StoreError as error:
        raise EvaluationError(f"{version.ref}: {error}") from None
    candidate = Candidate(
        version.ref, root, request.adapter, request.adapter_options, size_bytes=version.manifest.size
    )
    return candidate, version.ref


def _endpoint(base_url: str, request: EvaluationRequest, dataset: Dataset) -> EndpointAdapter:
    """An OpenAI-compatible endpoint; a classifier is asked to answer with one of the data's labels."""
    if not request.endpoint_model:
        raise EvaluationError(f"{base_url}: name the model the endpoint serves with --endpoint-model")
    labels: tuple[str, ...] = ()
    if request.settings.task is Task.CLASSIFICATION:
        labels = tuple(sorted(set(dataset.label_texts())))
    options = request.settings.run_options
    try:
        return EndpointAdapter(
            EndpointConfig(
                base_url,
                request.endpoint_model,
                api_key_env=request.api_key_env,
                labels=labels,
                system_prompt=options.get("system_prompt"),
                max_new_tokens=int(options.get("max_new_tokens", 256)),
                timeout=request.settings.sandbox.call_timeout,
            )
        )
    except AdapterError as error:
        raise EvaluationError(str(error)) from None
