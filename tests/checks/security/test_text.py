"""Text is judged by its content: Python, a Jinja template, or a YAML config carrying templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.core import Severity
from tests.checks.security.test_templates import REAL_TEMPLATES
from tests.conftest import ScanBytes


def _rules(report: object) -> set[str]:
    return {f.rule for f in report.findings}  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_real_chat_template_files_pass(scan_bytes: ScanBytes, name: str) -> None:
    report = scan_bytes(REAL_TEMPLATES[name].encode(), name="chat_template.jinja")
    assert report.findings == ()
    assert report.status == "scanned"


def test_template_file_payload_is_critical(scan_bytes: ScanBytes, canary: Path) -> None:
    source = f"Hello\n{{{{ lipsum.__globals__.os.popen('touch {canary}').read() }}}}\n"
    report = scan_bytes(source.encode(), name="template.txt")
    assert report.format == "text"
    assert report.worst == Severity.CRITICAL
    assert not canary.exists()


def test_python_is_recognised_without_its_name(scan_bytes: ScanBytes, canary: Path) -> None:
    source = f"import subprocess\nsubprocess.run(['touch', '{canary}'])\n"
    report = scan_bytes(source.encode(), name="setup_model")
    assert "CODE-SHELL" in _rules(report)
    assert not canary.exists()


def test_python_named_file_that_does_not_parse_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"print 'python 2'\n", name="convert.py")
    assert _rules(report) == {"CODE-PARSE-ERROR"}
    assert report.status == "incomplete"


def test_yaml_config_templates_are_judged_value_by_value(scan_bytes: ScanBytes, canary: Path) -> None:
    source = (
        "model_name: demo\n"
        "chat_template: \"{% for m in messages %}{{ m['content'] }}{% endfor %}\"\n"
        f"post_hook: \"{{{{ config.__class__.__init__.__globals__['os'].system('touch {canary}') }}}}\"\n"
    )
    report = scan_bytes(source.encode(), name="config.yaml")
    assert {(f.rule, f.location) for f in report.findings} >= {
        ("TEMPLATE-DUNDER-ACCESS", "/post_hook line 1")
    }
    assert not canary.exists()


def test_benign_yaml_with_template_passes(scan_bytes: ScanBytes) -> None:
    template = "'{% for message in messages %}{{ message[''role''] }}{% endfor %}'"
    source = f"chat_template: {template}\nmax_length: 1024\n"
    report = scan_bytes(source.encode(), name="model_config.yaml")
    assert report.findings == ()
    assert report.status == "scanned"


def test_yaml_alias_bomb_is_walked_once(scan_bytes: ScanBytes) -> None:
    lines = ["a: &a ['{{ x }}', '{{ y }}']"]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(20)
    ]
    report = scan_bytes("\n".join(lines).encode(), name="bomb.yaml")
    assert report.findings == ()


@pytest.mark.parametrize(
    "data",
    [
        b"[PAD]\n[UNK]\n[CLS]\nthe\n,\n##s\n",  # a BERT vocab.txt
        b"#version: 0.2\n\xc4\xa0 t\n\xc4\xa0 a\nh e\n",  # GPT-2 merges.txt
        b"# My model\n\nUse it with `{{ name }}` in your prompt.\n",  # a model card with braces
        b"\xff\xfe broken utf-8 \x80 {{ x }}",
    ],
)
def test_ordinary_text_has_no_findings(scan_bytes: ScanBytes, data: bytes) -> None:
    report = scan_bytes(data, name="README.md")
    assert [f for f in report.findings if f.severity >= Severity.MEDIUM] == []


def test_plain_text_named_like_a_model_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"cmod\nnot a pickle\n", name="pytorch_model.bin")
    assert report.status == "incomplete"


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("import os; os.system('touch CANARY')", "CODE-SHELL"),
        ("import base64; exec(base64.b64decode('b3BlbignQ0FOQVJZJywndycp'))", "CODE-EXEC-OBFUSCATED"),
        ("import payload_CANARY", "CODE-PTH-EXEC"),
    ],
)
def test_path_file_import_lines_run_at_interpreter_start(
    scan_bytes: ScanBytes, canary: Path, line: str, rule: str
) -> None:
    # site.py exec()s a .pth line that starts with ``import``; the other lines are sys.path entries.
    data = f"/opt/lib\n{line.replace('CANARY', canary.name)}\n".encode()
    rules = {f.rule: f.severity for f in scan_bytes(data, name="evil.pth").findings}
    assert rules["CODE-PTH-EXEC"] == Severity.HIGH
    assert rules[rule] >= Severity.HIGH
    assert not canary.exists()


def test_path_file_of_directories_only_has_no_code_finding(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"/opt/lib\n../vendor\n# imports nothing\n", name="extra.pth")
    assert not any(f.rule.startswith("CODE-") for f in report.findings)
