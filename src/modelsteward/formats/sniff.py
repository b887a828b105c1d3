"""Tell a file's format from its bytes.

A file may be several things at once (a pickle at its start and a zip at its end is what
``torch.load`` and ``zipfile`` each see), so :func:`detect` returns every reading a loader
could take, most specific first.
"""

from __future__ import annotations

import enum
import re

from modelsteward.formats import pickle_ops, protobuf


class Format(enum.StrEnum):
    """A file format a model loader reads."""

    PICKLE = "pickle"
    ZIP = "zip"
    TAR = "tar"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"
    LZMA = "lzma"
    ZLIB = "zlib"
    SEVENZIP = "7z"
    NUMPY = "numpy"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    HDF5 = "hdf5"
    PROTOBUF = "protobuf"
    NATIVE = "native"
    JSON = "json"
    TEXT = "text"
    UNKNOWN = "unknown"


_ZIP_EOCD = b"PK\x05\x06"
_HDF5 = b"\x89HDF\r\n\x1a\n"


def _is_tar(data: memoryview) -> bool:
    return len(data) >= 512 and bytes(data[257:262]) == b"ustar"


def _is_zlib(data: memoryview) -> bool:
    if len(data) < 2:
        return False
    cmf, flg = data[0], data[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf * 256 + flg) % 31 == 0


def _is_safetensors(data: memoryview) -> bool:
    if len(data) < 10:
        return False
    header_len = int.from_bytes(data[:8], "little")
    return 2 <= header_len <= len(data) - 8 and data[8] == ord("{")


def _is_native(data: memoryview, head: bytes) -> bool:
    """ELF, Mach-O or a PE image: code the operating system loads."""
    if head.startswith(
        (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
    ):
        return True
    if head.startswith(b"MZ") and len(data) >= 64:
        pe_offset = int.from_bytes(data[60:64], "little")
        return bytes(data[pe_offset : pe_offset + 4]) == b"PE\x00\x00"
    return False


def _has_zip_end(data: memoryview) -> bool:
    # zipfile finds the end-of-central-directory record from the end, behind up to 64 KiB of comment.
    tail = bytes(data[-(65536 + 22) :])
    return _ZIP_EOCD in tail


# Control characters that text files do not contain; protobufs and other binaries do.
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")
_TEXT_WINDOW = 4096
# A handful of bytes of tensor data parse as a protobuf by chance, so a protobuf without a
# protobuf's name must be at least this long to be read as one.
_MIN_PROTOBUF = 64
_PROTOBUF_NAMES = (".pb", ".onnx", ".pbtxt", ".model")


def _text_kind(data: memoryview) -> Format | None:
    head = bytes(data[:_TEXT_WINDOW])
    if _BINARY_CONTROL.search(head):
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the window is still text.
        if len(data) <= _TEXT_WINDOW or error.start < len(head) - 3:
            return None
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return Format.JSON
    return Format.TEXT


WEAK_SIGNATURES = frozenset({Format.ZLIB, Format.LZMA})
"""Formats told by two or three header bytes, which text and random tensor data match by chance."""


def signatures(data: memoryview) -> tuple[Format, ...]:
    """The formats ``data`` reads as by its magic numbers alone, most specific first; may be empty.

    Cheap and bounded: no text or protobuf reading, which :func:`detect` adds when nothing here
    matches.
    """
    head = bytes(data[:16])
    found: list[Format] = []
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        found.append(Format.ZIP)
    elif head.startswith(b"\x93NUMPY"):
        found.append(Format.NUMPY)
    elif head.startswith(b"GGUF"):
        found.append(Format.GGUF)
    elif head.startswith(_HDF5):
        found.append(Format.HDF5)
    elif head.startswith(b"\x1f\x8b"):
        found.append(Format.GZIP)
    elif head.startswith(b"BZh"):
        found.append(Format.BZIP2)
    elif head.startswith(b"\xfd7zXZ\x00"):
        found.append(Format.XZ)
    elif head.startswith(b"7z\xbc\xaf\x27\x1c"):
        found.append(Format.SEVENZIP)
    elif head.startswith(b"\x5d\x00\x00"):
        found.append(Format.LZMA)
    elif _is_native(data, head):
        found.append(Format.NATIVE)
    elif _is_tar(data):
        found.append(Format.TAR)
    elif _is_safetensors(data):
        found.append(Format.SAFETENSORS)
    elif pickle_ops.probe(data):
        found.append(Format.PICKLE)
    elif _is_zlib(data):
        found.append(Format.ZLIB)
    # A zip read from its end, whatever its start: the pickle/zip polyglot.
    if Format.ZIP not in found and Format.SEVENZIP not in found and _has_zip_end(data):
        found.append(Format.ZIP)
    return tuple(found)


def detect(data: memoryview, name: str = "") -> tuple[Format, ...]:
    """Every format ``data`` can be read as, most specific first; ``(UNKNOWN,)`` if none.

    ``name`` never selects a format; it only lowers the evidence needed for protobuf, the one
    format with no magic number (a tiny ``saved_model.pb`` is still read as one).
    """
    found = signatures(data)
    if found and not WEAK_SIGNATURES.issuperset(found):
        return found
    # Two or three header bytes also begin ordinary text ("x = " is a valid zlib header): read
    # such content both ways.
    text = _text_kind(data)
    if text is not None:
        return (*found, text)
    if found:
        return found
    plausible = len(data) >= _MIN_PROTOBUF or name.lower().endswith(_PROTOBUF_NAMES)
    if plausible and protobuf.looks_like_protobuf(data):
        return (Format.PROTOBUF,)
    return (Format.UNKNOWN,)
