"""YAML files read for their values and for where each one was written: errors as ``file:line:col``.

Every YAML file ModelSteward reads (the policy, the notifications file) is loaded the same way, and a
new one should be too::

    text = read_text(path, ThingError)
    document = parse_yaml(text, str(path), empty="the file is empty; it needs ...", error=ThingError)
    issues = list(document.issues)  # keys given twice
    try:
        thing = Thing.model_validate(document.data)
    except ValidationError as error:
        issues += [document.validation_issue(detail) for detail in error.errors()]
    if issues:
        raise ThingError(issues)

where ``ThingError`` subclasses :class:`IssueError`. A loader words the errors only it knows (an
unknown key, its validators' own error type) and places them with :meth:`Document.issue`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]
"""A path into a document, as pydantic gives it: keys and list indexes from the top."""

# What a value of each pydantic error type must be, as the end of "<path> must ...".
_TYPES = {
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
}
_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "more than",
    "less_than_equal": "at most",
    "less_than": "less than",
}
_LENGTHS = {
    "too_short": ("least", "entries"),
    "too_long": ("most", "entries"),
    "string_too_short": ("least", "characters"),
    "string_too_long": ("most", "characters"),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong with a file, and where."""

    file: str
    """The file as the user named it (or, for a loader's other inputs, what they are: ``environment``)."""
    line: int | None
    """1-based; None when the problem is no line's (the file cannot be read, an environment variable)."""
    column: int | None
    """1-based, with ``line``."""
    path: str
    """The dotted path of the offending key (``max_severity.security``, ``notifiers[1].url``); empty
    for the document itself."""
    message: str
    """What is wrong and what would be right, starting with the path."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form, without the file (which a report names once)."""
        return {"line": self.line, "column": self.column, "path": self.path, "message": self.message}


class IssueError(Exception):
    """A file that cannot be used, with every issue found in it; each kind of file subclasses it."""

    issues: tuple[Issue, ...]
    """In the order of the file; those without a line first, in the order given."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(sorted(issues, key=lambda issue: (issue.line or 0, issue.column or 0)))
        super().__init__("\n".join(str(issue) for issue in self.issues))


_Error = TypeVar("_Error", bound=IssueError)


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed YAML document: its values, and the nodes that say where each was written."""

    file: str
    """The name errors give the file."""
    root: yaml.Node
    """The node tree, which says where each value was written."""
    data: object
    """The document as Python values, as ``yaml.safe_load`` gives them: what a schema validates."""
    issues: tuple[Issue, ...]
    """What is wrong with the YAML though it parses: keys given twice, which YAML would let the last
    one hide."""

    def issue(self, loc: Loc, message: str, *, key: bool = False) -> Issue:
        """An issue about the value at ``loc`` (its key, with ``key``), placed where it is written.

        A value that is not in the document is placed at the deepest node on the way to it.
        """
        return _issue(self.file, _node_at(self.root, loc, key=key), loc, message)

    def validation_issue(
        self, detail: ErrorDetails, *, loc: Loc | None = None, whole: str = "the file"
    ) -> Issue:
        """The issue for one of pydantic's errors, worded ``<path> must ... (got <value>)``.

        ``loc`` replaces the error's own where the loader knows better (a discriminated union puts its
        tag in it); ``whole`` is what a message calls the document itself, whose path is empty.
        """
        where = detail["loc"] if loc is None else loc
        path = dotted(where) or whole
        kind = detail["type"]
        if kind == "missing":  # placed at the mapping that lacks it
            return _issue(self.file, _node_at(self.root, where[:-1]), where, f"{path} is required")
        if kind == "invalid_key":  # a key YAML read as a number, a date, a list...
            owner = dotted(where[:-1]) or whole
            return self.issue(
                where, f"{owner} has a key that is not text (got {describe(where[-1])})", key=True
            )
        return self.issue(where, f"{path} {_expected(detail)}")


def read_text(path: Path, error: type[_Error]) -> str:
    """The text of the file at ``path``; raise ``error`` when it cannot be read or is not UTF-8."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as problem:
        raise error([Issue(name, None, None, "", f"cannot read: {problem.strerror or problem}")]) from None
    try:
        # Decoded as it is, line ends and all: a digest of the text is then one of the file.
        return data.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        column = problem.start - (data.rfind(b"\n", 0, problem.start) + 1) + 1
        raise error([Issue(name, line, column, "", "the file is not UTF-8 text")]) from None


def parse_yaml(text: str, filename: str, *, empty: str, error: type[_Error]) -> Document:
    """The single YAML document in ``text``, named ``filename`` in its issues.

    Raise ``error`` for a syntax error, or with the message ``empty`` for a file with no document.
    """
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as problem:
        raise error([_syntax_issue(problem, filename)]) from None
    if root is None:
        raise error([Issue(filename, 1, 1, "", empty)])
    return Document(filename, root, data, tuple(_duplicates(root, filename)))


def dotted(loc: Loc) -> str:
    """``loc`` as a message names it: ``license.deny[2]``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def describe(value: object) -> str:
    """A value as an error shows it: scalars as written, containers by kind."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    return json.dumps(value) if value is None or isinstance(value, bool | int | float) else str(value)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean <the closest choice>?)``, or nothing when none is close."""
    near = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {near[0]}?)" if near else ""


def _expected(detail: ErrorDetails) -> str:
    """What the value must be, followed by what it is, for one of pydantic's own errors."""
    kind, context = detail["type"], detail.get("ctx") or {}
    got = f" (got {describe(detail['input'])})"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'|(\d+)", str(context.get("expected", "")))
        values = [quoted or number for quoted, number in choices]
        return (f"must be {values[0]}" if len(values) == 1 else f"must be one of {', '.join(values)}") + got
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {next(iter(context.values())):g}{got}"
    if kind in _LENGTHS:
        bound, unit = _LENGTHS[kind]
        count = context["min_length" if bound == "least" else "max_length"]
        if bound == "least" and count == 1:
            return "must not be empty"
        return f"must have at {bound} {count} {unit}{got}"
    return _TYPES.get(kind, f"is invalid: {detail['msg'][:1].lower()}{detail['msg'][1:]}") + got


def _syntax_issue(error: yaml.MarkedYAMLError, filename: str) -> Issue:
    mark = error.problem_mark or error.context_mark
    problem = ": ".join(part for part in (error.context, error.problem) if part)
    line, column = (None, None) if mark is None else (mark.line + 1, mark.column + 1)
    return Issue(filename, line, column, "", f"YAML syntax error: {problem}")


def _duplicates(node: yaml.Node, filename: str, loc: Loc = ()) -> Iterator[Issue]:
    """Keys given twice in one mapping: YAML keeps the last silently, hiding the first."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in first:
                line = first[name].start_mark.line + 1
                at = (*loc, name)
                yield _issue(filename, key, at, f"{dotted(at)} is given twice (first on line {line})")
            first.setdefault(name, key)
            yield from _duplicates(value, filename, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, filename, (*loc, index))


def _node_at(root: yaml.Node, loc: Loc, *, key: bool = False) -> yaml.Node:
    """The YAML node at ``loc`` (its key node with ``key``), or the deepest node on the way there."""
    node = root
    for n, part in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
            # The last of keys given twice: the one whose value YAML kept, and pydantic saw.
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


def _issue(filename: str, node: yaml.Node, loc: Loc, message: str) -> Issue:
    return Issue(filename, node.start_mark.line + 1, node.start_mark.column + 1, dotted(loc), message)
