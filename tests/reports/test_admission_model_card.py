"""The model card: generated when there is none, completed without losing a word of the upstream card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub.repocard_data import model_index_to_eval_results

from modelsteward.core import Admission, Finding, Reason, Severity, Verdict
from modelsteward.formats.model_card import parse_card
from modelsteward.reports.model_card import BEGIN, END, render_model_card
from tests.reports.admission_fixture import build_admission, license_result, security_result
from tests.reports.evaluation_fixture import DATA_FILE, evaluation

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


def _evaluated(folder: Path) -> Admission:
    """The default admission with a performance and a fairness result from a real evaluation."""
    default = build_admission()
    return build_admission(results=(*default.assessment.results, *evaluation(folder).check_results()))


def _our_entry(folder: Path) -> dict[str, Any]:
    return {
        "name": "acme-encoder",
        "results": [
            {
                "task": {"type": "text-classification", "name": "Text classification"},
                "dataset": {
                    "name": DATA_FILE,
                    "type": DATA_FILE,
                    "revision": evaluation(folder).dataset.digest,
                },
                "metrics": [
                    {"type": "accuracy", "value": 0.853, "name": "accuracy (95% interval 0.822 to 0.881)"},
                    {"type": "macro_f1", "value": 0.8123, "name": "macro_f1 (95% interval 0.780 to 0.840)"},
                    {"type": "ece", "value": 0.041, "name": "ece (95% interval 0.020 to 0.066)"},
                ],
            }
        ],
    }


def test_an_evaluated_model_gets_a_model_index_the_hub_reads(tmp_path: Path) -> None:
    card = render_model_card(_evaluated(tmp_path), None)

    metadata = _front_matter(card)
    assert metadata["model-index"] == [_our_entry(tmp_path)]
    name, results = model_index_to_eval_results(metadata["model-index"])
    assert name == "acme-encoder"
    assert [(r.task_type, r.dataset_name, r.metric_type, r.metric_value) for r in results] == [
        ("text-classification", DATA_FILE, "accuracy", 0.853),
        ("text-classification", DATA_FILE, "macro_f1", 0.8123),
        ("text-classification", DATA_FILE, "ece", 0.041),
    ]
    assert results[0].dataset_revision == evaluation(tmp_path).dataset.digest


def test_our_model_index_entry_follows_the_upstream_ones_which_stay_verbatim(tmp_path: Path) -> None:
    card = render_model_card(_evaluated(tmp_path), UPSTREAM)

    metadata = _front_matter(card)
    upstream = yaml.safe_load(_FRONT_MATTER)
    assert metadata["model-index"] == [*upstream["model-index"], _our_entry(tmp_path)]
    assert {k: v for k, v in metadata.items() if k != "model-index"} == {
        k: v for k, v in upstream.items() if k != "model-index"
    }
    # The upstream text, comments and anchors included, is still there line for line.
    assert card.startswith(f"---\n{_FRONT_MATTER}")
    _, results = model_index_to_eval_results(metadata["model-index"])
    assert [r.metric_type for r in results] == ["accuracy", "perplexity", "accuracy", "macro_f1", "ece"]


def test_an_upstream_model_index_in_the_middle_keeps_what_follows_it(tmp_path: Path) -> None:
    upstream = (
        "---\nmodel-index:\n  - name: acme\n    results: []  # none yet\n"
        "# the tags below matter\ntags: [a]\n---\n# Card\n"
    )

    card = render_model_card(_evaluated(tmp_path), upstream)

    metadata = _front_matter(card)
    assert metadata["model-index"] == [{"name": "acme", "results": []}, _our_entry(tmp_path)]
    assert metadata["tags"] == ["a"]
    assert card.startswith(
        "---\nmodel-index:\n  - name: acme\n    results: []  # none yet\n  - name: acme-encoder\n"
    )
    assert "\n# the tags below matter\ntags: [a]\n" in card


def test_a_flow_model_index_is_rewritten_and_a_malformed_one_left_alone(tmp_path: Path) -> None:
    flow = "---\nmodel-index: [{name: acme, results: []}]\n---\n# Card\n"
    malformed = "---\nmodel-index: not a list\n---\n# Card\n"

    rewritten = _front_matter(render_model_card(_evaluated(tmp_path), flow))
    kept = _front_matter(render_model_card(_evaluated(tmp_path), malformed))

    assert rewritten["model-index"] == [{"name": "acme", "results": []}, _our_entry(tmp_path)]
    assert kept["model-index"] == "not a list"


def test_our_section_summarises_the_evaluation_and_fairness(tmp_path: Path) -> None:
    section = _our_section(render_model_card(_evaluated(tmp_path), None))

    assert f"Classification on `{DATA_FILE}` (`{evaluation(tmp_path).dataset.digest}`, 12 rows)" in section
    assert "the model ran in a bubblewrap sandbox." in section
    assert "- **accuracy:** 0.853 (95% interval 0.822 to 0.881)" in section
    assert "- **roc\\_auc:** not measured" in section
    assert "- **Latency:** p50 3.70 ms, p95 5.55 ms per batch of 32; 8,650.5 rows per second" in section
    assert "- **sex:** demographic parity difference 0.167; four-fifths rule fails" in section
    assert "- **race:** demographic parity difference 0.071; four-fifths rule passes" in section
    assert "- **Association tests:** 1, largest |d| 1.23 (career-family \\<male, female\\>, WEAT)" in section
    assert "- **Counterfactual flip rate:** 16.7% of 12 pairs" in section
