"""Which of the four sections a card documents, by its headings and the synonyms in the data table."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from modelsteward.checks.documentation._headings import Heading, headings
from modelsteward.data import load_yaml
from modelsteward.formats.model_card import Card

Section = Literal["intended_use", "limitations", "training_data", "evaluation"]
"""A section of a model card that the documentation check looks for and a policy may require."""
SECTIONS: tuple[Section, ...] = get_args(Section)

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_WORD = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class SectionTable:
    """The phrases that make a heading count for each section, and the placeholder phrases."""

    phrases: Mapping[Section, tuple[str, ...]]
    """Normalised (see :func:`normalise`)."""
    placeholder: re.Pattern[str]
    """Matches a line that holds a placeholder phrase."""


@dataclass(frozen=True, slots=True)
class SectionState:
    """Whether the card documents a section, and the heading that shows it."""

    present: bool
    heading: Heading | None = None
    """The heading with content when present; otherwise the first matching heading left empty."""
    source: str = ""
    """Where the section was found when not under a heading (``model-index metadata``)."""


def normalise(text: str) -> str:
    """Lower case, ``&`` read as ``and``, every other non-alphanumeric run read as one space."""
    words = re.sub(r"[\W_]+", " ", text.lower().replace("&", " and "))
    return " ".join(words.split())


@functools.cache
def load_table() -> SectionTable:
    """``data/card_sections.yaml``, validated; raise ValueError naming what is malformed."""
    raw = load_yaml("card_sections.yaml")
    where = "data/card_sections.yaml"
    if not isinstance(raw, dict) or set(raw) != {"sections", "placeholders"}:
        raise ValueError(f"{where}: expected the keys sections and placeholders")
    sections, placeholders = raw["sections"], raw["placeholders"]
    if not isinstance(sections, dict) or set(sections) != set(SECTIONS):
        raise ValueError(f"{where}: sections must name exactly {', '.join(SECTIONS)}")
    phrases: dict[Section, tuple[str, ...]] = {}
    for section in SECTIONS:
        phrases[section] = _phrases(sections[section], f"{where}: sections.{section}")
    words = _phrases(placeholders, f"{where}: placeholders")
    pattern = "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in words)
    return SectionTable(phrases=phrases, placeholder=re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE))


def _phrases(entries: object, where: str) -> tuple[str, ...]:
    if not isinstance(entries, list) or not entries or not all(isinstance(e, str) for e in entries):
        raise ValueError(f"{where} must be a non-empty list of phrases")
    phrases = tuple(normalise(e) for e in entries)
    if "" in phrases or len(set(phrases)) != len(phrases):
        raise ValueError(f"{where} has an empty or repeated phrase")
    return phrases


def find_sections(card: Card, table: SectionTable) -> dict[Section, SectionState]:
    """The state of every section of ``card``; the first heading with content wins."""
    states: dict[Section, SectionState] = {}
    found = headings(card)
    for section in SECTIONS:
        matching = [h for h in found if _counts_for(h.title, table.phrases[section])]
        filled = next((h for h in matching if has_content(h.body, table)), None)
        if filled is not None:
            states[section] = SectionState(present=True, heading=filled)
        elif section == "evaluation" and _has_model_index(card.metadata):
            states[section] = SectionState(present=True, source="model-index metadata")
        else:
            states[section] = SectionState(present=False, heading=matching[0] if matching else None)
    return states


def has_content(body: tuple[str, ...], table: SectionTable) -> bool:
    """Whether ``body`` says anything beyond comments and placeholders."""
    text = _COMMENT.sub("", "\n".join(body))
    return any(_WORD.search(line) and not table.placeholder.search(line) for line in text.splitlines())


def _counts_for(title: str, phrases: tuple[str, ...]) -> bool:
    padded = f" {normalise(title)} "
    return any(f" {phrase} " in padded for phrase in phrases)


def _has_model_index(metadata: Mapping[str, object]) -> bool:
    """Whether the card metadata reports evaluation results in the Hub's ``model-index`` form."""
    index = metadata.get("model-index")
    if not isinstance(index, list):
        return False
    return any(isinstance(entry, dict) and entry.get("results") for entry in index)
