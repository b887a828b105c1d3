"""``compare``: candidates evaluated on the same rows, ranked, with the significance of each gap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelsteward.checks.performance.metrics import (
    METRICS,
    Comparison,
    Estimate,
    Task,
    mcnemar,
    paired_bootstrap,
)
from modelsteward.evaluation._evaluate import Evaluation
from modelsteward.evaluation._session import EvaluationError
from modelsteward.evaluation._task import primary_metric


@dataclass(frozen=True, slots=True)
class Standing:
    """One candidate's place on the leaderboard."""

    rank: int
    candidate: str
    score: Estimate
    """The ranking metric, with its interval."""
    against_best: Comparison | None
    """The best candidate minus this one, paired on the same rows; None for the best itself."""


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """Candidates ranked by one metric on one dataset."""

    task: Task
    metric: str
    higher_is_better: bool
    dataset_digest: str
    rows: int
    standings: tuple[Standing, ...]
    evaluations: tuple[Evaluation, ...]
    """Every evaluation, in the order the candidates were given."""
    alpha: float = 0.05

    @property
    def best(self) -> Standing:
        """The top candidate."""
        return self.standings[0]

    @property
    def best_is_significant(self) -> bool:
        """Whether the best beats every other candidate at :attr:`alpha`."""
        others = [s.against_best for s in self.standings[1:] if s.against_best is not None]
        return bool(others) and all(c.p_value < self.alpha for c in others)

    def to_json(self) -> dict[str, Any]:
        """The leaderboard and every evaluation, as JSON."""
        return {
            "task": str(self.task),
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "dataset": self.dataset_digest,
            "dataset_path": str(self.evaluations[0].dataset.path),
            "rows": self.rows,
            "best": self.best.candidate,
            "best_is_significant": self.best_is_significant,
            "alpha": self.alpha,
            "standings": [
                {
                    "rank": s.rank,
                    "candidate": s.candidate,
                    "score": s.score.to_json(),
                    "against_best": None if s.against_best is None else _comparison(s.against_best),
                }
                for s in self.standings
            ],
            "evaluations": [e.to_json() for e in self.evaluations],
        }


def compare(
    evaluations: Sequence[Evaluation],
    *,
    metric: str | None = None,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    alpha: float = 0.05,
) -> Leaderboard:
    """Rank ``evaluations`` (same task, same rows) by ``metric`` (default: the task's primary metric).

    Each candidate below the best is compared with it on the same rows: a paired bootstrap of the
    metric's difference, or McNemar's test for accuracy, whose per-row correctness it reads exactly.
    """
    if len(evaluations) < 2:
        raise EvaluationError("a comparison needs at least two candidates")
    first = evaluations[0]
    for other in evaluations[1:]:
        if other.task != first.task or other.dataset.digest != first.dataset.digest:
            raise EvaluationError("candidates must be evaluated on the same task and the same data")
        if other.dataset.rows != first.dataset.rows:
            raise EvaluationError("candidates must be evaluated on the same rows (use the same --limit)")
    chosen = metric or primary_metric(first.task)
    info = METRICS.get(chosen)
    if info is None or any(chosen not in e.statistics for e in evaluations):
        measured = ", ".join(sorted(first.statistics))
        raise EvaluationError(f"{chosen} is not measured by the {first.task} task; it measures {measured}")

    def key(evaluation: Evaluation) -> float:
        value = evaluation.metrics[chosen].value
        if math.isnan(value):
            return math.inf
        return -value if info.higher_is_better else value

    if all(math.isnan(e.metrics[chosen].value) for e in evaluations):
        raise EvaluationError(
            f"{chosen} is undefined for every candidate on this data, so nothing can be ranked"
        )
    if len({e.candidate for e in evaluations}) != len(evaluations):
        raise EvaluationError("two candidates have the same name; a leaderboard needs each once")
    ranked = sorted(evaluations, key=key)
    best = ranked[0]
    standings = [Standing(1, best.candidate, best.metrics[chosen], None)]
    for rank, evaluation in enumerate(ranked[1:], start=2):
        if chosen == "accuracy" and best.correct is not None and evaluation.correct is not None:
            gap = mcnemar(best.correct, evaluation.correct, resamples=resamples, level=level, seed=seed)
        else:
            gap = paired_bootstrap(
                chosen,
                best.statistics[chosen],
                evaluation.statistics[chosen],
                resamples=resamples,
                level=level,
                seed=seed,
            )
        standings.append(Standing(rank, evaluation.candidate, evaluation.metrics[chosen], gap))
    return Leaderboard(
        task=first.task,
        metric=chosen,
        higher_is_better=info.higher_is_better,
        dataset_digest=first.dataset.digest,
        rows=first.dataset.rows,
        standings=tuple(standings),
        evaluations=tuple(evaluations),
        alpha=alpha,
    )


def _comparison(comparison: Comparison) -> dict[str, Any]:
    return {
        "difference": comparison.difference.to_json(),
        "p_value": _number(comparison.p_value),
        "test": str(comparison.test),
        "n": comparison.n,
    }


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value
