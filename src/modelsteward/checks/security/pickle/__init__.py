"""Pickle scanner: simulate the unpickler over every stream in the data; never unpickle.

Each stream is read as CPython's C unpickler reads it (see ``_vm``); every global it imports is
judged against the allowlist and denylist (``_policy``), every call and instantiation by what it
calls. Streams stacked one after another are all scanned; bytes after a STOP that do not read as a
pickle end the scan without a finding, except in a legacy ``torch.save`` file (five streams, then
raw storage records), whose records are checked to end exactly at the end of the data
(``_torch_legacy``).
"""

from __future__ import annotations

from collections.abc import Callable

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.pickle import _torch_legacy as legacy
from modelsteward.checks.security.pickle._payloads import look_inside
from modelsteward.checks.security.pickle._policy import policy
from modelsteward.checks.security.pickle._vm import Machine, Tuple
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
    torch_legacy = False
    pids: list[Tuple] = []
    while True:
        place = _placer(stream)

        def payload(op: Op, place: Callable[[int], str] = place) -> None:
            look_inside(op, ctx, place)

        machine = Machine(data, start, ctx, policy(), place, payload, budget)
        outcome = machine.run()
        budget -= outcome.ops
        if outcome.limited or outcome.end is None:
            return
        if stream == 1:
            torch_legacy = legacy.is_magic(outcome.value)
        if torch_legacy and stream == legacy.DATA_STREAM:
            pids = machine.persistent
        if torch_legacy and stream == legacy.KEYS_STREAM:
            legacy.check_storages(data, start, outcome.end, pids, ctx)
            return
        if outcome.end >= len(data) or not probe(data[outcome.end :]):
            if torch_legacy:
                legacy.missing_streams(stream, outcome.end, ctx)
            return
        start = outcome.end
        stream += 1
