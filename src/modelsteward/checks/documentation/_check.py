"""The documentation check: a model card at the root, and the four sections a reviewer needs."""

from __future__ import annotations

from modelsteward.checks import CheckContext
from modelsteward.checks.documentation._sections import SECTIONS, SectionState, find_sections, load_table
from modelsteward.core import CheckResult, CheckStatus, Finding, Manifest, Snapshot
from modelsteward.core.rules import load_catalogue
from modelsteward.formats.model_card import CardError, parse_card

CARD = "README.md"
# A card is prose; anything longer is read only this far, so a hostile README cannot exhaust memory.
_MAX_CARD_BYTES = 4 << 20


def run(snapshot: Snapshot, context: CheckContext) -> CheckResult:
    """Read the model card (README.md at the root, any case) and report which sections it documents."""
    path = _card_path(snapshot.manifest)
    if path is None:
        return CheckResult(
            check="documentation",
            status=CheckStatus.WARN,
            findings=(_finding("DOC-CARD-MISSING", CARD, f"no {CARD} at the root of the model"),),
            data={"card": None, "metadata": False, "sections": dict.fromkeys(SECTIONS, False)},
            summary="no model card",
        )
    try:
        with (snapshot.root / path).open("rb") as handle:
            text = handle.read(_MAX_CARD_BYTES).decode("utf-8", errors="replace")
    except OSError as error:
        return CheckResult(
            check="documentation",
            status=CheckStatus.ERROR,
            data={"card": path, "metadata": False, "sections": dict.fromkeys(SECTIONS, False)},
            summary=f"cannot read {path}: {error.strerror or error}",
        )
    try:
        card = parse_card(text, filename=path)
    except CardError as error:
        card = error.card  # metadata that cannot be read is none; the sections are read all the same
    states = find_sections(card, load_table())
    findings = tuple(
        _finding("DOC-SECTION-MISSING", path, _missing(section, state), at=section)
        for section, state in states.items()
        if not state.present
    )
    present = [section.replace("_", " ") for section, state in states.items() if state.present]
    return CheckResult(
        check="documentation",
        status=CheckStatus.WARN if findings else CheckStatus.PASS,
        findings=findings,
        data={
            "card": path,
            "metadata": bool(card.metadata),
            "sections": {section: state.present for section, state in states.items()},
        },
        summary=f"{path}: {len(present)} of {len(SECTIONS)} sections"
        + (f" ({', '.join(present)})" if present else ""),
    )


def _card_path(manifest: Manifest) -> str | None:
    """README.md at the root; of several spellings, the exact one first, then the first by name."""
    cards = sorted(f.path for f in manifest.files if f.path.lower() == CARD.lower())
    if CARD in cards:
        return CARD
    return cards[0] if cards else None


def _missing(section: str, state: SectionState) -> str:
    name = section.replace("_", " ")
    if state.heading is None:
        return f"no {name} section"
    return f'the {name} section ("{state.heading.title}", line {state.heading.line}) has no content'


def _finding(rule: str, path: str, detail: str, *, at: str = "") -> Finding:
    entry = load_catalogue()[rule]
    message = f"{entry.title}: {detail}"
    return Finding(rule=rule, severity=entry.severity, message=message, path=path, location=at)
