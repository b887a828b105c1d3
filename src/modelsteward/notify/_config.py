"""The notifications file: which notifiers exist and what each wants, validated with located errors.

Errors are reported as ``file:line:col: message``, as every YAML file's are
(:mod:`modelsteward._yamlfile`). Secrets never appear in the file: it names the environment
variables that hold them.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from modelsteward._yamlfile import (
    Document,
    Issue,
    IssueError,
    Loc,
    describe,
    did_you_mean,
    dotted,
    parse_yaml,
    read_text,
)
from modelsteward.core import Severity
from modelsteward.notify._email import DEFAULT_PORTS, Security
from modelsteward.notify._urls import url_problem
from modelsteward.notify._webhook import WebhookFormat

_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EVENT_PATTERN = re.compile(r"[a-z0-9.*?\[\]!-]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})*")


def _invalid(message: str) -> PydanticCustomError:
    """An error whose message follows the key's dotted path (``notifiers[0].url must ...``)."""
    return PydanticCustomError("notify", message)


def _url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise _invalid(problem)
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise _invalid(
            f"must be the name of an environment variable, such as SLACK_WEBHOOK_URL (got {describe(value)})"
        )
    return value


def _event_pattern(value: str) -> str:
    if not _EVENT_PATTERN.fullmatch(value):
        raise _invalid(f"must be an event name or a pattern of them, such as watch.* (got {describe(value)})")
    return value


