"""Classification: SPDX expressions, statements that agree or conflict, and never a guess."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelsteward.checks.license import (
    Classification,
    Declaration,
    LicenseClass,
    Origin,
    classify,
    load_table,
)

WHERE = {
    Origin.CARD: "README.md metadata `license`",
    Origin.FILE: "LICENSE (text fingerprint)",
    Origin.CONFIG: "config.json `license`",
}
PATH = {Origin.CARD: "README.md", Origin.FILE: "LICENSE", Origin.CONFIG: "config.json"}


def stated(text: str, origin: Origin = Origin.CARD, problem: str = "") -> Declaration:
    return Declaration(text, WHERE[origin], origin, PATH[origin], problem=problem)


def run(*declarations: Declaration) -> Classification:
    return classify(declarations, load_table())


def obligation_ids(result: Classification) -> list[str]:
    return [o.id for o in result.obligations]


@pytest.mark.parametrize(
    ("license_id", "expected"),
    [
        ("apache-2.0", LicenseClass.PERMISSIVE),
        ("lgpl-3.0", LicenseClass.WEAK_COPYLEFT),
        ("creativeml-openrail-m", LicenseClass.RESPONSIBLE_AI),
        ("llama3.1", LicenseClass.VENDOR_COMMUNITY),
        ("gpl-3.0", LicenseClass.STRONG_COPYLEFT),
        ("cc-by-nd-4.0", LicenseClass.NO_DERIVATIVES),
        ("cc-by-nc-4.0", LicenseClass.NON_COMMERCIAL),
    ],
)
def test_one_known_licence_gives_its_class(license_id: str, expected: LicenseClass) -> None:
    result = run(stated(license_id))
    assert (result.license_class, result.known, result.conflict) == (expected, True, False)
    assert result.ids == (license_id,)
    assert result.obligations == load_table()[license_id].obligations


def test_an_or_expression_binds_by_its_least_restrictive_option_and_names_both() -> None:
    result = run(stated("GPL-3.0-only OR Apache-2.0"))
    assert result.license_class is LicenseClass.PERMISSIVE
    assert result.ids == ("gpl-3.0", "apache-2.0")
    assert [e.id for e in result.licenses] == ["apache-2.0"]
    assert obligation_ids(result) == ["notice"]


def test_an_and_expression_binds_by_its_most_restrictive_part_with_every_obligation() -> None:
    result = run(stated("MIT AND CC-BY-NC-4.0"))
    assert result.license_class is LicenseClass.NON_COMMERCIAL
    assert result.ids == ("mit", "cc-by-nc-4.0")
    assert obligation_ids(result) == ["notice", "attribution", "non-commercial"]


def test_nested_expressions_choose_inside_and_combine_outside() -> None:
    result = run(stated("(MIT OR Apache-2.0) AND llama3.2"))
    assert result.license_class is LicenseClass.VENDOR_COMMUNITY
    assert [e.id for e in result.licenses] == ["mit", "llama3.2"]
    assert "regional-exclusion" in obligation_ids(result)


def test_an_exception_is_read_as_its_base_licence() -> None:
    result = run(stated("GPL-2.0-only WITH Classpath-exception-2.0"))
    assert (result.license_class, result.ids) == (LicenseClass.STRONG_COPYLEFT, ("gpl-2.0",))


def test_an_unknown_option_of_an_or_can_be_declined() -> None:
    result = run(stated("LicenseRef-Custom OR MIT"))
    assert (result.license_class, result.known, result.unresolved) == (LicenseClass.PERMISSIVE, True, ())


def test_an_unknown_part_of_an_and_makes_the_licence_unknown() -> None:
    result = run(stated("MIT AND LicenseRef-Custom"))
    assert (result.license_class, result.known) == (LicenseClass.UNKNOWN, False)
    assert [(u.name, u.entry) for u in result.unresolved] == [("LicenseRef-Custom", None)]
    assert obligation_ids(result) == ["notice"]


@pytest.mark.parametrize(
    "text", ["MIT OR (", "my own licence", "MIT OR", "( )", "MIT OR OR GPL-3.0", "(MIT OR " * 200 + "MIT"]
)
def test_text_that_is_no_licence_nor_expression_is_unknown(text: str) -> None:
    result = run(stated(text))
    assert (result.license_class, result.known, result.ids) == (LicenseClass.UNKNOWN, False, ())
    assert [u.name for u in result.unresolved] == [text]


@pytest.mark.parametrize("name", ["other", "unknown", "cc", "NOASSERTION"])
def test_table_names_that_identify_no_licence_are_unknown(name: str) -> None:
    result = run(stated(name))
    assert (result.license_class, result.known) == (LicenseClass.UNKNOWN, False)
    assert result.unresolved[0].entry is not None


def test_no_statement_at_all_is_unknown() -> None:
    result = run()
    assert (result.license_class, result.known, result.conflict, result.ids) == (
        LicenseClass.UNKNOWN,
        False,
        False,
        (),
    )


def test_a_statement_that_cannot_be_read_makes_the_licence_unknown() -> None:
    result = run(stated("apache-2.0"), stated("unrecognised", Origin.FILE, problem="no fingerprint matches"))
    assert (result.license_class, result.known) == (LicenseClass.UNKNOWN, False)
    assert [e.id for e in result.licenses] == ["apache-2.0"]


def test_card_and_licence_file_naming_different_licences_conflict() -> None:
    result = run(stated("apache-2.0"), stated("cc-by-nc-4.0", Origin.FILE))
    assert result.conflict
    assert result.conflict_detail == (
        "README.md metadata `license` says apache-2.0, but LICENSE (text fingerprint) says cc-by-nc-4.0"
    )
    assert result.license_class is LicenseClass.NON_COMMERCIAL


def test_card_and_config_conflict_too() -> None:
    result = run(stated("mit"), stated("apache-2.0", Origin.CONFIG))
    assert result.conflict
    assert "config.json `license` says apache-2.0" in result.conflict_detail


@pytest.mark.parametrize(
    ("card", "file"),
    [
        ("Apache-2.0", "apache-2.0"),
        ("Apache License 2.0", "apache-2.0"),
        ("gpl", "gpl-3.0"),
        ("openrail", "creativeml-openrail-m"),
        ("Apache-2.0 OR MIT", "mit"),
        ("tongyi-qianwen", "tongyi-qianwen"),
    ],
)
def test_one_licence_under_different_spellings_does_not_conflict(card: str, file: str) -> None:
    result = run(stated(card), stated(file, Origin.FILE))
    assert not result.conflict
    assert result.known


def test_a_generic_id_gives_way_to_the_licence_that_refines_it() -> None:
    result = run(stated("cc"), stated("cc-by-nc-4.0", Origin.FILE))
    assert (result.license_class, result.known, result.conflict) == (LicenseClass.NON_COMMERCIAL, True, False)
    assert [e.id for e in result.licenses] == ["cc-by-nc-4.0"]
    assert result.ids == ("cc", "cc-by-nc-4.0")


def test_files_that_name_more_than_the_card_add_to_it_without_conflict() -> None:
    result = run(stated("deepseek"), stated("mit", Origin.FILE), stated("deepseek", Origin.FILE))
    assert not result.conflict
    assert result.license_class is LicenseClass.RESPONSIBLE_AI
    assert obligation_ids(result) == ["use-restrictions", "pass-down-use-restrictions", "notice", "notice"]


def test_a_list_of_licences_binds_all_of_them() -> None:
    result = run(stated("apache-2.0"), stated("llama3.3"))
    assert result.license_class is LicenseClass.VENDOR_COMMUNITY
    assert [e.id for e in result.licenses] == ["apache-2.0", "llama3.3"]


def test_an_obligation_stated_twice_is_listed_once() -> None:
    result = run(stated("cc-by-4.0"), stated("cc-by-4.0", Origin.FILE))
    assert obligation_ids(result) == ["attribution"]
    assert result.named_by["cc-by-4.0"].origin is Origin.CARD


TOKENS = ["MIT", "Apache-2.0", "llama3.2", "cc-by-4.0", "other", "cc", "x", "AND", "OR", "WITH", "(", ")"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=12).map(" ".join))
def test_any_text_classifies_without_error_and_unknown_unless_judged(text: str) -> None:
    result = run(stated(text))
    assert result.known == (result.license_class is not LicenseClass.UNKNOWN)
    assert result.known or result.unresolved
