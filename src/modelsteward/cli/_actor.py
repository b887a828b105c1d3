"""Who is acting, for the audit log."""

from __future__ import annotations

import getpass


def actor(given: str | None) -> str:
    """``--actor`` when given, else the login name."""
    if given:
        return given
    try:
        return getpass.getuser()
    except OSError:  # no login name in a bare container
        return "unknown"
