"""The registry every sample builder joins: a name, a label, a technique and a function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Label = Literal["malicious", "benign"]
Output = bytes | Mapping[str, bytes]
"""One file's bytes, or the files of a directory sample by relative name."""
Builder = Callable[[str], Output]
"""Makes a sample's bytes; the argument is the canary path a payload would create."""


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to build one sample."""

    name: str
    """File name (or directory name, for multi-file samples), unique in the corpus."""
    label: Label
    technique: str
    """What the sample exercises: an attack technique, or the kind of real checkpoint it mimics."""
    build: Builder


@dataclass(frozen=True, slots=True)
class Sample:
    """A sample written to disk."""

    name: str
    label: Label
    technique: str
    path: Path
    """The file, or the directory of a multi-file sample: what a scan is pointed at."""


class Registry:
    """Recipes of one label, collected by decorating their builders."""

    def __init__(self, label: Label) -> None:
        self.label: Label = label
        self.recipes: list[Recipe] = []

    def add(self, name: str, technique: str, build: Builder) -> None:
        """Register ``build`` under ``name``."""
        if any(r.name == name for r in self.recipes):
            raise ValueError(f"duplicate sample name {name!r}")
        self.recipes.append(Recipe(name=name, label=self.label, technique=technique, build=build))

    def sample(self, name: str, technique: str) -> Callable[[Builder], Builder]:
        """Decorator form of :meth:`add`."""

        def register(build: Builder) -> Builder:
            self.add(name, technique, build)
            return build

        return register


def write(recipe: Recipe, root: Path, canary: Path) -> Sample:
    """Build ``recipe`` under ``root/<label>/`` and say where it went."""
    target = root / recipe.label / recipe.name
    target.parent.mkdir(parents=True, exist_ok=True)
    output = recipe.build(str(canary))
    if isinstance(output, bytes):
        target.write_bytes(output)
    else:
        for relative, data in output.items():
            member = target / relative
            member.parent.mkdir(parents=True, exist_ok=True)
            member.write_bytes(data)
    return Sample(name=recipe.name, label=recipe.label, technique=recipe.technique, path=target)
