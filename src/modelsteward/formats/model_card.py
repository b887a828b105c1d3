"""A Hugging Face model card (README.md): YAML front matter between ``---`` lines, then Markdown.

The card is split the way the Hub's client library splits it (its ``REGEX_YAML_BLOCK``): the opening
``---`` may follow blank lines, the closing one starts a line and may carry trailing blanks, and both
are followed by a line break (the closing one may end the text). Where that pattern finds no block,
two cases differ: a closing line right after the opening one is empty front matter, not Markdown, and
a block that is opened but never closed is an error rather than Markdown, so that metadata an author
meant to write is never silently ignored. A leading byte-order mark is not part of the card.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.reader import ReaderError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_OPENING = re.compile(r"\s*---(?:\r\n|\r|\n)")
# The Hub's REGEX_YAML_BLOCK: the opening line (after blank lines), the YAML, the closing line.
_FRONT_MATTER = re.compile(r"(\s*---(?:\r\n|\r|\n))([\S\s]*?)(?:\r\n|\r|\n)---[ \t]*(?:\r\n|\n|$)")
# What that pattern misses: a closing line right after the opening one.
_EMPTY_FRONT_MATTER = re.compile(r"(\s*---(?:\r\n|\r|\n))()---[ \t]*(?:\r\n|\n|$)")


@dataclass(frozen=True, slots=True)
class Card:
    """A model card split into its metadata and its Markdown."""

    metadata: Mapping[str, Any]
    """The front matter parsed: a mapping, empty when the card has no front matter or an empty one."""
    front_matter: str | None
    """The YAML between the ``---`` lines, verbatim; None when the card has no front matter."""
    body: str
    """Everything after the front matter, verbatim: the whole card when it has none."""
    body_line: int
    """The 1-based line of the card on which ``body`` starts."""


class CardError(ValueError):
    """A model card whose front matter cannot be read; ``str()`` says where: ``README.md:3:7: ...``."""

    def __init__(self, filename: str, line: int, column: int, reason: str, card: Card) -> None:
        super().__init__(f"{filename}:{line}:{column}: {reason}")
        self.filename = filename
        self.line = line
        """1-based line in the card."""
        self.column = column
        """1-based column in the card."""
        self.reason = reason
        """What is wrong, without the location."""
        self.card = card
        """The card without metadata, for a reader that can do without it: its Markdown starts after the
        front matter, or at the top when the front matter is never closed."""


def parse_card(text: str, *, filename: str = "README.md") -> Card:
    """Split ``text`` into front matter and Markdown and parse the front matter.

    Raise :class:`CardError`, naming ``filename`` and the line and column, when the front matter is
    never closed, is not valid YAML, or is not a mapping.
    """
    text = text.removeprefix("\ufeff")
    match = _FRONT_MATTER.match(text) or _EMPTY_FRONT_MATTER.match(text)
    if match is None:
        whole = Card(metadata={}, front_matter=None, body=text, body_line=1)
        opening = _OPENING.match(text)
        if opening is None:
            return whole
        line, column = _position(text, opening.end() - len(opening.group().lstrip()))
        raise CardError(filename, line, column, "the metadata block opened by `---` is never closed", whole)
    block = match.group(2)
    first_line = _lines(match.group(1)) + 1  # of the YAML
    unread = Card(
        metadata={}, front_matter=block, body=text[match.end() :], body_line=_lines(match.group(0)) + 1
    )
    try:
        # The safe loader in Python, as the Hub's library uses: the C one places some errors elsewhere.
        metadata = yaml.safe_load(block)
    except yaml.YAMLError as error:
        line, column = _yaml_position(error, block)
        reason = f"the metadata is not valid YAML: {_problem(error)}"
        raise CardError(filename, first_line + line, column, reason, unread) from None
    except RecursionError:
        raise CardError(filename, first_line, 1, "the metadata is nested too deeply", unread) from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        kind = type(metadata).__name__
        raise CardError(filename, first_line, 1, f"the metadata is a {kind}, not a mapping", unread)
    return Card(metadata=metadata, front_matter=block, body=unread.body, body_line=unread.body_line)


def _lines(text: str) -> int:
    """How many line breaks ``text`` holds: the number of lines it spans before its last."""
    return len(_LINE_BREAK.findall(text))


def _position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` in ``text``."""
    before = text[:offset]
    last = max(before.rfind("\n"), before.rfind("\r"))
    return _lines(before) + 1, offset - last


def _yaml_position(error: yaml.YAMLError, block: str) -> tuple[int, int]:
    """Where in ``block`` the error is: the 0-based line (lines after the first) and the 1-based column."""
    if isinstance(error, ReaderError):  # a character YAML does not allow, at an offset, not a mark
        line, column = _position(block, error.position)
        return line - 1, column
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return (mark.line, mark.column + 1) if mark is not None else (0, 1)


def _problem(error: yaml.YAMLError) -> str:
    if isinstance(error, ReaderError) and isinstance(error.character, int):
        return f"the character U+{error.character:04X} is not allowed"
    problem = getattr(error, "problem", None) or getattr(error, "context", None) or str(error)
    return " ".join(str(problem).split())
