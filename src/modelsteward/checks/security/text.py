"""Text that is not JSON: Python source, Jinja templates, YAML configs that carry templates.

What the text is follows from its content: a ``.py`` name only settles that a parse failure is
worth reporting, since Python is what a loader would import it as.
"""

from __future__ import annotations

import re

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.code import check_python, looks_like_python
from modelsteward.checks.security.json_document import JINJA_MARKERS, check_document

# Text larger than this is not tried as Python unless named .py: parsing megabytes of a CSV or a
# vocabulary that happens to be valid Python costs far more than it can find.
MAX_GUESSED_SOURCE = 1 << 20
# YAML with anchors can be expensive to build; configs are small.
MAX_YAML_CHARS = 4 << 20
# A statement that makes text worth parsing as Python.
# site.py executes each line of a ``.pth`` path file that starts like this, at every interpreter
# start, once the file sits in site-packages.
_PTH_EXECUTED = re.compile(r"^import[ \t].*$", re.MULTILINE)
_PYTHON_HINT = re.compile(r"^(?:import |from \S+ import |def |async def |class |@|[\w.]+\()", re.MULTILINE)


def scan(data: memoryview, ctx: Context) -> None:
    """Judge text by what it is: Python source, a Jinja template, or a YAML config with templates."""
    source = bytes(data).decode("utf-8", errors="replace")
    if ctx.name.lower().endswith(".pth") and _PTH_EXECUTED.search(source):
        _check_path_file(source, ctx)
    elif ctx.name.lower().endswith(".py") or _is_python(source):
        check_python(source, ctx, at="")
    elif any(marker in source for marker in JINJA_MARKERS):
        _check_templated_text(source, ctx)


def _check_path_file(source: str, ctx: Context) -> None:
    # Only the executed lines are Python; the others are directories added to sys.path.
    lines = [m.group() for m in _PTH_EXECUTED.finditer(source)]
    ctx.report("CODE-PTH-EXEC", f"{len(lines)} line(s) run at interpreter start", evidence=lines[0][:120])
    check_python("\n".join(lines), ctx, at="")


def _is_python(source: str) -> bool:
    if len(source) > MAX_GUESSED_SOURCE or not _PYTHON_HINT.search(source):
        return False
    return looks_like_python(source)


def _check_templated_text(source: str, ctx: Context) -> None:
    # A YAML config judges its values one by one (a ``chat_template`` key, strings with Jinja);
    # anything else with Jinja markers is one template.
    from modelsteward.checks.security.templates import check_template  # noqa: PLC0415 - Jinja on demand

    document = _yaml(source)
    if isinstance(document, dict | list):
        check_document(document, ctx)
    else:
        check_template(source, ctx, at="")


def _yaml(source: str) -> object:
    if len(source) > MAX_YAML_CHARS:
        return None
    import yaml  # noqa: PLC0415 - only text with template markers is read as YAML

    try:
        return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loader
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
