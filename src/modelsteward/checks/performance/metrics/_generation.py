"""Text generation metrics: exact match and token F1 (as SQuAD scores them) and ROUGE-L."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import numpy as np

from modelsteward.checks.performance.metrics._arrays import same_length
from modelsteward.checks.performance.metrics._statistic import Statistic

_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def exact_match(references: Sequence[str], generated: Sequence[str]) -> Statistic:
    """The share of rows whose generated text equals the reference once both are normalised."""
    same_length(references, generated, ("references", "generated texts"))
    return Statistic.mean(
        np.array([normalize(r) == normalize(g) for r, g in zip(references, generated, strict=True)], float)
    )


def token_f1(references: Sequence[str], generated: Sequence[str]) -> Statistic:
    """The mean per-row F1 of the normalised tokens the generated text shares with its reference."""
    same_length(references, generated, ("references", "generated texts"))
    return Statistic.mean(
        np.array(
            [
                _f1(normalize(r).split(), normalize(g).split())
                for r, g in zip(references, generated, strict=True)
            ]
        )
    )


def rouge_l(references: Sequence[str], generated: Sequence[str]) -> Statistic:
    """The mean per-row ROUGE-L F-measure: F1 of the longest common token subsequence.

    Tokens are the words of the lower-cased text without punctuation; articles are kept, since
    word order, not answer matching, is what ROUGE-L measures.
    """
    same_length(references, generated, ("references", "generated texts"))
    return Statistic.mean(
        np.array([_rouge_l(_words(r), _words(g)) for r, g in zip(references, generated, strict=True)])
    )


def generation_statistics(references: Sequence[str], generated: Sequence[str]) -> dict[str, Statistic]:
    """``exact_match``, ``token_f1`` and ``rouge_l``."""
    return {
        "exact_match": exact_match(references, generated),
        "token_f1": token_f1(references, generated),
        "rouge_l": rouge_l(references, generated),
    }


def _words(text: str) -> list[str]:
    return text.lower().translate(_PUNCTUATION).split()


def _f1(reference: list[str], generated: list[str]) -> float:
    if not reference or not generated:
        # SQuAD 2.0: an empty answer scores 1 against an empty reference and 0 against anything else.
        return float(reference == generated)
    common = sum((Counter(reference) & Counter(generated)).values())
    return _harmonic(common / len(generated), common / len(reference))


def _rouge_l(reference: list[str], generated: list[str]) -> float:
    if not reference or not generated:
        return 0.0
    longest = _lcs_length(reference, generated)
    return _harmonic(longest / len(generated), longest / len(reference))


def _lcs_length(first: list[str], second: list[str]) -> int:
    """Length of the longest common subsequence, by dynamic programming over one row at a time."""
    previous = [0] * (len(second) + 1)
    for token in first:
        current = [0]
        for j, other in enumerate(second):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _harmonic(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
