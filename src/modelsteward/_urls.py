"""How a URL is shown in messages, logs and the audit log: without the parts that may be secrets."""

from __future__ import annotations

from urllib.parse import urlsplit


def shown_url(url: str, *, path: bool = False) -> str:
    """``url`` without its user name, password, query and fragment: ``scheme://host[:port]/path``.

    Without ``path`` the path is shown as ``/…``, for URLs whose path is itself a secret (a Slack
    incoming webhook's). Never raises: a URL that cannot be split shows only its scheme.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ in the host, or a host that NFKC would change
        return f"{url.partition(':')[0]}://…"
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path if path else '/…'}"
