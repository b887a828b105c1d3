"""E-mail over SMTP: a plain-text body with a simple HTML alternative."""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from modelsteward.notify._message import Notification, timestamp
from modelsteward.notify._notifier import Filter, NotifyError

Security = Literal["starttls", "ssl", "none"]
"""How the connection is protected: upgraded after connecting (port 587), TLS from the first byte
(port 465), or not at all (a relay on the same host)."""
DEFAULT_PORTS: dict[Security, int] = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True, slots=True)
class EmailNotifier:
    """Sends each notification as one message to every recipient, through one SMTP server."""

    name: str
    host: str
    port: int
    security: Security
    sender: str
    to: tuple[str, ...]
    filter: Filter = field(default_factory=Filter)
    login: tuple[str, str] | None = field(default=None, repr=False)
    """The user name and password to log in with; None sends without logging in."""
    timeout: float = 10.0
    """Seconds for connecting and for each exchange with the server."""

    def send(self, notification: Notification) -> None:
        """Send ``notification``; raise :class:`NotifyError` when the server does not take it."""
        message = email_message(notification, sender=self.sender, to=self.to)
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    # Raises when the server does not offer STARTTLS: never fall back to plain text.
                    smtp.starttls(context=ssl.create_default_context())
                if self.login is not None:
                    smtp.login(*self.login)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            said = _said(error.smtp_code, error.smtp_error)
            raise NotifyError(f"{where} refused the login: {said}") from None
        except smtplib.SMTPRecipientsRefused as error:
            refused = ", ".join(f"{to} ({_said(*answer)})" for to, answer in error.recipients.items())
            raise NotifyError(f"{where} refused the recipients {refused}") from None
        except smtplib.SMTPResponseException as error:
            raise NotifyError(f"{where} answered {_said(error.smtp_code, error.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as error:
            raise NotifyError(f"{where} cannot be used as configured: {error}") from None
        except TimeoutError:
            raise NotifyError(f"{where} did not answer within {self.timeout:g} s") from None
        except OSError as error:  # smtplib's own errors included
            reason = error.strerror or str(error)
            raise NotifyError(f"cannot send through {where}: {reason or type(error).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def email_message(notification: Notification, *, sender: str, to: Sequence[str]) -> EmailMessage:
    """The message for ``notification``: subject ``[SEVERITY] title``, plain text and escaped HTML.

    ``X-Steward-Event`` and ``X-Steward-Severity`` let mail rules sort notifications.
    """
    n = notification
    message = EmailMessage()
    message["Subject"] = n.title if n.severity is None else f"[{n.severity.label.upper()}] {n.title}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(n.at)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["X-Steward-Event"] = n.kind
    if n.severity is not None:
        message["X-Steward-Severity"] = n.severity.label
    message.set_content(n.to_text())
    message.add_alternative(_html(n), subtype="html")
    return message


def _html(n: Notification) -> str:
    e = html.escape
    parts = [f"<h2>{e(n.title)}</h2>"]
    parts += [f"<p>{e(p).replace(chr(10), '<br>')}</p>" for p in n.text.strip().split("\n\n") if p.strip()]
    if n.facts:
        rows = (f'<tr><th align="left">{e(k)}</th><td>{e(v)}</td></tr>' for k, v in n.facts.items())
        parts.append(f"<table>{''.join(rows)}</table>")
    if n.link is not None:
        parts.append(f'<p><a href="{e(n.link)}">{e(n.link)}</a></p>')
    severity = "" if n.severity is None else f" · severity {n.severity.label}"
    parts.append(f'<p style="color:#666">{e(n.kind)} · {e(n.subject)} · {timestamp(n.at)}{severity}</p>')
    return "<!doctype html>\n<html><body>\n" + "\n".join(parts) + "\n</body></html>\n"


def _said(code: int, text: bytes | str) -> str:
    """An SMTP answer on one line: ``550 5.1.1 no such user``."""
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}"
