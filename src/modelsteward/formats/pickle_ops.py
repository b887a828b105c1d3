"""ModelSteward's own reading of pickle opcodes, byte for byte as CPython's C unpickler reads them.

:func:`tokenize` yields each opcode with its offset and decoded argument and raises
:class:`PickleSyntaxError` where the C unpickler would stop; :func:`probe` says cheaply whether bytes
look like a pickle stream a loader would read. Frames are not interpreted here: the C unpickler
reads through FRAME boundaries as if they were not there, so the opcodes are the same either way
(the security scanner checks frames separately because the pure-Python unpickler disagrees).
"""

from __future__ import annotations

import codecs
import enum
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

HIGHEST_PROTOCOL = 5


class Arg(enum.Enum):
    """How an opcode's argument is encoded after the opcode byte."""

    NONE = enum.auto()
    U1 = enum.auto()
    U2 = enum.auto()
    I4 = enum.auto()
    U4 = enum.auto()
    U8 = enum.auto()
    FLOAT8 = enum.auto()
    DECIMAL_LINE = enum.auto()
    """INT, LONG: a decimal number ended by a newline."""
    FLOAT_LINE = enum.auto()
    INDEX_LINE = enum.auto()
    """GET, PUT: a memo index ended by a newline."""
    QUOTED_LINE = enum.auto()
    """STRING: a Python-quoted byte string ended by a newline."""
    UNICODE_LINE = enum.auto()
    """UNICODE: raw-unicode-escape text ended by a newline."""
    ASCII_LINE = enum.auto()
    """PERSID: an ASCII persistent id ended by a newline."""
    TWO_LINES = enum.auto()
    """GLOBAL, INST: module and name, each ended by a newline, UTF-8."""
    TEXT1 = enum.auto()
    TEXT4 = enum.auto()
    TEXT8 = enum.auto()
    """Length-prefixed UTF-8 text (1, 4 or 8 length bytes)."""
    STR1 = enum.auto()
    STR4 = enum.auto()
    """SHORT_BINSTRING, BINSTRING: length-prefixed bytes that Python 3 decodes to text."""
    BYTES1 = enum.auto()
    BYTES4 = enum.auto()
    BYTES8 = enum.auto()
    LONG1 = enum.auto()
    LONG4 = enum.auto()


@dataclass(frozen=True, slots=True)
class OpSpec:
    """One opcode: its byte, name and argument encoding."""

    code: int
    name: str
    arg: Arg
    width: int = 0
    """Size of a fixed-size argument (0 if none)."""
    prefix: int = 0
    """Size of the length prefix of a length-prefixed argument (0 if none)."""


_FIXED = {Arg.U1: 1, Arg.U2: 2, Arg.I4: 4, Arg.U4: 4, Arg.U8: 8, Arg.FLOAT8: 8}
_PREFIX = {
    Arg.TEXT1: 1, Arg.TEXT4: 4, Arg.TEXT8: 8, Arg.STR1: 1, Arg.STR4: 4,
    Arg.BYTES1: 1, Arg.BYTES4: 4, Arg.BYTES8: 8, Arg.LONG1: 1, Arg.LONG4: 4,
}  # fmt: skip


