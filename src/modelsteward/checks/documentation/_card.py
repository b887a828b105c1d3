"""A model card as the Hugging Face Hub reads one: YAML front matter, then Markdown headings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Lines a setext underline cannot turn into a heading: list items, quotes, tables, fences.
_NOT_PARAGRAPH = re.compile(r"^ {0,3}([-*+][ \t]|\d{1,9}[.)][ \t]|>|\||`{3,}|~{3,})")
_FRONT_MATTER_END = ("---", "...")


@dataclass(frozen=True, slots=True)
class Heading:
    """One heading of the card and what is written under it."""

    level: int
    """1 for ``#`` (or ``===`` underlining), up to 6."""
    title: str
    line: int
    """1-based line of the heading in the card file."""
    body: tuple[str, ...]
    """The lines under the heading up to the next heading of the same or a higher level; the text
    of sub-sections belongs to it, their heading lines do not."""


@dataclass(frozen=True, slots=True)
class Card:
    """The parts of a model card the documentation check reads."""

    metadata: Mapping[str, Any] | None
    """The front matter, when there is one and it is a YAML mapping."""
    headings: tuple[Heading, ...]


def parse_card(text: str) -> Card:
    """Split ``text`` into front matter and Markdown headings; never raises on odd input."""
    lines = text.removeprefix("\ufeff").splitlines()
    metadata, start = _front_matter(lines)
    return Card(metadata=metadata, headings=_headings(lines, start))


def _front_matter(lines: list[str]) -> tuple[Mapping[str, Any] | None, int]:
    """The metadata mapping and the index of the first Markdown line."""
    if not lines or lines[0].strip() != "---":
        return None, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in _FRONT_MATTER_END), None)
    if end is None:
        return None, 0
    try:
        metadata = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        metadata = None
    return (metadata if isinstance(metadata, dict) else None), end + 1


def _headings(lines: list[str], start: int) -> tuple[Heading, ...]:
    # (index, level, title) of each heading, and the indexes of lines that belong to no body.
    found: list[tuple[int, int, str]] = []
    markup: set[int] = set()
    fence = ""
    for i in range(start, len(lines)):
        line = lines[i]
        opening = _FENCE.match(line)
        if fence:
            # Code is content, never a heading: "# load the model" in a Python block is a comment.
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            found.append((i, len(atx.group(1)), (atx.group(2) or "").strip()))
            markup.add(i)
        elif _SETEXT.match(line) and _is_paragraph(lines, i - 1, start, markup):
            level = 1 if line.strip().startswith("=") else 2
            found.append((i - 1, level, lines[i - 1].strip()))
            markup.update((i - 1, i))
    headings = []
    for n, (index, level, title) in enumerate(found):
        end = next((j for j, lv, _ in found[n + 1 :] if lv <= level), len(lines))
        body = tuple(lines[j] for j in range(index + 1, end) if j not in markup)
        headings.append(Heading(level=level, title=title, line=index + 1, body=body))
    return tuple(headings)


def _is_paragraph(lines: list[str], index: int, start: int, markup: set[int]) -> bool:
    """Whether line ``index`` is text that a setext underline below it turns into a heading."""
    if index < start or index in markup:
        return False
    return bool(lines[index].strip()) and not _NOT_PARAGRAPH.match(lines[index])
