"""Which pickled globals are allowed, for which use, and which are denied: data from YAML.

``pickle_allowlist.yaml`` lists exact (module, name) pairs ML frameworks pickle, with the use
each may be put to; ``pickle_denylist.yaml`` lists dangerous families. Both are read once.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.checks.security.pickle._names import Name, canonical, fix_imports, is_dunder, readings
from modelsteward.core import Severity
from modelsteward.data import load_yaml

_MAX_PATH_PARTS = 24
"""Longer dotted paths (module and attribute parts together) are judged on their first parts only
and never allowlisted."""


class Use(enum.Enum):
    """What a pickle does with a global."""

    VALUE = "value"
    """Referenced only."""
    INSTANTIATE = "instantiate"
    """Created empty (``cls.__new__``) and filled by BUILD."""
    ENUM = "enum"
    """Called with a single scalar: an Enum member."""
    CALL = "call"
    """Called with arbitrary arguments."""


_PERMITS: dict[Use, frozenset[Use]] = {
    Use.VALUE: frozenset({Use.VALUE}),
    Use.INSTANTIATE: frozenset({Use.VALUE, Use.INSTANTIATE}),
    Use.ENUM: frozenset({Use.VALUE, Use.INSTANTIATE, Use.ENUM}),
    Use.CALL: frozenset(Use),
}


@dataclass(frozen=True, slots=True)
class Allowed:
    """An allowlist entry: the most a global may be used for, and what it calls in turn."""

    use: Use
    calls_args: tuple[int, ...] = ()
    """Argument positions this callable calls: whatever is passed there must be callable-allowed."""
    instantiates_args: tuple[int, ...] = ()
    """Argument positions this callable instantiates."""

    def permits(self, use: Use) -> bool:
        """Whether this entry allows ``use``."""
        return use in _PERMITS[self.use]


CALLABLE = Allowed(Use.CALL)
"""What a policy's ``allowed_globals`` grants."""