def _specs() -> dict[int, OpSpec]:
    table = (
        ("(", "MARK", Arg.NONE), (".", "STOP", Arg.NONE), ("0", "POP", Arg.NONE),
        ("1", "POP_MARK", Arg.NONE), ("2", "DUP", Arg.NONE), ("F", "FLOAT", Arg.FLOAT_LINE),
        ("I", "INT", Arg.DECIMAL_LINE), ("J", "BININT", Arg.I4), ("K", "BININT1", Arg.U1),
        ("L", "LONG", Arg.DECIMAL_LINE), ("M", "BININT2", Arg.U2), ("N", "NONE", Arg.NONE),
        ("P", "PERSID", Arg.ASCII_LINE), ("Q", "BINPERSID", Arg.NONE), ("R", "REDUCE", Arg.NONE),
        ("S", "STRING", Arg.QUOTED_LINE), ("T", "BINSTRING", Arg.STR4),
        ("U", "SHORT_BINSTRING", Arg.STR1), ("V", "UNICODE", Arg.UNICODE_LINE),
        ("X", "BINUNICODE", Arg.TEXT4), ("a", "APPEND", Arg.NONE), ("b", "BUILD", Arg.NONE),
        ("c", "GLOBAL", Arg.TWO_LINES), ("d", "DICT", Arg.NONE), ("}", "EMPTY_DICT", Arg.NONE),
        ("e", "APPENDS", Arg.NONE), ("g", "GET", Arg.INDEX_LINE), ("h", "BINGET", Arg.U1),
        ("i", "INST", Arg.TWO_LINES), ("j", "LONG_BINGET", Arg.U4), ("l", "LIST", Arg.NONE),
        ("]", "EMPTY_LIST", Arg.NONE), ("o", "OBJ", Arg.NONE), ("p", "PUT", Arg.INDEX_LINE),
        ("q", "BINPUT", Arg.U1), ("r", "LONG_BINPUT", Arg.U4), ("s", "SETITEM", Arg.NONE),
        ("t", "TUPLE", Arg.NONE), (")", "EMPTY_TUPLE", Arg.NONE), ("u", "SETITEMS", Arg.NONE),
        ("G", "BINFLOAT", Arg.FLOAT8), ("B", "BINBYTES", Arg.BYTES4), ("C", "SHORT_BINBYTES", Arg.BYTES1),
        ("\x80", "PROTO", Arg.U1), ("\x81", "NEWOBJ", Arg.NONE), ("\x82", "EXT1", Arg.U1),
        ("\x83", "EXT2", Arg.U2), ("\x84", "EXT4", Arg.I4), ("\x85", "TUPLE1", Arg.NONE),
        ("\x86", "TUPLE2", Arg.NONE), ("\x87", "TUPLE3", Arg.NONE), ("\x88", "NEWTRUE", Arg.NONE),
        ("\x89", "NEWFALSE", Arg.NONE), ("\x8a", "LONG1", Arg.LONG1), ("\x8b", "LONG4", Arg.LONG4),
        ("\x8c", "SHORT_BINUNICODE", Arg.TEXT1), ("\x8d", "BINUNICODE8", Arg.TEXT8),
        ("\x8e", "BINBYTES8", Arg.BYTES8), ("\x8f", "EMPTY_SET", Arg.NONE),
        ("\x90", "ADDITEMS", Arg.NONE), ("\x91", "FROZENSET", Arg.NONE), ("\x92", "NEWOBJ_EX", Arg.NONE),
        ("\x93", "STACK_GLOBAL", Arg.NONE), ("\x94", "MEMOIZE", Arg.NONE), ("\x95", "FRAME", Arg.U8),
        ("\x96", "BYTEARRAY8", Arg.BYTES8), ("\x97", "NEXT_BUFFER", Arg.NONE),
        ("\x98", "READONLY_BUFFER", Arg.NONE),
    )  # fmt: skip
    return {
        ord(char): OpSpec(ord(char), name, arg, _FIXED.get(arg, 0), _PREFIX.get(arg, 0))
        for char, name, arg in table
    }


OPCODES: dict[int, OpSpec] = _specs()
"""Every opcode CPython's unpickler knows, by byte."""

ArgValue = str | int | float | memoryview | tuple[str, str] | None


class Op(NamedTuple):
    """One opcode as read from the stream."""

    offset: int
    """Offset of the opcode byte in the data handed to :func:`tokenize`."""
    name: str
    arg: ArgValue
    """Decoded argument: text, int (lengths, indexes, small ints), bytes as a view, (module, name)."""
    end: int
    """Offset just past the argument."""


