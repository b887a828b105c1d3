"""Model cards: split the way the Hub's client library splits them, every metadata error at its line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from huggingface_hub.repocard import REGEX_YAML_BLOCK

from modelsteward.formats.model_card import CardError, parse_card

# Cards on which the Hub's pattern finds a block, and some on which it finds none.
SPLIT_LIKE_THE_HUB = [
    "---\nlicense: mit\n---\n# Model\n",
    "---\r\nlicense: mit\r\n---\r\nbody\r\n",
    "---\rlicense: mit\r---\nbody",
    "\n\n  ---\nlicense: mit\n---  \nbody",
    "---\nlicense: mit\n---",
    "---\nlicense: mit\n--- \t\n\n# Model\n---\nlater: rule\n---\n",
    "---\n\n---\nbody",
    "---\n---\nnot: metadata\n---\nbody",
    "no metadata\n---\nx: 1\n---\n",
    "--- \nlicense: mit\n---\n",
    "----\nlicense: mit\n----\n",
    "---\nlicense: mit\n  ---\nbody",
    "",
    "# Model\n",
]


@pytest.mark.parametrize("text", SPLIT_LIKE_THE_HUB)
def test_the_split_is_the_hubs(text: str) -> None:
    match = REGEX_YAML_BLOCK.search(text)
    try:
        card = parse_card(text)
    except CardError as error:
        # The Hub reads an opened but unclosed block as Markdown; we refuse to guess.
        assert match is None
        assert error.reason == "the metadata block opened by `---` is never closed"
        assert error.card.body == text
        return
    if match is None:
        assert (card.front_matter, card.body, card.body_line) == (None, text, 1)
    else:
        assert card.front_matter == match.group(2)
        assert card.body == text[match.end() :]


def test_metadata_body_and_the_line_the_body_starts_on() -> None:
    card = parse_card("\n\n---\r\nlicense: mit\r\ntags: [a, b]\r\n---\r\n\r\n# Model\r\n")

    assert card.metadata == {"license": "mit", "tags": ["a", "b"]}
    assert card.front_matter == "license: mit\r\ntags: [a, b]"
    assert card.body == "\r\n# Model\r\n"
    assert card.body_line == 7
    assert card.body.splitlines().index("# Model") + card.body_line == 8


@pytest.mark.parametrize(
    ("text", "front_matter", "body"),
    [
        ("# Model\n", None, "# Model\n"),
        ("---\n---\nbody", "", "body"),
        ("---\n# only a comment\n---\nbody", "# only a comment", "body"),
    ],
)
def test_no_metadata_is_an_empty_mapping(text: str, front_matter: str | None, body: str) -> None:
    card = parse_card(text)
    assert (card.metadata, card.front_matter, card.body) == ({}, front_matter, body)


def test_a_byte_order_mark_is_not_part_of_the_card() -> None:
    card = parse_card("\ufeff---\nlicense: mit\n---\n# Model\n")
    assert (card.metadata, card.body) == ({"license": "mit"}, "# Model\n")
    assert parse_card("\ufeff# Model\n").body == "# Model\n"


@pytest.mark.parametrize(
    ("text", "message", "body_line"),
    [
        (
            "---\nlicense: mit\nbad: value: other\n---\nbody",
            "README.md:3:11: the metadata is not valid YAML: mapping values are not allowed here",
            5,
        ),
        (
            "\n\n---\nlicense: mit\nbad: value: other\n---\nbody",
            "README.md:5:11: the metadata is not valid YAML: mapping values are not allowed here",
            7,
        ),
        (
            "---\nlicense: mit\ntags: [a, b\n---\n# Card\n",
            "README.md:3:12: the metadata is not valid YAML: expected ',' or ']', but got '<stream end>'",
            5,
        ),
        ("---\na: 1\nb: \x01\n---\n", "README.md:3:4: the metadata is not valid YAML: the character U+0001 "
         "is not allowed", 5),
        ("---\n- a\n- b\n---\n", "README.md:2:1: the metadata is a list, not a mapping", 5),
        ("---\nplain text\n---\n", "README.md:2:1: the metadata is a str, not a mapping", 4),
        ("---\na: " + "[" * 1000 + "\n---\n", "README.md:2:1: the metadata is nested too deeply", 4),
        ("---\nlicense: mit\n# never closed\n", "README.md:1:1: the metadata block opened by `---` is never "
         "closed", 1),
        ("\n  ---\nlicense: mit\n", "README.md:2:3: the metadata block opened by `---` is never closed", 1),
    ],
)  # fmt: skip
def test_unreadable_metadata_is_an_error_at_its_line_and_column(
    text: str, message: str, body_line: int
) -> None:
    with pytest.raises(CardError) as caught:
        parse_card(text)

    error = caught.value
    assert str(error) == message
    assert f"{error.filename}:{error.line}:{error.column}: {error.reason}" == message
    # What can still be read: the Markdown, without metadata.
    assert (error.card.metadata, error.card.body_line) == ({}, body_line)


def test_the_error_names_the_file() -> None:
    with pytest.raises(CardError, match=r"^models/readme\.md:2:1: "):
        parse_card("---\n[1]\n---\n", filename="models/readme.md")


def test_reading_a_card_does_not_import_the_hub_client() -> None:
    # The Hub's library takes a second to import; reading a card must not pay for it.
    code = "import sys, modelsteward.formats.model_card; print('huggingface_hub' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
