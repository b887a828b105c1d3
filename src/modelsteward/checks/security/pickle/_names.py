"""Resolve a pickled global to the object CPython's ``find_class`` would reach, by name only.

Nothing is imported: a name is rewritten as ``find_class`` rewrites it (``_compat_pickle``
mappings for protocols below 3), then module aliases are applied (``posix`` is ``os``), and
every way the dotted path could be re-read from an inner module is listed, because an attribute
path such as ``random._os.system`` reaches ``os.system`` through an innocent module.
"""

from __future__ import annotations

import _compat_pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Name:
    """A global as ``find_class`` would look it up: a module and a (possibly dotted) attribute path."""

    module: str
    name: str

    @property
    def dotted(self) -> str:
        """``module.name``, the way a reviewer writes it."""
        return f"{self.module}.{self.name}" if self.name else self.module


def fix_imports(module: str, name: str, protocol: int) -> tuple[str, str]:
    """The (module, name) CPython looks up: Python 2 names are mapped below protocol 3."""
    if protocol >= 3:
        return module, name
    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        return mapped
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def canonical(module: str, name: str, aliases: Mapping[str, str]) -> Name:
    """Apply module aliases to the longest aliased prefix of ``module``."""
    parts = module.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in aliases:
            module = ".".join([aliases[head], *parts[cut:]])
            break
    return Name(module, name)


def readings(name: Name, aliases: Mapping[str, str]) -> Iterator[Name]:
    """Every (module, attribute path) the object could equally be named by.

    The first is ``name`` itself. Then each attribute of the path is taken as a module in its
    own right (modules keep the modules they import as attributes, often with a leading
    underscore: ``random._os``), and each attribute path of the module as a longer module name
    (``torch`` ``jit.load`` is ``torch.jit`` ``load``).
    """
    yield name
    path = [*name.module.split("."), *name.name.split(".")] if name.name else name.module.split(".")
    for start in range(len(path)):
        for stop in range(start + 1, len(path) + 1):
            head = path[start:stop]
            for first in dict.fromkeys((head[0], head[0].lstrip("_"))):
                if not first:
                    continue
                yield canonical(".".join([first, *head[1:]]), ".".join(path[stop:]), aliases)


def is_dunder(part: str) -> bool:
    """``__globals__``, ``__class__``...: attributes that lead from any object to anything."""
    return len(part) > 4 and part.startswith("__") and part.endswith("__")


# Instance attributes that change what an object is or what is called on it: the unpickler's own
# getattr(inst, "__setstate__"), copy's getattr(x, "__reduce_ex__"), a slotstate setattr of
# __class__. Other dunders in an instance dict (torch's __overloads__) are never looked up there.
_HIJACKING = frozenset({
    "__setstate__", "__getstate__", "__reduce__", "__reduce_ex__", "__class__", "__dict__",
    "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__call__", "__del__",
    "__init__", "__new__", "__globals__", "__builtins__", "__code__", "__import__",
})  # fmt: skip


def hijacks_instance(key: str) -> bool:
    """Whether setting ``key`` on an instance can make loading or copying it call something."""
    return key in _HIJACKING
