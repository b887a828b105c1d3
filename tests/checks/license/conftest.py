"""Model cards for the licence tests; snapshots come from tests/checks/conftest.py."""

from __future__ import annotations


def card(metadata: str, body: str = "# A model\n\nIt embeds sentences.\n") -> str:
    """A model card: ``metadata`` (YAML) between ``---`` fences, then ``body``."""
    return f"---\n{metadata.strip()}\n---\n{body}"
