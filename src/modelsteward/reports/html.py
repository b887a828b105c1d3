"""The admission as one self-contained HTML page for a compliance reviewer.

Decision first, then the model's identity, every check and the file manifest. The page loads nothing:
styles are inline, there are no scripts, and a Content-Security-Policy forbids fetching anything, so a
report opened from an archive years later looks the same. Everything the model supplied (names,
paths, messages, licence text) is escaped by Jinja's autoescaping. The performance and fairness checks
are drawn with the sections of the evaluation page (``_evaluation.html.j2``), charts included.
"""

from __future__ import annotations

from modelsteward import __version__
from modelsteward.core import Admission, Severity
from modelsteward.reports._templates import environment
from modelsteward.reports.admission_json import admission_to_json

_TEMPLATE = "admission.html.j2"


def render_html(admission: Admission) -> str:
    """The report page for ``admission``."""
    record = admission_to_json(admission)
    for check in record["checks"]:
        # Most severe first: a reviewer reads down until the findings stop mattering.
        check["findings"].sort(key=lambda f: (-Severity.parse(f["severity"]), f["path"], f["location"]))
    files = [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in admission.snapshot.manifest.files]
    return environment().get_template(_TEMPLATE).render(record=record, files=files, tool_version=__version__)
