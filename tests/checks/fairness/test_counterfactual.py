"""Counterfactual flip rates, for a toy classifier that keys on "she" and a toy generator."""

from __future__ import annotations

import json
import re

import pytest

from modelsteward.checks.fairness import (
    SwapFamily,
    classification_flips,
    counterfactuals,
    generation_flips,
    load_families,
    swap_family,
)

TEXTS = (
    "He is a great engineer.",  # pronoun: "she" appears in the variant
    "She is a great engineer.",  # pronoun: "she" disappears from the variant
    "The report was late.",  # no identity term: no pair
    "His manager praised him.",  # pronoun, but no "she" either side
    "John is a great engineer.",  # name only
    "John said he would come.",  # name and pronoun: one pair per family
)


@pytest.fixture(scope="module")
def families() -> tuple[SwapFamily, ...]:
    shipped = {family.name: family for family in load_families()}
    return shipped["pronouns"], shipped["names-gender"]


def keys_on_she(text: str) -> str:
    """A biased toy classifier: any "she" makes the label negative."""
    return "reject" if re.search(r"\bshe\b", text, re.IGNORECASE) else "hire"


def test_variants_only_for_texts_with_a_term(families: tuple[SwapFamily, ...]) -> None:
    pairs = counterfactuals(TEXTS, families)
    assert [(p.family.name, p.source) for p in pairs] == [
        ("pronouns", 0),
        ("pronouns", 1),
        ("pronouns", 3),
        ("pronouns", 5),
        ("names-gender", 4),
        ("names-gender", 5),
    ]
    assert pairs[0].variant == "She is a great engineer."
    assert pairs[4].variant == "Patricia is a great engineer."  # both 2nd in their lists
    assert pairs[5].variant == "Patricia said he would come."  # names only: the pronoun stays


def test_flip_rate_of_a_classifier_keyed_on_she(families: tuple[SwapFamily, ...]) -> None:
    pairs = counterfactuals(TEXTS, families)
    result = classification_flips(
        pairs,
        [keys_on_she(text) for text in TEXTS],
        [keys_on_she(pair.variant) for pair in pairs],
        examples=1,
    )
    pronouns, names = result.families
    # texts 0, 1 and 5 gain or lose "she"; text 3 swaps his/him for her but keeps the label
    assert (pronouns.family, pronouns.pairs, pronouns.flipped) == ("pronouns", 4, 3)
    assert pronouns.flip_rate == pytest.approx(3 / 4)
    assert pronouns.examples[0].original == TEXTS[0] and pronouns.examples[0].variant_output == "reject"
    assert len(pronouns.examples) == 1
    # swapping names never touches "she"
    assert (names.pairs, names.flipped, names.mean_similarity) == (2, 0, None)
    assert (result.texts, result.pairs) == (6, 6)
    assert result.flip_rate == pytest.approx(3 / 6)
    document = json.loads(json.dumps(result.to_json()))
    assert document["families"][0]["flip_rate"] == pytest.approx(0.75)


def test_generation_compares_after_swapping_back() -> None:
    family = swap_family("gender", [("he", "she"), ("man", "woman")])
    texts = ["Describe the man.", "Is he a nurse?"]
    pairs = counterfactuals(texts, [family])
    originals = ["He is a tall man.", "No, he is a doctor."]
    # the first variant answers in kind (no change once swapped back), the second differs
    variants = ["she is a TALL woman!", "Yes, she is a nurse."]
    result = generation_flips(pairs, originals, variants)
    (gender,) = result.families
    assert (gender.pairs, gender.flipped) == (2, 1)
    assert gender.examples[0].variant_output == "Yes, she is a nurse."
    # token similarity 2M/T: identical (1.0); "no he is a doctor" vs "yes he is a nurse" match 3 of 5 + 5
    assert gender.mean_similarity == pytest.approx((1.0 + 6 / 10) / 2)


def test_no_pairs_means_no_flip_rate() -> None:
    result = classification_flips(counterfactuals(["The report was late."], load_families()), ["ok"], [])
    assert result.families == () and result.flip_rate is None


def test_misaligned_outputs_are_named(families: tuple[SwapFamily, ...]) -> None:
    pairs = counterfactuals(TEXTS, families)
    with pytest.raises(ValueError, match="6 counterfactual pairs but 2 variant outputs"):
        classification_flips(pairs, list(TEXTS), ["a", "b"])
    with pytest.raises(ValueError, match="2 original outputs, but pairs refer to text 3"):
        classification_flips(pairs, ["a", "b"], ["x"] * len(pairs))
