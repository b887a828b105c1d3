"""Data files shipped with the package: rule catalogue, allowlists, tables. Read once, on first use."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent
"""Where the data files lie (the package is always installed as plain files)."""


@functools.cache
def load_yaml(resource: str) -> Any:
    """The parsed YAML file ``resource`` (a path under ``modelsteward/data``), cached.

    The result is shared between callers: treat it as read-only.
    """
    import yaml  # noqa: PLC0415 - most scans never read a data file; keep start-up short

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (FOLDER / resource).read_text(encoding="utf-8")
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, C or Python