class PickleSyntaxError(ValueError):
    """The C unpickler would stop here with an error."""

    def __init__(self, offset: int, reason: str, *, truncated: bool = False) -> None:
        super().__init__(f"offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason
        self.truncated = truncated
        """True when the data ended inside the opcode (more bytes could have made it valid)."""


_DECIMAL = re.compile(rb"[ \t]*[+-]?[0-9]+L?[ \t\r]*")
_FLOAT = re.compile(
    rb"[ \t]*[+-]?([0-9]+\.?[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|inf|nan)[ \t\r]*"
)
_LINE_WINDOW = 64


def _truncated(at: int) -> PickleSyntaxError:
    return PickleSyntaxError(at, "pickle data was truncated", truncated=True)


def _line(data: memoryview, size: int, pos: int, at: int) -> tuple[bytes, int]:
    """The bytes up to the next newline (excluded) and the offset after it; copies a bounded window."""
    window = _LINE_WINDOW
    while True:
        chunk = bytes(data[pos : pos + window])
        newline = chunk.find(b"\n")
        if newline >= 0:
            return chunk[:newline], pos + newline + 1
        if pos + window >= size:
            raise PickleSyntaxError(at, "pickle data was truncated inside a line argument", truncated=True)
        window *= 4


def _decode_line(spec: OpSpec, line: bytes, at: int) -> ArgValue:
    kind = spec.arg
    try:
        if kind is Arg.DECIMAL_LINE:
            if not _DECIMAL.fullmatch(line):
                raise PickleSyntaxError(at, f"{spec.name} argument is not a number")
            # The value is not needed to judge a pickle, and huge decimals are costly to convert.
            return None
        if kind is Arg.FLOAT_LINE:
            if not _FLOAT.fullmatch(line.lower()):
                raise PickleSyntaxError(at, "FLOAT argument is not a number")
            return None
        if kind is Arg.INDEX_LINE:
            if not _DECIMAL.fullmatch(line) or line.strip().endswith(b"L"):
                raise PickleSyntaxError(at, f"{spec.name} argument is not an index")
            return int(line)
        if kind is Arg.QUOTED_LINE:
            return _quoted(line, at)
        if kind is Arg.UNICODE_LINE:
            return line.decode("raw-unicode-escape")
        return line.decode("ascii")
    except UnicodeDecodeError as error:
        raise PickleSyntaxError(at, f"{spec.name} argument cannot be decoded: {error.reason}") from None


def _quoted(line: bytes, at: int) -> str:
    line = line.rstrip(b"\r")
    if len(line) < 2 or line[:1] != line[-1:] or line[:1] not in (b"'", b'"'):
        raise PickleSyntaxError(at, "the STRING opcode argument must be quoted")
    try:
        raw = codecs.escape_decode(line[1:-1])[0]
    except ValueError as error:
        raise PickleSyntaxError(at, f"STRING argument has a bad escape: {error}") from None
    # Python 3 loaders decode py2 str with an encoding of their choice; latin-1 never fails.
    return raw.decode("latin-1")


_ArgReader = Callable[[memoryview, int, int, int], tuple[ArgValue, int]]
"""Reads an argument: (data, size of data, offset after the opcode byte, opcode offset) -> (arg, end)."""
_Unpack = Callable[[memoryview, int], int]

# struct formats of fixed-size integers: little-endian, by argument kind or prefix size and sign.
_INT_FORMATS = {Arg.U2: "<H", Arg.I4: "<i", Arg.U4: "<I", Arg.U8: "<Q"}
_PREFIX_FORMATS = {(4, False): "<I", (4, True): "<i", (8, False): "<Q"}


def _byte(data: memoryview, pos: int) -> int:
    return data[pos]


def _unpacker(fmt: str) -> _Unpack:
    unpack = struct.Struct(fmt).unpack_from

    def read(data: memoryview, pos: int) -> int:
        value: int = unpack(data, pos)[0]
        return value

    return read


def _fixed_reader(spec: OpSpec) -> _ArgReader:
    width = spec.width
    if spec.arg is Arg.FLOAT8:

        def skip(data: memoryview, size: int, pos: int, at: int) -> tuple[ArgValue, int]:
            if width > size - pos:
                raise _truncated(at)
            return None, pos + width

        return skip
    # One-byte arguments are the commonest (BININT1, BINPUT, BINGET): index instead of unpacking.
    unpack = _byte if width == 1 else _unpacker(_INT_FORMATS[spec.arg])
    proto = spec.name == "PROTO"

    def read(data: memoryview, size: int, pos: int, at: int) -> tuple[ArgValue, int]:
        if width > size - pos:
            raise _truncated(at)
        value = unpack(data, pos)
        if proto and value > HIGHEST_PROTOCOL:
            raise PickleSyntaxError(at, f"unsupported pickle protocol {value}")
        return value, pos + width

    return read


def _body_decoder(spec: OpSpec) -> Callable[[memoryview, int], ArgValue] | None:
    """How a length-prefixed body becomes the argument; None when only its bounds matter."""
    kind = spec.arg
    if kind in (Arg.TEXT1, Arg.TEXT4, Arg.TEXT8):
        name = spec.name

        def text(body: memoryview, at: int) -> ArgValue:
            try:
                return str(body, "utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise PickleSyntaxError(at, f"{name} argument is not UTF-8") from None

        return text
    if kind in (Arg.STR1, Arg.STR4):
        return lambda body, at: str(body, "latin-1")
    if kind in (Arg.LONG1, Arg.LONG4):
        return None
    return lambda body, at: body


def _prefixed_reader(spec: OpSpec) -> _ArgReader:
    prefix = spec.prefix
    signed = spec.arg is Arg.STR4 or spec.arg is Arg.LONG4
    unpack = _byte if prefix == 1 else _unpacker(_PREFIX_FORMATS[prefix, signed])
    decode = _body_decoder(spec)
    negative = f"{spec.name} has a negative length"

    def read(data: memoryview, size: int, pos: int, at: int) -> tuple[ArgValue, int]:
        if prefix > size - pos:
            raise _truncated(at)
        count = unpack(data, pos)
        if count < 0:
            raise PickleSyntaxError(at, negative)
        pos += prefix
        if count > size - pos:
            raise _truncated(at)
        end = pos + count
        return (None if decode is None else decode(data[pos:end], at)), end

    return read


def _line_reader(spec: OpSpec) -> _ArgReader:
    if spec.arg is Arg.TWO_LINES:
        undecodable = f"{spec.name} module or name is not UTF-8"

        def two_lines(data: memoryview, size: int, pos: int, at: int) -> tuple[ArgValue, int]:
            module, pos = _line(data, size, pos, at)
            name, pos = _line(data, size, pos, at)
            try:
                return (module.decode("utf-8"), name.decode("utf-8")), pos
            except UnicodeDecodeError:
                raise PickleSyntaxError(at, undecodable) from None

        return two_lines

    def one_line(data: memoryview, size: int, pos: int, at: int) -> tuple[ArgValue, int]:
        line, end = _line(data, size, pos, at)
        return _decode_line(spec, line, at), end

    return one_line


def _reader(spec: OpSpec) -> _ArgReader | None:
    if spec.arg is Arg.NONE:
        return None
    if spec.width:
        return _fixed_reader(spec)
    if spec.prefix:
        return _prefixed_reader(spec)
    return _line_reader(spec)


# Indexed by opcode byte: (name, argument reader or None when the opcode has no argument).
_TABLE: tuple[tuple[str, _ArgReader | None] | None, ...] = tuple(
    (OPCODES[code].name, _reader(OPCODES[code])) if code in OPCODES else None for code in range(256)
)
_new_op = tuple.__new__


class Tokenizer:
    """Iterator over the opcodes of one pickle stream; :attr:`pos` may be moved between opcodes.

    Loaders that read raw bytes from the middle of a stream (joblib writes array data right after
    the BUILD of its array wrapper) are followed by moving :attr:`pos` past those bytes.
    """

    __slots__ = ("data", "done", "pos", "size")

    def __init__(self, data: memoryview, start: int = 0) -> None:
        self.data = data
        self.size = len(data)
        self.pos = start
        self.done = False

    def __iter__(self) -> Tokenizer:
        return self

    def __next__(self) -> Op:
        if self.done:
            raise StopIteration
        pos = self.pos
        data = self.data
        if pos >= self.size:
            self.done = True
            raise PickleSyntaxError(pos, "pickle data was truncated before STOP", truncated=True)
        code = data[pos]
        entry = _TABLE[code]
        if entry is None:
            self.done = True
            raise PickleSyntaxError(pos, f"invalid load key {code:#04x}")
        name, read = entry
        if read is None:
            end = pos + 1
            self.pos = end
            if name == "STOP":
                self.done = True
            return _new_op(Op, (pos, name, None, end))
        try:
            arg, end = read(data, self.size, pos + 1, pos)
        except PickleSyntaxError:
            self.done = True
            raise
        self.pos = end
        return _new_op(Op, (pos, name, arg, end))


def tokenize(data: memoryview, start: int = 0) -> Tokenizer:
    """The opcodes of one pickle stream from ``start`` through its STOP.

    Iterating raises :class:`PickleSyntaxError` where CPython's C unpickler would fail to read the
    stream; every opcode before that point has been yielded. Offsets are offsets into ``data``.
    """
    return Tokenizer(data, start)


# Stack effects for probe(): (items popped, items pushed); None pops down to and including a MARK.
_EFFECTS: dict[str, tuple[int | None, int]] = {
    "STOP": (1, 0), "POP": (1, 0), "POP_MARK": (None, 0), "DUP": (1, 2), "PERSID": (0, 1),
    "BINPERSID": (1, 1), "REDUCE": (2, 1), "APPEND": (2, 1), "BUILD": (2, 1), "DICT": (None, 1),
    "APPENDS": (None, 0), "INST": (None, 1), "LIST": (None, 1), "OBJ": (None, 1), "PUT": (1, 1),
    "BINPUT": (1, 1), "LONG_BINPUT": (1, 1), "MEMOIZE": (1, 1), "SETITEM": (3, 1), "TUPLE": (None, 1),
    "SETITEMS": (None, 0), "NEWOBJ": (2, 1), "TUPLE1": (1, 1), "TUPLE2": (2, 1), "TUPLE3": (3, 1),
    "ADDITEMS": (None, 0), "FROZENSET": (None, 1), "NEWOBJ_EX": (3, 1), "STACK_GLOBAL": (2, 1),
    "READONLY_BUFFER": (1, 1), "PROTO": (0, 0), "FRAME": (0, 0), "MARK": (0, 0),
}  # fmt: skip
# Ops whose mark-popping leaves the collection below the mark in place: they need one item under it.
_NEEDS_BELOW_MARK = {"APPENDS", "SETITEMS", "ADDITEMS"}
_PROBE_OPS = 64
_PROBE_BYTES = 4096


def _consistent(ops: Iterator[Op]) -> int:
    """How many opcodes of ``ops`` keep the stack consistent; -1 if one underflows it."""
    depth = 0
    marks: list[int] = []
    count = 0
    for op in ops:
        count += 1
        pops, pushes = _EFFECTS.get(op.name, (0, 1))
        if op.name == "MARK":
            marks.append(depth)
            continue
        if pops is None:
            if not marks:
                return -1
            depth = marks.pop()
            if op.name in _NEEDS_BELOW_MARK and depth < 1 + (marks[-1] if marks else 0):
                return -1
        else:
            if depth - pops < (marks[-1] if marks else 0):
                return -1
            depth -= pops
        depth += pushes
        if count >= _PROBE_OPS:
            break
    return count


def probe(data: memoryview) -> bool:
    """Whether ``data`` starts like a pickle stream an unpickler would read (cheap, bounded).

    A PROTO header with a known protocol, or protocol 0/1 opcodes that keep the stack consistent
    through STOP, through the probe window, or to the end of the data for at least two opcodes.
    Text, JSON and random bytes fail within a few opcodes.
    """
    if len(data) < 2:
        return False
    if data[0] == 0x80 and data[1] > HIGHEST_PROTOCOL:
        return False
    if _TABLE[data[0]] is None:
        return False  # not an opcode: text and JSON mostly stop here, before any tokenizing
    window = data[:_PROBE_BYTES]
    ops: list[Op] = []
    needed = 2
    try:
        for op in tokenize(window):
            ops.append(op)
            if len(ops) >= _PROBE_OPS:
                break
        needed = 1  # reached STOP or read the whole probe budget
    except PickleSyntaxError as error:
        if not error.truncated:
            return False
        if len(data) > len(window):
            needed = 1  # an argument longer than the window (large bytes): judge what was read
    return bool(ops) and _consistent(iter(ops)) >= needed
