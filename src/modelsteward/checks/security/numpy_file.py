"""``.npy`` arrays: the header is a Python literal, and object arrays are pickles.

``np.load(allow_pickle=True)`` unpickles the data of an object array, so that data is scanned
as a pickle. Other arrays are raw numbers: only their size is checked, never their values.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

from modelsteward.checks.security._context import Context

_MAGIC = b"\x93NUMPY"
# numpy refuses headers above 10 000 bytes unless told to trust the file; reading further is
# pointless and literal_eval of a huge literal is slow.
_MAX_HEADER = 1 << 16
_KEYS = {"descr", "fortran_order", "shape"}


class _MalformedError(ValueError):
    """A header np.load refuses."""


@dataclass(frozen=True, slots=True)
class _Header:
    descr: Any
    shape: tuple[int, ...]
    end: int
    """Offset of the array data."""


def scan(data: memoryview, ctx: Context) -> None:
    """Scan an ``.npy`` array: the pickle of an object array, the size of any other."""
    try:
        header = _header(data)
        itemsize, has_object = _dtype(header.descr)
    except _MalformedError as error:
        ctx.report("NUMPY-MALFORMED", str(error))
        ctx.incomplete("unreadable .npy header")
        return
    body = data[header.end :]
    if has_object:
        ctx.nested(body, at="object array data")
        return
    expected = math.prod(header.shape) * itemsize
    if len(body) == expected:
        return
    ctx.report(
        "NUMPY-SIZE-MISMATCH",
        f"header shape {header.shape} needs {expected} bytes, the file holds {len(body)}",
    )
    ctx.incomplete("array data does not match its header")
    if len(body) > expected:
        ctx.nested(body[expected:], at=f"bytes after the array data at offset {header.end + expected}")


def _header(data: memoryview) -> _Header:
    head = bytes(data[:12])
    if not head.startswith(_MAGIC) or len(head) < 10:
        raise _MalformedError("file is shorter than the .npy preamble")
    major = head[6]
    if major == 1:
        length, start, encoding = int.from_bytes(head[8:10], "little"), 10, "latin-1"
    elif major in (2, 3) and len(head) == 12:
        length, start = int.from_bytes(head[8:12], "little"), 12
        encoding = "utf-8" if major == 3 else "latin-1"
    else:
        raise _MalformedError(f"unknown .npy format version {major}.{head[7]}")
    if length > _MAX_HEADER or start + length > len(data):
        raise _MalformedError(f"header length {length} runs past the file or the {_MAX_HEADER}-byte limit")
    try:
        text = bytes(data[start : start + length]).decode(encoding)
        # ast.literal_eval builds literals only: it never calls or imports anything.
        value = ast.literal_eval(text)
    except (UnicodeDecodeError, ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
        raise _MalformedError(f"header is not a Python literal ({type(error).__name__})") from error
    if not isinstance(value, dict) or set(value) != _KEYS:
        raise _MalformedError(f"header must be a dict with exactly the keys {sorted(_KEYS)}")
    shape = value["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise _MalformedError(f"shape {shape!r} is not a tuple of non-negative integers")
    if not isinstance(value["fortran_order"], bool):
        raise _MalformedError("fortran_order is not a boolean")
    return _Header(descr=value["descr"], shape=shape, end=start + length)


def _dtype(descr: Any) -> tuple[int, bool]:
    """Item size and whether it holds Python objects, as numpy reads ``descr``."""
    import numpy  # noqa: PLC0415 - heavy, and only needed for .npy content

    try:
        # Building a dtype from a description parses it; it imports and calls nothing it names.
        dtype = numpy.lib.format.descr_to_dtype(descr)
    except (TypeError, ValueError, KeyError, IndexError, SyntaxError, RecursionError) as error:
        raise _MalformedError(f"descr {descr!r} is no numpy dtype ({type(error).__name__})") from error
    return dtype.itemsize, bool(dtype.hasobject)
