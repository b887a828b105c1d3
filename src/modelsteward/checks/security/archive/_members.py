"""What every archive reader does with a member it found: count it, then scan its bytes."""

from __future__ import annotations

import re

from modelsteward.checks.security._context import Context

# torch.save's zip layout keeps each tensor's raw bytes in ``<archive>/data/<key>``.
_TENSOR_STORAGE = re.compile(r"(?:^|/)data/\d+$")


def admit(ctx: Context, *, at: str) -> bool:
    """Count one more member of the top-level file; False (and reported) past the member limit."""
    ctx.sink.members += 1
    limit = ctx.options.limits.max_members
    if ctx.sink.members <= limit:
        return True
    ctx.report("ARCHIVE-TOO-MANY-MEMBERS", f"more than {limit} members", at=at)
    ctx.incomplete("member limit reached; the remaining members were not scanned", at=at)
    return False


def basename(name: str) -> str:
    """The last component of a member name, whichever separator the archiver used."""
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def scan_member(view: memoryview, ctx: Context, *, at: str, name: str) -> None:
    """Scan a member's bytes as a file of its own, named by the member's base name.

    A tensor storage is read by torch as raw numbers, never parsed: random weights that happen to
    start like a pickle or an archive are data, so only findings inside them count.
    """
    storage = _TENSOR_STORAGE.search(name.replace("\\", "/")) is not None
    ctx.nested(view, at=at, name=basename(name), speculative=storage)
