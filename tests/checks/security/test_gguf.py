"""GGUF: header, layout and chat templates, on files written by the gguf package."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsteward.checks.security import FileReport
from modelsteward.checks.security import gguf as gguf_scanner
from modelsteward.core import Severity
from tests.conftest import ScanBytes

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'"
    " + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _gguf(tmp_path: Path, templates: dict[str, str], *, tensors: bool = True) -> bytes:
    path = tmp_path / "written.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_uint32("llama.context_length", 128)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "a"])
    writer.add_array("tokenizer.ggml.scores", [0.0, 0.0, -1.0])
    for key, source in templates.items():
        writer.add_string(key, source)
    if tensors:
        writer.add_tensor("token_embd.weight", np.ones((4, 32), np.float32))
        writer.add_tensor("output_norm.weight", np.ones((3,), np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def _rules(report: FileReport, at_least: Severity = Severity.INFO) -> set[str]:
    return {f.rule for f in report.findings if f.severity >= at_least}


def test_ggml_type_table_matches_the_gguf_package() -> None:
    expected = {int(t): size for t, size in gguf.GGML_QUANT_SIZES.items()}
    assert {t: gguf_scanner._GGML_TYPES[t] for t in expected} == expected


@pytest.mark.parametrize(
    "templates", [{}, {"tokenizer.chat_template": LLAMA3}, {"tokenizer.chat_template": CHATML}]
)
def test_real_files_are_clean(tmp_path: Path, scan_bytes: ScanBytes, templates: dict[str, str]) -> None:
    report = scan_bytes(_gguf(tmp_path, templates), "model.gguf")
    assert report.format == "gguf"
    assert _rules(report, Severity.MEDIUM) == set() and report.status == "scanned"


def test_file_without_tensors_is_clean(tmp_path: Path, scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_gguf(tmp_path, {}, tensors=False), "model.gguf")
    assert report.findings == () and report.status == "scanned"


@pytest.mark.parametrize("key", ["tokenizer.chat_template", "tokenizer.chat_template.tool_use"])
def test_malicious_templates_are_flagged(
    tmp_path: Path, scan_bytes: ScanBytes, canary: Path, key: str
) -> None:
    payload = (
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(canary) + "').read() }}"
        "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    )
    report = scan_bytes(_gguf(tmp_path, {"tokenizer.chat_template": CHATML, key: payload}), "model.gguf")
    assert report.worst is not None and report.worst >= Severity.HIGH
    assert any(f.location.startswith(key + " ") for f in report.findings if f.severity >= Severity.HIGH)
    assert not canary.exists()


def test_hidden_bytes_after_the_tensors(tmp_path: Path, scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_gguf(tmp_path, {}) + b"\x80\x04hidden" * 10, "model.gguf")
    assert _rules(report, Severity.HIGH) == {"GGUF-HIDDEN-DATA"}


def test_missing_final_padding_is_incomplete(tmp_path: Path, scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_gguf(tmp_path, {})[:-1], "model.gguf")
    assert report.findings == () and report.status == "incomplete"


def test_tensor_past_the_end(tmp_path: Path, scan_bytes: ScanBytes) -> None:
    data = _gguf(tmp_path, {})
    report = scan_bytes(data[:-40], "model.gguf")
    assert "GGUF-TENSOR-BOUNDS" in _rules(report, Severity.HIGH) and report.status == "incomplete"


def _header(version: int, tensors: int, entries: int) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensors, entries)


def _kv(key: str, kind: int, value: bytes) -> bytes:
    raw = key.encode()
    return struct.pack("<Q", len(raw)) + raw + struct.pack("<I", kind) + value


def _string(text: str) -> bytes:
    return struct.pack("<Q", len(text.encode())) + text.encode()


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (_header(3, 1 << 60, 0), "GGUF-IMPOSSIBLE-SIZE"),
        (_header(3, 0, 1 << 60), "GGUF-IMPOSSIBLE-SIZE"),
        (_header(3, 0, 1) + _kv("a", 9, struct.pack("<IQ", 4, 1 << 61)), "GGUF-IMPOSSIBLE-SIZE"),
        (_header(3, 0, 1) + _kv("a", 9, struct.pack("<IQ", 8, 1 << 40)), "GGUF-IMPOSSIBLE-SIZE"),
        (_header(3, 0, 1) + struct.pack("<Q", 1 << 63), "GGUF-IMPOSSIBLE-SIZE"),
        (_header(7, 0, 0), "GGUF-MALFORMED"),
        (_header(3, 0, 1) + _kv("a", 77, b"\x00" * 8), "GGUF-MALFORMED"),
        (_header(3, 0, 1) + _kv("general.alignment", 4, struct.pack("<I", 24)), "GGUF-MALFORMED"),
        (_header(3, 0, 1) + _kv("tokenizer.chat_template", 4, struct.pack("<I", 1)), "GGUF-MALFORMED"),
    ],
)
def test_malformed_headers(scan_bytes: ScanBytes, data: bytes, rule: str) -> None:
    report = scan_bytes(data + b"\x00" * 16, "model.gguf")
    assert rule in _rules(report) and report.status == "incomplete"


def test_duplicate_template_keys_are_both_judged(scan_bytes: ScanBytes) -> None:
    evil = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    body = _kv("tokenizer.chat_template", 8, _string(CHATML)) + _kv(
        "tokenizer.chat_template", 8, _string(evil)
    )
    report = scan_bytes(_header(3, 0, 2) + body, "model.gguf")
    assert "GGUF-DUPLICATE-NAME" in _rules(report, Severity.MEDIUM)
    assert report.worst is not None and report.worst >= Severity.HIGH


def test_version_1_header(scan_bytes: ScanBytes) -> None:
    key = b"general.name"
    data = b"GGUF" + struct.pack("<III", 1, 0, 1) + struct.pack("<I", len(key)) + key
    data += struct.pack("<I", 8) + struct.pack("<I", 3) + b"abc"
    report = scan_bytes(data, "model.gguf")
    assert report.findings == () and report.status == "scanned"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=4), st.binary(max_size=300))
def test_random_headers_never_crash(scan_bytes: ScanBytes, version: int, body: bytes) -> None:
    report = scan_bytes(b"GGUF" + struct.pack("<I", version) + body, "model.gguf")
    assert "SCAN-ERROR" not in _rules(report)


def _tensor_info(name: str, elements: int, offset: int) -> bytes:
    return _string(name) + struct.pack("<IQIQ", 1, elements, 0, offset)  # one dimension, F32


def test_overlapping_tensors(scan_bytes: ScanBytes) -> None:
    infos = _tensor_info("a", 16, 0) + _tensor_info("b", 16, 32)
    head = _header(3, 2, 0) + infos
    data = head + bytes(-len(head) % 32) + bytes(96)
    report = scan_bytes(data, "model.gguf")
    assert _rules(report, Severity.HIGH) == {"GGUF-TENSOR-OVERLAP"}
