"""Notifications: tell people what the watch and the monitors found, through notifiers configured once.

A :class:`Notification` describes one event for every channel. :func:`load_config` reads the
notifications file (:class:`NotificationsConfig`), :func:`notifiers_from` turns it into
:class:`Notifier` values with their secrets read from the environment, and :func:`deliver` sends a
notification to each notifier that wants it, reporting one :class:`Delivery` per notifier. The
notifiers: :class:`WebhookNotifier` (signed JSON, ModelSteward's own or Alertmanager's webhook
payload, :func:`alertmanager_payload`), :class:`SlackNotifier` (Slack-compatible incoming
webhooks) and :class:`EmailNotifier` (SMTP).
"""

from modelsteward.notify._alertmanager import ZERO_TIME, alertmanager_payload
from modelsteward.notify._config import (
    ConfigIssue,
    EmailConfig,
    NotificationsConfig,
    NotifyConfigError,
    SlackConfig,
    WebhookConfig,
    load_config,
    parse_config,
)
from modelsteward.notify._deliver import Delivery, deliver, notifiers_from
from modelsteward.notify._email import EmailNotifier, email_message
from modelsteward.notify._http import HttpTarget, Retry
from modelsteward.notify._message import SCHEMA, SCHEMA_VERSION, Notification
from modelsteward.notify._notifier import Filter, Notifier, NotifyError
from modelsteward.notify._slack import SlackNotifier, slack_payload
from modelsteward.notify._webhook import WebhookFormat, WebhookNotifier, signature

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "ZERO_TIME",
    "ConfigIssue",
    "Delivery",
    "EmailConfig",
    "EmailNotifier",
    "Filter",
    "HttpTarget",
    "Notification",
    "NotificationsConfig",
    "Notifier",
    "NotifyConfigError",
    "NotifyError",
    "Retry",
    "SlackConfig",
    "SlackNotifier",
    "WebhookConfig",
    "WebhookFormat",
    "WebhookNotifier",
    "alertmanager_payload",
    "deliver",
    "email_message",
    "load_config",
    "notifiers_from",
    "parse_config",
    "signature",
    "slack_payload",
]
