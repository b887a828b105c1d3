"""The admitted model's Hugging Face model card: the upstream card completed, or a new one.

The upstream card is never rewritten: its Markdown body is kept verbatim and so is its YAML metadata,
to which only the keys it lacks are appended. What ModelSteward adds is one section at the end, between
``<!-- modelsteward:begin -->`` and ``<!-- modelsteward:end -->``; a card that already holds such a
section (a model derived from one we admitted) has it replaced, since it described another model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from huggingface_hub.repocard import REGEX_YAML_BLOCK

from modelsteward.core import Admission, CheckResult

BEGIN = "<!-- modelsteward:begin -->"
END = "<!-- modelsteward:end -->"

# The sections the Hugging Face card template asks for, written as placeholders into a card we generate
# so that the model's owner sees what is missing.
_PLACEHOLDER_SECTIONS = ("Intended uses & limitations", "Training data", "Evaluation")
_MORE_INFORMATION = "[More Information Needed]"

# Characters that Markdown or HTML would read as markup, escaped in text that comes from the model.
_MARKUP = re.compile(r"([\\`*_\[\]<>&#|~])")
_OUR_SECTION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"[ \t]*(?:\r?\n)?", re.DOTALL)


class CardError(ValueError):
    """A model card whose metadata cannot be read; the message says where (``README.md:3:7``)."""


@dataclass(frozen=True, slots=True)
class CardText:
    """A model card split the way the Hub splits it."""

    metadata: Mapping[str, Any]
    """The YAML front matter, parsed; empty when the card has none."""
    front_matter: str | None
    """The YAML text between the ``---`` lines, verbatim; None when the card has no such block."""
    body: str
    """Everything after the front matter, verbatim."""


def parse_card(text: str, *, filename: str = "README.md") -> CardText:
    """Split a model card into its metadata and body; raise CardError naming the line of bad YAML."""
    match = REGEX_YAML_BLOCK.search(text)
    if match is None:
        return CardText(metadata={}, front_matter=None, body=text)
    block = match.group(2)
    offset = len(match.group(1).splitlines())  # lines before the YAML: blank ones and the opening ---
    try:
        metadata = yaml.safe_load(block)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{filename}:{mark.line + offset + 1}:{mark.column + 1}" if mark else filename
        problem = getattr(error, "problem", None) or str(error)
        raise CardError(f"{where}: the card's metadata is not valid YAML: {problem}") from None
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        kind = type(metadata).__name__
        raise CardError(f"{filename}:{offset + 1}:1: the card's metadata must be a mapping (got a {kind})")
    return CardText(metadata=metadata, front_matter=block, body=text[match.end() :])


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
    return _join(_front_matter(card, missing), _without_our_section(card.body), _section(admission, None))


def _metadata(admission: Admission) -> dict[str, Any]:
    """The metadata we can vouch for: the licence, when the licence check knew it."""
    result = admission.assessment.get("license")
    if result is None or not result.data.get("known"):
        return {}
    ids = [str(i) for i in result.data.get("ids", ())]
    if not ids:
        return {}
    return {"license": ids[0] if len(ids) == 1 else ids}


def _front_matter(card: CardText | None, additions: Mapping[str, Any]) -> str | None:
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


def _dump(metadata: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(metadata), sort_keys=False, allow_unicode=True, width=1000)


def _join(front_matter: str | None, body: str, section: str) -> str:
    head = "" if front_matter is None else f"---\n{front_matter.rstrip()}\n---\n"
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


def _text(value: str) -> str:
    """Model-supplied text as inert Markdown: one line, no markup, no HTML."""
    return _MARKUP.sub(r"\\\1", " ".join(value.split()))


def _code(value: str) -> str:
    """Model-supplied text as an inline code span, fenced by more backticks than it holds."""
    value = " ".join(value.split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"
