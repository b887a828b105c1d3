"""The admitted model's Hugging Face model card: the upstream card completed, or a new one.

The upstream card is never rewritten: its Markdown body is kept verbatim and so is its YAML metadata,
to which only the keys it lacks are appended. The one exception is ``model-index``, the Hub's record of
evaluation results: when the model was evaluated, our result is added as one more entry after the
upstream ones, which stay as they were. What ModelSteward adds to the text is one section at the end,
between ``<!-- modelsteward:begin -->`` and ``<!-- modelsteward:end -->``; a card that already holds such
a section (a model derived from one we admitted) has it replaced, since it described another model.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import yaml

from modelsteward.core import Admission, CheckResult
from modelsteward.formats.model_card import Card, CardError, parse_card

# CardError and parse_card are re-exported for reports.cyclonedx, which reads the same upstream card.
__all__ = ["BEGIN", "END", "render_model_card"]

BEGIN = "<!-- modelsteward:begin -->"
END = "<!-- modelsteward:end -->"

# The sections the Hugging Face card template asks for, written as placeholders into a card we generate
# so that the model's owner sees what is missing.
_PLACEHOLDER_SECTIONS = ("Intended uses & limitations", "Training data", "Evaluation")
_MORE_INFORMATION = "[More Information Needed]"

# Characters that Markdown or HTML would read as markup, escaped in text that comes from the model.
# Hub task ids (https://hf.co/tasks) of our tasks; classification of feature columns is tabular.
_HUB_TASKS = {
    "classification": "text-classification",
    "regression": "tabular-regression",
    "retrieval": "sentence-similarity",
    "generation": "text-generation",
    "entities": "token-classification",
}
_ISOLATION = {
    "bubblewrap": "ran in a bubblewrap sandbox",
    "unshare": "ran in an unshare sandbox",
    "none": "ran **without a sandbox** (--no-sandbox)",
    "endpoint": "was served elsewhere and reached over HTTP",
}

_MARKUP = re.compile(r"([\\`*_\[\]<>&#|~])")
_OUR_SECTION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"[ \t]*(?:\r?\n)?", re.DOTALL)


def render_model_card(admission: Admission, upstream: str | None) -> str:
    """The model card to register with the admission.

    With an ``upstream`` card, its text is kept and completed; without one, a card is generated. Upstream
    metadata that is not valid YAML is kept as it is, with the problem noted in our section.
    """
    additions = _metadata(admission)
    if upstream is None:
        return _join(_front_matter(None, additions), _generated_body(admission), _section(admission, None))
    try:
        card = parse_card(upstream)
    except CardError as error:
        return _join(None, _without_our_section(upstream), _section(admission, str(error)))
    missing = {key: value for key, value in additions.items() if key not in card.metadata}
    front_matter = _front_matter(card, missing)
    entries = additions.get("model-index")
    if entries and front_matter is not None and "model-index" not in missing:
        front_matter = _extend_model_index(front_matter, entries[0])
    return _join(front_matter, _without_our_section(card.body), _section(admission, None))


def _metadata(admission: Admission) -> dict[str, Any]:
    """The metadata we can vouch for: the licence, when the licence check knew it, and the evaluation."""
    metadata: dict[str, Any] = {}
    result = admission.assessment.get("license")
    ids = (
        [str(i) for i in result.data.get("ids", ())]
        if result is not None and result.data.get("known")
        else []
    )
    if ids:
        metadata["license"] = ids[0] if len(ids) == 1 else ids
    entry = _model_index_entry(admission)
    if entry is not None:
        metadata["model-index"] = [entry]
    return metadata


def _model_index_entry(admission: Admission) -> dict[str, Any] | None:
    """The performance result as a Hub ``model-index`` entry; None without one (or without numbers)."""
    result = admission.assessment.get("performance")
    data = {} if result is None else result.data
    metrics = data.get("metrics")
    if not isinstance(metrics, Mapping):
        return None
    measured = [
        {"type": name, "value": e["value"], "name": _metric_name(name, e)}
        for name, e in metrics.items()
        if e.get("value") is not None
    ]
    if not measured:
        return None
    task = str(data["task"])
    hub_task = _HUB_TASKS.get(task, task)
    if data["dataset"].get("inputs") == "features" and task == "classification":
        hub_task = "tabular-classification"
    file_name = PurePath(str(data["dataset"]["path"])).name
    return {
        "name": admission.name,
        "results": [
            {
                "task": {"type": hub_task, "name": hub_task.replace("-", " ").capitalize()},
                "dataset": {"name": file_name, "type": file_name, "revision": data["dataset"]["digest"]},
                "metrics": measured,
            }
        ],
    }


def _metric_name(name: str, estimate: Mapping[str, Any]) -> str:
    """The metric's display name on the Hub, with its confidence interval where there is one."""
    if estimate.get("low") is None or estimate.get("high") is None:
        return name
    return f"{name} ({estimate['level']:.0%} interval {estimate['low']:.3f} to {estimate['high']:.3f})"


