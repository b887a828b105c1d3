"""The model card: generated when there is none, completed without losing a word of the upstream card."""

from __future__ import annotations

import re
from typing import Any

import yaml
from huggingface_hub.repocard_data import model_index_to_eval_results

from modelsteward.core import Finding, Reason, Severity, Verdict
from modelsteward.formats.model_card import parse_card
from modelsteward.reports.model_card import BEGIN, END, render_model_card
from tests.reports.admission_fixture import build_admission, license_result, security_result

_FRONT_MATTER = """\
# the owners' comment stays
language:
- en
- de
license: other
license_name: acme-research
tags: [fill-mask, "quoted: colon"]
base_model: &base acme/base-encoder
extra:
  nested: {deep: [1, 2, {x: null}]}
  released: 2024-05-01
  same_as_base: *base
  notes: |
    line one
    line two
model-index:
- name: acme-encoder
  results:
  - task: {type: fill-mask, name: Fill mask}
    dataset: {name: WikiText, type: wikitext, split: test}
    metrics:
    - {type: accuracy, value: 0.71, name: Accuracy}
    - {type: perplexity, value: 12.5}
"""
_BODY = """
# Acme encoder

A BERT-style encoder. | Pipes, *stars* and <b>HTML</b> stay as the authors wrote them.

## Intended uses & limitations

Fill-mask for English and German.
"""
UPSTREAM = f"---\n{_FRONT_MATTER}---\n{_BODY}"


def _front_matter(card: str) -> dict[str, Any]:
    """The output's metadata, parsed the way the Hub parses it."""
    parsed = parse_card(card)
    assert parsed.front_matter is not None
    loaded = yaml.safe_load(parsed.front_matter)
    assert isinstance(loaded, dict)
    return loaded


def _our_section(card: str) -> str:
    assert card.count(BEGIN) == 1
    assert card.count(END) == 1
    return card[card.index(BEGIN) : card.index(END)]


def test_a_generated_card_has_metadata_a_title_placeholders_and_our_section() -> None:
    card = render_model_card(build_admission(), None)

    assert _front_matter(card) == {"license": "apache-2.0"}
    assert "\n# acme-encoder\n" in card
    assert card.count("\n[More Information Needed]\n") == 3
    assert "## Training data" in card
    assert card.index("## Evaluation") < card.index(BEGIN)


def test_our_section_holds_decision_reasons_licence_security_and_integrity() -> None:
    admission = build_admission(derived_from="base-encoder@2")

    section = _our_section(render_model_card(admission, None))

    assert "Decision: **REJECT**" in section
    assert "`acme-default sha256:" in section
    assert "- **reject** `max_severity.security` (security): A critical finding exceeds" in section
    assert "Evidence: `PICKLE-GLOBAL-DENIED in pytorch_model.bin`" in section
    assert "- **review** `documentation.require` (documentation)" in section
    assert "Class: **permissive**." in section
    assert "- **notice**: Keep the NOTICE file with every copy." in section
    assert "- **Findings:** 1 critical, 1 low" in section
    assert f"- **Manifest digest:** `{admission.snapshot.manifest.digest}`" in section
    assert "- **Upstream signature:** absent" in section
    assert "- **Derived from:** `base-encoder@2`" in section
    assert "- **security**: fail." in section


def test_the_upstream_card_is_kept_verbatim_when_it_declares_its_licence() -> None:
    card = render_model_card(build_admission(), UPSTREAM)

    assert card.startswith(UPSTREAM)
    assert card[len(UPSTREAM) :].lstrip("\n").startswith(BEGIN)


def test_unusual_yaml_survives_and_the_hub_reads_the_model_index() -> None:
    metadata = _front_matter(render_model_card(build_admission(), UPSTREAM))

    assert metadata == yaml.safe_load(_FRONT_MATTER)
    assert metadata["extra"]["nested"] == {"deep": [1, 2, {"x": None}]}
    assert metadata["extra"]["same_as_base"] == "acme/base-encoder"
    assert metadata["extra"]["notes"] == "line one\nline two\n"
    name, results = model_index_to_eval_results(metadata["model-index"])
    assert name == "acme-encoder"
    assert [(r.task_type, r.dataset_type, r.metric_type, r.metric_value) for r in results] == [
        ("fill-mask", "wikitext", "accuracy", 0.71),
        ("fill-mask", "wikitext", "perplexity", 12.5),
    ]


