"""Reading a policy file: YAML with every error located at its line and column."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from modelsteward.policy._model import (
    COLLECTING,
    Contradiction,
    LicenseRules,
    Policy,
    RejectFrom,
    ReviewAbove,
    licence_contradictions,
    severity_contradictions,
)

Loc = tuple[str | int, ...]
Section = TypeVar("Section", bound=BaseModel)

# What a value of each pydantic error type must be, as the end of "<path> must ...".
_EXPECTED = {
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
}


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One thing wrong with a policy file, and where."""

    file: str
    line: int | None
    """1-based; None when the problem is the file as a whole (unreadable)."""
    column: int | None
    path: str
    """The dotted path of the offending key (``max_severity.security``, ``license.deny[2]``); empty
    for the document itself."""
    message: str
    """What is wrong and what would be right, starting with the path."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form for ``steward policy validate --json``."""
        return {"line": self.line, "column": self.column, "path": self.path, "message": self.message}


class PolicyError(Exception):
    """A policy file that cannot be used, with every issue found in it."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file at ``path``; raise :class:`PolicyError` listing every issue."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        issue = PolicyIssue(name, None, None, "", f"cannot read: {error.strerror or error}")
        raise PolicyError([issue]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise PolicyError([PolicyIssue(name, line, column, "", "the file is not UTF-8 text")]) from None
    return _parse(text, name, "sha256:" + hashlib.sha256(data).hexdigest())


def parse_policy(text: str, *, filename: str) -> Policy:
    """Validate the policy in ``text``, naming ``filename`` in errors; raise :class:`PolicyError`."""
    return _parse(text, filename, "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest())


def default_policy() -> Policy:
    """The built-in policy, used when none is given: every field at its documented default."""
    policy = Policy(version=1, name="default")
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    policy._digest = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return policy


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, for editors and other tools."""
    schema = Policy.model_json_schema()
    schema["title"] = "ModelSteward policy"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _parse(text: str, filename: str, digest: str) -> Policy:
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            raw = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        raise PolicyError([_syntax_issue(error, filename)]) from None
    if root is None:
        raise PolicyError(
            [PolicyIssue(filename, 1, 1, "", "the policy is empty; it needs at least version: 1 and a name")]
        )
    issues = [PolicyIssue(filename, *_mark(at), _dotted(loc), text) for loc, at, text in _duplicates(root)]
    try:
        policy = Policy.model_validate(raw, context=COLLECTING)
    except ValidationError as error:
        issues += [_issue(detail, root, filename) for detail in error.errors()]
    issues += [_contradiction_issue(found, root, filename) for found in _contradictions(raw)]
    if issues:
        raise PolicyError(sorted(issues, key=lambda i: (i.line or 0, i.column or 0)))
    policy._digest = digest
    return policy


def _contradictions(raw: object) -> Iterator[Contradiction]:
    """The contradictions among the sections that are valid on their own, whatever else is wrong.

    Each section is validated again by itself: a policy with any error has no sections to read.
    """
    licence = _section(raw, "license", LicenseRules)
    if licence is not None:
        yield from licence_contradictions(licence)
    review, reject = _section(raw, "max_severity", ReviewAbove), _section(raw, "reject_severity", RejectFrom)
    if review is not None and reject is not None:
        yield from severity_contradictions(review, reject)


def _section(raw: object, key: str, model: type[Section]) -> Section | None:
    """The section ``key`` of ``raw`` (its defaults when absent), or None when it is not valid."""
    if not isinstance(raw, Mapping):
        return None
    try:
        return model.model_validate(raw.get(key, {}), context=COLLECTING)
    except ValidationError:
        return None


def _contradiction_issue(found: Contradiction, root: yaml.Node, filename: str) -> PolicyIssue:
    path = _dotted(found.at)
    message = f"{path} {found.message} (got {_describe(found.got)})"
    return PolicyIssue(filename, *_mark(_node_at(root, found.at)), path, message)


def _syntax_issue(error: yaml.MarkedYAMLError, filename: str) -> PolicyIssue:
    mark = error.problem_mark or error.context_mark
    problem = ": ".join(part for part in (error.context, error.problem) if part)
    line, column = (None, None) if mark is None else (mark.line + 1, mark.column + 1)
    return PolicyIssue(filename, line, column, "", f"YAML syntax error: {problem}")


def _duplicates(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, yaml.Node, str]]:
    """Keys given twice in one mapping: YAML keeps the last silently, hiding the first."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in first:
                line = first[name].start_mark.line + 1
                yield (*loc, name), key, f"{_dotted((*loc, name))} is given twice (first on line {line})"
            first.setdefault(name, key)
            yield from _duplicates(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*loc, index))


def _issue(detail: ErrorDetails, root: yaml.Node, filename: str) -> PolicyIssue:
    context = detail.get("ctx") or {}
    loc: Loc = (*detail["loc"], *context.get("at", ()))
    path = _dotted(loc)
    kind = detail["type"]
    if kind == "extra_forbidden":
        node = _node_at(root, loc, key=True)
        message = _unknown_key(loc)
    elif kind == "invalid_key":
        node = _node_at(root, loc, key=True)
        message = f"{_dotted(loc[:-1]) or 'the policy'} has a key that is not text (got {_describe(loc[-1])})"
    elif kind == "missing":
        node = _node_at(root, loc[:-1])
        message = f"{path} is required"
    else:
        node = _node_at(root, loc)
        value = context["got"] if "at" in context else detail["input"]
        message = f"{path or 'the policy'} {_expected(detail)} (got {_describe(value)})"
    return PolicyIssue(filename, *_mark(node), path, message)


def _expected(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'|(\d+)", str((detail.get("ctx") or {}).get("expected", "")))
        values = [quoted or number for quoted, number in choices]
        return f"must be {values[0]}" if len(values) == 1 else f"must be one of {', '.join(values)}"
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "policy":  # raised by the schema's own validators, already worded to follow the path
        return detail["msg"]
    return f"is invalid: {detail['msg'][:1].lower()}{detail['msg'][1:]}"


def _unknown_key(loc: Loc) -> str:
    """``<path> is not a policy key``, the keys allowed there, and the closest one."""
    model: type[BaseModel] = Policy
    for part in loc[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    allowed = list(model.model_fields)
    near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f" (did you mean {near[0]}?)" if near else ""
    where = f"the keys of {_dotted(loc[:-1])}" if len(loc) > 1 else "the top-level keys"
    return f"{_dotted(loc)} is not a policy key{hint}; {where} are {', '.join(allowed)}"


def _node_at(root: yaml.Node, loc: Loc, *, key: bool = False) -> yaml.Node:
    """The YAML node at ``loc`` (its key node with ``key``), or the deepest node on the way there."""
    node = root
    for n, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
            entry = next(((k, v) for k, v in reversed(pairs) if str(k.value) == str(part)), None)
            if entry is None:
                return node
            if key and n == len(loc) - 1:
                return entry[0]
            node = entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _dotted(loc: Loc) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def _describe(value: object) -> str:
    """A value as the error shows it: scalars as written, containers by kind."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    return json.dumps(value) if value is None or isinstance(value, bool | int | float) else str(value)
