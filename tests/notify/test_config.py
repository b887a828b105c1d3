"""The notifications file: a valid one, every error at its line and column, secrets from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelsteward.core import Severity
from modelsteward.notify import (
    EmailConfig,
    EmailNotifier,
    Filter,
    NotifyConfigError,
    SlackConfig,
    SlackNotifier,
    WebhookConfig,
    WebhookNotifier,
    load_config,
    notifiers_from,
    parse_config,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
ENV = {
    "STEWARD_WEBHOOK_SECRET": "s3cret",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
    "SMTP_PASSWORD": "pa55",
}


def documented_example() -> str:
    """The first YAML block of docs/notifications.md: the example must stay valid."""
    match = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    return match.group(1)


def errors(text: str) -> list[str]:
    with pytest.raises(NotifyConfigError) as caught:
        parse_config(text, filename="notify.yaml")
    return str(caught.value).splitlines()


def test_the_documented_example_is_valid() -> None:
    config = parse_config(documented_example(), filename="notifications.md")
    webhook, slack, email = config.notifiers
    assert isinstance(webhook, WebhookConfig)
    assert webhook.events == ("watch.*",)
    assert webhook.min_severity is Severity.MEDIUM
    assert isinstance(slack, SlackConfig)
    assert slack.url_env == "SLACK_WEBHOOK_URL"
    assert isinstance(email, EmailConfig)
    assert email.effective_port == 587


def test_notifiers_from_reads_secrets_and_names_them_without_secrets() -> None:
    config = parse_config(documented_example(), filename="notifications.md")
    webhook, slack, email = notifiers_from(config, ENV)
    assert isinstance(webhook, WebhookNotifier)
    assert webhook.secret == b"s3cret"
    assert webhook.name == "webhook https://hooks.example.internal/…"
    assert webhook.filter == Filter(("watch.*",), Severity.MEDIUM)
    assert isinstance(slack, SlackNotifier)
    assert slack.target.url == ENV["SLACK_WEBHOOK_URL"]
    assert slack.name == "slack $SLACK_WEBHOOK_URL"
    assert isinstance(email, EmailNotifier)
    assert email.login == ("steward", "pa55")
    assert email.name == "email smtp.example.internal:587"
    assert (email.security, email.to, email.timeout) == ("starttls", ("ml-platform@example.internal",), 10.0)


def test_missing_or_bad_variables_are_all_named_but_never_shown() -> None:
    config = parse_config(documented_example(), filename="notifications.md")
    env = {"STEWARD_WEBHOOK_SECRET": "", "SLACK_WEBHOOK_URL": "ftp://T0KEN@hooks.slack.com/x"}
    with pytest.raises(NotifyConfigError) as caught:
        notifiers_from(config, env)
    assert str(caught.value).splitlines() == [
        "environment: notifiers[0].secret_env names STEWARD_WEBHOOK_SECRET, which is empty",
        "environment: notifiers[1].url_env names SLACK_WEBHOOK_URL, whose value must be an http or https URL"
        " (got ftp:)",
        "environment: notifiers[2].password_env names SMTP_PASSWORD, which is not set",
    ]


def test_defaults_and_explicit_names() -> None:
    config = parse_config(
        "notifiers:\n"
        "  - {kind: slack, name: '#ml-alerts', url: 'https://chat.example.internal:8443/hook'}\n"
        "  - {kind: email, host: 127.0.0.1, security: ssl, sender: a@b.example, to: [c@d.example]}\n",
        filename="notify.yaml",
    )
    slack, email = notifiers_from(config, {})
    assert slack.name == "#ml-alerts"
    assert slack.filter == Filter()
    assert isinstance(email, EmailNotifier)
    assert (email.port, email.login) == (465, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "notifiers:\n  - kind: webhook\n    url: ftp://hooks.example/x\n",
            "notify.yaml:3:10: notifiers[0].url must be an http or https URL (got ftp:)",
            id="url-scheme",
        ),
        pytest.param(
            "notifiers:\n  - kind: webhook\n    url: https://me:T0KEN@hooks.example/x\n",
            "notify.yaml:3:10: notifiers[0].url must not hold a user name or password; "
            "a signing secret goes in secret_env",
            id="url-credentials",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url: https://a.example/\n    url_env: SLACK\n",
            "notify.yaml:2:5: notifiers[0] needs exactly one of url (the URL) and url_env "
            "(a variable holding it); it has both url and url_env",
            id="url-and-url-env",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n",
            "notify.yaml:2:5: notifiers[0] needs exactly one of url (the URL) and url_env "
            "(a variable holding it); it has neither url nor url_env",
            id="no-url",
        ),
        pytest.param(
            "notifiers:\n  - kind: slak\n    url_env: X\n",
            'notify.yaml:2:11: notifiers[0].kind must be one of webhook, slack, email (got "slak")',
            id="unknown-kind",
        ),
        pytest.param(
            "notifiers:\n  - url_env: X\n",
            "notify.yaml:2:5: notifiers[0].kind must be one of webhook, slack, email",
            id="no-kind",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url_env: X\n    evnts: [watch.*]\n",
            "notify.yaml:4:5: notifiers[0].evnts is not a key of a slack notifier (did you mean events?); "
            "its keys are kind, name, events, min_severity, timeout, url, url_env, attempts",
            id="unknown-key",
        ),
        pytest.param(
            "notifier: []\n",
            "notify.yaml:1:1: notifiers is required\n"
            "notify.yaml:1:1: notifier is not a key of the notifications file (did you mean notifiers?); "
            "its keys are notifiers",
            id="unknown-top-key",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url_env: X\n    events: watch.*\n",
            'notify.yaml:4:13: notifiers[0].events must be a list (got "watch.*")',
            id="events-not-a-list",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url_env: X\n    events: [Watch Stuff]\n",
            "notify.yaml:4:14: notifiers[0].events[0] must be an event name or a pattern of them, "
            'such as watch.* (got "Watch Stuff")',
            id="bad-pattern",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url_env: X\n    min_severity: severe\n",
            "notify.yaml:4:19: notifiers[0].min_severity must be one of info, low, medium, high, critical "
            '(got "severe")',
            id="bad-severity",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url_env: 1X\n    attempts: 0\n",
            "notify.yaml:3:14: notifiers[0].url_env must be the name of an environment variable, such as "
            'SLACK_WEBHOOK_URL (got "1X")\n'
            "notify.yaml:4:15: notifiers[0].attempts must be at least 1 (got 0)",
            id="two-errors",
        ),
        pytest.param(
            "notifiers:\n  - {kind: email, host: 'bad host', port: 99999, sender: nope, to: []}\n",
            'notify.yaml:2:25: notifiers[0].host must be a host name or an IP address (got "bad host")\n'
            "notify.yaml:2:43: notifiers[0].port must be at most 65535 (got 99999)\n"
            "notify.yaml:2:58: notifiers[0].sender must be an e-mail address such as steward@example.com "
            '(got "nope")\n'
            "notify.yaml:2:68: notifiers[0].to must not be empty",
            id="email-fields",
        ),
        pytest.param(
            "notifiers:\n  - {kind: email, host: smtp.x, sender: a@b.c, to: [a@b.c], username: u}\n",
            "notify.yaml:2:5: notifiers[0] needs both username and password_env to log in, or neither",
            id="username-without-password",
        ),
        pytest.param(
            "notifiers:\n  - {kind: email, host: smtp.x, security: none, sender: a@b.c, to: [a@b.c],"
            " username: u, password_env: P}\n",
            "notify.yaml:2:5: notifiers[0] would send its password in clear text (security: none); "
            "use starttls or ssl, or relay through the local host",
            id="password-in-clear",
        ),
        pytest.param(
            "notifiers:\n  - {kind: email, host: smtp.x, security: tls, sender: a@b.c, to: [a@b.c]}\n",
            'notify.yaml:2:43: notifiers[0].security must be one of starttls, ssl, none (got "tls")',
            id="bad-security",
        ),
        pytest.param(
            "notifiers:\n  - kind: slack\n    url_env: X\n    url_env: Y\n",
            "notify.yaml:4:5: notifiers[0].url_env is given twice (first on line 3)",
            id="duplicate-key",
        ),
        pytest.param("notifiers:\n  - [unclosed\n", "notify.yaml:3:1: YAML syntax error:", id="syntax"),
        pytest.param("", "notify.yaml:1:1: the file is empty; it needs a list of notifiers", id="empty"),
        pytest.param(
            "- a\n", "notify.yaml:1:1: the file must be a mapping of keys to values (got a list)", id="list"
        ),
        pytest.param(
            "notifiers:\n  - hello\n",
            'notify.yaml:2:5: notifiers[0] must be a mapping of keys to values (got "hello")',
            id="entry-not-mapping",
        ),
    ],
)
def test_errors_are_located_and_say_what_would_be_right(text: str, expected: str) -> None:
    found = errors(text)
    assert len(found) == len(expected.splitlines())
    for line, wanted in zip(found, expected.splitlines(), strict=True):
        assert line.startswith(wanted) if wanted.endswith(":") else line == wanted


def test_load_reads_a_file_and_reports_an_unreadable_one(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text("notifiers:\n  - {kind: slack, url_env: SLACK_WEBHOOK_URL}\n", encoding="utf-8")
    assert len(load_config(path).notifiers) == 1
    with pytest.raises(NotifyConfigError, match=r"missing\.yaml: cannot read: No such file or directory$"):
        load_config(tmp_path / "missing.yaml")
    path.write_bytes(b"notifiers: [\xff]\n")
    with pytest.raises(NotifyConfigError, match=r"notify\.yaml:1:13: the file is not UTF-8 text$"):
        load_config(path)
