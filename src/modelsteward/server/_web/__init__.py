"""The team server's web UI: server-rendered pages for people, beside the JSON API for programs.

:func:`web_routes` gives the pages as a router that ``create_app`` mounts at ``/``; the templates,
the style sheet and the vendored scripts (htmx, Chart.js; see static/vendor/README.md) ship in this
package. See docs/server.md.
"""

from modelsteward.server._web._routes import AdmitRunner, web_routes

__all__ = ["AdmitRunner", "web_routes"]
