"""Route bytes to the scanner of every format they can be read as."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable

from modelsteward.checks.security._context import Context
from modelsteward.formats import Format, detect
from modelsteward.formats.sniff import WEAK_SIGNATURES

Scanner = Callable[[memoryview, Context], None]

# Format -> (module under checks/security, function). Modules are imported on first use, so a
# scan pays only for the formats it meets: start-up stays short for a CLI run on one file.
_SCANNERS: dict[Format, tuple[str, str] | None] = {
    Format.PICKLE: ("pickle", "scan"),
    Format.ZIP: ("archive", "scan_zip"),
    Format.TAR: ("archive", "scan_tar"),
    Format.GZIP: ("archive", "scan_compressed"),
    Format.BZIP2: ("archive", "scan_compressed"),
    Format.XZ: ("archive", "scan_compressed"),
    Format.LZMA: ("archive", "scan_compressed"),
    Format.ZLIB: ("archive", "scan_compressed"),
    Format.SEVENZIP: ("archive", "scan_7z"),
    Format.NUMPY: ("numpy_file", "scan"),
    Format.SAFETENSORS: ("safetensors", "scan"),
    Format.GGUF: ("gguf", "scan"),
    Format.HDF5: ("keras", "scan_hdf5"),
    Format.PROTOBUF: ("protobuf_model", "scan"),
    Format.NATIVE: ("native", "scan"),
    Format.JSON: ("json_document", "scan"),
    Format.TEXT: ("text", "scan"),
    Format.UNKNOWN: None,  # no loader we know reads code from bytes of no known format
}


def _scanner(fmt: Format) -> Scanner | None:
    entry = _SCANNERS[fmt]
    if entry is None:
        return None
    module, function = entry
    scanner: Scanner = getattr(importlib.import_module(f"modelsteward.checks.security.{module}"), function)
    return scanner


# Names whose loaders execute or deserialise content; such a file that is none of our formats is
# corrupt or disguised, never clean.
_LOADABLE_SUFFIXES = (
    ".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".dill", ".npy", ".npz",
    ".h5", ".hdf5", ".keras", ".onnx", ".safetensors", ".gguf", ".pb", ".sav", ".model", ".tar",
    ".zip", ".7z", ".gz", ".bz2", ".xz", ".lzma", ".z",
)  # fmt: skip


# What a loader of a model-file name could read; text and unknown bytes are none of these.
_NOT_LOADABLE = frozenset({Format.TEXT, Format.JSON, Format.UNKNOWN})


def scan_bytes(data: memoryview, ctx: Context) -> tuple[Format, ...]:
    """Scan ``data`` as every format it can be read as; never raises."""
    formats = detect(data, ctx.name)
    claimed = ctx.name.lower().endswith(_LOADABLE_SUFFIXES)
    for fmt in formats:
        scanner = _scanner(fmt)
        if scanner is None:
            continue
        reading = ctx
        if fmt in WEAK_SIGNATURES and not claimed:
            # Bytes not named like a model file that only look compressed (a tensor in an archive):
            # what cannot be read there is data, not an unscanned file; findings inside still count.
            reading = dataclasses.replace(ctx, speculative=True)
        try:
            scanner(data, reading)
        except RecursionError:
            ctx.report("NESTING-TOO-DEEP", f"structure too deep to follow while reading {fmt}")
            ctx.incomplete(f"{fmt}: structure too deep to follow")
        except Exception as error:  # noqa: BLE001 - any scanner failure becomes a finding, never a traceback
            ctx.report("SCAN-ERROR", f"{fmt} scanner failed: {type(error).__name__}: {error}")
            ctx.incomplete(f"{fmt}: internal error {type(error).__name__}")
    if _NOT_LOADABLE.issuperset(formats) and claimed:
        # torch.load or pickle would read these bytes as a binary format none of our scanners knows.
        ctx.incomplete(f"named like a model file but its content is {formats[0]}, which no such loader reads")
    return formats


def scan_nested(data: memoryview, ctx: Context) -> None:
    """The :attr:`Context.scan_nested` of every context the dispatcher makes."""
    scan_bytes(data, ctx)
