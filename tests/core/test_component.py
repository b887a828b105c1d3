"""Components: no name or version longer than the registry stores."""

from __future__ import annotations

import pytest

from modelsteward.core import Component, Origin
from modelsteward.core.component import MAX_NAME, MAX_VERSION, length_problem


def test_a_component_at_the_bounds_is_recorded() -> None:
    component = Component("a" * MAX_NAME, Origin.REQUIREMENT, version="1" * MAX_VERSION)
    assert (len(component.name), len(component.version or "")) == (200, 100)
    assert length_problem(component.name, component.version) is None


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("a" * 201, None, "component name has 201 characters, more than the 200 recorded"),
        ("numpy", "1" * 101, "component version has 101 characters, more than the 100 recorded"),
    ],
)
def test_a_longer_name_or_version_is_refused(name: str, version: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        Component(name, Origin.ENVIRONMENT, version=version)
