"""The shared YAML-file loader: reading, parsing with nodes kept, and pydantic errors at their place."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Annotated, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from modelsteward._yamlfile import (
    Issue,
    IssueError,
    describe,
    did_you_mean,
    dotted,
    parse_yaml,
    read_text,
)

EMPTY = "the file is empty; it needs a thing"


class ThingError(IssueError):
    """A thing file that cannot be used."""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: Annotated[int, Field(ge=1, le=10)]


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[StrictStr, Field(min_length=2, max_length=5)]
    version: Literal[1] = 1
    mode: Literal["fast", "slow"] = "fast"
    ratio: Annotated[float, Field(gt=0, lt=1)] = 0.5
    enabled: bool = True
    tags: Annotated[tuple[str, ...], Field(min_length=1, max_length=2)] = ("a",)
    parts: tuple[Part, ...] = ()
    code: Annotated[str, Field(pattern=r"^[a-z]+$")] = "x"


def load(text: str) -> Thing:
    """The loader the module's docstring describes, for a file named thing.yaml."""
    document = parse_yaml(text, "thing.yaml", empty=EMPTY, error=ThingError)
    issues = list(document.issues)
    try:
        thing = Thing.model_validate(document.data)
    except ValidationError as error:
        issues += [document.validation_issue(detail, whole="the thing") for detail in error.errors()]
    if issues:
        raise ThingError(issues)
    return thing


def problems(text: str) -> list[str]:
    with pytest.raises(ThingError) as caught:
        load(text)
    return str(caught.value).splitlines()


def test_a_valid_file_gives_its_value() -> None:
    thing = load("name: abc\nparts:\n  - {size: 3}\n")
    assert (thing.name, thing.parts) == ("abc", (Part(size=3),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("parts: []\n", "thing.yaml:1:1: name is required", id="missing"),
        pytest.param(
            "name: abc\nparts:\n  - {}\n", "thing.yaml:3:5: parts[0].size is required", id="missing-nested"
        ),
        pytest.param(
            "name: ab\n1: x\n", "thing.yaml:2:1: the thing has a key that is not text (got 1)", id="key"
        ),
        pytest.param(
            "name: ab\nversion: 2\n", "thing.yaml:2:10: version must be 1 (got 2)", id="one-literal"
        ),
        pytest.param(
            "name: ab\nmode: quick\n",
            'thing.yaml:2:7: mode must be one of fast, slow (got "quick")',
            id="literal",
        ),
        pytest.param(
            "name: ab\nparts: [{size: 0}, {size: 11}]\n",
            "thing.yaml:2:16: parts[0].size must be at least 1 (got 0)\n"
            "thing.yaml:2:27: parts[1].size must be at most 10 (got 11)",
            id="inclusive-bounds",
        ),
        pytest.param(
            "name: ab\nratio: 0\n", "thing.yaml:2:8: ratio must be more than 0 (got 0)", id="greater-than"
        ),
        pytest.param(
            "name: ab\nratio: 1.5\n", "thing.yaml:2:8: ratio must be less than 1 (got 1.5)", id="less-than"
        ),
        pytest.param(
            "name: ab\nratio: high\n", 'thing.yaml:2:8: ratio must be a number (got "high")', id="float"
        ),
        pytest.param(
            "name: ab\nparts: [{size: 2.5}]\n",
            "thing.yaml:2:16: parts[0].size must be a whole number (got 2.5)",
            id="int",
        ),
        pytest.param(
            "name: ab\nenabled: maybe\n",
            'thing.yaml:2:10: enabled must be true or false (got "maybe")',
            id="bool",
        ),
        pytest.param("name: 12\n", "thing.yaml:1:7: name must be text (got 12)", id="text"),
        pytest.param(
            "name: a\n", 'thing.yaml:1:7: name must have at least 2 characters (got "a")', id="short-text"
        ),
        pytest.param(
            "name: abcdef\n",
            'thing.yaml:1:7: name must have at most 5 characters (got "abcdef")',
            id="long-text",
        ),
        pytest.param("name: ab\ntags: []\n", "thing.yaml:2:7: tags must not be empty", id="empty-list"),
        pytest.param(
            "name: ab\ntags: [a, b, c]\n",
            "thing.yaml:2:7: tags must have at most 2 entries (got a list)",
            id="long",
        ),
        pytest.param("name: ab\ntags: a\n", 'thing.yaml:2:7: tags must be a list (got "a")', id="list"),
        pytest.param(
            "name: ab\nparts: [3]\n",
            "thing.yaml:2:9: parts[0] must be a mapping of keys to values (got 3)",
            id="map",
        ),
        pytest.param(
            "- a\n", "thing.yaml:1:1: the thing must be a mapping of keys to values (got a list)", id="whole"
        ),
        pytest.param(
            "name: ab\ncode: A1\n",
            "thing.yaml:2:7: code is invalid: string should match pattern '^[a-z]+$' (got \"A1\")",
            id="pydantic-words",
        ),
        pytest.param(
            "name: ab\nname: abc\nparts:\n  - {size: 1, size: 2, size: 3}\n",
            "thing.yaml:2:1: name is given twice (first on line 1)\n"
            "thing.yaml:4:15: parts[0].size is given twice (first on line 4)\n"
            "thing.yaml:4:24: parts[0].size is given twice (first on line 4)",
            id="duplicates-each-at-its-own-key",
        ),
        pytest.param(
            "name: [ab\n",
            "thing.yaml:2:1: YAML syntax error: while parsing a flow sequence: expected ',' or ']', "
            "but got '<stream end>'",
            id="syntax",
        ),
        pytest.param("# nothing\n", f"thing.yaml:1:1: {EMPTY}", id="empty"),
    ],
)
def test_each_problem_is_worded_and_placed(text: str, expected: str) -> None:
    assert problems(text) == expected.splitlines()


