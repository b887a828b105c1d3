"""The runtime environment's components: the real installed distributions, and broken or shadowed ones."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy
import packaging
import yaml

from modelsteward.checks.dependencies._environment import environment_components
from modelsteward.core import Component, Origin
from modelsteward.core.component import MAX_NAME, MAX_VERSION


def install(site: Path, folder: str, metadata: str | None) -> None:
    """A ``.dist-info`` folder in ``site``, with ``metadata`` as its METADATA file (none when None)."""
    info = site / folder
    info.mkdir(parents=True)
    if metadata is not None:
        (info / "METADATA").write_text(metadata, encoding="utf-8")


def test_the_running_interpreter_s_distributions_with_their_installed_versions() -> None:
    components = {c.name: c for c in environment_components()}

    assert components["numpy"].version == numpy.__version__
    assert components["packaging"].version == packaging.__version__
    assert components["pyyaml"].version == yaml.__version__
    assert components["numpy"].evidence == str(Path(numpy.__file__).parent.parent)
    assert all(c.origin is Origin.ENVIRONMENT and c.audited for c in components.values())


def test_names_are_canonical_unique_and_sorted() -> None:
    components = environment_components()

    names = [c.name for c in components]
    assert names == sorted(set(names))
    assert "opencv-python-headless" in names  # installed as opencv_python_headless


def test_the_first_copy_on_the_path_wins_and_broken_metadata_is_skipped(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    install(
        first, "Acme_Tokenizer-2.0.dist-info", "Metadata-Version: 2.1\nName: Acme_Tokenizer\nVersion: 2.0\n"
    )
    install(
        second, "acme_tokenizer-1.0.dist-info", "Metadata-Version: 2.1\nName: acme-tokenizer\nVersion: 1.0\n"
    )
    install(first, "nameless-1.0.dist-info", "Metadata-Version: 2.1\nVersion: 1.0\n")
    install(first, "versionless-1.0.dist-info", "Metadata-Version: 2.1\nName: versionless\n")
    install(first, "empty-1.0.dist-info", None)
    install(first, "bad-1.0.dist-info", "Metadata-Version: 2.1\nName: -not a name-\nVersion: 1.0\n")

    components = environment_components(importlib.metadata.distributions(path=[str(first), str(second)]))

    assert components == (Component("acme-tokenizer", Origin.ENVIRONMENT, "2.0", evidence=str(first)),)


def test_a_name_or_version_too_long_to_record_is_skipped_and_still_shadows(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    long_name, long_version = "a" * (MAX_NAME + 1), "1." + "0" * MAX_VERSION
    install(first, "long_name-1.0.dist-info", f"Metadata-Version: 2.1\nName: {long_name}\nVersion: 1.0\n")
    install(first, "shadow-9.dist-info", f"Metadata-Version: 2.1\nName: shadow\nVersion: {long_version}\n")
    install(second, "shadow-1.0.dist-info", "Metadata-Version: 2.1\nName: shadow\nVersion: 1.0\n")
    install(
        second, "fine-1.0.dist-info", f"Metadata-Version: 2.1\nName: fine\nVersion: {'1' * MAX_VERSION}\n"
    )

    components = environment_components(importlib.metadata.distributions(path=[str(first), str(second)]))

    assert components == (Component("fine", Origin.ENVIRONMENT, "1" * MAX_VERSION, evidence=str(second)),)
