"""Identity-term swaps: exact, case-keeping, reversible, names by list, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.checks.fairness import ContextSwap, SwapFamily, load_families, swap_family


@pytest.fixture(scope="module")
def shipped() -> dict[str, SwapFamily]:
    return {family.name: family for family in load_families()}


@pytest.mark.parametrize(
    ("text", "swapped"),
    [
        ("He said she was late.", "She said he was late."),
        ("She gave him her book.", "He gave her his book."),
        ("I met her on Monday.", "I met him on Monday."),
        ("The coat is HIS, not hers.", "The coat is HERS, not his."),
        ("He hurt himself.", "She hurt herself."),
        ("he's here", "she's here"),
    ],
)
def test_pronouns_swap_exactly_and_back(shipped: dict[str, SwapFamily], text: str, swapped: str) -> None:
    pronouns = shipped["pronouns"]
    assert pronouns.swap(text) == swapped
    assert pronouns.swap(swapped) == text


def test_only_whole_words_are_swapped(shipped: dict[str, SwapFamily]) -> None:
    text = "The shepherd's theme: hence, other heroes."
    assert not shipped["pronouns"].applies(text)
    assert shipped["pronouns"].swap(text) == text
    assert shipped["gendered-nouns"].swap("A manager, a man and a woman.") == "A manager, a woman and a man."


def test_names_swap_by_position_in_their_lists(shipped: dict[str, SwapFamily]) -> None:
    names = shipped["names-gender"]
    # James and John are the 1st and 2nd male names; Mary and Patricia the 1st and 2nd female ones
    assert names.swap("James met Patricia.") == "Mary met John."
    assert names.swap("Mary met John.") == "James met Patricia."
    assert names.swap("JAMES, james") == "MARY, mary"
    # Brad and Greg are the 1st and 4th European-American names; Darnell and Kareem the 1st and 4th
    # African-American ones
    assert shipped["names-race"].swap("Brad and Kareem") == "Darnell and Greg"


def test_user_pairs_make_a_family() -> None:
    family = swap_family("religion", [("church", "mosque"), ("Christian", "Muslim")])
    assert family.swap("A Christian went to church.") == "A Muslim went to mosque."
    assert family.swap("A Muslim went to mosque.") == "A Christian went to church."


def test_a_user_file_uses_the_shipped_function_words(tmp_path: Path) -> None:
    path = tmp_path / "families.yaml"
    path.write_text(
        "families:\n"
        "  titles:\n"
        "    pairs: [[sir, madam], [sir, dame]]\n"
        "    context: {sir: {before_word: dame, otherwise: madam}}\n",
        encoding="utf-8",
    )
    (titles,) = load_families(path)
    assert titles.swap("Thank you, sir.") == "Thank you, madam."
    assert titles.swap("Sir Elton") == "Dame Elton"
    assert titles.swap("Sir and madam") == "Madam and sir"  # `and` is a shipped function word


@pytest.mark.parametrize(
    ("pairs", "context", "message"),
    [
        ([], None, "has no pairs"),
        ([("he", "HE")], None, "paired with itself"),
        ([("he", "")], None, "two non-empty terms"),
        ([("his", "her"), ("him", "her")], None, r"'her' has counterparts \['him', 'his'\]; add a context"),
        ([("his", "her"), ("him", "her")], {"her": ContextSwap("his", "them")}, "must choose between"),
        ([("he", "she")], {"they": ContextSwap("a", "b")}, "terms in no pair"),
    ],
)
def test_bad_families_are_named(
    pairs: list[tuple[str, str]], context: dict[str, ContextSwap] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        swap_family("custom", pairs, context=context)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("families: {}\n", "non-empty `families`"),
        ("families: {x: {pairs: [[a]]}}\n", r"\[term, counterpart\] lists"),
        ("families: {x: {names: {a: [A, B], b: [C]}}}\n", "lists of one length"),
        ("families: {x: {names: {a: [A]}}}\n", "exactly two groups"),
        ("families: {x: {pairs: [[a, b]], context: {a: {otherwise: b}}}}\n", "context.a needs exactly"),
        ("families: {x: {words: [a]}}\n", "expected `pairs`"),
        ("function_words: the\nfamilies: {x: {pairs: [[a, b]]}}\n", "`function_words` must be a list"),
        ("families: {x: {pairs: [[a, b], [a, c]]}}\n", "add a context entry"),
    ],
)
def test_bad_family_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "families.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_families(path)
    assert str(path) in str(error.value)


def test_every_shipped_family_is_reversible_on_its_own_terms(shipped: dict[str, SwapFamily]) -> None:
    for family in shipped.values():
        for term, counterpart in family.counterparts.items():
            sentence = f"I was with {term}."
            assert family.swap(sentence) == f"I was with {counterpart.lower()}."
            assert family.swap(family.swap(sentence)) == sentence, (family.name, term)
