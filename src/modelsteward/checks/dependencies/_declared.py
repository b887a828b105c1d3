"""What a model's repository says it depends on: requirements, project files, shipped imports, configs.

Files are only read: ``setup.py`` and shipped code are parsed into syntax trees, never run or
imported. Every file is read up to a limit, and a file over it is a :class:`Problem`, never read in
part (half a requirements file could pin a wrong version).
"""

from __future__ import annotations

import ast
import configparser
import json
import posixpath
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from modelsteward.checks.dependencies._import_names import ImportNames, load_import_names
from modelsteward.checks.dependencies._requirements import (
    Include,
    Skip,
    parse_requirements_file,
    requirement_component,
    shorten,
)
from modelsteward.core import Component, FileEntry, Origin, Snapshot
from modelsteward.core.component import length_problem

TEXT_LIMIT = 1 << 20
"""Bytes of a requirements file, ``pyproject.toml``, ``setup.cfg`` or ``setup.py``: far above any real one."""
CODE_LIMIT = 4 << 20
"""Bytes of a shipped Python file whose imports are listed."""
CONFIG_LIMIT = 16 << 20
"""Bytes of a config (``config.json`` of a model with many labels reaches a few MiB)."""

_CONFIG_NAMES = frozenset(
    {
        "config.json",
        "generation_config.json",
        "adapter_config.json",
        "scheduler_config.json",
        "model_index.json",  # diffusers pipelines
        "config_sentence_transformers.json",
        "metadata.json",  # Keras and KerasHub presets
        "MLmodel",  # MLflow
    }
)
# A key naming the version of the framework that wrote the file -> that framework's distribution.
_VERSION_KEYS: Mapping[str, str] = {
    "transformers_version": "transformers",
    "_diffusers_version": "diffusers",
    "peft_version": "peft",
    "keras_version": "keras",
    "keras_hub_version": "keras-hub",
    "keras_nlp_version": "keras-nlp",
    "mlflow_version": "mlflow",
    # MLflow flavours, one level down in MLmodel's `flavors`
    "sklearn_version": "scikit-learn",
    "pytorch_version": "torch",
    "xgb_version": "xgboost",
    "lgb_version": "lightgbm",
}
# config_sentence_transformers.json's `__version__` names its libraries by their import names.
_SENTENCE_TRANSFORMERS_KEYS: Mapping[str, str] = {
    "sentence_transformers": "sentence-transformers",
    "transformers": "transformers",
    "pytorch": "torch",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A declaration that could not be read, so the components may be incomplete."""

    path: str
    """The file, relative to the snapshot root."""
    location: str
    """Where inside it (``line 4``, ``[project] dependencies``); empty for the whole file."""
    message: str
    """What is wrong, and what would be right where the file can be fixed."""


@dataclass(frozen=True, slots=True)
class Declared:
    """Everything the repository declares, and what could not be read."""

    components: tuple[Component, ...]
    """Each once (by name, origin, version and specifier; with its first evidence), sorted by name."""
    problems: tuple[Problem, ...]


def declared_components(snapshot: Snapshot) -> tuple[Component, ...]:
    """The components the snapshot's files declare (see :func:`read_declared`)."""
    return read_declared(snapshot).components


def read_declared(snapshot: Snapshot) -> Declared:
    """The components the snapshot's files declare, with the declarations that could not be read.

    Sources, in the manifest's path order: requirements files (``requirements*.txt`` and
    ``requirements/*.txt`` at any depth, following ``-r`` includes inside the snapshot),
    ``pyproject.toml``, ``setup.cfg``, ``setup.py`` (its literal ``install_requires``), the imports
    of shipped ``*.py`` files, and configs that name the framework version that wrote them.
    """
    files = {entry.path: entry for entry in snapshot.manifest.files}
    shipped = _shipped_modules(files)
    table = load_import_names()
    included: set[str] = set()
    found: list[Component | Problem] = []
    for path, entry in files.items():
        if not _is_requirements_file(path):
            found += _declarations(snapshot, entry, shipped, table)
        elif path not in included:  # else already read where another file includes it
            found += _requirements(snapshot, files, entry, included)
    components: dict[tuple[str, Origin, str | None, str], Component] = {}
    for item in found:
        if isinstance(item, Component):
            components.setdefault((item.name, item.origin, item.version, item.specifier), item)
    order = {origin: rank for rank, origin in enumerate(Origin)}
    return Declared(
        components=tuple(
            sorted(
                components.values(),
                key=lambda c: (c.name, order[c.origin], c.version or "", c.specifier),
            )
        ),
        problems=tuple(item for item in found if isinstance(item, Problem)),
    )


def _declarations(
    snapshot: Snapshot, entry: FileEntry, shipped: frozenset[str], table: ImportNames
) -> Iterator[Component | Problem]:
    """What one file other than a requirements file declares, by its name."""
    name = PurePosixPath(entry.path).name
    if name == "setup.py":
        yield from _with_text(snapshot, entry, TEXT_LIMIT, _setup_py)
    if name.endswith(".py"):
        yield from _with_text(snapshot, entry, CODE_LIMIT, lambda p, t: _imports(p, t, shipped, table))
    elif name == "pyproject.toml":
        yield from _with_text(snapshot, entry, TEXT_LIMIT, _pyproject)
    elif name == "setup.cfg":
        yield from _with_text(snapshot, entry, TEXT_LIMIT, _setup_cfg)
    elif name in _CONFIG_NAMES:
        yield from _with_text(snapshot, entry, CONFIG_LIMIT, _config)
    elif name.endswith(".keras"):
        yield from _keras_archive(snapshot, entry)


def _is_requirements_file(path: str) -> bool:
    pure = PurePosixPath(path)
    if pure.suffix.casefold() != ".txt":
        return False
    return pure.name.casefold().startswith("requirements") or pure.parent.name.casefold() == "requirements"


def _read(snapshot: Snapshot, entry: FileEntry, limit: int) -> str | Problem:
    """The file's text, or why it was not read: over ``limit`` bytes, binary, or unreadable."""
    too_large = Problem(entry.path, "", f"larger than {_size(limit)}; not read")
    if entry.size > limit:
        return too_large
    try:
        with (snapshot.root / entry.path).open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        return Problem(entry.path, "", f"cannot be read ({error.strerror or type(error).__name__})")
    if len(data) > limit:
        return too_large
    if b"\0" in data:
        return Problem(entry.path, "", "holds binary data, not text; not read")
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB"


def _with_text(
    snapshot: Snapshot,
    entry: FileEntry,
    limit: int,
    parse: Callable[[str, str], Iterable[Component | Problem]],
) -> Iterator[Component | Problem]:
    """``parse(path, text)`` of the file, or the problem reading it."""
    text = _read(snapshot, entry, limit)
    if isinstance(text, Problem):
        yield text
        return
    yield from parse(entry.path, text)


# Requirements files


def _requirements(
    snapshot: Snapshot, files: Mapping[str, FileEntry], entry: FileEntry, included: set[str]
) -> Iterator[Component | Problem]:
    """The requirements of one file and, depth first, of the files it includes; each file once."""
    included.add(entry.path)
    text = _read(snapshot, entry, TEXT_LIMIT)
    if isinstance(text, Problem):
        yield text
        return
    for item in parse_requirements_file(text, entry.path):
        if isinstance(item, Component):
            yield item
        elif isinstance(item, Skip):
            yield Problem(entry.path, f"line {item.line}", item.reason)
        else:
            target = _include(files, entry.path, item)
            if isinstance(target, Problem):
                yield target
            elif target.path not in included:
                yield from _requirements(snapshot, files, target, included)


def _include(files: Mapping[str, FileEntry], path: str, include: Include) -> FileEntry | Problem:
    """The snapshot file ``-r TARGET`` names, relative to the including file as pip reads it."""
    where = f"line {include.line}"
    if "://" in include.target:
        return Problem(path, where, f"`-r {include.target}` is a URL; it is not fetched")
    if include.target.startswith("/"):
        return Problem(path, where, f"`-r {include.target}` is an absolute path; name a file in the snapshot")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), include.target))
    if resolved == ".." or resolved.startswith("../"):
        return Problem(path, where, f"`-r {include.target}` is outside the snapshot; it is not read")
    target = files.get(resolved)
    if target is None:
        return Problem(path, where, f"`-r {include.target}` names {resolved}, which the snapshot lacks")
    return target