@dataclass(frozen=True, slots=True)
class Denied:
    """A denylist family."""

    family: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the tables say about one global."""

    name: Name
    """The canonical name (after ``_compat_pickle`` mappings and module aliases)."""
    allowed: Allowed | None
    denied: Denied | None
    dunder: bool
    """The attribute path goes through a dunder attribute (``__globals__``, ``__class__``...)."""


@dataclass(frozen=True, slots=True)
class _AllowEntry:
    module: str
    """Exact module, or a prefix ending in ``.`` for ``pkg.*`` patterns."""
    names: frozenset[str] | None
    """None for ``*``: every top-level name."""
    allowed: Allowed


def _allow_entries(raw: Any) -> Iterator[_AllowEntry]:
    for item in raw:
        module = str(item["module"])
        names = [str(n) for n in item["names"]]
        allowed = Allowed(
            use=Use(item["use"]),
            calls_args=tuple(int(i) for i in item.get("calls_args", ())),
            instantiates_args=tuple(int(i) for i in item.get("instantiates_args", ())),
        )
        prefix = module[:-1] if module.endswith(".*") else module
        yield _AllowEntry(prefix, None if names == ["*"] else frozenset(names), allowed)


class Policy:
    """The allowlist and denylist, indexed for lookups."""

    def __init__(self, allow: Any, deny: Any) -> None:
        self.aliases: Mapping[str, str] = {str(k): str(v) for k, v in deny["module_aliases"].items()}
        self._exact: dict[tuple[str, str], Allowed] = {}
        self._wild: list[_AllowEntry] = []
        for entry in _allow_entries(allow):
            if entry.names is None or entry.module.endswith("."):
                self._wild.append(entry)
            else:
                for name in entry.names:
                    self._exact[entry.module, name] = entry.allowed
        # Most specific first: an exact module before any pattern, a longer pattern before a shorter.
        self._wild.sort(key=lambda entry: (entry.module.endswith("."), -len(entry.module)))
        self._denied_names: dict[tuple[str, str], Denied] = {}
        self._denied_modules: dict[str, Denied] = {}
        for family in deny["families"]:
            denied = Denied(str(family["family"]), Severity.parse(str(family["severity"])))
            for module, names in family["globals"].items():
                for name in names:
                    if name == "*":
                        self._denied_modules.setdefault(str(module), denied)
                    else:
                        self._denied_names.setdefault((str(module), str(name)), denied)

    def exact(self, name: Name) -> Allowed | None:
        """The allowlist entry naming exactly this (module, name) pair, if any."""
        return self._exact.get((name.module, name.name))

    def allowed(self, name: Name) -> Allowed | None:
        """The allowlist entry for this global, exact or by a wildcard, if any."""
        exact = self.exact(name)
        if exact is not None or "." in name.name:
            return exact
        for entry in self._wild:
            if entry.module.endswith("."):
                if not name.module.startswith(entry.module):
                    continue
            elif name.module != entry.module:
                continue
            if entry.names is None or name.name in entry.names:
                return entry.allowed
        return None

    def denied(self, name: Name, *, reroot: bool) -> Denied | None:
        """The denylist family of ``name`` or, with ``reroot``, of any other reading of its path."""
        if not reroot:
            return self._denied_reading(name)
        for reading in readings(name, self.aliases):
            found = self._denied_reading(reading)
            if found is not None:
                return found
        return None

    def _denied_reading(self, name: Name) -> Denied | None:
        parts = name.module.split(".")
        for cut in range(1, len(parts) + 1):
            found = self._denied_modules.get(".".join(parts[:cut]))
            if found is not None:
                return found
        path = name.name.split(".")
        for cut in range(1, len(path) + 1):
            found = self._denied_names.get((name.module, ".".join(path[:cut])))
            if found is not None:
                return found
        return None

    def judge(self, module: str, name: str, protocol: int) -> Verdict:
        """Classify the global ``module``/``name`` read by a stream of ``protocol``."""
        return _judge(self, module, name, protocol >= 3)


def _truncated(module: str, name: str) -> tuple[str, str] | None:
    """The first ``_MAX_PATH_PARTS`` parts of ``module.name``, or None if it is no longer."""
    # Split at most that far: readings() is cubic in the parts, and a GLOBAL line can hold millions.
    parts = module.split(".", _MAX_PATH_PARTS)
    left = _MAX_PATH_PARTS - len(parts)
    path = name.split(".", max(left, 0))
    if left >= 0 and len(path) <= left:
        return None
    if left <= 0:
        return ".".join(parts[:_MAX_PATH_PARTS]), ""
    return module, ".".join(path[:left])


@functools.lru_cache(maxsize=8192)
def _judge(policy: Policy, module: str, name: str, modern: bool) -> Verdict:
    cut = _truncated(module, name)
    if cut is not None:
        # Never allowlisted; judged on the parts kept, which are denied if any reading of them is.
        module, name = cut
    mapped = canonical(*fix_imports(module, name, 3 if modern else 0), policy.aliases)
    raw = canonical(module, name, policy.aliases)
    allowed = None if cut is not None else policy.allowed(mapped)
    # An exact allowlist entry was vetted as a whole, so it outranks a denial of its whole module
    # (torch.jit._pickle.build_intlist in a denied torch.jit) and is never re-read (numpy.random._pickle
    # is not the pickle module).
    exact = allowed is not None and policy.exact(mapped) is not None
    denied = None if exact else policy.denied(mapped, reroot=True) or policy.denied(raw, reroot=True)
    dunder = allowed is None and any(is_dunder(part) for part in mapped.name.split("."))
    return Verdict(mapped, allowed, denied, dunder)


@functools.cache
def policy() -> Policy:
    """The shipped policy, loaded once."""
    return Policy(load_yaml("pickle_allowlist.yaml"), load_yaml("pickle_denylist.yaml"))