def test_a_missing_licence_is_appended_to_the_upstream_metadata_keeping_its_text() -> None:
    without_licence = _FRONT_MATTER.replace("license: other\nlicense_name: acme-research\n", "")
    upstream = f"---\n{without_licence}---\n{_BODY}"

    card = render_model_card(build_admission(), upstream)

    assert card.startswith(f"---\n{without_licence}license: apache-2.0\n---\n{_BODY}")
    assert _front_matter(card) == {**yaml.safe_load(without_licence), "license": "apache-2.0"}


def test_several_licence_ids_become_a_list_and_an_unknown_licence_is_never_written() -> None:
    both = license_result(
        licenses=[("mit", "LICENSE"), ("cc-by-4.0", "README.md")], license_class="permissive"
    )
    unknown = license_result(licenses=[("acme-eula", "LICENSE")], license_class="unknown", known=False)

    listed = render_model_card(build_admission(results=(both,)), "# No metadata\n")
    guessed = render_model_card(build_admission(results=(unknown,)), "# No metadata\n")

    assert _front_matter(listed) == {"license": ["mit", "cc-by-4.0"]}
    assert parse_card(guessed).front_matter is None
    assert guessed.startswith("# No metadata\n")


def test_a_flow_mapping_front_matter_is_rewritten_with_every_key() -> None:
    upstream = "---\n{pipeline_tag: fill-mask, tags: [a, b]}\n---\nBody text.\n"

    card = render_model_card(build_admission(), upstream)

    assert _front_matter(card) == {"pipeline_tag": "fill-mask", "tags": ["a", "b"], "license": "apache-2.0"}
    assert parse_card(card).body.startswith("Body text.\n")


def test_unreadable_upstream_metadata_is_kept_as_is_and_reported() -> None:
    upstream = "---\nlicense: mit\ntags: [a, b\n---\n# Card\n"

    card = render_model_card(build_admission(), upstream)

    assert card.startswith(upstream)
    assert "- **Upstream metadata:** kept as it is, but unreadable: README.md:3:12:" in _our_section(card)


def test_metadata_never_closed_is_kept_as_is_and_reported() -> None:
    upstream = "---\nlicense: mit\n# Card\n"

    card = render_model_card(build_admission(), upstream)

    assert card.startswith(upstream)
    assert "README.md:1:1: the metadata block opened by \\`---\\` is never closed" in _our_section(card)


def test_empty_upstream_metadata_stays_empty_when_there_is_nothing_to_add() -> None:
    unknown = license_result(licenses=[("acme-eula", "LICENSE")], license_class="unknown", known=False)
    upstream = "---\n---\n# Card\n"

    card = render_model_card(build_admission(results=(unknown,)), upstream)

    assert card.startswith(upstream)
    assert parse_card(card).front_matter == ""


def test_a_card_we_completed_before_has_its_old_section_replaced() -> None:
    parent = build_admission(name="base-encoder", version=2)
    child = build_admission(files={"model.safetensors": b"fine-tuned"}, derived_from="base-encoder@2")

    card = render_model_card(child, render_model_card(parent, UPSTREAM))

    section = _our_section(card)
    assert child.snapshot.manifest.digest in section
    assert parent.snapshot.manifest.digest not in section
    assert card.startswith(UPSTREAM)


def test_text_from_the_model_is_inert_markdown() -> None:
    hostile = Finding("X", Severity.HIGH, "msg", "a.bin")
    reason = Reason(
        Verdict.REJECT, "license.deny", "license", "<script>alert(1)</script> | *x* [l](u)", "a`b"
    )
    admission = build_admission(name="<img src=x>", results=(security_result([hostile]),), reasons=(reason,))

    card = render_model_card(admission, None)

    # The only raw "<" are our section's markers; every other one is backslash-escaped.
    assert re.findall(r"(?<!\\)<[^ ]*", card) == ["<!--", "<!--"]
    assert r"\<script\>alert(1)\</script\> \| \*x\* \[l\](u)" in card
    assert "Evidence: ``a`b``" in card
