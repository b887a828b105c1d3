"""The import-name table: its shape, each entry against the distributions installed here, its lookup."""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from modelsteward.checks.dependencies._import_names import (
    ImportNames,
    load_import_names,
    parse_import_names,
)

TABLE = load_import_names()


@functools.cache
def installed_modules() -> dict[str, frozenset[str]]:
    """Each installed distribution's canonical name -> every module and package its RECORD installs."""
    modules: dict[str, frozenset[str]] = {}
    for distribution in importlib.metadata.distributions():
        found: set[str] = set()
        for file in distribution.files or ():
            parts = file.parts
            if not parts or not parts[-1].endswith((".py", ".so", ".pyd")) or ".." in parts:
                continue
            dotted = [*parts[:-1], parts[-1].partition(".")[0]]
            if dotted[-1] == "__init__":
                dotted.pop()
            found.update(".".join(dotted[:depth]) for depth in range(1, len(dotted) + 1))
        modules.setdefault(canonicalize_name(distribution.metadata["Name"]), frozenset(found))
    return modules


def providers(module: str) -> set[str]:
    return {name for name, modules in installed_modules().items() if module in modules}


@pytest.mark.parametrize("module", sorted(TABLE.distributions))
def test_each_entry_lists_every_installed_distribution_that_provides_it(module: str) -> None:
    listed = set(TABLE.distributions[module])

    assert providers(module) <= listed


@pytest.mark.parametrize("module", sorted(TABLE.distributions))
def test_each_entry_says_more_than_canonicalising_its_name_would(module: str) -> None:
    listed = TABLE.distributions[module]

    assert "." in module or len(listed) != 1 or listed[0] != canonicalize_name(module)


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        ("sklearn", "scikit-learn"),
        ("cv2", "opencv-python-headless"),
        ("yaml", "pyyaml"),
        ("google.protobuf", "protobuf"),
        ("attr", "attrs"),
        ("dateutil", "python-dateutil"),
        ("jwt", "pyjwt"),
        ("absl", "absl-py"),
        ("markdown_it", "markdown-it-py"),
        ("_pytest", "pytest"),
    ],
)
def test_spot_checks_against_what_is_installed_here(module: str, distribution: str) -> None:
    assert distribution in providers(module)
    assert distribution in TABLE.distributions[module]


def test_lookup_prefers_the_longest_entry_then_namespaces_then_the_top_level_name() -> None:
    assert TABLE.distribution("PIL.Image") == "pillow"
    assert TABLE.distribution("cv2") == "opencv-python"  # upstream's own name, not a variant's
    assert TABLE.distribution("google.protobuf.text_format") == "protobuf"
    assert TABLE.distribution("google.oauth2.service_account") == "google-auth"
    assert TABLE.distribution("google.cloud.storage.blob") == "google-cloud-storage"
    assert TABLE.distribution("google.api_core.exceptions") == "google-api-core"
    assert TABLE.distribution("azure.storage.blob") == "azure-storage-blob"
    assert TABLE.distribution("azure.identity") == "azure-identity"
    assert TABLE.distribution("sentence_transformers.models") == "sentence-transformers"
    assert TABLE.distribution("google.cloud") is None  # a namespace is nobody's
    assert TABLE.distribution("google") is None
    assert TABLE.distribution("apex.amp") is None  # not on PyPI; the PyPI name is someone else's
    assert TABLE.distribution("_private") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected a mapping with exactly `distributions` and `namespaces`"),
        ({"distributions": {}, "namespaces": {}}, "`namespaces` must be a list of dotted import names"),
        ({"distributions": [], "namespaces": []}, "`distributions` must map import names to distribution"),
        (
            {"distributions": {"PIL": "Pillow"}, "namespaces": []},
            "'Pillow' is not a canonical distribution name; write 'pillow'",
        ),
        (
            {"distributions": {"cv2": []}, "namespaces": []},
            "cv2: expected a distribution name, a list of them, or null",
        ),
        ({"distributions": {"a": ["x", "x"]}, "namespaces": []}, "a: a distribution is listed twice"),
        (
            {"distributions": {"not-a-module": "x"}, "namespaces": []},
            "'not-a-module' is not a dotted import name",
        ),
        ({"distributions": {"class": "x"}, "namespaces": []}, "'class' is not a dotted import name"),
        ({"distributions": {}, "namespaces": ["google", "google"]}, "`namespaces` lists a name twice"),
        (
            {"distributions": {"azure": "azure"}, "namespaces": ["azure.storage"]},
            "azure: an entry may not name a namespace or a package holding one (azure.storage)",
        ),
    ],
)
def test_a_malformed_table_is_refused_naming_the_entry(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"import_names\.yaml") as error:
        parse_import_names(raw)

    assert message in str(error.value)


def test_null_means_no_distribution() -> None:
    table = parse_import_names({"distributions": {"apex": None}, "namespaces": []})

    assert table == ImportNames(distributions={"apex": ()}, namespaces=frozenset())
    assert table.distribution("apex.amp") is None
