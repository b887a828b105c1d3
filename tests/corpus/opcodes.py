"""Hand assembly of pickle opcodes, for streams the pickle module would never write.

Each helper returns the bytes of one opcode or of a short sequence that leaves one value on the
stack; a program is their concatenation wrapped by :func:`program`. Nothing here unpickles.
"""

from __future__ import annotations

import struct

MARK = b"("
STOP = b"."
POP = b"0"
REDUCE = b"R"
BUILD = b"b"
TUPLE = b"t"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
EMPTY_LIST = b"]"
SETITEM = b"s"
APPEND = b"a"
NONE = b"N"
TUPLE2 = b"\x86"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
OBJ = b"o"


def header(protocol: int) -> bytes:
    """The PROTO opcode, which protocols 0 and 1 do not have."""
    return b"\x80" + bytes([protocol]) if protocol >= 2 else b""


def frame(body: bytes) -> bytes:
    """A protocol 4 FRAME announcing exactly ``body``."""
    return b"\x95" + struct.pack("<Q", len(body)) + body


def program(body: bytes, protocol: int = 2) -> bytes:
    """A whole stream: PROTO, one FRAME from protocol 4 on, ``body`` and STOP."""
    payload = body + STOP
    return header(protocol) + (frame(payload) if protocol >= 4 else payload)


def text(value: str, protocol: int = 2) -> bytes:
    """A str the way the pickle module writes it in ``protocol``."""
    raw = value.encode("utf-8")
    if protocol == 0:
        return b"V" + value.encode("raw-unicode-escape") + b"\n"
    if protocol >= 4 and len(raw) < 256:
        return short_binunicode(value)
    return binunicode(value)


def short_binunicode(value: str) -> bytes:
    """SHORT_BINUNICODE: one length byte, then UTF-8."""
    raw = value.encode("utf-8")
    return b"\x8c" + bytes([len(raw)]) + raw


def binunicode(value: str) -> bytes:
    """BINUNICODE: four length bytes, then UTF-8."""
    raw = value.encode("utf-8")
    return b"X" + struct.pack("<I", len(raw)) + raw


def string(value: str) -> bytes:
    """STRING, the protocol 0 quoted form, which Python 3 decodes to str."""
    return b"S" + repr(value).encode("ascii") + b"\n"


def binbytes(value: bytes) -> bytes:
    """BINBYTES (protocol 3): four length bytes, then the raw bytes."""
    return b"B" + struct.pack("<I", len(value)) + value


def integer(value: int) -> bytes:
    """BININT, a signed four-byte integer."""
    return b"J" + struct.pack("<i", value)


def binget(index: int) -> bytes:
    """BINGET: push memo entry ``index`` (< 256)."""
    return b"h" + bytes([index])


def global_(module: str, name: str) -> bytes:
    """GLOBAL: resolve ``module.name`` from two newline-terminated lines."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global(module: str, name: str) -> bytes:
    """Two SHORT_BINUNICODE strings then STACK_GLOBAL."""
    return short_binunicode(module) + short_binunicode(name) + STACK_GLOBAL


def lookup(module: str, name: str, protocol: int = 2) -> bytes:
    """The opcode the pickle module uses for a global in ``protocol``."""
    return stack_global(module, name) if protocol >= 4 else global_(module, name)


def tuple_(*items: bytes) -> bytes:
    """MARK, the items, TUPLE."""
    return MARK + b"".join(items) + TUPLE


def dict_(*pairs: tuple[bytes, bytes]) -> bytes:
    """An empty dict filled by MARK ... SETITEMS."""
    return EMPTY_DICT + MARK + b"".join(k + v for k, v in pairs) + b"u"


def list_(*items: bytes) -> bytes:
    """An empty list filled by MARK ... APPENDS."""
    return EMPTY_LIST + MARK + b"".join(items) + b"e"


def apply(callee: bytes, *args: bytes) -> bytes:
    """``callee(*args)`` with REDUCE; ``callee`` is any opcode sequence leaving a callable."""
    return callee + tuple_(*args) + REDUCE


def call(module: str, name: str, *args: bytes, protocol: int = 2) -> bytes:
    """``module.name(*args)`` the way the pickle module writes a REDUCE in ``protocol``."""
    return apply(lookup(module, name, protocol), *args)
