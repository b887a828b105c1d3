"""Registry fixtures: every test runs on SQLite and on PostgreSQL (``database_url``, tests/conftest.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import pytest

from modelsteward.registry import Registration, Registry
from tests.registry._samples import register_sample


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    """An open registry on an empty database."""
    with Registry.open(database_url) as opened:
        yield opened


Admit = Callable[..., Registration]


@pytest.fixture
def admit(registry: Registry) -> Admit:
    """Register sample content in ``registry``: ``admit("m", b"weights", verdict=Verdict.REVIEW)``."""
    return functools.partial(register_sample, registry)
