"""JSON documents: tokenizer and model configs, chat templates, Keras configs, notebooks.

A Hugging Face repository's JSON decides what code a loader runs: ``chat_template`` is a Jinja
program, ``auto_map`` names Python modules that ``trust_remote_code`` imports (possibly from
another repository), a Keras ``config.json`` names layers and functions. Every object is walked,
so a template is found wherever a config puts it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.code import check_python

# tokenizer.json of large-vocabulary models is tens of megabytes; parsing costs ~10x in memory.
MAX_JSON_BYTES = 64 << 20
# A string a renderer could treat as Jinja.
JINJA_MARKERS = ("{{", "{%")
_EXPRESSION, _STATEMENT = JINJA_MARKERS
# ``auto_map`` entries: ``module.Class``, or ``org/repo--module.Class`` for another repository's code.
_LOCAL_REFERENCE = re.compile(r"[A-Za-z_][\w]*\.[A-Za-z_]\w*")
# Notebook lines IPython rewrites before Python sees them (``!pip``, ``%matplotlib``).
_MAGIC_LINE = re.compile(r"^\s*[!%]", re.MULTILINE)


def scan(data: memoryview, ctx: Context) -> None:
    """Scan a JSON document; content that is not JSON is scanned as text."""
    if len(data) > MAX_JSON_BYTES:
        ctx.incomplete(f"JSON document larger than {MAX_JSON_BYTES} bytes not parsed")
        return
    duplicates: list[tuple[str, object]] = []
    try:
        document = json.loads(bytes(data), object_pairs_hook=lambda pairs: _object(pairs, duplicates))
    except (ValueError, RecursionError) as error:
        if ctx.name.lower().endswith(".json"):
            ctx.incomplete(f"not valid JSON: {type(error).__name__}: {str(error)[:120]}")
        # Loaded by something that reads text: a Jinja template starting with ``{%`` lands here.
        from modelsteward.checks.security.text import scan as scan_text  # noqa: PLC0415 - it imports us

        scan_text(data, ctx)
        return
    check_document(document, ctx)
    for key, value in duplicates:
        # json.load keeps the last of repeated keys, other parsers the first: both are judged.
        check_document({key: value}, ctx, at=f"duplicate key {key!r}")


def _object(pairs: list[tuple[str, object]], duplicates: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            duplicates.append((key, result[key]))
        result[key] = value
    return result


def check_document(document: object, ctx: Context, *, at: str = "") -> None:
    """Judge a parsed JSON or YAML document: templates, remote code references, Keras configs."""
    if isinstance(document, dict) and "class_name" in document and "config" in document:
        from modelsteward.checks.security.keras import check_config  # noqa: PLC0415 - sibling scanner

        check_config(document, ctx, at=at or "config.json")
    if isinstance(document, dict) and isinstance(document.get("cells"), list) and "nbformat" in document:
        _check_notebook(document["cells"], ctx)
    _walk(document, ctx, at)


# Where a value sits: the pointer of its parent and its own key, joined only when a finding needs it.
_Pointer = tuple["_Pointer | None", str] | None


def _pointer(path: _Pointer, at: str) -> str:
    keys: list[str] = []
    while path is not None:
        path, key = path
        keys.append(key)
    return at + "".join(f"/{key}" for key in reversed(keys))


def _walk(document: object, ctx: Context, at: str) -> None:
    """Judge every value, depth first in document order; iterative, and each container once (YAML
    aliases share them). Tokenizer vocabularies hold hundreds of thousands of values: the common case,
    a number or a plain string, costs one type test and one substring search."""
    stack: list[tuple[str, object, _Pointer]] = [("", document, None)]
    visited: set[int] = set()
    while stack:
        key, value, path = stack.pop()
        if isinstance(value, str):
            if _EXPRESSION in value or _STATEMENT in value or key.lower().endswith("template"):
                _judge_string(key, value, ctx, _pointer(path, at))
            continue
        if not isinstance(value, dict | list) or id(value) in visited:
            continue
        visited.add(id(value))
        if isinstance(value, dict):
            if key.lower() in _CODE_MAPS:
                _judge_code_map(key.lower(), value, ctx, _pointer(path, at))
            stack.extend(
                (child_key, child, (path, child_key)) for child_key, child in reversed(value.items())
            )
        else:
            stack.extend(("", value[i], (path, str(i))) for i in range(len(value) - 1, -1, -1))


# Mappings that name Python code a loader imports.
_CODE_MAPS = frozenset({"auto_map", "custom_pipelines"})


def _judge_string(key: str, value: str, ctx: Context, pointer: str) -> None:
    # Jinja loads only when a file carries a template: most scans never pay for it.
    from modelsteward.checks.security.templates import check_template  # noqa: PLC0415

    if key.lower().endswith("template"):
        # ``chat_template`` as a string, or the ``template`` of each ``{name, template}`` item.
        check_template(value, ctx, at=pointer)
    else:
        check_template(value, ctx, at=pointer, claimed=False)


def _judge_code_map(key: str, value: dict[object, object], ctx: Context, pointer: str) -> None:
    if key == "auto_map":
        _check_code_references(_references(value.values()), ctx, at=pointer)
    else:
        impls = [task.get("impl") for task in value.values() if isinstance(task, dict)]
        _check_code_references(_references(impls), ctx, at=pointer)


def _references(values: Iterable[object]) -> list[str]:
    """Class references in ``auto_map`` values: strings, or ``[slow, fast]`` lists with nulls."""
    found: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        found += [item for item in items if isinstance(item, str) and item]
    return found


def _check_code_references(references: list[str], ctx: Context, *, at: str) -> None:
    local = sorted({ref for ref in references if _LOCAL_REFERENCE.fullmatch(ref)})
    foreign = sorted(set(references) - set(local))
    for reference in foreign:
        # ``org/repo--module.Class``, or a module path leaving the repository.
        ctx.report("HF-REMOTE-CODE-FOREIGN", f"`{reference}`", at=at, evidence=reference)
    if local:
        modules = sorted({ref.rsplit(".", 1)[0] + ".py" for ref in local})
        ctx.report("HF-REMOTE-CODE", ", ".join(modules), at=at, evidence=", ".join(local))


def _check_notebook(cells: list[object], ctx: Context) -> None:
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        code = "".join(source) if isinstance(source, list) else str(source)
        check_python(_MAGIC_LINE.sub("#", code), ctx, at=f"/cells/{index}")
