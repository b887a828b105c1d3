"""JSON configs: chat templates wherever they sit, remote-code references, Keras configs, notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelsteward.checks.security import keras
from modelsteward.checks.security._context import Context
from modelsteward.core import Severity
from tests.checks.security.test_templates import REAL_TEMPLATES
from tests.conftest import ScanBytes

PAYLOAD = "{{ cycler.__init__.__globals__.os.system('touch CANARY') }}"


def _config(**fields: object) -> bytes:
    return json.dumps({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", **fields}, indent=2).encode()


def _worst(findings: tuple[object, ...]) -> Severity | None:
    return max((f.severity for f in findings), default=None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_tokenizer_configs_of_real_models_pass(scan_bytes: ScanBytes, name: str) -> None:
    report = scan_bytes(_config(chat_template=REAL_TEMPLATES[name]), name="tokenizer_config.json")
    assert report.format == "json"
    assert report.findings == ()
    assert report.status == "scanned"


@pytest.mark.parametrize(
    ("document", "location"),
    [
        ({"chat_template": PAYLOAD}, "/chat_template line 1"),
        (
            {
                "chat_template": [
                    {"name": "default", "template": "{{ messages }}"},
                    {"name": "tool_use", "template": PAYLOAD},
                ]
            },
            "/chat_template/1/template line 1",
        ),
        ({"custom_chat_template": PAYLOAD}, "/custom_chat_template line 1"),
        ({"processor": {"chat_template": PAYLOAD}}, "/processor/chat_template line 1"),
        ({"prompts": ["Hello {{ name }}", PAYLOAD]}, "/prompts/1 line 1"),
    ],
)
def test_templates_are_found_wherever_they_sit(
    scan_bytes: ScanBytes, canary: Path, document: dict[str, object], location: str
) -> None:
    data = json.dumps(document).replace("CANARY", str(canary)).encode()
    report = scan_bytes(data, name="tokenizer_config.json")
    assert ("TEMPLATE-DUNDER-ACCESS", location) in {(f.rule, f.location) for f in report.findings}
    assert _worst(report.findings) == Severity.CRITICAL
    assert not canary.exists()


def test_duplicate_key_hides_no_template(scan_bytes: ScanBytes) -> None:
    # json.load keeps the benign last value; a first-wins parser would render the payload.
    data = b'{"chat_template": ' + json.dumps(PAYLOAD).encode() + b', "chat_template": "{{ messages }}"}'
    report = scan_bytes(data, name="tokenizer_config.json")
    assert _worst(report.findings) == Severity.CRITICAL


def test_unclaimed_string_that_is_not_jinja_is_not_reported(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(
        json.dumps({"model": {"vocab": {"{{": 1, "x": "{%"}}}).encode(), name="tokenizer.json"
    )
    assert report.findings == ()
    assert report.status == "scanned"


def test_broken_claimed_template_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_config(chat_template="{{ unclosed"), name="tokenizer_config.json")
    assert [(f.rule, f.severity) for f in report.findings] == [("TEMPLATE-PARSE-ERROR", Severity.LOW)]
    assert report.status == "incomplete"


def test_local_remote_code_is_medium(scan_bytes: ScanBytes) -> None:
    auto_map = {
        "AutoConfig": "configuration_my.MyConfig",
        "AutoModelForCausalLM": "modeling_my.MyModel",
        "AutoTokenizer": ["tokenization_my.MyTokenizer", None],
    }
    report = scan_bytes(json.dumps({"auto_map": auto_map}).encode(), name="config.json")
    assert [(f.rule, f.severity) for f in report.findings] == [("HF-REMOTE-CODE", Severity.MEDIUM)]
    assert "modeling_my.py" in report.findings[0].message


@pytest.mark.parametrize(
    "document",
    [
        {"auto_map": {"AutoModel": "other-org/other-repo--modeling_x.Model"}},
        {"auto_map": {"AutoTokenizer": [None, "evil/repo--tokenization.Fast"]}},
        {"custom_pipelines": {"text-generation": {"impl": "evil/repo--pipeline.P", "pt": ["AutoModel"]}}},
    ],
)
def test_code_from_another_repository_is_critical(scan_bytes: ScanBytes, document: dict[str, object]) -> None:
    report = scan_bytes(json.dumps(document).encode(), name="config.json")
    assert ("HF-REMOTE-CODE-FOREIGN", Severity.CRITICAL) in {(f.rule, f.severity) for f in report.findings}


def test_keras_config_goes_to_the_keras_judge(scan_bytes: ScanBytes, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[object, str]] = []

    def record(config: object, ctx: Context, *, at: str) -> None:
        seen.append((config, at))

    monkeypatch.setattr(keras, "check_config", record)
    document = {"class_name": "Sequential", "config": {"name": "s", "layers": []}}
    scan_bytes(json.dumps(document).encode(), name="config.json")
    assert seen == [(document, "config.json")]


def test_invalid_json_named_json_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b'{"chat_template": "x",', name="tokenizer_config.json")
    assert report.status == "incomplete"


def test_jinja_file_that_looks_like_json_is_judged_as_a_template(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"{% for m in messages %}{{ m.__class__ }}{% endfor %}", name="chat_template.jinja")
    assert "TEMPLATE-DUNDER-ACCESS" in {f.rule for f in report.findings}
    assert report.status == "scanned"


def test_deeply_nested_json_is_incomplete_not_an_error(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"[" * 200_000 + b"]" * 200_000, name="config.json")
    assert report.status == "incomplete"
    assert "SCAN-ERROR" not in {f.rule for f in report.findings}


def test_notebook_code_cells_are_judged(scan_bytes: ScanBytes, canary: Path) -> None:
    cells = [
        {"cell_type": "markdown", "source": ["# Demo {{ x.__class__ }}"]},
        {"cell_type": "code", "source": ["!pip install torch\n", "%matplotlib inline\n", "import torch\n"]},
        {"cell_type": "code", "source": f"import os\nos.system('touch {canary}')\n"},
    ]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    report = scan_bytes(json.dumps(notebook).encode(), name="demo.ipynb")
    assert ("CODE-SHELL", "/cells/2 line 2") in {(f.rule, f.location) for f in report.findings}
    assert "CODE-PARSE-ERROR" not in {f.rule for f in report.findings}
