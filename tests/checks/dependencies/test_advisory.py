"""OSV records: real advisories parse and match as published; the spec's event rules; severity; aliases."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from modelsteward.checks.dependencies._advisory import (
    Advisory,
    AdvisoryError,
    Affected,
    Interval,
    merge_aliases,
    parse_osv,
)
from modelsteward.core import Component, Origin, Severity, Vulnerability

OSV = Path(__file__).parent / "osv"
FIXTURES = sorted(OSV.glob("*.json"))


def real(ident: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((OSV / f"{ident}.json").read_text(encoding="utf-8"))
    return record


def parsed(ident: str) -> Advisory:
    return parse_osv(real(ident))


def package(ident: str, name: str) -> Affected:
    found = parsed(ident).affected_by_name(name)
    assert found is not None
    return found


def synthetic(
    *ranges: list[dict[str, str]], versions: tuple[str, ...] = (), kind: str = "ECOSYSTEM"
) -> Affected:
    """One PyPI package ``demo`` affected by ``ranges`` of events and the listed ``versions``."""
    record = {
        "id": "TEST-1",
        "modified": "2025-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [{"type": kind, "events": events} for events in ranges],
                "versions": list(versions),
            }
        ],
    }
    advisory = parse_osv(record)
    stored = Advisory.from_json(json.loads(json.dumps(advisory.to_json())))
    assert stored == advisory
    found = stored.affected_by_name("demo")
    assert found is not None
    return found


def strings_only(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and strings_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(strings_only(item) for item in value)
    return isinstance(value, str)


def test_the_fixtures_are_the_records_the_readme_lists() -> None:
    listed = (OSV / "README.md").read_text(encoding="utf-8")
    assert len(FIXTURES) >= 15
    for path in FIXTURES:
        assert f"`{path.stem}`" in listed, path.name


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.stem)
def test_every_fixture_parses_and_its_compact_form_round_trips(path: Path) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    advisory = parse_osv(record, where=path.name)
    assert advisory.id == record["id"] == path.stem
    assert advisory.modified.tzinfo is not None
    assert advisory.affected, "every fixture affects a PyPI package"
    assert advisory.summary and "\n" not in advisory.summary
    compact = advisory.to_json()
    assert strings_only(compact)
    assert Advisory.from_json(json.loads(json.dumps(compact))) == advisory


# -- real advisories, versions either side of their published bounds ---------------------------------


@pytest.mark.parametrize(
    ("ident", "name", "affected", "unaffected"),
    [
        # torch.load(weights_only=True) RCE, CVE-2025-32434: fixed in 2.6.0, in both databases.
        (
            "PYSEC-2025-41",
            "torch",
            ["1.0.0", "2.5.1", "2.5.1+cu121", "2.6.0rc1"],
            ["2.6.0", "2.6.0+cu124", "2.7.1"],
        ),
        ("GHSA-53q9-r3pm-6pq6", "torch", ["2.4.0", "2.5.1", "2.6.0.dev20241112"], ["2.6.0", "2.8.0"]),
        ("PYSEC-2024-259", "torch", ["2.4.1", "1.13.1"], ["2.5.0", "2.5.1"]),
        ("PYSEC-2024-250", "torch", ["2.1.2", "2.0.0"], ["2.2.0", "2.3.0"]),
        ("PYSEC-2022-43015", "torch", ["1.13.0", "1.0.1.post2", "1.3.0.post2"], ["1.13.1", "2.0.0"]),
        # transformers deserialization: CVE-2024-3568 (< 4.38.0), CVE-2023-6730 and CVE-2023-7018 (< 4.36.0).
        ("GHSA-37q5-v5qm-c9v8", "transformers", ["4.37.2", "4.36.0"], ["4.38.0", "4.38.1"]),
        ("GHSA-3863-2447-669p", "transformers", ["4.35.2", "2.0.0"], ["4.36.0", "4.40.0"]),
        ("GHSA-v68g-wm8c-6x7j", "transformers", ["4.35.2"], ["4.36.0"]),
        # requests: introduced 2.3.0 is inclusive, what came before is not affected.
        ("GHSA-j8r2-6x86-q33q", "requests", ["2.3.0", "2.30.0"], ["2.2.1", "2.31.0"]),
        ("GHSA-9wx4-h78v-vm56", "requests", ["2.32.1", "2.31.0"], ["2.32.2", "2.32.3"]),
        ("GHSA-3f63-hfp8-52jq", "Pillow", ["10.1.0", "9.5.0"], ["10.2.0", "11.0.0"]),
        ("GHSA-44wm-f244-xhp3", "pillow", ["10.2.0"], ["10.3.0"]),
        # numpy: the two databases disagree on the fix of CVE-2021-33430 (1.10.0 and 1.21, which is 1.21.0).
        ("PYSEC-2021-854", "numpy", ["1.9.0", "1.9.3"], ["1.8.2", "1.10.0"]),
        ("GHSA-6p56-wp2h-9hxr", "numpy", ["1.9.0", "1.20.3"], ["1.8.0", "1.21", "1.21.0"]),
        # last_affected is itself affected; the version after it is not.
        ("PYSEC-2022-42969", "py", ["1.11.0", "0.8.0a2", "1.4.7.dev3"], ["1.11.1", "2.0"]),
        ("GHSA-xh9h-692f-mmg4", "knack", ["0.12.0", "0.1.0"], ["0.12.1", "0.13.0"]),
        # A versions list and nothing else: exact versions, PEP 440 equal ones too.
        ("MAL-2024-4720", "1337test", ["1", "1.0"], ["2", "0.9", "1.0.1"]),
    ],
)
def test_real_advisories_affect_the_versions_they_name(
    ident: str, name: str, affected: list[str], unaffected: list[str]
) -> None:
    entry = package(ident, name)
    assert [v for v in affected if not entry.affects(Version(v))] == []
    assert [v for v in unaffected if entry.affects(Version(v))] == []


def test_django_lists_the_package_three_times_and_the_advisory_joins_them() -> None:
    advisory = parsed("GHSA-jh3w-4vvf-mjgr")
    assert [entry.name for entry in advisory.affected] == ["django"]
    django = advisory.affected[0]
    assert [str(i) for i in django.intervals] == ["[3.2.0,3.2.20)", "[4.0.0,4.1.10)", "[4.2.0,4.2.3)"]
    assert django.fixed == ("3.2.20", "4.1.10", "4.2.3")
    affected = ["3.2.0", "3.2.19", "4.0.0", "4.1.9", "4.2.0", "4.2.2"]
    unaffected = ["3.1.14", "3.2.20", "4.1.10", "4.1.11", "4.2.3", "5.0"]
    assert [v for v in affected if not django.affects(v)] == []
    assert [v for v in unaffected if django.affects(v)] == []


def test_git_ranges_name_commits_and_are_left_out() -> None:
    torch = package("PYSEC-2024-250", "torch")
    assert [str(i) for i in torch.intervals] == ["[0,2.2.0)"]
    assert torch.fixed == ("2.2.0",)  # the fix commit 7c35874a… is no version


def test_listed_versions_the_ranges_hold_are_not_kept_twice() -> None:
    record = real("PYSEC-2025-41")
    assert len(record["affected"][0]["versions"]) == 38
    assert package("PYSEC-2025-41", "torch").versions == ()


def test_package_names_are_canonical_and_looked_up_in_any_spelling() -> None:
    advisory = parsed("GHSA-3f63-hfp8-52jq")  # the record says "Pillow"
    assert advisory.affected[0].name == "pillow"
    assert advisory.affected_by_name("PILLOW") is advisory.affected[0]
    assert advisory.affected_by_name("torch") is None


def test_other_ecosystems_are_left_out() -> None:
    record = real("GHSA-3863-2447-669p")
    record["affected"].insert(
        0, {"package": {"ecosystem": "npm", "name": "transformers"}, "ranges": "not read"}
    )
    record["affected"].append(
        {"ranges": [{"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}]}]}
    )
    assert [entry.name for entry in parse_osv(record).affected] == ["transformers"]


def test_the_record_fields() -> None:
    pysec = parsed("PYSEC-2025-41")
    assert pysec.aliases == ("CVE-2025-32434", "GHSA-53q9-r3pm-6pq6")
    assert pysec.ids == ("PYSEC-2025-41", "CVE-2025-32434", "GHSA-53q9-r3pm-6pq6")
    assert pysec.modified == datetime(2025, 5, 28, 15, 23, 37, 843138, tzinfo=UTC)
    assert pysec.published == datetime(2025, 4, 18, 16, 15, 23, tzinfo=UTC)
    assert pysec.withdrawn is None
    assert pysec.summary.startswith("PyTorch is a Python package")  # no summary: the first line of details
    assert pysec.references == ("https://github.com/pytorch/pytorch/security/advisories/GHSA-53q9-r3pm-6pq6",)
    assert len(parsed("PYSEC-2022-43015").references) == 2  # the same issue URL three times is kept once
    knack = parsed("GHSA-xh9h-692f-mmg4")
    assert knack.withdrawn == datetime(2025, 8, 29, 20, 14, 37, tzinfo=UTC)
    assert knack.summary.startswith("Withdrawn Advisory")


# -- the spec's events, one rule at a time ------------------------------------------------------------


def test_introduced_is_included_and_fixed_is_not() -> None:
    demo = synthetic([{"introduced": "1.0"}, {"fixed": "1.2"}])
    assert [demo.affects(v) for v in ("0.9", "1.0", "1.1.9", "1.2", "1.3")] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert demo.fixed == ("1.2",)


def test_last_affected_is_included() -> None:
    demo = synthetic([{"introduced": "1.0"}, {"last_affected": "1.2"}])
    assert [demo.affects(v) for v in ("1.2", "1.2.post1", "1.2.1")] == [True, False, False]
    assert demo.fixed == ()


def test_introduced_zero_is_every_version_even_the_earliest_prerelease() -> None:
    demo = synthetic([{"introduced": "0"}])
    assert all(demo.affects(v) for v in ("0.0.0.dev0", "0a1", "0", "99.0"))


def test_limit_caps_the_range_and_star_is_no_cap() -> None:
    assert [
        synthetic([{"introduced": "1.0"}, {"limit": "2.0"}]).affects(v) for v in ("1.5", "2.0", "2.1")
    ] == [
        True,
        False,
        False,
    ]
    assert synthetic([{"introduced": "1.0"}, {"limit": "*"}]).affects("9.0")
    # Below any one limit is below the limits.
    two = synthetic([{"introduced": "1.0"}, {"limit": "2.0"}, {"limit": "3.0"}])
    assert two.affects("2.5") and not two.affects("3.0")
    # A limit below the end of a run cuts it; one below its start drops it.
    cut = synthetic(
        [{"introduced": "1.0"}, {"last_affected": "2.0"}, {"introduced": "5.0"}, {"limit": "1.5"}]
    )
    assert [str(i) for i in cut.intervals] == ["[1.0,1.5)"]


def test_events_are_read_in_version_order_not_record_order() -> None:
    demo = synthetic([{"fixed": "2.0"}, {"introduced": "3.0"}, {"introduced": "1.0"}, {"fixed": "4.0"}])
    assert [demo.affects(v) for v in ("1.0", "2.0", "3.0", "4.0")] == [True, False, True, False]


def test_several_ranges_and_the_versions_list_combine_with_or() -> None:
    demo = synthetic(
        [{"introduced": "1.0"}, {"fixed": "1.1"}],
        [{"introduced": "2.0"}, {"fixed": "2.1"}],
        versions=("0.5",),
    )
    assert [demo.affects(v) for v in ("0.5", "0.6", "1.0", "1.5", "2.0", "2.1")] == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]


def test_prereleases_order_before_their_release() -> None:
    demo = synthetic([{"introduced": "2.0.0b1"}, {"fixed": "2.0.0rc2"}])
    got = [demo.affects(v) for v in ("2.0.0a1", "2.0.0b1", "2.0.0rc1", "2.0.0rc2", "2.0.0")]
    assert got == [False, True, True, False, False]


def test_semver_ranges_are_ordered_by_pep_440() -> None:
    demo = synthetic([{"introduced": "1.0.0-alpha.1"}, {"fixed": "1.0.0-rc.1"}], kind="SEMVER")
    assert demo.affects("1.0.0a2") and not demo.affects("1.0.0rc1") and not demo.affects("0.9")


def test_versions_that_are_not_pep_440_never_narrow_what_is_reported() -> None:
    # A listed version that is not PEP 440 matches the same string only.
    listed = synthetic(versions=("2.0-custom-build", "1.0"))
    assert listed.affects("2.0-custom-build") and not listed.affects("2.0") and listed.affects("1.0.0")
    # An end that cannot be ordered is dropped: the range stays open.
    assert synthetic([{"introduced": "1.0"}, {"fixed": "next release"}]).affects("7.0")
    assert synthetic([{"introduced": "1.0"}, {"limit": "??"}]).affects("7.0")
    # A start that cannot be ordered counts from the first version.
    assert synthetic([{"introduced": "the beginning"}, {"fixed": "2.0"}]).affects("0.1")


def test_an_interval_round_trips_through_its_notation() -> None:
    for interval in (
        Interval(),
        Interval("1.0", "2.0"),
        Interval("0", "1.2", end_included=True),
        Interval("3.0"),
    ):
        assert Interval.parse(str(interval)) == interval


# -- severity -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ident", "severity", "basis"),
    [
        ("GHSA-3863-2447-669p", Severity.CRITICAL, "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:H"),  # 9.0
        ("GHSA-v68g-wm8c-6x7j", Severity.HIGH, "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"),  # 7.8
        ("GHSA-j8r2-6x86-q33q", Severity.MEDIUM, "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"),  # 6.1
        ("GHSA-6p56-wp2h-9hxr", Severity.MEDIUM, "CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H"),  # 5.3
        (
            "GHSA-53q9-r3pm-6pq6",
            Severity.CRITICAL,
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        ),
        # CVSS 4.0 with E:U (unreported exploit) scores 1.2.
        (
            "GHSA-xh9h-692f-mmg4",
            Severity.LOW,
            "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N/E:U",
        ),
        # v3 6.7 (medium) and v4 7.3 (high): the higher one.
        (
            "GHSA-44wm-f244-xhp3",
            Severity.HIGH,
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        ),
        # No vector: GitHub's rating.
        ("GHSA-37q5-v5qm-c9v8", Severity.LOW, "GHSA rating LOW"),
        ("PYSEC-2022-42969", None, ""),
        ("MAL-2024-4720", None, ""),
    ],
)
def test_severity_comes_from_the_cvss_vector_else_the_database_rating(
    ident: str, severity: Severity | None, basis: str
) -> None:
    advisory = parsed(ident)
    assert (advisory.severity, advisory.severity_basis) == (severity, basis)


def test_a_zero_score_is_info() -> None:
    record = real("GHSA-3863-2447-669p")
    record["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"}]
    assert parse_osv(record).severity is Severity.INFO


def test_a_malformed_vector_falls_back_to_the_rating_then_to_none() -> None:
    record = real("GHSA-3863-2447-669p")  # rated CRITICAL by GitHub
    record["severity"] = [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L"},
        {"type": "CVSS_V4", "score": "junk"},
    ]
    assert (parse_osv(record).severity, parse_osv(record).severity_basis) == (
        Severity.CRITICAL,
        "GHSA rating CRITICAL",
    )
    del record["database_specific"]
    assert parse_osv(record).severity is None


def test_a_package_level_severity_counts() -> None:
    record = real("GHSA-37q5-v5qm-c9v8")
    del record["severity"]
    record["affected"][0]["severity"] = [
        {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
    ]
    assert parse_osv(record).severity is Severity.CRITICAL


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(["CVSS:3.1/", "CVSS:3.0/", "CVSS:4.0/", ""]), rest=st.text(max_size=80))
def test_no_vector_crashes_the_parse(prefix: str, rest: str) -> None:
    record = {"id": "X-1", "modified": "2025-01-01T00:00:00Z"}
    record["severity"] = [{"type": t, "score": prefix + rest} for t in ("CVSS_V3", "CVSS_V4")]  # type: ignore[assignment]
    assert parse_osv(record).id == "X-1"


# -- broken records: one clear error per kind ---------------------------------------------------------


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(record: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = record
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (_set("modified", _DELETE), "modified", "missing"),
        (_set("modified", "yesterday"), "modified", "RFC 3339"),
        (_set("withdrawn", 20250101), "withdrawn", "expected a string"),
        (_set("aliases", "CVE-2025-32434"), "aliases", "expected a list"),
        (_set("aliases", [None]), "aliases[0]", "expected a string"),
        (_set("affected", {"package": "torch"}), "affected", "expected a list"),
        (_set("affected.0", "torch"), "affected[0]", "expected an object"),
        (_set("affected.0.package.name", _DELETE), "affected[0].package.name", "expected a string"),
        (
            _set("affected.0.package.name", "torch-" + "x" * 195),
            "affected[0].package.name",
            "201 characters, more than the 200 recorded ('torch-xxx",
        ),
        (_set("affected.0.ranges.0.type", _DELETE), "affected[0].ranges[0].type", "expected a string"),
        (_set("affected.0.ranges.0.events", _DELETE), "affected[0].ranges[0].events", "missing"),
        (
            _set("affected.0.ranges.0.events.0", {"introduced": "0", "fixed": "1"}),
            "affected[0].ranges[0].events[0]",
            "exactly one of introduced, fixed, last_affected, limit",
        ),
        (
            _set("affected.0.ranges.0.events.1", {"patched": "2.6.0"}),
            "affected[0].ranges[0].events[1]",
            "exactly one",
        ),
        (
            _set("affected.0.ranges.0.events.1.fixed", 2.6),
            "affected[0].ranges[0].events[1].fixed",
            "expected a string",
        ),
        (
            _set("affected.0.ranges.0.events.0", {"fixed": "1.0"}),
            "affected[0].ranges[0].events",
            "no introduced",
        ),
        (
            _set("affected.0.ranges.0.events.2", {"last_affected": "2.7"}),
            "affected[0].ranges[0].events",
            "both fixed",
        ),
        (_set("affected.0.versions", [2.5]), "affected[0].versions[0]", "expected a string"),
        (_set("severity.0", {"type": "CVSS_V4"}), "severity[0].score", "expected a string"),
        (_set("references.0", {"type": "WEB"}), "references[0].url", "expected a string"),
        (_set("database_specific", ["CRITICAL"]), "database_specific", "expected an object"),
    ],
)
def test_a_broken_record_names_the_record_the_field_and_what_was_expected(
    change: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    record = copy.deepcopy(real("GHSA-53q9-r3pm-6pq6"))
    record["affected"][0]["ranges"][0]["events"].append({"limit": "*"})
    change(record)
    with pytest.raises(AdvisoryError) as caught:
        parse_osv(record, where="osv/GHSA-53q9-r3pm-6pq6.json")
    assert (caught.value.record, caught.value.field) == (
        "osv/GHSA-53q9-r3pm-6pq6.json (GHSA-53q9-r3pm-6pq6)",
        field,
    )
    assert str(caught.value).startswith(f"osv/GHSA-53q9-r3pm-6pq6.json (GHSA-53q9-r3pm-6pq6): {field}: ")
    assert words in str(caught.value)


def test_a_record_without_an_id_is_named_by_where_it_was_read() -> None:
    with pytest.raises(
        AdvisoryError, match=r"^all.zip:GHSA-x.json: id: expected the record's id, got nothing$"
    ):
        parse_osv({"modified": "2025-01-01T00:00:00Z"}, where="all.zip:GHSA-x.json")
    with pytest.raises(AdvisoryError, match="an OSV record is a JSON object, got list"):
        parse_osv([1, 2], where="x.json")  # type: ignore[arg-type]


def test_an_id_too_long_to_record_is_refused_naming_where_not_the_whole_id() -> None:
    record = {"id": "GHSA-" + "x" * 96, "modified": "2025-01-01T00:00:00Z"}
    assert parse_osv({**record, "id": "GHSA-" + "x" * 95}).id == "GHSA-" + "x" * 95  # 100: recorded
    with pytest.raises(AdvisoryError) as caught:
        parse_osv(record, where="all.zip:x.json")
    assert (caught.value.record, caught.value.field) == ("all.zip:x.json", "id")
    assert str(caught.value) == (
        "all.zip:x.json: id: 101 characters, more than the 100 recorded ('GHSA-" + "x" * 35 + "'…); "
        "no advisory database writes ids that long"
    )


def test_aliases_and_versions_too_long_to_record_are_dropped_and_never_narrow_a_range() -> None:
    long_version = "2." + "0." * 49 + "0"  # valid PEP 440, 101 characters
    record = {
        "id": "TEST-1",
        "modified": "2025-01-01T00:00:00Z",
        "aliases": ["CVE-2025-1", "GHSA-" + "y" * 96, "PYSEC-" + "z" * 94],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": long_version}, {"fixed": "3.0"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "5.0"}, {"fixed": long_version}]},
                ],
                "versions": ["4.0-custom", "4" * 101],
            }
        ],
    }

    advisory = parse_osv(record)

    assert advisory.aliases == ("CVE-2025-1", "PYSEC-" + "z" * 94)
    demo = advisory.affected[0]
    assert demo.intervals == (Interval("0", "3.0"), Interval("5.0"))  # from the start; left open
    assert (demo.versions, demo.fixed) == (("4.0-custom",), ("3.0",))
    assert demo.affects("1.0") and demo.affects("9.0") and not demo.affects("4.0")


def test_a_time_without_a_zone_is_utc() -> None:
    record = {"id": "X-1", "modified": "2025-01-01T10:00:00"}
    assert parse_osv(record).modified == datetime(2025, 1, 1, 10, tzinfo=UTC)


# -- records of one issue -----------------------------------------------------------------------------

TORCH = Component(name="torch", origin=Origin.ENVIRONMENT, version="2.5.1")
NUMPY = Component(name="numpy", origin=Origin.REQUIREMENT, version="1.9.3")


def matched(component: Component, *idents: str) -> list[Vulnerability]:
    found = []
    for ident in idents:
        advisory = parsed(ident)
        entry = advisory.affected_by_name(component.name)
        assert entry is not None and component.version is not None and entry.affects(component.version)
        summary, severity = advisory.summary, advisory.severity
        found.append(Vulnerability(component, advisory.id, advisory.aliases, summary, severity, entry.fixed))
    return found


def test_a_pysec_and_a_ghsa_record_of_one_cve_are_reported_once_under_the_ghsa_id() -> None:
    (merged,) = merge_aliases(matched(TORCH, "PYSEC-2025-41", "GHSA-53q9-r3pm-6pq6"))
    assert merged.advisory == "GHSA-53q9-r3pm-6pq6"
    assert merged.aliases == ("CVE-2025-32434", "PYSEC-2025-41")
    assert merged.summary.startswith("PyTorch: `torch.load` with `weights_only=True`")
    assert (merged.severity, merged.fixed, merged.component) == (Severity.CRITICAL, ("2.6.0",), TORCH)


def test_merged_records_keep_every_fix_lowest_first_and_the_highest_severity() -> None:
    pysec, ghsa = matched(NUMPY, "PYSEC-2021-854", "GHSA-6p56-wp2h-9hxr")
    assert pysec.severity is None and ghsa.severity is Severity.MEDIUM
    (merged,) = merge_aliases([ghsa, pysec])
    assert (merged.advisory, merged.fixed, merged.severity) == (
        "GHSA-6p56-wp2h-9hxr",
        ("1.10.0", "1.21"),
        Severity.MEDIUM,
    )


def test_aliases_join_through_a_shared_id_and_unrelated_records_stay_apart_in_order() -> None:
    def v(
        ident: str, *aliases: str, component: Component = TORCH, severity: Severity | None = None
    ) -> Vulnerability:
        return Vulnerability(
            component, ident, aliases, f"summary of {ident}", severity, ("3.0", "2.10", "2.9")
        )

    found = merge_aliases(
        [
            v("PYSEC-2024-1", "CVE-2024-1"),
            v("OSV-2024-7"),
            v("GHSA-bbbb-bbbb-bbbb", "CVE-2024-2", severity=Severity.LOW),
            v("GHSA-aaaa-aaaa-aaaa", "CVE-2024-1", "CVE-2024-2", severity=Severity.HIGH),
            v("PYSEC-2024-1", "CVE-2024-1", component=NUMPY),
        ]
    )
    assert [(x.advisory, x.component.name) for x in found] == [
        ("GHSA-aaaa-aaaa-aaaa", "torch"),
        ("OSV-2024-7", "torch"),
        ("PYSEC-2024-1", "numpy"),
    ]
    first = found[0]
    assert first.aliases == ("CVE-2024-1", "CVE-2024-2", "GHSA-bbbb-bbbb-bbbb", "PYSEC-2024-1")
    assert (first.severity, first.fixed) == (Severity.HIGH, ("2.9", "2.10", "3.0"))
    assert merge_aliases([]) == ()


# -- the spec's evaluation as written, against the intervals ------------------------------------------

UNIVERSE = ["0.9", "1.0a1", "1.0", "1.0.1", "1.1", "2.0rc1", "2.0", "2.1", "3.0"]
PROBES = [Version(v) for v in [*UNIVERSE, "0.1", "1.0.0.post1", "1.5", "2.0.1", "9.0", "0.0.0.dev0"]]
EVENT = st.tuples(
    st.sampled_from(["introduced", "fixed", "last_affected"]), st.sampled_from(["0", *UNIVERSE])
)
RANGE = st.tuples(
    st.lists(EVENT, min_size=1, max_size=6, unique_by=lambda event: event[1]),
    st.lists(st.sampled_from(["*", *UNIVERSE]), max_size=2),
)


def _order(event: tuple[str, str]) -> tuple[int, Version]:
    return (0, Version("0")) if event[1] == "0" else (1, Version(event[1]))


def reference(v: Version, ranges: list[tuple[list[tuple[str, str]], list[str]]], listed: list[str]) -> bool:
    """``IsVulnerable`` of the OSV schema's evaluation section, line for line."""
    if any(v == Version(version) for version in listed):
        return True
    for events, limits in ranges:
        if limits and not any(limit == "*" or v < Version(limit) for limit in limits):
            continue
        vulnerable = False
        for kind, text in sorted(events, key=_order):
            if kind == "introduced" and (text == "0" or v >= Version(text)):
                vulnerable = True
            elif kind == "fixed" and v >= Version(text):  # noqa: SIM114 (the spec's branches, kept apart)
                vulnerable = False
            elif kind == "last_affected" and v > Version(text):
                vulnerable = False
        if vulnerable:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(ranges=st.lists(RANGE, min_size=1, max_size=3), listed=st.lists(st.sampled_from(UNIVERSE), max_size=3))
def test_affects_agrees_with_the_spec_evaluation(
    ranges: list[tuple[list[tuple[str, str]], list[str]]], listed: list[str]
) -> None:
    valid = [
        (events, limits)
        for events, limits in ranges
        if any(kind == "introduced" for kind, _ in events)
        and not {"fixed", "last_affected"} <= {k for k, _ in events}
    ]
    if not valid:
        return
    demo = synthetic(
        *[
            [{kind: text} for kind, text in events] + [{"limit": limit} for limit in limits]
            for events, limits in valid
        ],
        versions=tuple(listed),
    )
    for probe in PROBES:
        assert demo.affects(probe) is reference(probe, valid, listed), (probe, valid, listed, demo)
