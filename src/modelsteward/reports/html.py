"""The admission as one self-contained HTML page for a compliance reviewer.

Decision first, then the model's identity, every check and the file manifest. The page loads nothing:
styles are inline, there are no scripts, and a Content-Security-Policy forbids fetching anything, so a
report opened from an archive years later looks the same. Everything the model supplied (names,
paths, messages, licence text) is escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2

from modelsteward import __version__
from modelsteward.core import Admission, Severity
from modelsteward.data import FOLDER
from modelsteward.reports.admission_json import admission_to_json

_TEMPLATE = "admission.html.j2"


def render_html(admission: Admission) -> str:
    """The report page for ``admission``."""
    record = admission_to_json(admission)
    for check in record["checks"]:
        # Most severe first: a reviewer reads down until the findings stop mattering.
        check["findings"].sort(key=lambda f: (-Severity.parse(f["severity"]), f["path"], f["location"]))
    files = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in admission.snapshot.manifest.files]
    return _environment().get_template(_TEMPLATE).render(record=record, files=files, tool_version=__version__)


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FOLDER / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["as_json"] = _as_json
    return environment


def _as_json(value: Any) -> str:
    """A data value of a check the page has no layout for, as compact JSON (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
