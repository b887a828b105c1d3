"""The URLs notifiers post to: which are acceptable.

A Slack incoming-webhook URL is a bearer secret (its path is the token), and a webhook URL may
carry one too, so no message ever shows more of a URL than its scheme, host and port
(:func:`modelsteward._urls.shown_url` without its path).
"""

from __future__ import annotations

from urllib.parse import urlsplit


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable for posting notifications, worded to follow its name; None if fine.

    The wording never repeats the URL, which may be a secret.
    """
    if any(c.isspace() or not c.isprintable() for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
    except ValueError as error:
        return f"is not a valid URL ({error})"
    if parts.scheme not in ("http", "https"):
        return f"must be an http or https URL (got {f'{parts.scheme}:' if parts.scheme else 'no scheme'})"
    if not parts.hostname:
        return "must name a host (https://host/path)"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password; a signing secret goes in secret_env"
    return None
