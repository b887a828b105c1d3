"""From the configuration to notifiers, and one notification to all of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from modelsteward._urls import shown_url
from modelsteward.notify._config import (
    ConfigIssue,
    EmailConfig,
    NotificationsConfig,
    NotifierConfig,
    NotifyConfigError,
    SlackConfig,
    WebhookConfig,
)
from modelsteward.notify._email import EmailNotifier
from modelsteward.notify._http import HttpTarget, Retry
from modelsteward.notify._message import Notification
from modelsteward.notify._notifier import Filter, Notifier, NotifyError
from modelsteward.notify._slack import SlackNotifier
from modelsteward.notify._urls import url_problem
from modelsteward.notify._webhook import WebhookNotifier


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one notification at one notifier."""

    notifier: str
    """The notifier's name."""
    ok: bool
    error: str | None = None
    """Why it was not delivered; never holds a secret."""


def deliver(notification: Notification, notifiers: Iterable[Notifier]) -> tuple[Delivery, ...]:
    """Send ``notification`` to every notifier that wants it, one failure never stopping the rest.

    Notifiers whose filter declines it get no :class:`Delivery`. They are tried in turn: each is
    bounded by its timeout and tries.
    """
    deliveries = []
    for notifier in notifiers:
        if not notifier.filter.accepts(notification):
            continue
        try:
            notifier.send(notification)
        except NotifyError as error:
            deliveries.append(Delivery(notifier.name, ok=False, error=str(error)))
        else:
            deliveries.append(Delivery(notifier.name, ok=True))
    return tuple(deliveries)


def notifiers_from(config: NotificationsConfig, env: Mapping[str, str]) -> tuple[Notifier, ...]:
    """The notifiers ``config`` describes, with the secrets its ``*_env`` keys name read from ``env``.

    Raise :class:`NotifyConfigError` naming every variable that is missing, empty or (for a URL) invalid;
    no message repeats a variable's value.
    """
    issues: list[ConfigIssue] = []
    secrets: list[dict[str, str]] = []
    for index, entry in enumerate(config.notifiers):
        values: dict[str, str] = {}
        for key, variable in _variables(entry).items():
            value = env.get(variable, "")
            problem = _problem(key, variable, value, env)
            if problem is None:
                values[key] = value
            else:
                path = f"notifiers[{index}].{key}"
                issues.append(ConfigIssue("environment", None, None, path, f"{path} {problem}"))
        secrets.append(values)
    if issues:
        raise NotifyConfigError(issues)
    return tuple(_notifier(entry, values) for entry, values in zip(config.notifiers, secrets, strict=True))


def _variables(entry: NotifierConfig) -> dict[str, str]:
    """key -> the environment variable it names, for each ``*_env`` key ``entry`` has."""
    if isinstance(entry, EmailConfig):
        named = {"password_env": entry.password_env}
    elif isinstance(entry, WebhookConfig):
        named = {"url_env": entry.url_env, "secret_env": entry.secret_env}
    else:
        named = {"url_env": entry.url_env}
    return {key: variable for key, variable in named.items() if variable is not None}


def _problem(key: str, variable: str, value: str, env: Mapping[str, str]) -> str | None:
    if not value:
        return f"names {variable}, which is {'empty' if variable in env else 'not set'}"
    if key == "url_env" and (problem := url_problem(value)):
        return f"names {variable}, whose value {problem}"
    return None


def _notifier(entry: NotifierConfig, secrets: Mapping[str, str]) -> Notifier:
    """The notifier for ``entry``, given the values of the variables it names (all usable)."""
    wants = Filter(entry.events, entry.min_severity)
    if isinstance(entry, EmailConfig):
        port = entry.effective_port
        password = secrets.get("password_env")
        return EmailNotifier(
            name=entry.name or f"email {entry.host}:{port}",
            host=entry.host,
            port=port,
            security=entry.security,
            sender=entry.sender,
            to=entry.to,
            filter=wants,
            login=None if entry.username is None or password is None else (entry.username, password),
            timeout=entry.timeout,
        )
    url = entry.url if entry.url is not None else secrets["url_env"]
    target = HttpTarget(url, entry.timeout, Retry(attempts=entry.attempts))
    # A URL from the environment is named by its variable: the URL itself may be the secret.
    name = entry.name or f"{entry.kind} {shown_url(url) if entry.url_env is None else '$' + entry.url_env}"
    if isinstance(entry, SlackConfig):
        return SlackNotifier(name, target, wants)
    secret = secrets.get("secret_env")
    key = None if secret is None else secret.encode("utf-8")
    return WebhookNotifier(name, target, wants, key, entry.format)
