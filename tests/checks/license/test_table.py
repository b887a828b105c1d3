"""The licence table: every entry well formed, classed, and carrying the obligations its text states."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modelsteward.checks.license import LicenseClass, load_table
from modelsteward.checks.license._table import lookup_key, parse_table
from modelsteward.data import load_yaml

# Every licence identifier the Hugging Face Hub offers in a model card's `license` field.
HUB_IDS = [
    "apache-2.0", "mit", "openrail", "openrail++", "bigscience-openrail-m", "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd",
    "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0",
    "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0",
    "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0", "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0",
    "wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl",
    "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "h-research", "intel-research",
    "lppl-1.3c", "ms-pl", "apple-ascl", "apple-amlr", "mpl-2.0", "odc-by", "odbl", "openmdw-1.0", "llama2",
    "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "unlicense", "zlib",
    "deepfloyd-if-license", "pddl", "lgpl-lr", "fair-noncommercial-research-license", "other", "unknown",
]  # fmt: skip

P, W, R, V, S, ND, NC, U = (
    "permissive",
    "weak-copyleft",
    "responsible-ai",
    "vendor-community",
    "strong-copyleft",
    "no-derivatives",
    "non-commercial",
    "unknown",
)
OPENRAIL = {"use-restrictions", "pass-down-use-restrictions", "notice"}
LLAMA_3X = {"user-threshold", "attribution", "naming-rule", "use-restrictions", "notice"}

# What each entry must say: its class and the ids of its obligations. Adding an entry to the
# table means stating here what it is, so that a reviewer sees both.
EXPECTED: dict[str, tuple[str, set[str]]] = {
    "apache-2.0": (P, {"notice"}),
    "mit": (P, {"notice"}),
    "bsd": (P, {"notice"}),
    "bsd-2-clause": (P, {"notice"}),
    "bsd-3-clause": (P, {"notice"}),
    "bsd-3-clause-clear": (P, {"notice"}),
    "isc": (P, {"notice"}),
    "zlib": (P, {"notice"}),
    "bsl-1.0": (P, {"notice"}),
    "afl-3.0": (P, {"notice"}),
    "ecl-2.0": (P, {"notice"}),
    "apple-ascl": (P, {"notice"}),
    "unlicense": (P, set()),
    "wtfpl": (P, set()),
    "cc0-1.0": (P, set()),
    "pddl": (P, set()),
    "cc-by-2.0": (P, {"attribution"}),
    "cc-by-2.5": (P, {"attribution"}),
    "cc-by-3.0": (P, {"attribution"}),
    "cc-by-4.0": (P, {"attribution"}),
    "cdla-permissive-1.0": (P, {"notice"}),
    "cdla-permissive-2.0": (P, {"notice"}),
    "etalab-2.0": (P, {"attribution"}),
    "odc-by": (P, {"attribution"}),
    "openmdw-1.0": (P, {"notice"}),
    "lgpl": (W, {"source-disclosure", "notice"}),
    "lgpl-2.1": (W, {"source-disclosure", "notice"}),
    "lgpl-3.0": (W, {"source-disclosure", "notice"}),
    "lgpl-lr": (W, {"source-disclosure", "notice"}),
    "mpl-2.0": (W, {"source-disclosure", "notice"}),
    "epl-1.0": (W, {"source-disclosure", "notice"}),
    "epl-2.0": (W, {"source-disclosure", "notice"}),
    "ms-pl": (W, {"share-alike", "notice"}),
    "artistic-2.0": (W, {"naming-rule", "notice"}),
    "lppl-1.3c": (W, {"naming-rule", "notice"}),
    "cdla-sharing-1.0": (W, {"share-alike", "notice"}),
    "odbl": (W, {"share-alike", "attribution"}),
    "c-uda": (W, {"share-alike", "notice"}),
    "gpl": (S, {"source-disclosure", "notice"}),
    "gpl-2.0": (S, {"source-disclosure", "notice"}),
    "gpl-3.0": (S, {"source-disclosure", "notice"}),
    "agpl-3.0": (S, {"source-disclosure", "notice"}),
    "gfdl": (S, {"share-alike", "notice"}),
    "eupl-1.1": (S, {"source-disclosure", "notice"}),
    "eupl-1.2": (S, {"source-disclosure", "notice"}),
    "cc-by-sa-3.0": (S, {"attribution", "share-alike"}),
    "cc-by-sa-4.0": (S, {"attribution", "share-alike"}),
    "cc-by-nd-4.0": (ND, {"attribution", "no-derivatives"}),
    "cc-by-nc-2.0": (NC, {"attribution", "non-commercial"}),
    "cc-by-nc-3.0": (NC, {"attribution", "non-commercial"}),
    "cc-by-nc-4.0": (NC, {"attribution", "non-commercial"}),
    "cc-by-nc-nd-3.0": (NC, {"attribution", "non-commercial", "no-derivatives"}),
    "cc-by-nc-nd-4.0": (NC, {"attribution", "non-commercial", "no-derivatives"}),
    "cc-by-nc-sa-2.0": (NC, {"attribution", "non-commercial", "share-alike"}),
    "cc-by-nc-sa-3.0": (NC, {"attribution", "non-commercial", "share-alike"}),
    "cc-by-nc-sa-4.0": (NC, {"attribution", "non-commercial", "share-alike"}),
    "fair-noncommercial-research-license": (NC, {"non-commercial", "notice"}),
    "deepfloyd-if-license": (NC, {"non-commercial", "use-restrictions"}),
    "apple-amlr": (NC, {"non-commercial"}),
    "intel-research": (NC, {"non-commercial"}),
    "qwen-research": (NC, {"non-commercial", "attribution", "notice"}),
    "mnpl": (NC, {"non-commercial", "notice"}),
    "mrl": (NC, {"non-commercial", "notice"}),
    "stabilityai-nc-community": (NC, {"non-commercial"}),
    "openrail": (R, OPENRAIL),
    "openrail++": (R, OPENRAIL),
    "creativeml-openrail-m": (R, OPENRAIL),
    "bigscience-openrail-m": (R, OPENRAIL),
    "bigcode-openrail-m": (R, OPENRAIL),
    "bigscience-bloom-rail-1.0": (R, OPENRAIL),
    "deepseek": (R, OPENRAIL),
    "llama2": (V, {"user-threshold", "no-training-other-models", "use-restrictions", "notice"}),
    "llama3": (V, LLAMA_3X | {"no-training-other-models"}),
    "llama3.1": (V, LLAMA_3X),
    "llama3.2": (V, LLAMA_3X | {"regional-exclusion"}),
    "llama3.3": (V, LLAMA_3X),
    "llama4": (V, LLAMA_3X | {"regional-exclusion"}),
    "gemma": (V, {"use-restrictions", "pass-down-use-restrictions", "notice"}),
    "tongyi-qianwen": (V, {"user-threshold", "no-training-other-models", "notice"}),
    "qwen": (V, {"user-threshold", "attribution", "notice"}),
    "falcon-llm-license": (V, {"use-restrictions", "notice"}),
    "nvidia-open-model-license": (V, {"keep-safety-guardrails", "notice"}),
    "jamba-open-model-license": (V, {"revenue-threshold", "use-restrictions"}),
    "stabilityai-community": (V, {"revenue-threshold", "attribution", "use-restrictions", "notice"}),
    "cc": (U, set()),
    "h-research": (U, set()),
    "other": (U, set()),
    "unknown": (U, set()),
}

# The figures and wording that make an obligation actionable, as the licence texts state them.
FIGURES = [
    ("llama2", "user-threshold", "700 million monthly active users"),
    ("llama2", "no-training-other-models", "improve any other large language model"),
    ("llama3", "attribution", '"Built with Meta Llama 3"'),
    ("llama3", "naming-rule", 'beginning with "Llama 3"'),
    ("llama3.1", "attribution", '"Built with Llama"'),
    ("llama3.1", "naming-rule", 'beginning with "Llama"'),
    ("llama3.2", "regional-exclusion", "European Union"),
    ("llama3.2", "regional-exclusion", "multimodal (vision) models"),
    ("llama3.2", "user-threshold", "700 million"),
    ("llama3.3", "user-threshold", "700 million"),
    ("llama4", "regional-exclusion", "European Union"),
    ("gemma", "pass-down-use-restrictions", "enforceable provision"),
    ("gemma", "use-restrictions", "Prohibited Use Policy"),
    ("creativeml-openrail-m", "pass-down-use-restrictions", "Attachment A"),
    ("bigscience-bloom-rail-1.0", "use-restrictions", "Attachment A"),
    ("qwen", "user-threshold", "100 million monthly active users"),
    ("qwen", "attribution", '"Built with Qwen"'),
    ("tongyi-qianwen", "user-threshold", "100 million monthly active users"),
    ("stabilityai-community", "revenue-threshold", "USD 1 million"),
    ("cc-by-4.0", "attribution", "Credit the creator"),
    ("cc-by-sa-4.0", "share-alike", "same licence"),
    ("cc-by-nc-4.0", "non-commercial", "non-commercial purposes"),
    ("cc-by-nd-4.0", "no-derivatives", "adapted material"),
    ("nvidia-open-model-license", "keep-safety-guardrails", "guardrails"),
]


def test_every_hub_licence_id_is_in_the_table() -> None:
    table = load_table()
    assert [i for i in HUB_IDS if i not in table] == []


def test_every_table_entry_is_stated_in_the_expectations() -> None:
    assert set(load_table()) == set(EXPECTED)


@pytest.mark.parametrize("license_id", sorted(EXPECTED))
def test_entry_has_its_class_and_obligations(license_id: str) -> None:
    entry = load_table()[license_id]
    expected_class, expected_obligations = EXPECTED[license_id]
    assert entry.license_class == LicenseClass(expected_class)
    assert {o.id for o in entry.obligations} == expected_obligations
    assert entry.known == (expected_class != "unknown")


@pytest.mark.parametrize(("license_id", "obligation", "words"), FIGURES)
def test_obligation_states_the_licence_figures(license_id: str, obligation: str, words: str) -> None:
    texts = [o.text for o in load_table()[license_id].obligations if o.id == obligation]
    assert texts, f"{license_id} has no {obligation} obligation"
    assert any(words in text for text in texts), texts


def test_every_entry_is_well_formed() -> None:
    table = load_table()
    for entry in table.values():
        assert entry.id == entry.id.strip().lower(), entry.id
        assert entry.name, entry.id
        assert all(o.id in table.obligations and o.text for o in entry.obligations), entry.id
        assert entry.family is None or table[entry.family].family is None, entry.id
        if not entry.known:
            assert entry.notes, f"{entry.id}: an entry of unknown class must say why in its notes"


def test_every_obligation_of_the_catalogue_is_used() -> None:
    table = load_table()
    used = {o.id for entry in table.values() for o in entry.obligations}
    assert used == set(table.obligations)


@pytest.mark.parametrize(
    ("name", "license_id"),
    [
        ("Apache-2.0", "apache-2.0"),
        ("APACHE-2.0", "apache-2.0"),
        ("Apache License, Version 2.0", "apache-2.0"),
        ("Apache License 2.0", "apache-2.0"),
        ("GPL-3.0-or-later", "gpl-3.0"),
        ("GPL-2.0-only", "gpl-2.0"),
        ("LGPL-2.1-only", "lgpl-2.1"),
        ("CC-BY-NC-SA-4.0", "cc-by-nc-sa-4.0"),
        ("BSD-3-Clause", "bsd-3-clause"),
        ("ODbL-1.0", "odbl"),
        ("Llama 3.1 Community License Agreement", "llama3.1"),
        ("llama_3_2", None),
        ("tongyi-qianwen", "tongyi-qianwen"),
        ("Tongyi Qianwen LICENSE AGREEMENT", "tongyi-qianwen"),
        ("qwen", "qwen"),
        ("tongyi-qianwen-research", "qwen-research"),
        ("deepseek-license", "deepseek"),
        ("falcon-llm-license", "falcon-llm-license"),
        ("mnpl", "mnpl"),
        ("mrl", "mrl"),
        ("nvidia-open-model-license", "nvidia-open-model-license"),
        ("jamba-open-model-license", "jamba-open-model-license"),
        ("stabilityai-ai-community", "stabilityai-community"),
        ("NOASSERTION", "unknown"),
        ("my-custom-licence", None),
    ],
)
def test_names_resolve_case_insensitively_through_ids_names_spdx_and_aliases(
    name: str, license_id: str | None
) -> None:
    entry = load_table().resolve(name)
    assert (entry.id if entry else None) == license_id


def test_lookup_keys_ignore_case_spacing_and_punctuation() -> None:
    assert lookup_key("  Apache License,  Version 2.0 ") == "apache-license-version-2.0"
    assert lookup_key("llama_3.1") == lookup_key("LLAMA 3.1") == "llama-3.1"


def _raw_table() -> dict[str, Any]:
    return copy.deepcopy(load_yaml("licenses/table.yaml"))


def _with_first(**changes: Any) -> dict[str, Any]:
    raw = _raw_table()
    raw["licenses"][0].update(changes)
    return raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected a mapping"),
        (_with_first(**{"class": "free"}), "class must be one of permissive, weak-copyleft"),
        (_with_first(obligations=[{"id": "pay-royalties", "text": "Pay."}]), "'pay-royalties' is not in"),
        (_with_first(obligations=[{"id": "notice"}]), "exactly `id` and `text`"),
        (_with_first(family="nonexistent"), "family 'nonexistent' is not a licence id"),
        (_with_first(aliases=["mit"]), "'mit' names both"),
        (_with_first(licence="x"), "unknown keys ['licence']"),
        (_with_first(name=""), "`name` must be a non-empty string"),
        (_with_first(id="mit"), "duplicate licence id mit"),
    ],
)
def test_malformed_tables_are_refused_naming_the_problem(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"licenses/table\.yaml") as error:
        parse_table(raw)
    assert message in str(error.value)
