"""Requirements as pip writes them: PEP 508 strings, and the lines of a requirements file.

Pure text in, components out: nothing is installed, fetched or run. A requirements file's ``-r``
includes come out as :class:`Include` for the caller to resolve inside the snapshot.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidName,
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from modelsteward.core import Component, Origin
from modelsteward.core.component import length_problem

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = frozenset({"-r", "--requirement"})
_EDITABLE = frozenset({"-e", "--editable"})
_DIRECT_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_EGG = re.compile(r"[#&]egg=([^&#]+)")
_FORM = "write NAME[EXTRAS][SPECIFIER][; MARKER], e.g. `torch>=2.1,<3`"


@dataclass(frozen=True, slots=True)
class Include:
    """A ``-r FILE`` line: another requirements file, relative to the one that names it."""

    line: int
    target: str
    """As written."""


@dataclass(frozen=True, slots=True)
class Skip:
    """A line that names a requirement ModelSteward cannot read."""

    line: int
    reason: str
    """What is wrong with it, and what would be right."""


def requirement_component(text: str, evidence: str) -> Component:
    """The component a PEP 508 requirement string names; raise ValueError saying why it is not one.

    ``==X`` (or ``===X``) pins the version; any other specifier is kept as declared, and a direct
    reference (``name @ URL``) is kept as ``@ URL`` in place of a specifier.
    """
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        raise ValueError(f"not a requirement ({_first_line(error)}); {_FORM}") from None
    name = canonicalize_name(requirement.name)
    if requirement.url:
        return _component(name, None, evidence, specifier=f"@ {requirement.url}")
    specifiers = list(requirement.specifier)
    if len(specifiers) == 1 and specifiers[0].operator in {"==", "==="} and "*" not in specifiers[0].version:
        return _component(name, specifiers[0].version, evidence)
    return _component(name, None, evidence, specifier=str(requirement.specifier))


def _component(name: str, version: str | None, evidence: str, *, specifier: str = "") -> Component:
    """A requirement component; ValueError, worded to follow "is", when it is too long to record."""
    problem = length_problem(name, version)
    if problem is not None:
        raise ValueError(f"too long to record: its {problem}")
    return Component(name, Origin.REQUIREMENT, version=version, specifier=specifier, evidence=evidence)


def parse_requirements_file(text: str, path: str) -> Iterator[Component | Include | Skip]:
    """What each logical line of a pip requirements file names, in order.

    Comments and pip's options (index URLs, ``--hash``, ``-c`` constraints, which add nothing to
    install) are ignored; local paths and editable local projects are too, since their own
    declarations are read where the snapshot holds them. Environment markers are not evaluated:
    the requirement is listed, and its evidence (``path:line``) points at the marker.
    """
    for number, line in _logical_lines(text):
        evidence = f"{path}:{number}"
        if line.startswith("-"):
            item = _option(line, number, evidence)
            if item is not None:
                yield item
            continue
        # pip's per-requirement options (--hash, --config-settings) follow the first token starting with -.
        tokens = line.split()
        words = tokens[: next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))]
        item = _requirement_line(" ".join(words), number, evidence)
        if item is not None:
            yield item


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines joined where they end with a backslash, without comments, numbered by their first line."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        line = _COMMENT.sub("", "".join([*pending, raw])).strip()
        pending = []
        if line:
            yield start, line
    if pending:
        line = _COMMENT.sub("", "".join(pending)).strip()
        if line:
            yield start, line


def _option(line: str, number: int, evidence: str) -> Component | Include | Skip | None:
    try:
        tokens = shlex.split(line)
    except ValueError as error:
        return Skip(number, f"cannot be split into options ({error})")
    first = tokens[0]
    if first.startswith("--"):
        name, equals, value = first.partition("=")
        argument = value if equals else (tokens[1] if len(tokens) > 1 else "")
    else:
        name, argument = first[:2], first[2:] or (tokens[1] if len(tokens) > 1 else "")
    if name in _INCLUDE:
        return Include(number, argument) if argument else Skip(number, f"`{name}` names no file")
    if name in _EDITABLE:
        return _location(argument, number, evidence) if argument else Skip(number, f"`{name}` names nothing")
    return None


def _requirement_line(text: str, number: int, evidence: str) -> Component | Skip | None:
    if _is_location(text):
        return _location(text, number, evidence)
    try:
        return requirement_component(text, evidence)
    except ValueError as error:
        return Skip(number, f"`{shorten(text)}` is {error}")


def _is_location(text: str) -> bool:
    # pip reads a line as a URL or path, unless it is a PEP 508 direct reference (`name @ URL`), when it
    # has a scheme, starts like a path or ends like an archive.
    if _DIRECT_REFERENCE.match(text):
        return False
    return "://" in text or text.startswith((".", "/")) or text.endswith((".whl", ".tar.gz", ".zip"))


def _location(text: str, number: int, evidence: str) -> Component | Skip | None:
    """The distribution a URL or path names: by its wheel or sdist file name, else by ``#egg=NAME``.

    None for a local path without either: a project the snapshot itself holds, or none it does.
    """
    url = text.removeprefix("git+").removeprefix("hg+").removeprefix("svn+").removeprefix("bzr+")
    filename = urlsplit(url).path.rpartition("/")[2]
    try:
        name, version, *_ = parse_wheel_filename(filename)
        return _located(text, number, canonicalize_name(name), str(version), evidence)
    except InvalidWheelFilename:
        pass
    try:
        name, sdist_version = parse_sdist_filename(filename)
        version_text = None if sdist_version is None else str(sdist_version)
        return _located(text, number, canonicalize_name(name), version_text, evidence)
    except InvalidSdistFilename:
        pass
    egg = _EGG.search(text)
    if egg is not None:
        try:
            name = canonicalize_name(egg.group(1).partition("[")[0], validate=True)
        except InvalidName:
            return Skip(number, f"`#egg={shorten(egg.group(1))}` is not a distribution name")
        return _located(text, number, name, None, evidence, specifier=f"@ {text}")
    if "://" in text:
        right = "add `#egg=NAME` or write `NAME @ URL`"
        return Skip(number, f"`{shorten(text)}` names no distribution; {right}")
    return None


def _located(
    text: str, number: int, name: str, version: str | None, evidence: str, *, specifier: str = ""
) -> Component | Skip:
    """The component a URL or path names, or why it cannot be recorded."""
    try:
        return _component(name, version, evidence, specifier=specifier)
    except ValueError as error:
        return Skip(number, f"`{shorten(text)}` is {error}")


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def shorten(text: str, limit: int = 120) -> str:
    """``text`` as a message quotes it: cut to ``limit`` characters, the last one ``…`` when cut."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"
