"""Exact match, token F1 and ROUGE-L on hand-computed examples."""

from __future__ import annotations

import pytest

from modelsteward.checks.performance.metrics import (
    MetricError,
    bootstrap_all,
    exact_match,
    generation_statistics,
    normalize,
    rouge_l,
    token_f1,
)


def test_normalisation_drops_case_punctuation_articles_and_extra_space() -> None:
    assert normalize("  The Eiffel-Tower,  in   Paris! ") == "eiffeltower in paris"


def test_exact_match_after_normalisation() -> None:
    assert exact_match(["The Beatles", "Paris"], ["beatles.", "London"]).value() == 0.5


def test_token_f1_by_hand() -> None:
    # Shared tokens {cat, sat}: precision 2/3 (cat sat down), recall 2/4 (cat sat on mat).
    assert token_f1(["The cat sat on the mat"], ["A cat sat down"]).value() == pytest.approx(
        2 * (2 / 3) * (2 / 4) / (2 / 3 + 2 / 4)
    )


def test_token_f1_of_empty_answers() -> None:
    assert token_f1(["", "", "yes"], ["", "no", ""]).terms.tolist() == [1.0, 0.0, 0.0]  # type: ignore[union-attr]


def test_rouge_l_by_hand() -> None:
    # Reference 6 tokens, candidate 5; longest common subsequence "the cat on the mat" has 5.
    assert rouge_l(["The cat sat on the mat."], ["the cat on the mat"]).value() == pytest.approx(
        2 * 1.0 * (5 / 6) / (1.0 + 5 / 6)
    )
    # Order matters: "mat the on" shares only a subsequence of length 2 with "on the mat".
    assert rouge_l(["on the mat"], ["mat the on"]).value() == pytest.approx(1 / 3)


def test_rouge_l_of_nothing_in_common_is_zero() -> None:
    assert rouge_l(["alpha beta"], ["gamma"]).value() == 0.0
    assert rouge_l([""], ["gamma"]).value() == 0.0


def test_entry_point_gives_every_generation_metric() -> None:
    estimates = bootstrap_all(
        generation_statistics(["a b", "c d", "e f"], ["a b", "c x", "y z"]), resamples=100
    )
    assert list(estimates) == ["exact_match", "token_f1", "rouge_l"]
    assert estimates["exact_match"].value == pytest.approx(1 / 3)


def test_mismatched_rows_are_refused() -> None:
    with pytest.raises(MetricError, match="references has 2 rows but generated texts has 1"):
        exact_match(["a", "b"], ["a"])
