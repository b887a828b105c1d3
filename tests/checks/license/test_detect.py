"""Where licences are found: card metadata, licence files and configs, each with where it was found."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from modelsteward.checks.license import Declaration, Origin, detect
from tests.checks.conftest import MakeSnapshot
from tests.checks.license.conftest import card

APACHE = (
    "                                 Apache License\n                           Version 2.0, January 2004\n"
)
LLAMA_32 = "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\n\nLlama 3.2 Version Release Date: September 25, 2024\n"


def found(make_snapshot: MakeSnapshot, files: Mapping[str, str | bytes]) -> list[tuple[str, str, Origin]]:
    return [(d.text, d.where, d.origin) for d in detect(make_snapshot(files))]


def problems(make_snapshot: MakeSnapshot, files: Mapping[str, str | bytes]) -> list[Declaration]:
    return [d for d in detect(make_snapshot(files)) if d.problem]


def test_card_license_string(make_snapshot: MakeSnapshot) -> None:
    files = {"README.md": card("language: en\nlicense: apache-2.0")}
    assert found(make_snapshot, files) == [("apache-2.0", "README.md metadata `license`", Origin.CARD)]


def test_card_license_list_gives_one_statement_per_item(make_snapshot: MakeSnapshot) -> None:
    files = {"README.md": card("license:\n  - mit\n  - cc-by-4.0")}
    assert found(make_snapshot, files) == [
        ("mit", "README.md metadata `license` (item 1)", Origin.CARD),
        ("cc-by-4.0", "README.md metadata `license` (item 2)", Origin.CARD),
    ]
    assert found(make_snapshot, {"README.md": card("license: [mit]")}) == [
        ("mit", "README.md metadata `license`", Origin.CARD)
    ]


def test_card_license_other_is_named_by_license_name(make_snapshot: MakeSnapshot) -> None:
    metadata = "license: other\nlicense_name: tongyi-qianwen\nlicense_link: https://example.invalid/LICENSE"
    assert found(make_snapshot, {"README.md": card(metadata)}) == [
        ("tongyi-qianwen", "README.md metadata `license_name`", Origin.CARD)
    ]


def test_card_license_other_without_a_name_stays_other(make_snapshot: MakeSnapshot) -> None:
    assert found(make_snapshot, {"README.md": card("license: other")}) == [
        ("other", "README.md metadata `license`", Origin.CARD)
    ]


def test_license_name_beside_a_real_id_is_not_read(make_snapshot: MakeSnapshot) -> None:
    files = {"README.md": card("license: mit\nlicense_name: something-else")}
    assert found(make_snapshot, files) == [("mit", "README.md metadata `license`", Origin.CARD)]


def test_card_without_metadata_or_license_states_nothing(make_snapshot: MakeSnapshot) -> None:
    assert found(make_snapshot, {"README.md": "# A model\n\nLicense: MIT, says the prose.\n"}) == []
    assert found(make_snapshot, {"README.md": card("language: en")}) == []
    assert found(make_snapshot, {"README.md": "---\n---\n# Empty metadata\n"}) == []


def test_metadata_after_blank_lines_is_read_as_the_hub_reads_it(make_snapshot: MakeSnapshot) -> None:
    files = {"README.md": "\n\n---\r\nlicense: mit\r\n---\r\n# A model\r\n"}
    assert found(make_snapshot, files) == [("mit", "README.md metadata `license`", Origin.CARD)]


def test_the_card_is_found_in_any_case_but_only_at_the_root(make_snapshot: MakeSnapshot) -> None:
    assert found(make_snapshot, {"readme.md": card("license: mit")})[0][1] == "readme.md metadata `license`"
    assert found(make_snapshot, {"docs/README.md": card("license: mit")}) == []


def test_metadata_with_unusual_yaml_is_read(make_snapshot: MakeSnapshot) -> None:
    metadata = (
        "model-index:\n- name: m\n  results: [{task: {type: text}}]\n"
        'tags: &t [a, b]\nother_tags: *t\nlicense: "Apache-2.0 OR MIT"  # dual licensed'
    )
    assert found(make_snapshot, {"README.md": card(metadata)}) == [
        ("Apache-2.0 OR MIT", "README.md metadata `license`", Origin.CARD)
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\nlanguage: en\nlicense: apache-2.0: mit\n---\n", "3:20: the metadata is not valid YAML: "
         "mapping values are not allowed"),
        ("---\nlicense: [mit\nlanguage: en\n---\n", "3:9: the metadata is not valid YAML: "),
        ("---\nlicense: mit\n# never closed\n", "1:1: the metadata block opened by `---` is never closed"),
        ("---\n- mit\n- apache-2.0\n---\n", "2:1: the metadata is a list, not a mapping"),
        ("---\nlicense: 5\n---\n", "must be a licence id or a list of them (got 5)"),
        ("---\nlicense: [mit, {name: x}]\n---\n",
         "must be a licence id or a list of them (got ['mit', {'name': 'x'}])"),
        ("---\nlicense:\n---\n", "must be a licence id or a list of them (got None)"),
    ],
)  # fmt: skip
def test_broken_metadata_is_a_problem_saying_where(
    make_snapshot: MakeSnapshot, text: str, problem: str
) -> None:
    [declaration] = problems(make_snapshot, {"README.md": text})
    assert declaration.origin is Origin.CARD
    assert declaration.path == "README.md"
    assert declaration.problem.startswith(problem), declaration.problem


def test_a_card_that_is_not_text_is_a_problem(make_snapshot: MakeSnapshot) -> None:
    [declaration] = problems(make_snapshot, {"README.md": b"---\x00\x01binary"})
    assert declaration.problem == "the model card is not text"


@pytest.mark.parametrize("name", ["LICENSE", "LICENSE.txt", "LICENCE.md", "license", "LICENSE-MODEL",
                                  "Qwen-LICENSE", "COPYING", "LICENSE_APACHE.txt"])  # fmt: skip
def test_licence_files_at_the_root_are_recognised_by_their_text(
    make_snapshot: MakeSnapshot, name: str
) -> None:
    assert found(make_snapshot, {name: APACHE}) == [("apache-2.0", f"{name} (text fingerprint)", Origin.FILE)]


def test_companion_files_name_a_licence_when_recognised_and_are_ignored_otherwise(
    make_snapshot: MakeSnapshot,
) -> None:
    files = {
        "USE_POLICY.md": "**Llama 3.2** **Acceptable Use Policy**\n",
        "NOTICE": "Gemma is provided under and subject to the Gemma Terms of Use.\n",
        "NOTICE.txt": "This product includes software developed by someone.\n",
    }
    assert found(make_snapshot, files) == [
        ("gemma", "NOTICE (text fingerprint)", Origin.FILE),
        ("llama3.2", "USE_POLICY.md (text fingerprint)", Origin.FILE),
    ]


def test_a_licence_file_of_unknown_text_is_a_problem(make_snapshot: MakeSnapshot) -> None:
    [declaration] = problems(make_snapshot, {"LICENSE": "You may use this model on Tuesdays.\n"})
    assert (declaration.text, declaration.where, declaration.origin) == (
        "unrecognised",
        "LICENSE (text matches no known licence)",
        Origin.FILE,
    )


def test_binary_files_and_files_below_the_root_are_not_licence_texts(make_snapshot: MakeSnapshot) -> None:
    files: dict[str, str | bytes] = {
        "license_plate_detector.onnx": b"\x08\x07\x12\x00binary",
        "third_party/tokenizer/LICENSE": APACHE,
        "src/LICENSE": "Custom terms nobody recognises.\n",
    }
    assert found(make_snapshot, files) == []


def test_the_file_license_link_names_is_read_as_a_licence_file(make_snapshot: MakeSnapshot) -> None:
    files = {
        "README.md": card("license: llama3.2\nlicense_link: ./terms/AGREEMENT.txt"),
        "terms/AGREEMENT.txt": LLAMA_32,
    }
    assert found(make_snapshot, files) == [
        ("llama3.2", "README.md metadata `license`", Origin.CARD),
        ("llama3.2", "terms/AGREEMENT.txt (text fingerprint)", Origin.FILE),
    ]


def test_config_license_fields_are_statements(make_snapshot: MakeSnapshot) -> None:
    files = {
        "config.json": json.dumps({"model_type": "bert", "license": "apache-2.0"}),
        "1_Pooling/config.json": json.dumps({"pooling_mode_mean_tokens": True}),
        "tokenizer_config.json": json.dumps({"license": ["mit"]}),
        "model_index.json": json.dumps({"license": "openrail++"}),
        "data.json": json.dumps({"license": "cc-by-nc-4.0"}),
        "generation_config.json": "{not json",
        "preprocessor_config.json": "[" * 100_000 + "]" * 100_000,
    }
    assert found(make_snapshot, files) == [
        ("apache-2.0", "config.json `license`", Origin.CONFIG),
        ("openrail++", "model_index.json `license`", Origin.CONFIG),
        ("mit", "tokenizer_config.json `license`", Origin.CONFIG),
    ]


def test_a_config_license_of_the_wrong_type_is_a_problem(make_snapshot: MakeSnapshot) -> None:
    [declaration] = problems(make_snapshot, {"config.json": json.dumps({"license": {"id": "mit"}})})
    assert (declaration.where, declaration.origin) == ("config.json `license`", Origin.CONFIG)
    assert declaration.problem == "must be a licence id or a list of them (got {'id': 'mit'})"


def test_statements_come_card_first_then_files_then_configs(make_snapshot: MakeSnapshot) -> None:
    files = {
        "config.json": json.dumps({"license": "apache-2.0"}),
        "LICENSE": APACHE,
        "README.md": card("license: apache-2.0"),
    }
    assert [origin for _, _, origin in found(make_snapshot, files)] == [
        Origin.CARD,
        Origin.FILE,
        Origin.CONFIG,
    ]


def test_files_the_manifest_lists_but_that_cannot_be_read_are_problems(make_snapshot: MakeSnapshot) -> None:
    snapshot = make_snapshot(
        {"README.md": card("license: mit"), "LICENSE": APACHE, "NOTICE": "x", "config.json": "{}"}
    )
    for name in ("README.md", "LICENSE", "NOTICE", "config.json"):
        (snapshot.root / name).unlink()
    assert [(d.path, d.origin, d.problem) for d in detect(snapshot)] == [
        ("README.md", Origin.CARD, "the model card cannot be read (No such file or directory)"),
        ("LICENSE", Origin.FILE, "the file cannot be read (No such file or directory)"),
        ("config.json", Origin.CONFIG, "the config cannot be read (No such file or directory)"),
    ]


def test_a_large_config_is_read_whole(make_snapshot: MakeSnapshot) -> None:
    files = {"tokenizer_config.json": json.dumps({"added_tokens": ["x" * 64] * 40_000, "license": "mit"})}
    assert found(make_snapshot, files) == [("mit", "tokenizer_config.json `license`", Origin.CONFIG)]
