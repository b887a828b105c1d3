"""The Markdown headings of a model card, and what is written under each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelsteward.formats.model_card import Card

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Lines a setext underline cannot turn into a heading: list items, quotes, tables, fences.
_NOT_PARAGRAPH = re.compile(r"^ {0,3}([-*+][ \t]|\d{1,9}[.)][ \t]|>|\||`{3,}|~{3,})")


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


def headings(card: Card) -> tuple[Heading, ...]:
    """The headings of the card's Markdown, in order; headings in fenced code are code, not headings."""
    lines = card.body.splitlines()
    # (index, level, title) of each heading, and the indexes of lines that belong to no body.
    found: list[tuple[int, int, str]] = []
    markup: set[int] = set()
    fence = ""
    for i, line in enumerate(lines):
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
        elif _SETEXT.match(line) and _is_paragraph(lines, i - 1, markup):
            level = 1 if line.strip().startswith("=") else 2
            found.append((i - 1, level, lines[i - 1].strip()))
            markup.update((i - 1, i))
    result = []
    for n, (index, level, title) in enumerate(found):
        end = next((j for j, lv, _ in found[n + 1 :] if lv <= level), len(lines))
        body = tuple(lines[j] for j in range(index + 1, end) if j not in markup)
        result.append(Heading(level=level, title=title, line=card.body_line + index, body=body))
    return tuple(result)


def _is_paragraph(lines: list[str], index: int, markup: set[int]) -> bool:
    """Whether line ``index`` is text that a setext underline below it turns into a heading."""
    if index < 0 or index in markup:
        return False
    return bool(lines[index].strip()) and not _NOT_PARAGRAPH.match(lines[index])
