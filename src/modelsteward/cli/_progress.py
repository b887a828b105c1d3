"""One self-erasing progress line on stderr for long commands; nothing when piped or quiet."""

from __future__ import annotations

import sys

from modelsteward._text import printable
from modelsteward.core.progress import Progress


def progress_line(quiet: bool, prefix: str = "") -> Progress | None:
    """A function that shows each message in place of the last, or None when nobody would see it."""
    if quiet or not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        # Messages name files and models: no control character of theirs reaches the terminal.
        sys.stderr.write(f"\x1b[2K\r{prefix}{printable(message, 200)}"[:200])
        sys.stderr.flush()

    return show


def clear(progress: Progress | None) -> None:
    """Erase the progress line, if one was shown."""
    if progress is not None:
        sys.stderr.write("\x1b[2K\r")
        sys.stderr.flush()
