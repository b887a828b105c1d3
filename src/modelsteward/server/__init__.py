"""The team server: the registry over HTTP for people and programs (``steward server``).

:func:`create_app` builds the FastAPI application from a :class:`ServerConfig`: a JSON API under
``/api/v1`` authenticated by bearer tokens with role-based permissions, admit and evaluate jobs run
in the background, and the web UI at ``/``. See docs/server.md.
"""

from modelsteward.server._app import API_PREFIX, ServerConfig, create_app
from modelsteward.server._auth import PERMISSIONS, Permission

__all__ = ["API_PREFIX", "PERMISSIONS", "Permission", "ServerConfig", "create_app"]
