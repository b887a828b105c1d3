"""Check the raw storage section of a legacy (non-zip) ``torch.save`` file without reading its data.

The legacy format is five pickle streams (magic number, protocol version, system info, the data
pickle, the sorted list of storage keys) followed, for each key in that list, by an int64
little-endian element count and that many elements of the key's storage type. The data pickle
names each storage in a persistent id ``('storage', storage_type, key, location, numel, ...)``;
``torch.load`` reads exactly one record per listed key and ignores whatever follows the last.
Only the 8-byte record headers are read here: a file whose records do not end exactly at the end
of the data is truncated, corrupt, or hides bytes after its last record.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.pickle._vm import Int, Ref, Text, Tuple, Value
from modelsteward.data import load_yaml
from modelsteward.formats.pickle_ops import PickleSyntaxError, tokenize

__all__ = ["DATA_STREAM", "KEYS_STREAM", "STREAMS", "check_storages", "is_magic", "missing_streams"]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
"""torch.serialization.MAGIC_NUMBER: the value of a legacy file's first pickle."""
DATA_STREAM = 4
KEYS_STREAM = 5
STREAMS = 5
_HEADER = 8
"""Bytes of the element count in front of each storage record."""

# Opcodes of a pickled list of str besides the text itself: framing and memo writes change nothing.
_NEUTRAL = frozenset({"PROTO", "FRAME", "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"})
_TEXT = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
)


@dataclass(frozen=True, slots=True)
class _Declared:
    """What the data pickle's first persistent id for one storage key says about it."""

    storage_type: str
    """Dotted name of the storage class (``torch.FloatStorage``), or a description of the value."""
    numel: int | None
    """Element count, or None if the id does not give it as an integer."""


@functools.cache
def _element_sizes() -> Mapping[str, int]:
    table = load_yaml("torch_storage_types.yaml")
    sizes = {str(name): int(size) for name, size in table["element_sizes"].items()}
    return {f"{module}.{name}": size for module in table["modules"] for name, size in sizes.items()}


def is_magic(value: Value | None) -> bool:
    """Whether a file's first pickle stream loads to torch's legacy magic number."""
    return isinstance(value, Int) and value.value == MAGIC_NUMBER


def missing_streams(streams: int, end: int, ctx: Context) -> None:
    """Report a legacy file whose pickle streams stop after ``streams`` of them, at ``end``."""
    _mismatch(f"the file has {streams} of the {STREAMS} pickle streams of the legacy format", end, ctx)


def check_storages(
    data: memoryview, keys_start: int, records_start: int, pids: Sequence[Tuple], ctx: Context
) -> None:
    """Walk the storage records after the key list stream (``keys_start``..``records_start``).

    ``pids`` are the persistent ids of the data pickle. A walk that does not end exactly at the
    end of ``data`` is reported and makes the file incomplete; bytes after the last record are
    also scanned as a file of their own, since nothing the loader reads accounts for them.
    """
    keys = _storage_keys(data, keys_start)
    if keys is None:
        _mismatch("the storage key list is not a list of strings", keys_start, ctx)
        return
    declared = _declared(pids)
    end, problem = _walk(data, records_start, keys, declared)
    if problem is None:
        unlisted = sorted(set(declared) - set(keys))
        if unlisted:
            problem = (
                f"{len(unlisted)} storage(s) named in the data pickle have no record, e.g. {unlisted[0]!r}"
            )
    if problem is not None:
        _mismatch(problem, end, ctx)
        return
    if end < len(data):
        at = f"offset {end}"
        ctx.report(
            "PICKLE-TORCH-TRAILING-DATA", f"{len(data) - end} bytes after the last storage record", at=at
        )
        ctx.incomplete("bytes after the last storage record of a legacy torch file", at=at)
        ctx.nested(data[end:], at=at, name="trailing data")


def _mismatch(problem: str, offset: int, ctx: Context) -> None:
    at = f"offset {offset}"
    ctx.report("PICKLE-TORCH-STORAGE-MISMATCH", problem, at=at)
    ctx.incomplete(f"legacy torch storages unreadable: {problem}", at=at)


def _storage_keys(data: memoryview, start: int) -> list[str] | None:
    """The list of str the pickle stream at ``start`` loads to, or None if it loads to anything else.

    Only what a pickler writes for such a list is accepted: one list, filled by APPEND (one text)
    or MARK ... APPENDS; anything else, even if it would load, fails closed.
    """
    keys: list[str] | None = None
    pending: list[str] = []
    batch = False
    try:
        for op in tokenize(data, start):
            name = op.name
            if name in _NEUTRAL:
                continue
            if name in _TEXT and isinstance(op.arg, str) and (batch or not pending):
                pending.append(op.arg)
            elif name == "MARK" and not batch and not pending:
                batch = True
            elif name == "EMPTY_LIST" and keys is None and not batch and not pending:
                keys = []
            elif name == "LIST" and keys is None and batch:
                keys, pending, batch = pending, [], False
            elif keys is not None and (
                (name == "APPEND" and not batch and len(pending) == 1) or (name == "APPENDS" and batch)
            ):
                keys.extend(pending)
                pending, batch = [], False
            elif name == "STOP" and keys is not None and not batch and not pending:
                return keys
            else:
                return None
    except PickleSyntaxError:
        return None
    return None


def _declared(pids: Sequence[Tuple]) -> dict[str, _Declared]:
    """Storage key -> its first ``('storage', ...)`` persistent id (later ones reuse that storage)."""
    declared: dict[str, _Declared] = {}
    for pid in pids:
        items = pid.items
        if len(items) < 5 or not _is_storage(items[0]) or not isinstance(items[2], Text):
            continue
        kind, numel = items[1], items[4]
        storage_type = kind.verdict.name.dotted if isinstance(kind, Ref) else "a value that is not a global"
        declared.setdefault(
            items[2].value, _Declared(storage_type, numel.value if isinstance(numel, Int) else None)
        )
    return declared


def _is_storage(value: Value) -> bool:
    return isinstance(value, Text) and value.value == "storage"


def _walk(
    data: memoryview, pos: int, keys: list[str], declared: Mapping[str, _Declared]
) -> tuple[int, str | None]:
    """Offset after the last record, or the offset of the first bad record and what is wrong."""
    sizes = _element_sizes()
    for key in keys:
        storage = declared.get(key)
        if storage is None:
            return pos, f"storage key {key!r} is named by no persistent id of the data pickle"
        size = sizes.get(storage.storage_type)
        if size is None:
            return pos, f"storage {key!r} has an unknown storage type ({storage.storage_type})"
        if storage.numel is None:
            return pos, f"the persistent id of storage {key!r} gives no integer element count"
        if len(data) - pos < _HEADER:
            return pos, f"the data ends inside the record header of storage {key!r}"
        count = int.from_bytes(data[pos : pos + _HEADER], "little", signed=True)
        if count != storage.numel or count < 0:
            return pos, f"storage {key!r} holds {count} elements, its persistent id says {storage.numel}"
        length = count * size
        if length > len(data) - pos - _HEADER:
            left = len(data) - pos - _HEADER
            return pos, f"storage {key!r} needs {length} bytes, {left} are left"
        pos += _HEADER + length
    return pos, None
