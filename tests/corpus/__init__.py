"""A corpus of model files built at test time: a malicious sample per technique, a benign per kind.

``RECIPES`` is known at import (so tests can be parametrised by sample); :func:`build` writes the
files. Malicious payloads are canaries: they would create the canary path if ever loaded.
"""

from __future__ import annotations

from pathlib import Path

from tests.corpus.benign import BENIGN
from tests.corpus.malicious import MALICIOUS
from tests.corpus.registry import Label, Recipe, Sample, write

RECIPES: tuple[Recipe, ...] = (*MALICIOUS.recipes, *BENIGN.recipes)


def recipes(label: Label) -> tuple[Recipe, ...]:
    """The recipes of one label, in registration order."""
    return tuple(r for r in RECIPES if r.label == label)


def build(root: Path, canary: Path) -> dict[str, Sample]:
    """Write every sample under ``root``; payloads point at ``canary``. Keyed by sample name."""
    return {recipe.name: write(recipe, root, canary) for recipe in RECIPES}


__all__ = ["RECIPES", "Recipe", "Sample", "build", "recipes"]
