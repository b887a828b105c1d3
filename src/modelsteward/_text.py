"""Text from outside (a model card, a commit, a model's own reply) made safe to print and to store.

One rule everywhere: a character a terminal could act on (C0 and C1 controls such as ESC, BEL and
DEL, and the other characters Python does not call printable: format characters such as bidi
overrides, separators other than the space) is shown as ``?``, and the text is cut to a bound.
"""

from __future__ import annotations


def printable(text: str, limit: int, *, keep: str = "") -> str:
    """``text`` with every character that is not printable (but those in ``keep``, such as ``"\\n"``)
    shown as ``?``, cut to ``limit`` characters with ``...`` after them."""
    shown = "".join(c if c.isprintable() or c in keep else "?" for c in text[: limit + 1])
    return shown if len(shown) <= limit else f"{shown[:limit]}..."
