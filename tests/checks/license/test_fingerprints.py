"""Licence texts recognised by their phrases, however wrapped, cased or marked up, and never confused."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from modelsteward.checks.license import load_table
from modelsteward.checks.license._fingerprints import (
    identify,
    load_fingerprints,
    normalise,
    parse_fingerprints,
)
from modelsteward.data import load_yaml

RAW: list[dict[str, Any]] = load_yaml("licenses/fingerprints.yaml")
ALTERNATIVES = [
    pytest.param(entry["license"], phrases, id=f"{entry['license']}-{n}")
    for entry in RAW
    for n, phrases in enumerate(entry["any"])
]
FILLER = "Copyright the authors. Read these terms before you use the model. "


def _compose(phrases: list[str], width: int, shout: bool) -> str:
    """A short text built of the phrases, re-wrapped at ``width`` and re-cased as files do."""
    sentences = [(p.upper() if shout else p.title()) + "." for p in phrases]
    body = FILLER + " ".join(f"{s} {FILLER}" for s in sentences)
    return "\n".join(textwrap.wrap(body, width=width, break_long_words=False))


@pytest.mark.parametrize(("license_id", "phrases"), ALTERNATIVES)
@pytest.mark.parametrize(("width", "shout"), [(23, False), (61, True), (1000, False)])
def test_every_fingerprint_recognises_its_licence_alone(
    license_id: str, phrases: list[str], width: int, shout: bool
) -> None:
    assert identify(_compose(phrases, width, shout), load_fingerprints()) == (license_id,)


def test_every_fingerprint_names_a_table_licence_and_each_licence_has_one() -> None:
    table = load_table()
    ids = [f.license for f in load_fingerprints()]
    assert all(i in table for i in ids)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Openings of real licence files, as they are laid out.
        ("                              Apache License\n"
         "                        Version 2.0, January 2004\n\n"
         "   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n", "apache-2.0"),
        ("MIT License\n\nCopyright (c) 2024 Someone\n\nPermission is hereby granted, free of charge, "
         "to any person obtaining a copy\nof this software ... The above copyright notice and this "
         "permission notice shall be included in all\ncopies or substantial portions of the Software.\n",
         "mit"),
        ("                    GNU GENERAL PUBLIC LICENSE\n"
         "                       Version 3, 29 June 2007\n", "gpl-3.0"),
        ("                   GNU LESSER GENERAL PUBLIC LICENSE\n"
         "                       Version 3, 29 June 2007\n\n"
         "  This version of the GNU Lesser General Public License incorporates\n"
         "the terms and conditions of version 3 of the GNU General Public\nLicense\n", "lgpl-3.0"),
        ("                    GNU AFFERO GENERAL PUBLIC LICENSE\n"
         "                       Version 3, 19 November 2007\n", "agpl-3.0"),
        ("Attribution-NonCommercial-ShareAlike 4.0 International\n\n=================================\n"
         "\nCreative Commons Corporation (\"Creative Commons\") is not a law firm\n", "cc-by-nc-sa-4.0"),
        ("Attribution-NonCommercial 4.0 International\n\n===========\n", "cc-by-nc-4.0"),
        ("Attribution 4.0 International\n\n===========\n", "cc-by-4.0"),
        ("LLAMA 2 COMMUNITY LICENSE AGREEMENT\t\nLlama 2 Version Release Date: July 18, 2023\n\n"
         "a. Grant of Rights. You are granted a non-exclusive, worldwide, non-\n"
         "transferable and royalty-free limited license\n", "llama2"),
        ("META LLAMA 3 COMMUNITY LICENSE AGREEMENT\n\nMeta Llama 3 Version Release Date: April 18, 2024\n",
         "llama3"),
        (" LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\n\n Llama 3.1 Version Release Date: July 23, 2024\n",
         "llama3.1"),
        ("LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\n\nLlama 3.2 Version Release Date: September 25, 2024\n",
         "llama3.2"),
        ("**LLAMA 3.3 COMMUNITY LICENSE AGREEMENT**\n\n Llama 3.3 Version Release Date: December 6, 2024\n",
         "llama3.3"),
        ("LLAMA 4 COMMUNITY LICENSE AGREEMENT\n\nLlama 4 Version Effective Date: April 5, 2025\n", "llama4"),
        ("**Llama 3.2** **Acceptable Use Policy**\n\nMeta is committed to promoting safe and fair use of "
         "its tools and features, including Llama 3.2.\n", "llama3.2"),
        ("Gemma is provided under and subject to the Gemma Terms of Use found at the Gemma site.\n",
         "gemma"),
        ("Tongyi Qianwen LICENSE AGREEMENT\n\nTongyi Qianwen Release Date: August 3, 2023\n",
         "tongyi-qianwen"),
        ("Qwen LICENSE AGREEMENT\n\nQwen LICENSE AGREEMENT Release Date: September 19, 2024\n", "qwen"),
        ("Qwen RESEARCH LICENSE AGREEMENT\n\nQwen RESEARCH LICENSE AGREEMENT Release Date: September 19, "
         "2024\n", "qwen-research"),
        ("CreativeML Open RAIL-M\ndated August 22, 2022\n\nSection I: PREAMBLE\n", "creativeml-openrail-m"),
        ("CreativeML Open RAIL++-M License\ndated July 26, 2023\n", "openrail++"),
        ("BigScience RAIL License v1.0\ndated May 19, 2022\n", "bigscience-bloom-rail-1.0"),
        ("Boost Software License - Version 1.0 - August 17th, 2003\n", "bsl-1.0"),
        ("Boost Software License \u2013 Version 1.0 \u2013 August 17th, 2003\n", "bsl-1.0"),
    ],
)  # fmt: skip
def test_openings_of_real_licence_files_are_recognised(text: str, expected: str) -> None:
    assert identify(text, load_fingerprints()) == (expected,)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Llama 3.1 Version Release Date: July 23, 2024", "llama3"),
        ("LLAMA 3.2 COMMUNITY LICENSE AGREEMENT", "llama3"),
        ("Attribution-NonCommercial-ShareAlike 4.0 International", "cc-by-nc-4.0"),
        ("Attribution-NonCommercial-ShareAlike 4.0 International", "cc-by-4.0"),
        ("GNU LESSER GENERAL PUBLIC LICENSE Version 3, 29 June 2007", "gpl-3.0"),
        ("Tongyi Qianwen RESEARCH LICENSE AGREEMENT", "tongyi-qianwen"),
        ("Qwen RESEARCH LICENSE AGREEMENT", "qwen"),
        ("CreativeML Open RAIL++-M License", "creativeml-openrail-m"),
        (
            "BigScience Open RAIL-M License, based on the BigScience RAIL License v1.0",
            "bigscience-bloom-rail-1.0",
        ),
    ],
)
def test_close_relatives_are_told_apart(text: str, absent: str) -> None:
    assert absent not in identify(text, load_fingerprints())


def test_phrases_match_whole_words_and_whole_version_numbers() -> None:
    fingerprints = parse_fingerprints(
        [{"license": "mit", "any": [["mit license"]]}, {"license": "llama3", "any": [["llama 3"]]}],
        load_table(),
    )
    assert identify("The MIT License.", fingerprints) == ("mit",)
    assert identify("a permit license", fingerprints) == ()
    assert identify("Llama 3. Llama 3 is", fingerprints) == ("llama3",)
    assert identify("Llama 3.1 and Llama 30", fingerprints) == ()


def test_bsd_variants_are_told_apart_by_their_clauses() -> None:
    two = (
        "Redistribution and use in source and binary forms, with or without modification, are permitted "
        "provided that the following conditions are met: 1. Redistributions of source code must retain the "
        "above copyright notice."
    )
    three = (
        two + " 3. Neither the name of the copyright holder may be used to endorse or promote products "
        "derived from this software without specific prior written permission."
    )
    clear = (
        three
        + " NO EXPRESS OR IMPLIED LICENSES TO ANY PARTY\u2019S PATENT RIGHTS ARE GRANTED BY THIS LICENSE."
    )
    four = three + " 3. All advertising materials mentioning features or use of this software must display"
    fingerprints = load_fingerprints()
    assert identify(two, fingerprints) == ("bsd-2-clause",)
    assert identify(three, fingerprints) == ("bsd-3-clause",)
    assert identify(clear, fingerprints) == ("bsd-3-clause-clear",)
    assert identify(four, fingerprints) == ()


def test_a_file_holding_two_licences_names_both() -> None:
    text = (
        "Apache License\nVersion 2.0, January 2004\n...\n\nMIT License\nPermission is hereby granted, free "
        "of charge, to any person obtaining a copy ... The above copyright notice and this permission notice "
        "shall be included in all copies"
    )
    assert set(identify(text, load_fingerprints())) == {"apache-2.0", "mit"}


def test_texts_of_no_known_licence_match_nothing() -> None:
    fingerprints = load_fingerprints()
    assert identify("All rights reserved. Internal use only.", fingerprints) == ()
    assert identify("", fingerprints) == ()


def test_normalise_folds_case_quotes_dashes_markup_and_wrapping() -> None:
    assert (
        normalise("**Don\u2019t** \u201cTHIS\u201d\n  non-\n transferable \u2014 x")
        == 'don\'t "this" non-transferable -x'
    )
    assert normalise("# Title\r\n\r\n`code` > quote | cell \\_x") == "title code quote cell x"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "expected a list"),
        ([{"license": "no-such-licence", "any": [["x"]]}], "not an id of the licence table"),
        ([{"license": "mit", "any": []}], "non-empty list of phrase lists"),
        ([{"license": "mit", "any": [[]]}], "at least one phrase"),
        ([{"license": "mit", "any": [["  "]]}], "non-empty strings"),
        ([{"license": "mit", "any": [["x"]], "also": 1}], "expected `license`, `any`"),
        (
            [{"license": "mit", "any": [["x"]]}, {"license": "mit", "any": [["y"]]}],
            "more than one fingerprint",
        ),
    ],
)
def test_malformed_fingerprints_are_refused_naming_the_problem(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"licenses/fingerprints\.yaml") as error:
        parse_fingerprints(raw, load_table())
    assert message in str(error.value)
