"""Notification: what is checked when one is made, its JSON form and its plain-text form."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from modelsteward.notify import SCHEMA, SCHEMA_VERSION, Notification


def test_json_form_names_its_schema_and_keeps_the_order_of_facts(notification: Notification) -> None:
    payload = json.loads(json.dumps(notification.to_json()))
    assert payload == {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "kind": "watch.vulnerability",
        "title": notification.title,
        "text": notification.text,
        "subject": "org/bert@3",
        "severity": "high",
        "facts": {"package": "torch 2.1.0", "advisory": "GHSA-xxxx", "fixed in": "2.2.0"},
        "link": notification.link,
        "at": "2024-05-01T12:30:05Z",
    }
    assert list(payload["facts"]) == ["package", "advisory", "fixed in"]


def test_times_are_given_in_utc() -> None:
    at = datetime(2024, 5, 1, 14, 0, 0, 999, tzinfo=timezone(timedelta(hours=2)))
    made = Notification(kind="alert.firing", title="t", text="", subject="s", at=at)
    assert made.to_json()["at"] == "2024-05-01T12:00:00Z"
    assert made.to_json()["severity"] is None


def test_text_form_aligns_the_facts(notification: Notification) -> None:
    text = notification.to_text()
    assert text.startswith(notification.title + "\n\n" + notification.text + "\n\n")
    assert "package:  torch 2.1.0\nadvisory: GHSA-xxxx\nfixed in: 2.2.0\n" in text
    assert text.endswith("watch.vulnerability · org/bert@3 · 2024-05-01T12:30:05Z · severity high\n")


def test_facts_are_copied_and_read_only(notification: Notification) -> None:
    facts = {"a": "1"}
    made = dataclasses.replace(notification, facts=facts)
    facts["b"] = "2"
    assert dict(made.facts) == {"a": "1"}
    with pytest.raises(TypeError):
        made.facts["c"] = "3"  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "Watch"}, "kind must be a dotted lower-case name"),
        ({"kind": "watch"}, "kind must be a dotted lower-case name"),
        ({"title": "two\nlines"}, "title must be one non-empty line"),
        ({"title": "trailing newline\n"}, "title must be one non-empty line"),
        ({"title": "  "}, "title must be one non-empty line"),
        ({"at": datetime(2024, 5, 1)}, "time must carry a time zone"),
        ({"link": "javascript:alert(1)"}, "link must be an http or https URL"),
        ({"link": "https://user:pw@host/"}, "link must not hold a user name or password"),
    ],
)
def test_bad_values_are_refused_with_the_reason(
    notification: Notification, change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(notification, **change)  # type: ignore[arg-type]
