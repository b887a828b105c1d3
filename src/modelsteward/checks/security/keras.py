"""Keras models: the model_config of HDF5 files and serialised configs in general.

Keras rebuilds a model from its config by resolving names: ``module`` + ``class_name`` is
imported (Keras 3), ``registered_name`` is looked up among custom objects, and Lambda layers
carry marshalled bytecode or source. :func:`check_config` judges those references wherever they
appear; the zip scanner hands it ``config.json`` of ``.keras`` archives through the JSON scanner.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from modelsteward.checks.security._context import Context
from modelsteward.data.tables import load

_CONFIG_ATTRIBUTES = ("model_config", "training_config")
_DOTTED_NAME = re.compile(r"[A-Za-z_][\w.]*")
_IDENTIFIER_BYTES = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{2,}")
_EVIDENCE_NAMES = 12


class _ReadOnlyView(io.RawIOBase):
    """A seekable, read-only file over a memoryview: h5py reads it without a copy of the file."""

    def __init__(self, data: memoryview) -> None:
        super().__init__()
        self._data = data
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def scan_hdf5(data: memoryview, ctx: Context) -> None:
    """Judge the Keras configs stored as root attributes of an HDF5 file; weights-only files pass."""
    import h5py  # noqa: PLC0415 - heavy, needed only for HDF5 files

    try:
        with h5py.File(_ReadOnlyView(data), "r") as handle:
            raw = {name: handle.attrs[name] for name in _CONFIG_ATTRIBUTES if name in handle.attrs}
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        ctx.report("KERAS-MALFORMED", f"HDF5 file cannot be opened: {error}")
        ctx.incomplete(f"HDF5 file unreadable: {error}")
        return
    for name, value in raw.items():
        text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
        try:
            config = json.loads(text) if isinstance(text, str) else None
        except (ValueError, RecursionError) as error:
            config = None
            reason = f"{name} is not JSON: {error}"
        else:
            reason = f"{name} is a {type(value).__name__}, not a JSON string"
        if config is None:
            ctx.report("KERAS-MALFORMED", reason, at=name)
            ctx.incomplete(reason, at=name)
        else:
            check_config(config, ctx, at=name)


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: str
    evidence: str
    detail: str


def check_config(config: object, ctx: Context, *, at: str) -> None:
    """Judge a Keras serialised config (Keras 2 or 3) for code, imports and custom objects.

    ``at`` locates the config (an attribute name, an archive member); findings add a JSON
    pointer to the object that triggered them. Repeated references are reported once, counted.
    """
    found: dict[_Hit, list[str]] = {}
    covered: set[int] = set()  # __lambda__ objects already reported with their Lambda layer
    for pointer, node in _objects(config):
        for hit in _judge(node, covered):
            found.setdefault(hit, []).append(pointer)
    for hit, pointers in found.items():
        more = f" ({len(pointers)} places)" if len(pointers) > 1 else ""
        ctx.report(hit.rule, hit.detail + more, at=f"{at}:{pointers[0] or '/'}", evidence=hit.evidence)


def _objects(config: object) -> Iterator[tuple[str, dict[str, object]]]:
    """Every JSON object in ``config`` with its JSON pointer, depth first, without recursion."""
    stack: list[tuple[str, object]] = [("", config)]
    while stack:
        pointer, node = stack.pop()
        if isinstance(node, dict):
            yield pointer, node
            children = [(f"{pointer}/{key}", value) for key, value in node.items()]
        elif isinstance(node, list):
            children = [(f"{pointer}/{index}", value) for index, value in enumerate(node)]
        else:
            continue
        stack.extend(reversed(children))


def _judge(node: dict[str, object], covered: set[int]) -> Iterator[_Hit]:
    class_name = node.get("class_name")
    if not isinstance(class_name, str):
        return
    config = node.get("config")
    if class_name == "Lambda":
        function = config.get("function") if isinstance(config, dict) else None
        covered.add(id(function))
        yield _lambda(function)
    elif class_name == "__lambda__" and id(node) not in covered:
        yield _lambda(node)
    elif class_name == "TFOpLambda" and isinstance(config, dict):
        yield from _tf_op_lambda(config.get("function"))
    module = node.get("module")
    if isinstance(module, str) and not _allowed_module(module):
        yield _module(module, class_name, config)
    registered = node.get("registered_name")
    for name in (class_name, registered):
        if isinstance(name, str) and ">" in name and name.split(">", 1)[0] not in _table("allowed_packages"):
            yield _Hit("KERAS-CUSTOM-OBJECT", name, f"{name} must be supplied as custom code")


def _table(category: str) -> frozenset[str]:
    return load("keras")[category]


def _allowed_module(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in _table("allowed_packages"))


def _module(module: str, class_name: str, config: object) -> _Hit:
    # A function reference is {"module": m, "class_name": "function", "config": name}.
    member = config if class_name == "function" and isinstance(config, str) else class_name
    evidence = f"{module}.{member}"
    if module.split(".", 1)[0] in _table("dangerous_modules"):
        return _Hit("KERAS-MODULE-DANGEROUS", evidence, f"loading calls {evidence}")
    return _Hit("KERAS-MODULE-EXTERNAL", evidence, f"loading imports {module} for {member}")


def _lambda(function: object) -> _Hit:
    """A Lambda's function: code (critical) or a reference by name (high)."""
    code: object = None
    if isinstance(function, list | tuple) and function:  # Keras 2: [base64 marshal, defaults, closure]
        code = function[0]
    elif isinstance(function, dict) and function.get("class_name") == "__lambda__":
        inner = function.get("config")
        code = inner.get("code", inner.get("value")) if isinstance(inner, dict) else inner
    elif isinstance(function, str) and not _DOTTED_NAME.fullmatch(function):
        return _Hit("KERAS-LAMBDA-CODE", function[:200], "function given as Python source")
    if code is not None:
        return _Hit("KERAS-LAMBDA-CODE", _code_evidence(code), "function given as marshalled bytecode")
    name = function if isinstance(function, str) else json.dumps(function, default=str)[:200]
    return _Hit("KERAS-LAMBDA", name, f"function {name}")


def _code_evidence(code: object) -> str:
    """Names inside base64 marshalled bytecode, for a reviewer; the code is never unmarshalled."""
    if not isinstance(code, str):
        return json.dumps(code, default=str)[:200]
    try:
        raw = base64.b64decode(code, validate=False)
    except (binascii.Error, ValueError):
        return code[:200]
    names = dict.fromkeys(m.decode() for m in _IDENTIFIER_BYTES.findall(raw))
    return "names in bytecode: " + ", ".join(list(names)[:_EVIDENCE_NAMES])


def _tf_op_lambda(function: object) -> Iterator[_Hit]:
    if not isinstance(function, str):
        return
    name = function.removeprefix("tf.")
    if any(name == p or name.startswith(p + ".") for p in _table("tf_op_functions_dangerous")):
        yield _Hit("KERAS-TFOPLAMBDA-DANGEROUS", function, f"calls tf.{name}")
