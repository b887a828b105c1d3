"""The human-readable outcome of ``steward admit``: decision and reasons first, then each check."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelsteward.core import CheckStatus, Verdict

_VERDICT_STYLE = {Verdict.APPROVE: "bold green", Verdict.REVIEW: "bold yellow", Verdict.REJECT: "bold red"}
_STATUS_STYLE = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "red",
    CheckStatus.ERROR: "bold red",
    CheckStatus.SKIPPED: "dim",
}


def console() -> Console:
    """A console on stdout that never reads model-supplied text as markup."""
    return Console(file=sys.stdout, markup=False, highlight=False, soft_wrap=True)


def render(document: Mapping[str, Any], out: Console) -> None:
    """Print the verdict, its reasons, each check's status and where the documents are, from what
    ``steward admit --json`` prints (:func:`~modelsteward.reports.admission_json.outcome_to_json`): a
    local admission and a server's admit job print alike."""
    verdict = Verdict(document["decision"]["verdict"])
    new = document["new_version"]
    version = f"{document['name']}@{document['version']}" + ("" if new else " (already registered)")
    out.print(Text(f"{verdict.value.upper()}  {version}", style=_VERDICT_STYLE[verdict]))
    registered = document["registered"]
    if not new and (
        registered["verdict"] != verdict.value or registered["derived_from"] != document["derived_from"]
    ):
        # The same content was registered before, under another policy or lineage: say what is on record.
        lineage = f", derived from {registered['derived_from']}" if registered["derived_from"] else ""
        out.print(
            Text(f"on record: {registered['verdict']}{lineage}, from its first admission", style="bold")
        )
    pinned = f" at {document['revision']}" if document["revision"] else ""
    manifest = document["manifest"]
    out.print(Text(f"source {document['source']}{pinned}; {manifest['files']} files, {manifest['digest']}"))
    for reason in document["decision"]["reasons"]:
        evidence = f" [{reason['evidence']}]" if reason["evidence"] else ""
        out.print(Text(f"  {reason['verdict']}: {reason['rule']}: {reason['message']}{evidence}"))
    table = Table(title="Checks", expand=False)
    for column in ("check", "status", "summary"):
        table.add_column(column, overflow="fold")
    for result in document["checks"]:
        status = CheckStatus(result["status"])
        table.add_row(
            result["check"], Text(status.value, style=_STATUS_STYLE[status]), Text(result["summary"])
        )
    out.print(table)
    for line in _evaluation_lines(document["checks"]):
        out.print(Text(line))
    for kind, path in document["documents"].items():
        out.print(Text(f"{kind}: {path}"))


def _evaluation_lines(results: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    """Every metric with its interval, and the groups that fail the four-fifths rule (the table's
    summaries have room for neither)."""
    for result in results:
        data = result["data"]
        if result["check"] == "performance" and isinstance(data.get("metrics"), Mapping):
            shown = [
                f"{name} {e['value']:.3f}"
                + (f" [{e['low']:.3f}, {e['high']:.3f}]" if None not in (e["low"], e["high"]) else "")
                for name, e in data["metrics"].items()
                if e["value"] is not None
            ]
            yield f"performance: {', '.join(shown) or 'no metric could be computed'}"
        elif result["check"] == "fairness" and "groups" in data:
            failing = [g["feature"] for g in data["groups"] if g["passes_four_fifths"] is False]
            if failing:
                yield f"fairness: the four-fifths rule fails for {', '.join(failing)}"