def _extend_model_index(front_matter: str, entry: Mapping[str, Any]) -> str:
    """``front_matter`` with ``entry`` after the upstream ``model-index`` entries.

    A block list gets the entry written after its last line, so comments, anchors and layout survive;
    a flow list, or text that does not read back as expected, has the whole block written. A
    ``model-index`` that is not a list is not ours to repair: it is kept and nothing is added.
    """
    metadata = yaml.safe_load(front_matter)
    upstream = metadata.get("model-index")
    if not isinstance(upstream, list):
        return front_matter
    expected = {**metadata, "model-index": [*upstream, dict(entry)]}
    root = yaml.compose(front_matter)
    node = (
        next(v for k, v in root.value if k.value == "model-index")
        if isinstance(root, yaml.MappingNode)
        else None
    )
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        return _dump(expected)
    last = node
    while isinstance(last, yaml.CollectionNode) and last.value:
        # The end of a block collection lies past any comment that follows it; its deepest last value
        # ends where its text does.
        tail = last.value[-1]
        last = tail[1] if isinstance(tail, tuple) else tail
    end = front_matter.find("\n", last.end_mark.index)
    end = len(front_matter) if end < 0 else end + 1
    item = textwrap.indent(_dump([dict(entry)]), " " * node.start_mark.column)
    text = (
        front_matter[:end] + ("" if front_matter[:end].endswith("\n") else "\n") + item + front_matter[end:]
    )
    try:
        reread = yaml.safe_load(text)
    except yaml.YAMLError:
        reread = None
    return text if reread == expected else _dump(expected)


def _front_matter(card: Card | None, additions: Mapping[str, Any]) -> str | None:
    """The YAML block: the upstream text verbatim with ``additions`` (keys it lacks) appended."""
    if card is None or card.front_matter is None:
        return _dump(additions) if additions else None
    if not additions:
        return card.front_matter
    appended = card.front_matter.rstrip("\r\n") + "\n" + _dump(additions)
    # Appending keys works for a block mapping; a flow mapping (`{a: 1}`) needs the whole block written.
    try:
        reread = yaml.safe_load(appended)
    except yaml.YAMLError:
        reread = None
    if isinstance(reread, dict) and reread.keys() == card.metadata.keys() | additions.keys():
        return appended
    return _dump({**card.metadata, **additions})


def _dump(value: Mapping[str, Any] | list[Any]) -> str:
    plain = dict(value) if isinstance(value, Mapping) else value
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=1000)


def _join(front_matter: str | None, body: str, section: str) -> str:
    head = ""
    if front_matter is not None:
        block = front_matter.rstrip()
        head = f"---\n{block}\n---\n" if block else "---\n---\n"
    if body and not body.endswith("\n"):
        body += "\n"
    return f"{head}{body}\n{section}"


def _without_our_section(body: str) -> str:
    return _OUR_SECTION.sub("", body)


def _generated_body(admission: Admission) -> str:
    lines = [
        "",
        f"# {_text(admission.name)}",
        "",
        "This card was generated by ModelSteward because the model came without one. The model's owner "
        f"should replace each {_text(_MORE_INFORMATION)} below.",
        "",
    ]
    for title in _PLACEHOLDER_SECTIONS:
        lines += [f"## {_text(title)}", "", _MORE_INFORMATION, ""]
    return "\n".join(lines)


def _section(admission: Admission, metadata_problem: str | None) -> str:
    snapshot = admission.snapshot
    manifest = snapshot.manifest
    decision = admission.decision
    version = "" if admission.version is None else f", version {admission.version}"
    revision = _code(snapshot.revision) if snapshot.revision else "none (not version-controlled)"
    lines = [
        BEGIN,
        "## ModelSteward assessment",
        "",
        f"Decision: **{decision.verdict.value.upper()}**, under policy {_code(admission.policy)}, "
        f"on {admission.created:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- **Registered as:** {_text(admission.name)}{version}",
        f"- **Source:** {_code(snapshot.source)}",
        f"- **Revision:** {revision}",
        f"- **Manifest:** {_code(manifest.digest)} ({len(manifest.files):,} files, {manifest.size:,} bytes)",
    ]
    if admission.derived_from:
        lines.append(f"- **Derived from:** {_code(admission.derived_from)}")
    if metadata_problem:
        lines.append(f"- **Upstream metadata:** kept as it is, but unreadable: {_text(metadata_problem)}")
    lines += ["", "### Reasons", ""]
    lines += [
        f"- **{r.verdict.value}** {_code(r.rule)} ({_text(r.check)}): {_text(r.message)}"
        + (f" Evidence: {_code(r.evidence)}" if r.evidence else "")
        for r in decision.reasons
    ] or ["- No policy rule held the model back."]
    lines += ["", "### Checks", ""]
    lines += [
        f"- **{_text(r.check)}**: {r.status.value}" + (f". {_text(r.summary)}" if r.summary else "")
        for r in admission.assessment.results
    ]
    license_result = admission.assessment.get("license")
    if license_result is not None:
        lines += ["", *_license_lines(license_result)]
    security = admission.assessment.get("security")
    if security is not None:
        lines += ["", *_security_lines(security)]
    integrity = admission.assessment.get("integrity")
    if integrity is not None:
        lines += ["", *_integrity_lines(integrity)]
    performance = admission.assessment.get("performance")
    if performance is not None and isinstance(performance.data.get("metrics"), Mapping):
        lines += ["", *_evaluation_lines(performance)]
    fairness = admission.assessment.get("fairness")
    if fairness is not None and "group_metrics" in fairness.data:
        lines += ["", *_fairness_lines(fairness)]
    lines += ["", END, ""]
    return "\n".join(lines)


