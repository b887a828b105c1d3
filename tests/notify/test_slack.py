"""Slack incoming-webhook payloads: structure, escaping of what users control, Block Kit limits."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from modelsteward.notify import HttpTarget, Notification, SlackNotifier, slack_payload
from tests.notify.servers import http_receiver


def blocks_of(payload: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [block for block in payload["blocks"] if block["type"] == kind]


def test_payload_has_fallback_header_text_facts_and_context(notification: Notification) -> None:
    payload: dict[str, Any] = slack_payload(notification)
    assert payload["text"] == f"{notification.title} (org/bert@3)"
    assert [block["type"] for block in payload["blocks"]] == ["header", "section", "section", "context"]
    header, text, facts, context = payload["blocks"]
    assert header["text"] == {"type": "plain_text", "text": notification.title, "emoji": False}
    assert text["text"] == {"type": "mrkdwn", "text": notification.text}
    assert [field["text"] for field in facts["fields"]] == [
        "*package*\ntorch 2.1.0",
        "*advisory*\nGHSA-xxxx",
        "*fixed in*\n2.2.0",
    ]
    (element,) = context["elements"]
    assert element["text"] == (
        "*HIGH* · org/bert@3 · watch.vulnerability · 2024-05-01T12:30:05Z · "
        "<https://steward.example.internal/models/org/bert/3?tab=deps&amp;x=1|details>"
    )


def test_user_controlled_text_cannot_mention_or_link(notification: Notification) -> None:
    hostile = dataclasses.replace(
        notification,
        title="<!channel> pwned & <https://evil.example|docs>",
        text="see <@U123> and <!here>",
        subject="org/<!everyone>@1",
        facts={"<b>": "<!subteam^S1>"},
    )
    payload: dict[str, Any] = slack_payload(hostile)
    every_text = json.dumps(payload)
    for injected in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil", "<!subteam"):
        assert injected not in every_text
    assert payload["text"].startswith("&lt;!channel&gt; pwned &amp; &lt;https://evil.example|docs&gt;")
    assert payload["blocks"][1]["text"]["text"] == "see &lt;@U123&gt; and &lt;!here&gt;"
    assert payload["blocks"][2]["fields"][0]["text"] == "*&lt;b&gt;*\n&lt;!subteam^S1&gt;"


def test_a_link_cannot_end_its_own_markup(notification: Notification) -> None:
    tricky = dataclasses.replace(notification, link="https://h.example/a|b>c")
    payload: dict[str, Any] = slack_payload(tricky)
    (element,) = payload["blocks"][-1]["elements"]
    assert element["text"].endswith("<https://h.example/a%7Cb%3Ec|details>")


def test_long_text_is_cut_to_block_kit_limits_without_splitting_an_entity(notification: Notification) -> None:
    long = dataclasses.replace(
        notification, title="&" * 200, text="x" * 5000, facts={f"k{i}": "<" * 3000 for i in range(12)}
    )
    payload: dict[str, Any] = slack_payload(long)
    title = payload["blocks"][0]["text"]["text"]
    assert len(title) <= 150
    assert title.endswith("&amp;…")
    assert len(payload["blocks"][1]["text"]["text"]) <= 3000
    sections = [block for block in blocks_of(payload, "section") if "fields" in block]
    assert [len(block["fields"]) for block in sections] == [10, 2]
    for block in sections:
        for field in block["fields"]:
            assert len(field["text"]) <= 2000
            assert field["text"].endswith("&lt;…")


def test_no_severity_text_or_link_leaves_them_out(notification: Notification) -> None:
    plain = dataclasses.replace(notification, severity=None, text="", facts={}, link=None)
    payload: dict[str, Any] = slack_payload(plain)
    assert [block["type"] for block in payload["blocks"]] == ["header", "context"]
    assert (
        payload["blocks"][1]["elements"][0]["text"]
        == "org/bert@3 · watch.vulnerability · 2024-05-01T12:30:05Z"
    )


def test_posts_the_payload(notification: Notification) -> None:
    with http_receiver() as receiver:
        SlackNotifier("slack", HttpTarget(receiver.url)).send(notification)
    (request,) = receiver.requests
    assert json.loads(request.body) == slack_payload(notification)
    assert "X-Steward-Signature" not in request.headers