def test_an_unknown_key_is_left_to_the_loader_and_placed_at_the_key() -> None:
    document = parse_yaml("name: ab\ncolour: blue\n", "thing.yaml", empty=EMPTY, error=ThingError)
    with pytest.raises(ValidationError) as caught:
        Thing.model_validate(document.data)
    (detail,) = caught.value.errors()
    assert detail["type"] == "extra_forbidden"
    assert document.issue(detail["loc"], "colour is unknown", key=True) == Issue(
        "thing.yaml", 2, 1, "colour", "colour is unknown"
    )
    assert document.issue(detail["loc"], "blue is unknown") == Issue(
        "thing.yaml", 2, 9, "colour", "blue is unknown"
    )


def test_issues_are_placed_at_the_value_yaml_kept_or_the_deepest_node_on_the_way() -> None:
    document = parse_yaml("a:\n  b: [x, y]\n  c: 1\n  c: 2\n", "f.yaml", empty=EMPTY, error=ThingError)
    assert document.data == {"a": {"b": ["x", "y"], "c": 2}}
    assert (document.issue(("a", "b", 1), "").line, document.issue(("a", "b", 1), "").column) == (2, 10)
    assert document.issue(("a", "c"), "").line == 4  # the duplicate YAML kept, as pydantic saw it
    assert (document.issue(("a", "b", 7), "").line, document.issue(("a", "b", 7), "").column) == (2, 6)
    assert (document.issue(("a", "zzz", "q"), "").line, document.issue(("a", "zzz", "q"), "").column) == (
        2,
        3,
    )
    assert document.issue(("a", "b", 0, "deeper"), "m").path == "a.b[0].deeper"


def test_a_loader_can_say_where_an_error_is_better_than_pydantic() -> None:
    document = parse_yaml("items:\n  - {size: 0}\n", "f.yaml", empty=EMPTY, error=ThingError)
    with pytest.raises(ValidationError) as caught:
        Part.model_validate(document.data["items"][0])  # type: ignore[index]
    (detail,) = caught.value.errors()
    issue = document.validation_issue(detail, loc=("items", 0, "size"))
    assert str(issue) == "f.yaml:2:12: items[0].size must be at least 1 (got 0)"
    assert issue.to_json() == {"line": 2, "column": 12, "path": "items[0].size", "message": issue.message}


def test_read_text_keeps_the_bytes_and_names_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "thing.yaml"
    path.write_bytes(b"name: caf\xc3\xa9\r\n")
    text = read_text(path, ThingError)
    assert hashlib.sha256(text.encode()).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert load(text).name == "café"

    with pytest.raises(ThingError) as missing:
        read_text(tmp_path / "nope.yaml", ThingError)
    assert str(missing.value) == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    assert (missing.value.issues[0].line, missing.value.issues[0].column) == (None, None)

    path.write_bytes(b"name: ab\nmode: caf\xe9\n")
    with pytest.raises(ThingError) as latin:
        read_text(path, ThingError)
    assert str(latin.value) == f"{path}:2:10: the file is not UTF-8 text"


def test_parse_raises_the_loaders_own_error() -> None:
    with pytest.raises(ThingError) as caught:
        parse_yaml("a: [\n", "f.yaml", empty=EMPTY, error=ThingError)
    assert type(caught.value) is ThingError
    assert isinstance(caught.value.issues[0], Issue)


def test_issues_come_in_file_order_with_the_lineless_first() -> None:
    error = ThingError(
        [
            Issue("f.yaml", 3, 1, "c", "c is wrong"),
            Issue("environment", None, None, "x", "x is not set"),
            Issue("f.yaml", 1, 5, "a", "a is wrong"),
            Issue("environment", None, None, "y", "y is not set"),
            Issue("f.yaml", 1, 2, "b", "b is wrong"),
        ]
    )
    assert str(error).splitlines() == [
        "environment: x is not set",
        "environment: y is not set",
        "f.yaml:1:2: b is wrong",
        "f.yaml:1:5: a is wrong",
        "f.yaml:3:1: c is wrong",
    ]


def test_dotted_describe_and_did_you_mean() -> None:
    assert dotted(()) == ""
    assert dotted(("notifiers", 1, "url")) == "notifiers[1].url"
    assert dotted(("a", 0, 2)) == "a[0][2]"
    assert describe("x" * 70) == '"' + "x" * 57 + '..."'
    assert describe("naïve") == '"naïve"'
    assert [describe(v) for v in (None, True, 3, 1.5)] == ["null", "true", "3", "1.5"]
    assert describe({"a": 1}) == "a mapping"
    assert describe([1]) == describe((1,)) == "a list"
    assert describe(datetime.date(2024, 1, 1)) == "2024-01-01"
    assert did_you_mean("evnts", ["name", "events"]) == " (did you mean events?)"
    assert did_you_mean("colour", ["name", "events"]) == ""


def test_the_data_is_what_safe_load_gives() -> None:
    text = "a: &x [1, 2.5, yes, null, 2024-01-01]\nb: *x\n"
    assert parse_yaml(text, "f.yaml", empty=EMPTY, error=ThingError).data == yaml.safe_load(text)