# Project files


def _pyproject(path: str, text: str) -> Iterator[Component | Problem]:
    """``[project]`` dependencies and optional dependencies; ``[tool.poetry.dependencies]``."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        yield Problem(path, "", f"is not valid TOML ({error})")
        return
    lines = text.splitlines()
    project = document.get("project", {})
    if isinstance(project, dict):
        yield from _strings(path, lines, "[project] dependencies", project.get("dependencies", []))
        optional = project.get("optional-dependencies", {})
        if not isinstance(optional, dict):
            yield Problem(path, "[project] optional-dependencies", "must map extra names to lists")
            optional = {}
        for extra, requirements in optional.items():
            yield from _strings(path, lines, f"[project.optional-dependencies] {extra}", requirements)
    tool = document.get("tool", {})
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    dependencies = poetry.get("dependencies", {}) if isinstance(poetry, dict) else {}
    if isinstance(dependencies, dict):
        for name, constraint in dependencies.items():
            if name != "python":
                yield _poetry(path, lines, name, constraint)


def _strings(path: str, lines: list[str], where: str, requirements: Any) -> Iterator[Component | Problem]:
    """Components of a list of PEP 508 strings; evidence is the first line holding each string."""
    if not isinstance(requirements, list):
        yield Problem(
            path, where, f"must be a list of requirement strings (got {type(requirements).__name__})"
        )
        return
    for requirement in requirements:
        if not isinstance(requirement, str):
            yield Problem(path, where, f"{requirement!r} is not a requirement string")
            continue
        try:
            yield requirement_component(requirement, _evidence(path, lines, requirement))
        except ValueError as error:
            yield Problem(path, where, f"`{shorten(requirement)}` is {error}")


def _evidence(path: str, lines: list[str], text: str) -> str:
    """``path:line`` of the first line holding ``text``, or the path when none does (a split string)."""
    number = next((n for n, line in enumerate(lines, start=1) if text in line), None)
    return path if number is None else f"{path}:{number}"


def _poetry(path: str, lines: list[str], name: Any, constraint: Any) -> Component | Problem:
    """A Poetry dependency: an exact version pins; another constraint is kept as written (``^1.2``);
    a table is read for its ``version``; anything else (git, path, several constraints) names only."""
    where = "[tool.poetry.dependencies]"
    try:
        canonical = canonicalize_name(str(name), validate=True)
    except InvalidName:
        return Problem(path, where, f"{name!r} is not a distribution name")
    if isinstance(constraint, dict):
        constraint = constraint.get("version", "")
    text = constraint.strip() if isinstance(constraint, str) else ""
    # The line that binds the name: `torch = "^2.1"` or `torch = {version = ...}`.
    number = next(
        (n for n, line in enumerate(lines, start=1) if line.strip().partition("=")[0].strip() == name), None
    )
    evidence = path if number is None else f"{path}:{number}"
    try:
        version = str(Version(text.removeprefix("==")))
    except InvalidVersion:
        version = None
    problem = length_problem(canonical, version)
    if problem is not None:
        return Problem(path, where, f"`{shorten(str(name))}` is too long to record: its {problem}")
    if version is None:
        specifier = "" if text == "*" else text
        return Component(canonical, Origin.REQUIREMENT, specifier=specifier, evidence=evidence)
    return Component(canonical, Origin.REQUIREMENT, version=version, evidence=evidence)


def _setup_cfg(path: str, text: str) -> Iterator[Component | Problem]:
    """``[options] install_requires`` and ``[options.extras_require]``, one requirement a line."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as error:
        yield Problem(path, "", f"is not a valid setup.cfg ({str(error).splitlines()[0]})")
        return
    lines = text.splitlines()
    sections = [("options", "install_requires")]
    if parser.has_section("options.extras_require"):
        sections += [("options.extras_require", extra) for extra in parser.options("options.extras_require")]
    for section, option in sections:
        value = parser.get(section, option, fallback="")
        requirements = [line.strip() for line in value.splitlines()]
        yield from _strings(
            path, lines, f"[{section}] {option}", [r for r in requirements if r and not r.startswith("#")]
        )


