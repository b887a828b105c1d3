"""E-mail through a real local SMTP server (aiosmtpd): headers, both bodies, login, TLS, refusals."""

from __future__ import annotations

import dataclasses
import ssl
from pathlib import Path

import pytest

from modelsteward.notify import EmailNotifier, Notification, NotifyError, email_message
from tests.notify.servers import server_tls, smtp_server

# The test server allows login without TLS, which aiosmtpd rightly warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

LOGIN = ("steward", "pa55")
TO = ("ml-platform@example.internal", "security@example.internal")


def notifier(port: int, **changes: object) -> EmailNotifier:
    base = EmailNotifier(
        name="mail", host="127.0.0.1", port=port, security="none", sender="steward@example.internal", to=TO
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_sends_plain_text_and_html_to_every_recipient(notification: Notification) -> None:
    with smtp_server() as (port, mailbox):
        notifier(port).send(notification)
    (message,) = mailbox.messages
    assert mailbox.envelopes == [("steward@example.internal", list(TO))]
    assert message["Subject"] == f"[HIGH] {notification.title}"
    assert message["From"] == "steward@example.internal"
    assert message["To"] == ", ".join(TO)
    assert message["Date"] == "Wed, 01 May 2024 12:30:05 +0000"
    assert message["Message-ID"].endswith("@example.internal>")
    assert message["X-Steward-Event"] == "watch.vulnerability"
    assert message["X-Steward-Severity"] == "high"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == notification.to_text()  # CRLF on the wire
    content = html.get_content()
    assert f"<h2>{notification.title}</h2>" in content
    assert '<tr><th align="left">fixed in</th><td>2.2.0</td></tr>' in content
    assert 'href="https://steward.example.internal/models/org/bert/3?tab=deps&amp;x=1"' in content


def test_html_is_escaped(notification: Notification) -> None:
    hostile = dataclasses.replace(
        notification, title="<script>alert(1)</script>", facts={"<img src=x>": "a & b"}, severity=None
    )
    message = email_message(hostile, sender="s@example.internal", to=["t@example.internal"])
    assert message["Subject"] == "<script>alert(1)</script>"
    html = message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "<script>" not in content and "<img" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert '<th align="left">&lt;img src=x&gt;</th><td>a &amp; b</td>' in content
    assert "X-Steward-Severity" not in message


def test_logs_in_with_the_password(notification: Notification) -> None:
    with smtp_server(login=LOGIN) as (port, mailbox):
        notifier(port, login=LOGIN).send(notification)
        with pytest.raises(NotifyError, match=r"^127\.0\.0\.1:\d+ refused the login: 535 "):
            notifier(port, login=("steward", "wrong")).send(notification)
    assert mailbox.logins == ["steward"]
    assert len(mailbox.messages) == 1
    assert "pa55" not in repr(notifier(1, login=LOGIN))


def test_a_server_requiring_login_refuses_an_anonymous_sender(notification: Notification) -> None:
    with smtp_server(login=LOGIN) as (port, mailbox), pytest.raises(NotifyError, match=r"answered 530 "):
        notifier(port).send(notification)
    assert mailbox.messages == []


@pytest.fixture
def trusted_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server certificate whose CA the client trusts, as an enterprise CA would be (SSL_CERT_FILE)."""
    context, ca_file = server_tls(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_logs_in_over_tls(notification: Notification, trusted_tls: ssl.SSLContext, security: str) -> None:
    with smtp_server(login=LOGIN, tls=trusted_tls, implicit_tls=security == "ssl") as (port, mailbox):
        notifier(port, security=security, login=LOGIN).send(notification)
    assert mailbox.logins == ["steward"]
    assert len(mailbox.messages) == 1


def test_an_untrusted_certificate_is_refused(notification: Notification, tmp_path: Path) -> None:
    context, _ = server_tls(tmp_path)
    with (
        smtp_server(tls=context) as (port, mailbox),
        pytest.raises(NotifyError, match="certificate verify failed"),
    ):
        notifier(port, security="starttls").send(notification)
    assert mailbox.messages == []


def test_starttls_is_never_skipped(notification: Notification) -> None:
    with (
        smtp_server() as (port, mailbox),
        pytest.raises(NotifyError, match="STARTTLS extension not supported"),
    ):
        notifier(port, security="starttls", login=LOGIN).send(notification)
    assert mailbox.messages == []


def test_an_unreachable_server_is_reported(notification: Notification) -> None:
    with smtp_server() as (port, _):
        pass
    with pytest.raises(NotifyError, match=rf"^cannot send through 127\.0\.0\.1:{port}: Connection refused$"):
        notifier(port, timeout=1.0).send(notification)
