"""The HTML report: decision first, every check, the manifest; self-contained and inert."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from modelsteward.core import CheckResult, CheckStatus, Finding, Reason, Severity, Verdict
from modelsteward.reports.html import render_html
from tests.reports.admission_fixture import (
    TEMPLATE_FINDING,
    build_admission,
    documentation_result,
    integrity_result,
    license_result,
    manifest_of,
    security_result,
)
from tests.reports.evaluation_fixture import evaluation

_VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source", "track", "embed"}
_INLINE = {"code", "strong", "span", "em"}
_HIDDEN = {"style", "title"}
_SCRIPT = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Every element and attribute of a page, its visible text, and whether its tags nest properly."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.problems: list[str] = []
        self._open: list[str] = []
        self.feed(text)
        self.close()
        self.problems += [f"<{tag}> never closed" for tag in self._open]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag not in _VOID:
            self._open.append(tag)
        if tag not in _INLINE:
            self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self._open[-1] if self._open else None}>")
            return
        self._open.pop()
        if tag not in _INLINE:
            self.text.append(" ")

    def handle_data(self, data: str) -> None:
        if not _HIDDEN & set(self._open):
            self.text.append(data)


def _text(page: str) -> str:
    """The text a reader sees, whitespace collapsed, with a space where a block or cell ends."""
    return " ".join("".join(_Page(page).text).split())


def test_the_page_is_well_formed_and_fetches_nothing() -> None:
    page = _Page(render_html(build_admission()))

    assert page.problems == []
    assert not {"script", "link", "img", "iframe", "object", "embed", "base", "a"} & set(page.tags)
    assert not {name for name, _ in page.attributes} & {"src", "href", "srcset", "action", "style"}
    assert ("http-equiv", "Content-Security-Policy") in page.attributes
    assert ("content", "default-src 'none'; style-src 'unsafe-inline'") in page.attributes


def test_the_verdict_banner_and_reasons_come_before_everything_else() -> None:
    page = render_html(build_admission())
    text = _text(page)

    order = ['class="banner', 'id="reasons"', 'id="identity"', 'id="checks"', 'id="manifest"']
    assert [page.index(marker) for marker in order] == sorted(page.index(marker) for marker in order)
    assert text.startswith("REJECT acme-encoder version 3 Decided 2025-03-14T09:26:53+00:00")
    assert "max_severity.security" in text
    assert "A critical finding exceeds the highest severity allowed (medium)." in text
    assert "PICKLE-GLOBAL-DENIED in pytorch_model.bin" in text


def test_the_banner_is_coloured_by_verdict() -> None:
    for verdict in Verdict:
        page = render_html(build_admission(verdict=verdict, reasons=()))
        assert f'class="banner verdict-{verdict.value}"' in page


def test_identity_shows_source_pinned_revision_manifest_digest_and_policy() -> None:
    admission = build_admission(derived_from="base-encoder@2")

    text = _text(render_html(admission))

    assert f"Source {admission.snapshot.source}" in text
    assert f"Pinned revision {admission.snapshot.revision}" in text
    assert f"Manifest digest {admission.snapshot.manifest.digest}" in text
    assert f"Policy {admission.policy}" in text
    assert "Derived from base-encoder@2" in text
    assert "Registry version 3" in text


def test_each_check_shows_its_status_summary_and_highlights() -> None:
    manifest = manifest_of({"a": b"x"})
    admission = build_admission(
        files={"a": b"x"},
        results=(
            security_result([], incomplete=[{"path": "weights.bin", "reasons": ["zip member truncated"]}]),
            integrity_result(
                manifest, signature="unverified", path="model.sig", detail="no trust root offline"
            ),
            license_result(
                licenses=[
                    ("llama3", "README.md metadata `license`"),
                    ("llama3", "LICENSE (text fingerprint)"),
                ],
                license_class="vendor-community",
                obligations=[("user-threshold", "Over 700 million monthly active users need a licence.")],
                conflict_detail="card says llama3, LICENSE says llama3.1",
            ),
            documentation_result(missing=("evaluation", "limitations")),
        ),
    )

    text = _text(render_html(admission))

    assert "Not fully scanned" in text
    assert "weights.bin zip member truncated" in text
    assert "Upstream signature unverified model.sig: no trust root offline" in text
    assert "Class vendor-community" in text
    assert "llama3 LICENSE (text fingerprint)" in text
    assert "user-threshold Over 700 million monthly active users need a licence." in text
    assert "Conflict card says llama3, LICENSE says llama3.1" in text
    assert "evaluation missing" in text
    assert "limitations missing" in text
    assert "intended use present" in text


def test_findings_are_listed_most_severe_first_with_file_and_location() -> None:
    medium = Finding("ARCHIVE-ZIP-SLIP", Severity.MEDIUM, "A member escapes the folder.", "a.zip", "../x")
    admission = build_admission(results=(security_result([TEMPLATE_FINDING, medium]),))

    text = _text(render_html(admission))

    assert text.index("ARCHIVE-ZIP-SLIP") < text.index("TEMPLATE-SUSPICIOUS")
    assert "medium ARCHIVE-ZIP-SLIP a.zip ../x A member escapes the folder." in text


def test_a_check_without_data_and_an_unknown_check_still_render() -> None:
    broken = CheckResult(check="license", status=CheckStatus.ERROR, summary="licence table unreadable")
    future = CheckResult(
        check="performance", status=CheckStatus.WARN, data={"accuracy": 0.71, "slices": ["en"]}
    )
    admission = build_admission(results=(broken, future), reasons=())

    text = _text(render_html(admission))

    assert "license error licence table unreadable" in text
    assert 'accuracy 0.71 slices ["en"]' in text
    assert "No policy rule held the model back." in text


def test_the_manifest_is_collapsible_and_lists_every_file() -> None:
    admission = build_admission()

    page = render_html(admission)

    details = page[page.index("<details>") : page.index("</details>")]
    for entry in admission.snapshot.manifest.files:
        assert f"<code>{entry.path}</code>" in details
        assert f"<code>{entry.sha256}</code>" in details
        assert f'<td class="number">{entry.size:,}</td>' in details


def test_everything_from_the_model_is_escaped() -> None:
    hostile = Finding(
        "PICKLE-GLOBAL-DENIED", Severity.HIGH, f"message {_SCRIPT}", f"dir/{_SCRIPT}.bin", _SCRIPT
    )
    admission = build_admission(
        name=f"evil{_SCRIPT}",
        source=f"/models/{_SCRIPT}",
        revision=None,
        files={f"{_SCRIPT}.txt": b"x"},
        results=(
            security_result([hostile]),
            license_result(licenses=[(_SCRIPT, f"card {_SCRIPT}")], obligations=[(_SCRIPT, _SCRIPT)]),
            documentation_result(card=f"{_SCRIPT}.md"),
            CheckResult(
                check=f"x{_SCRIPT}", status=CheckStatus.WARN, summary=_SCRIPT, data={_SCRIPT: _SCRIPT}
            ),
        ),
        reasons=(Reason(Verdict.REJECT, "license.deny", "license", _SCRIPT, evidence=_SCRIPT),),
    )

    page = render_html(admission)

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _Page(page)
    assert "script" not in parsed.tags
    assert parsed.problems == []
    assert _SCRIPT in "".join(parsed.text)  # shown to the reviewer as text


def test_print_styles_keep_the_banner_colour_and_open_the_manifest() -> None:
    page = render_html(build_admission())

    assert "@media print" in page
    assert "print-color-adjust: exact" in page
    assert "details::details-content" in page


def test_performance_and_fairness_results_are_drawn_like_the_evaluation_page(tmp_path: Path) -> None:
    results = evaluation(tmp_path, candidate=f"acme{_SCRIPT}").check_results()
    admission = build_admission(results=(security_result([]), *results), reasons=())

    page = render_html(admission)
    text = _text(page)

    assert [r.check for r in results] == ["performance", "fairness"]
    assert "<script" not in page
    assert _Page(page).problems == []
    assert "accuracy 0.853 [0.822, 0.881] higher" in text
    assert "Latency per batch of 32 p50 3.70 ms, p95 5.55 ms" in text
    assert "By sex Four-fifths rule fails" in text
    assert "Asian 1 0.000 1.000 n/a 1.000 n/a too small to judge" in text
    assert "career-family <male, female> WEAT 1.23" in text
    assert page.count('role="img"') == 6  # metrics, latency, throughput, three groupings
    assert "<h4>Metrics</h4>" in page  # sub-sections under the check's <h3>
