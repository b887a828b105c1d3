"""A notification most tests send: an advisory against a registered model version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelsteward.core import Severity
from modelsteward.notify import Notification


@pytest.fixture
def notification() -> Notification:
    return Notification(
        kind="watch.vulnerability",
        title="torch 2.1.0 in org/bert@3 has a known vulnerability",
        text="GHSA-xxxx allows code execution when loading a crafted file.\nUpgrade to 2.2.0.",
        subject="org/bert@3",
        at=datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC),
        severity=Severity.HIGH,
        facts={"package": "torch 2.1.0", "advisory": "GHSA-xxxx", "fixed in": "2.2.0"},
        link="https://steward.example.internal/models/org/bert/3?tab=deps&x=1",
    )
