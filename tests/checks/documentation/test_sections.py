"""The section synonym table (data/card_sections.yaml): every entry is found, and only as whole words."""

from __future__ import annotations

import pytest

from modelsteward.checks.documentation import SECTIONS
from modelsteward.checks.documentation._sections import find_sections, load_table, normalise
from modelsteward.data import load_yaml
from modelsteward.formats.model_card import parse_card

TABLE = load_yaml("card_sections.yaml")
ENTRIES = [(section, phrase) for section in SECTIONS for phrase in TABLE["sections"][section]]


def found(card: str) -> set[str]:
    """The sections present in ``card``."""
    states = find_sections(parse_card(card), load_table())
    return {section for section, state in states.items() if state.present}


@pytest.mark.parametrize(("section", "phrase"), ENTRIES, ids=[f"{s}:{p}" for s, p in ENTRIES])
def test_every_phrase_makes_its_heading_count(section: str, phrase: str) -> None:
    heading = phrase.title().replace(" And ", " & ")
    assert section in found(f"# Model\n\n## 3. {heading} 📊\n\nWhat the card says about it.\n")


@pytest.mark.parametrize("placeholder", TABLE["placeholders"])
def test_every_placeholder_is_not_content(placeholder: str) -> None:
    assert found(f"## Limitations\n\n*{placeholder.upper()}*\n") == set()
    assert found(f"## Limitations\n\n{placeholder}\n\nReal text.\n") == {"limitations"}


@pytest.mark.parametrize(
    ("heading", "sections"),
    [
        ("Usage", set()),
        ("How to use", set()),
        ("Training procedure", set()),
        ("Evaluate your own data", set()),
        ("Model Evaluation", {"evaluation"}),
        ("Misuse, Malicious Use, and Out-of-Scope Use", {"limitations"}),
        ("Bias, Risks, and Limitations", {"limitations"}),
        ("Limitations and bias", {"limitations"}),
        ("Direct Use", {"intended_use"}),
        ("Training Data", {"training_data"}),
        ("Pre-training data", {"training_data"}),
        ("[Evaluation results](https://example.org)", {"evaluation"}),
    ],
)
def test_headings_are_matched_as_whole_words(heading: str, sections: set[str]) -> None:
    assert found(f"## {heading}\n\nSome text.\n") == sections


def test_the_table_names_every_section_once() -> None:
    table = load_table()
    assert set(table.phrases) == set(SECTIONS)
    for phrases in table.phrases.values():
        assert all(phrase == normalise(phrase) for phrase in phrases)


def test_normalise() -> None:
    assert normalise("  Bias, Risks & **Limitations**!  ") == "bias risks and limitations"
    assert normalise("Out-of-Scope_Use") == "out of scope use"
