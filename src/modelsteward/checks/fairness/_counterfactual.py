"""Counterfactual tests: does a model's output change when only an identity term in its input does?

:func:`counterfactuals` makes one variant per text and swap family, for the texts that hold a term of
that family. The caller runs the model on the originals and on the variants; :func:`classification_flips`
and :func:`generation_flips` then count, per family, how often the output changed.

A generator's output is compared after swapping the variant's output back with the same family
(so that "she is a nurse" answering a question about Mary is no change from "he is a nurse" about
John), case folded, with punctuation and spacing ignored; the mean token-level similarity
(``difflib``'s ratio over the token sequences) says by how much the outputs differ.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modelsteward.checks.fairness._swaps import SwapFamily

DEFAULT_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class Counterfactual:
    """A text and its variant with one family's identity terms swapped."""

    family: SwapFamily
    source: int
    """Index of the original text among those given to :func:`counterfactuals`."""
    original: str
    variant: str


@dataclass(frozen=True, slots=True)
class FlipExample:
    """One pair whose output changed, for a reviewer to read."""

    original: str
    variant: str
    original_output: str
    variant_output: str

    def to_json(self) -> dict[str, str]:
        """A JSON-able dict of the four texts."""
        return {
            "original": self.original,
            "variant": self.variant,
            "original_output": self.original_output,
            "variant_output": self.variant_output,
        }


@dataclass(frozen=True, slots=True)
class FamilyFlips:
    """How often one swap family changed the output."""

    family: str
    pairs: int
    """Texts that held a term of the family, each compared with its variant."""
    flipped: int
    """Pairs whose output changed."""
    mean_similarity: float | None
    """Generation only: mean token-level similarity of the two outputs, 1.0 when all are equal."""
    examples: tuple[FlipExample, ...]
    """The first few flipped pairs, in input order."""

    @property
    def flip_rate(self) -> float:
        """Fraction of pairs whose output changed."""
        return self.flipped / self.pairs

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict, the flip rate included."""
        return {
            "family": self.family,
            "pairs": self.pairs,
            "flipped": self.flipped,
            "flip_rate": self.flip_rate,
            "mean_similarity": self.mean_similarity,
            "examples": [example.to_json() for example in self.examples],
        }


@dataclass(frozen=True, slots=True)
class CounterfactualResult:
    """Flip rates per swap family, for a classifier's labels or a generator's texts."""

    kind: Literal["classification", "generation"]
    texts: int
    """Original texts given; those holding no term of any family make no pair."""
    families: tuple[FamilyFlips, ...]
    """One per family that made at least one pair, in the order the pairs came."""

    @property
    def pairs(self) -> int:
        """Pairs compared, over every family."""
        return sum(family.pairs for family in self.families)

    @property
    def flip_rate(self) -> float | None:
        """Fraction of all pairs whose output changed; None when no text held a term."""
        return sum(family.flipped for family in self.families) / self.pairs if self.pairs else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict, overall and per family."""
        return {
            "kind": self.kind,
            "texts": self.texts,
            "pairs": self.pairs,
            "flip_rate": self.flip_rate,
            "families": [family.to_json() for family in self.families],
        }


def counterfactuals(texts: Sequence[str], families: Sequence[SwapFamily]) -> tuple[Counterfactual, ...]:
    """One variant per text and family, for the texts that hold a term of the family."""
    return tuple(
        Counterfactual(family, index, text, family.swap(text))
        for family in families
        for index, text in enumerate(texts)
        if family.applies(text)
    )


def classification_flips(
    pairs: Sequence[Counterfactual],
    original_outputs: Sequence[Hashable],
    variant_outputs: Sequence[Hashable],
    *,
    examples: int = DEFAULT_EXAMPLES,
) -> CounterfactualResult:
    """Per family, how often the predicted label changed.

    ``original_outputs`` holds the model's output for every original text (indexed by
    :attr:`Counterfactual.source`); ``variant_outputs`` one per pair, in the order of ``pairs``.
    """
    return _tally(
        "classification", pairs, original_outputs, variant_outputs, lambda pair, a, b: a != b, None, examples
    )


def generation_flips(
    pairs: Sequence[Counterfactual],
    original_outputs: Sequence[str],
    variant_outputs: Sequence[str],
    *,
    examples: int = DEFAULT_EXAMPLES,
) -> CounterfactualResult:
    """Per family, how often the generated text changed, and the outputs' mean similarity.

    Outputs are aligned as in :func:`classification_flips`; see the module docstring for how two
    texts are compared.
    """

    def changed(pair: Counterfactual, original: Any, variant: Any) -> bool:
        return _tokens(original) != _tokens(pair.family.swap(variant))

    def similarity(pair: Counterfactual, original: Any, variant: Any) -> float:
        before, after = _tokens(original), _tokens(pair.family.swap(variant))
        return (
            difflib.SequenceMatcher(None, before, after, autojunk=False).ratio() if before or after else 1.0
        )

    return _tally("generation", pairs, original_outputs, variant_outputs, changed, similarity, examples)


_Compare = Callable[[Counterfactual, Any, Any], Any]


def _tally(
    kind: Literal["classification", "generation"],
    pairs: Sequence[Counterfactual],
    original_outputs: Sequence[Any],
    variant_outputs: Sequence[Any],
    changed: _Compare,
    similarity: _Compare | None,
    examples: int,
) -> CounterfactualResult:
    if len(variant_outputs) != len(pairs):
        raise ValueError(f"{len(pairs)} counterfactual pairs but {len(variant_outputs)} variant outputs")
    outside = [pair.source for pair in pairs if not 0 <= pair.source < len(original_outputs)]
    if outside:
        raise ValueError(f"{len(original_outputs)} original outputs, but pairs refer to text {outside[0]}")
    by_family: dict[str, list[tuple[Counterfactual, Any, Any]]] = {}
    for pair, variant_output in zip(pairs, variant_outputs, strict=True):
        by_family.setdefault(pair.family.name, []).append(
            (pair, original_outputs[pair.source], variant_output)
        )
    families = []
    for name, rows in by_family.items():
        flipped = [(pair, a, b) for pair, a, b in rows if changed(pair, a, b)]
        scores = None if similarity is None else [float(similarity(pair, a, b)) for pair, a, b in rows]
        families.append(
            FamilyFlips(
                family=name,
                pairs=len(rows),
                flipped=len(flipped),
                mean_similarity=None if scores is None else sum(scores) / len(scores),
                examples=tuple(
                    FlipExample(pair.original, pair.variant, str(a), str(b))
                    for pair, a, b in flipped[:examples]
                ),
            )
        )
    return CounterfactualResult(kind=kind, texts=len(original_outputs), families=tuple(families))


def _tokens(text: str) -> list[str]:
    """Case-folded word tokens: punctuation and spacing do not count as a change."""
    return re.findall(r"\w+", text.casefold())
