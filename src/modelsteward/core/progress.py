"""How long work says what it is doing."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]
"""Told one short message at each step (``loading acme/bert@2``, ``320/1000 rows``); the edge decides
whether anyone sees it."""