def _some_events(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise _invalid("must list at least one pattern; leave events out to send every event")
    return value


def _host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST.fullmatch(value):
            raise _invalid(f"must be a host name or an IP address (got {describe(value)})") from None
    return value


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise _invalid(f"must be an e-mail address such as steward@example.com (got {describe(value)})")
    return value


def _severity(value: object) -> object:
    if value is None or isinstance(value, Severity):
        return value
    if isinstance(value, str) and value.strip().upper() in Severity.__members__:
        return Severity.parse(value)
    raise _invalid(f"must be one of {', '.join(s.label for s in Severity)} (got {describe(value)})")


def _name(value: str) -> str:
    if not value.strip() or value.splitlines() != [value]:
        raise _invalid(f"must be one non-empty line (got {describe(value)})")
    return value


Url = Annotated[StrictStr, AfterValidator(_url)]
EnvName = Annotated[StrictStr, AfterValidator(_env_name)]
EventPattern = Annotated[StrictStr, AfterValidator(_event_pattern)]
Host = Annotated[StrictStr, AfterValidator(_host)]
Address = Annotated[StrictStr, AfterValidator(_address)]
SeverityFloor = Annotated[Severity | None, BeforeValidator(_severity)]


class _Notifier(BaseModel):
    """What every notifier has."""

    model_config = _CONFIG

    name: Annotated[StrictStr, Field(max_length=100), AfterValidator(_name)] | None = None
    """How deliveries and errors name it; by default its kind and where it sends to."""
    events: Annotated[tuple[EventPattern, ...], AfterValidator(_some_events)] = ("*",)
    """fnmatch patterns on the notification kind (``watch.*``, ``alert.firing``); default all."""
    min_severity: SeverityFloor = None
    """The least severity sent; notifications without one are then not sent either."""
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    """Seconds to connect and to wait for each answer."""


class _Posting(_Notifier):
    """What the notifiers that post to a URL have."""

    url: Url | None = None
    """The URL, written in the file: only where it is no secret."""
    url_env: EnvName | None = None
    """The environment variable holding the URL, for URLs that are secrets (Slack's are)."""
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """Tries in all when the receiver answers 429 or 5xx or cannot be reached."""

    @model_validator(mode="after")
    def _one_url(self) -> _Posting:
        if (self.url is None) == (self.url_env is None):
            given = "both url and url_env" if self.url is not None else "neither url nor url_env"
            raise _invalid(
                f"needs exactly one of url (the URL) and url_env (a variable holding it); it has {given}"
            )
        return self


class WebhookConfig(_Posting):
    """A receiver of the notification's JSON form."""

    kind: Literal["webhook"]
    secret_env: EnvName | None = None
    """The environment variable holding the HMAC-SHA256 signing secret; unset sends unsigned."""
    format: WebhookFormat = "modelsteward"
    """``modelsteward`` posts the notification's own JSON form; ``alertmanager`` the payload
    Alertmanager posts to its webhook receivers, for routing built for Alertmanager."""


class SlackConfig(_Posting):
    """A Slack (or Mattermost, Rocket.Chat) incoming webhook."""

    kind: Literal["slack"]


class EmailConfig(_Notifier):
    """An SMTP server and the recipients of its messages."""

    kind: Literal["email"]
    host: Host
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Default: 587 for starttls, 465 for ssl, 25 for none."""
    security: Security = "starttls"
    sender: Address
    to: Annotated[tuple[Address, ...], Field(min_length=1)]
    username: StrictStr | None = None
    password_env: EnvName | None = None
    """The environment variable holding the password; with ``username``."""

    @model_validator(mode="after")
    def _login(self) -> EmailConfig:
        if (self.username is None) != (self.password_env is None):
            raise _invalid("needs both username and password_env to log in, or neither")
        if self.password_env is not None and self.security == "none" and not _loopback(self.host):
            raise _invalid(
                "would send its password in clear text (security: none); use starttls or ssl,"
                " or relay through the local host"
            )
        return self

    @property
    def effective_port(self) -> int:
        """The port given, or the usual one for the security chosen."""
        return DEFAULT_PORTS[self.security] if self.port is None else self.port


NotifierConfig = Annotated[WebhookConfig | SlackConfig | EmailConfig, Field(discriminator="kind")]
_KINDS: dict[str, type[BaseModel]] = {"webhook": WebhookConfig, "slack": SlackConfig, "email": EmailConfig}


class NotificationsConfig(BaseModel):
    """The notifications file: every notifier, configured once for every sender of notifications."""

    model_config = _CONFIG

    notifiers: tuple[NotifierConfig, ...]


ConfigIssue = Issue
"""One thing wrong with a notifications file or the environment it names (file ``environment``)."""


class NotifyConfigError(IssueError):
    """A notifications file (or environment) that cannot be used, with every issue found."""


def load_config(path: Path) -> NotificationsConfig:
    """Read and validate the notifications file at ``path``; raise :class:`NotifyConfigError`."""
    return parse_config(read_text(path, NotifyConfigError), filename=str(path))


def parse_config(text: str, *, filename: str) -> NotificationsConfig:
    """Validate the notifications in ``text``, naming ``filename`` in errors.

    Raise :class:`NotifyConfigError` with every issue found, each at its line and column.
    """
    document = parse_yaml(
        text, filename, empty="the file is empty; it needs a list of notifiers", error=NotifyConfigError
    )
    issues = list(document.issues)
    try:
        config = NotificationsConfig.model_validate(document.data)
    except ValidationError as error:
        issues += [_issue(detail, document) for detail in error.errors()]
    if issues:
        raise NotifyConfigError(issues)
    return config


def _issue(detail: ErrorDetails, document: Document) -> Issue:
    loc, kind = _untagged(detail["loc"])
    error = detail["type"]
    if error == "extra_forbidden":
        return document.issue(loc, _unknown_key(loc, kind), key=True)
    if error in ("union_tag_invalid", "union_tag_not_found"):
        tag = (detail.get("ctx") or {}).get("tag")
        got = "" if error == "union_tag_not_found" else f" (got {describe(tag)})"
        return document.issue((*loc, "kind"), f"{dotted(loc)}.kind must be one of {', '.join(_KINDS)}{got}")
    if error == "notify":  # raised by this module's validators: worded already, naming the value if safe
        return document.issue(loc, f"{dotted(loc) or 'the file'} {detail['msg']}")
    return document.validation_issue(detail, loc=loc)


def _untagged(loc: Loc) -> tuple[Loc, str | None]:
    """``loc`` without the notifier kind pydantic puts after the list index, and that kind."""
    if len(loc) > 2 and loc[0] == "notifiers" and isinstance(loc[1], int) and loc[2] in _KINDS:
        return (*loc[:2], *loc[3:]), str(loc[2])
    return loc, None


def _unknown_key(loc: Loc, kind: str | None) -> str:
    """``<path> is not a key of ...``, the keys allowed there, and the closest one."""
    model = NotificationsConfig if kind is None else _KINDS[kind]
    allowed = sorted(model.model_fields, key=lambda field: field != "kind")  # kind first, as written
    hint = did_you_mean(str(loc[-1]), allowed)
    owner = "the notifications file" if kind is None else f"a {kind} notifier"
    return f"{dotted(loc)} is not a key of {owner}{hint}; its keys are {', '.join(allowed)}"


def _loopback(host: str) -> bool:
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
