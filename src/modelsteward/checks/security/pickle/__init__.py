"""Pickle scanner: simulate the unpickler over every stream in the data; never unpickle.

Each stream is read as CPython's C unpickler reads it (see ``_vm``); every global it imports is
judged against the allowlist and denylist (``_policy``), every call and instantiation by what it
calls. Streams stacked one after another (the legacy ``torch.save`` format writes five) are all
scanned; bytes after a STOP that do not read as a pickle end the scan without a finding.
"""

from __future__ import annotations

from collections.abc import Callable

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.pickle._payloads import look_inside
from modelsteward.checks.security.pickle._policy import policy
from modelsteward.checks.security.pickle._vm import Machine
from modelsteward.formats.pickle_ops import Op, probe

__all__ = ["scan"]


def _placer(stream: int) -> Callable[[int], str]:
    if stream == 1:
        return lambda offset: f"offset {offset}"
    return lambda offset: f"stream {stream}, offset {offset}"


def scan(data: memoryview, ctx: Context) -> None:
    """Report what loading ``data`` with pickle (as many times as it holds streams) would do."""
    start = 0
    stream = 1
    # One opcode budget for the whole file, so that a million stacked two-opcode streams end too.
    budget = ctx.options.limits.max_pickle_ops
    while True:
        place = _placer(stream)

        def payload(op: Op, place: Callable[[int], str] = place) -> None:
            look_inside(op, ctx, place(op.offset))

        outcome = Machine(data, start, ctx, policy(), place, payload, budget).run()
        budget -= outcome.ops
        if outcome.limited or outcome.end is None or outcome.end >= len(data):
            return
        if not probe(data[outcome.end :]):
            return
        start = outcome.end
        stream += 1