def _setup_py(path: str, text: str) -> Iterator[Component | Problem]:
    """The literal ``install_requires`` and ``extras_require`` of ``setup(...)`` calls, read from the
    syntax tree: the file is never run. A module-level name bound once to a literal is followed."""
    tree = _parse(path, text)
    if isinstance(tree, Problem):
        return  # the imports reader reports a file that does not parse
    bound: dict[str, ast.expr | None] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            bound[name] = None if name in bound else node.value  # bound twice: not a constant
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and _callee(call.func) == "setup"):
            continue
        for keyword in call.keywords:
            if keyword.arg == "install_requires":
                yield from _literal_strings(path, "install_requires", _follow(keyword.value, bound))
            elif keyword.arg == "extras_require":
                yield from _extras(path, _follow(keyword.value, bound), bound)


def _callee(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _follow(node: ast.expr | None, bound: Mapping[str, ast.expr | None]) -> ast.expr | None:
    return bound.get(node.id) if isinstance(node, ast.Name) else node


def _literal_strings(path: str, where: str, node: ast.expr | None) -> Iterator[Component | Problem]:
    elements = node.elts if isinstance(node, ast.List | ast.Tuple) else []
    strings = [
        (e.lineno, e.value) for e in elements if isinstance(e, ast.Constant) and isinstance(e.value, str)
    ]
    if not isinstance(node, ast.List | ast.Tuple) or len(strings) != len(elements):
        line = "" if node is None else f"line {node.lineno}"
        problem = f"`{where}` is not a literal list of strings; setup.py is never run to compute it"
        yield Problem(path, line, problem)
        return
    for number, text in strings:
        try:
            yield requirement_component(text, f"{path}:{number}")
        except ValueError as error:
            yield Problem(path, f"line {number}", f"`{shorten(text)}` is {error}")


def _extras(
    path: str, node: ast.expr | None, bound: Mapping[str, ast.expr | None]
) -> Iterator[Component | Problem]:
    keys = [k.value for k in node.keys if isinstance(k, ast.Constant)] if isinstance(node, ast.Dict) else []
    if not isinstance(node, ast.Dict) or len(keys) != len(node.keys):
        line = "" if node is None else f"line {node.lineno}"
        yield Problem(
            path, line, "`extras_require` is not a literal dict; setup.py is never run to compute it"
        )
        return
    for key, value in zip(keys, node.values, strict=True):
        yield from _literal_strings(path, f"extras_require[{key!r}]", _follow(value, bound))


# Imports of shipped code


def _shipped_modules(files: Iterable[str]) -> frozenset[str]:
    """Top-level names the snapshot's own code can be imported by: every folder holding Python files
    and every module file's name, since a repository's code runs with its own folders on the path."""
    names: set[str] = set()
    for path in files:
        parts = path.split("/")
        if parts[-1].endswith((".py", ".so", ".pyd")):
            names.update(parts[:-1])
            names.add(parts[-1].partition(".")[0])
    return frozenset(names)


def _parse(path: str, text: str) -> ast.Module | Problem:
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as error:
        where = f"line {error.lineno}" if error.lineno else ""
        return Problem(path, where, f"does not parse as Python ({error.msg}); its imports are not listed")
    except (ValueError, RecursionError, MemoryError) as error:
        return Problem(
            path, "", f"does not parse as Python ({type(error).__name__}); its imports are not listed"
        )


def _imports(
    path: str, text: str, shipped: frozenset[str], table: ImportNames
) -> Iterator[Component | Problem]:
    """The distributions the file imports by absolute name, other than the standard library's and the
    snapshot's own modules; ``from a import b`` is looked up as ``a.b`` to tell namespace packages apart."""
    tree = _parse(path, text)
    if isinstance(tree, Problem):
        yield tree
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module if a.name == "*" else f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for module in modules:
            top = module.partition(".")[0]
            if top in sys.stdlib_module_names or top in shipped:
                continue
            distribution = table.distribution(module)
            if distribution is not None:
                yield Component(distribution, Origin.IMPORT, evidence=f"{path}:{node.lineno}")


# Configs


def _config(path: str, text: str) -> Iterator[Component | Problem]:
    """The framework versions a config names: ``transformers_version`` and its kin, at the top level
    or up to two levels down (MLmodel's flavours); sentence-transformers' ``__version__`` table."""
    import yaml  # noqa: PLC0415 - only MLflow models need it; keep the check's import light

    try:
        if PurePosixPath(path).name == "MLmodel":
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe
        else:
            document = json.loads(text)
    except (ValueError, RecursionError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        yield Problem(path, "", f"cannot be parsed ({reason}); its versions are not read")
        return
    yield from _config_versions(path, document)


def _config_versions(path: str, document: Any) -> Iterator[Component | Problem]:
    if not isinstance(document, dict):
        return
    scopes: list[tuple[str, dict[Any, Any]]] = []
    level = [("", document)]
    for _ in range(3):  # the top and two levels down: MLmodel's `flavors.sklearn.sklearn_version`
        scopes += level
        level = [(f"{p}{k}.", v) for p, scope in level for k, v in scope.items() if isinstance(v, dict)]
    for prefix, scope in scopes:
        for key, distribution in _VERSION_KEYS.items():
            if key in scope:
                yield _versioned(path, f"{prefix}{key}", distribution, scope[key])
    versions = document.get("__version__")
    if PurePosixPath(path).name == "config_sentence_transformers.json" and isinstance(versions, dict):
        for key, distribution in _SENTENCE_TRANSFORMERS_KEYS.items():
            if key in versions:
                yield _versioned(path, f"__version__.{key}", distribution, versions[key])


def _versioned(path: str, key: str, distribution: str, value: Any) -> Component | Problem:
    try:
        Version(value if isinstance(value, str) else "")
    except InvalidVersion:
        return Problem(
            path, f"`{key}`", f"{shorten(repr(value))} is not a version (like `4.41.2`); not listed"
        )
    problem = length_problem(distribution, value.strip())
    if problem is not None:
        return Problem(path, f"`{key}`", f"too long to record: its {problem}; not listed")
    return Component(distribution, Origin.CONFIG, version=value.strip(), evidence=path)


def _keras_archive(snapshot: Snapshot, entry: FileEntry) -> Iterator[Component | Problem]:
    """The Keras version in a ``.keras`` archive's ``metadata.json``; the archive is only listed, and
    only that member is read, up to :data:`CONFIG_LIMIT`."""
    try:
        with zipfile.ZipFile(snapshot.root / entry.path) as archive:
            member = archive.getinfo("metadata.json")
            if member.file_size > CONFIG_LIMIT:
                yield Problem(entry.path, "metadata.json", f"larger than {_size(CONFIG_LIMIT)}; not read")
                return
            with archive.open(member) as handle:
                data = handle.read(CONFIG_LIMIT + 1)
    except KeyError:
        return  # an archive without metadata names no version: nothing to list
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError, EOFError) as error:
        problem = f"is not a readable Keras archive ({error}); its Keras version is not read"
        yield Problem(entry.path, "", problem)
        return
    if len(data) > CONFIG_LIMIT:
        yield Problem(entry.path, "metadata.json", f"larger than {_size(CONFIG_LIMIT)}; not read")
        return
    try:
        document = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError) as error:
        yield Problem(entry.path, "metadata.json", f"cannot be parsed ({str(error).splitlines()[0]})")
        return
    yield from _config_versions(entry.path, document)