def _license_lines(result: CheckResult) -> list[str]:
    data = result.data
    lines = ["### Licence", "", f"Class: **{_text(str(data.get('class', 'unknown')))}**."]
    if data.get("conflict"):
        lines[-1] += f" The declarations conflict: {_text(str(data.get('conflict_detail', '')))}"
    lines.append("")
    lines += [
        f"- {_code(str(entry['id']))} from {_text(str(entry['where']))}" for entry in data.get("licenses", ())
    ]
    obligations = list(data.get("obligations", ()))
    if obligations:
        lines += ["", "Obligations:", ""]
        lines += [f"- **{_text(str(o['id']))}**: {_text(str(o['text']))}" for o in obligations]
    return lines


def _security_lines(result: CheckResult) -> list[str]:
    counts = Counter(f.severity for f in result.findings)
    found = ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True)) or "none"
    incomplete = list(result.data.get("incomplete", ()))
    lines = [
        "### Security",
        "",
        f"- **Files scanned:** {result.data.get('files', 0)}",
        f"- **Findings:** {found}",
    ]
    if incomplete:
        paths = ", ".join(_code(str(entry["path"])) for entry in incomplete)
        lines.append(f"- **Not fully scanned:** {paths}")
    return lines


def _integrity_lines(result: CheckResult) -> list[str]:
    data = result.data
    signature = data.get("upstream_signature") or {}
    status = str(signature.get("status", "absent"))
    detail = str(signature.get("detail", ""))
    where = f" ({_code(str(signature['path']))})" if signature.get("path") else ""
    return [
        "### Integrity",
        "",
        f"- **Manifest digest:** {_code(str(data.get('manifest_digest', '')))}",
        f"- **Upstream signature:** {_text(status)}{where}" + (f": {_text(detail)}" if detail else ""),
    ]


def _evaluation_lines(result: CheckResult) -> list[str]:
    data = result.data
    dataset = data["dataset"]
    efficiency = data["efficiency"]
    latency = efficiency["latency_ms"]
    lines = [
        "### Evaluation",
        "",
        f"{_text(str(data['task']).capitalize())} on {_code(PurePath(str(dataset['path'])).name)} "
        f"({_code(str(dataset['digest']))}, {dataset['rows']:,} rows); the model "
        f"{_ISOLATION.get(str(data['isolation']), 'ran in ' + _text(str(data['isolation'])))}.",
        "",
    ]
    for name, estimate in data["metrics"].items():
        value = "not measured" if estimate["value"] is None else f"{estimate['value']:.3f}"
        if estimate["low"] is not None and estimate["high"] is not None:
            value += f" ({estimate['level']:.0%} interval {estimate['low']:.3f} to {estimate['high']:.3f})"
        lines.append(f"- **{_text(name)}:** {value}")
    lines.append(
        f"- **Latency:** p50 {latency['p50']:.2f} ms, p95 {latency['p95']:.2f} ms per batch of "
        f"{efficiency['batch_size']}; {efficiency['throughput']:,.1f} rows per second"
    )
    return lines


def _fairness_lines(result: CheckResult) -> list[str]:
    data = result.data
    lines = ["### Fairness", ""]
    for gaps in data["groups"]:
        parity = gaps["demographic_parity_difference"]
        four_fifths = {True: "passes", False: "fails", None: "not judged"}[gaps["passes_four_fifths"]]
        lines.append(
            f"- **{_text(str(gaps['feature']))}:** demographic parity difference "
            + ("n/a" if parity is None else f"{parity:.3f}")
            + f"; four-fifths rule {four_fifths}"
        )
    associations = data["associations"]
    if associations:
        largest = max(associations, key=lambda a: abs(a["effect_size"]))
        lines.append(
            f"- **Association tests:** {len(associations)}, largest |d| {abs(largest['effect_size']):.2f} "
            f"({_text(str(largest['test']))}, {_text(str(largest['method']).upper())})"
        )
    flips = data["counterfactual_summary"]
    if flips is not None and flips["flip_rate"] is not None:
        lines.append(f"- **Counterfactual flip rate:** {flips['flip_rate']:.1%} of {flips['pairs']:,} pairs")
    return lines


def _text(value: str) -> str:
    """Model-supplied text as inert Markdown: one line, no markup, no HTML."""
    return _MARKUP.sub(r"\\\1", " ".join(value.split()))


def _code(value: str) -> str:
    """Model-supplied text as an inline code span, fenced by more backticks than it holds."""
    value = " ".join(value.split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"
