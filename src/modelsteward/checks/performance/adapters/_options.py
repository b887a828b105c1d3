"""An adapter's options: JSON values from the user, read with their types checked."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.checks.performance.adapters._base import AdapterError


@dataclass(frozen=True, slots=True)
class Options:
    """The options one adapter was given; each getter checks the type and names the option if it is wrong."""

    adapter: str
    """The adapter they are for, named in every error."""
    values: Mapping[str, Any]

    @classmethod
    def read(cls, adapter: str, values: Mapping[str, Any], known: frozenset[str]) -> Options:
        """Take ``values``, refusing names the adapter does not know (a typo must not pass silently)."""
        unknown = sorted(set(values) - known)
        if unknown:
            raise AdapterError(
                f"the {adapter} adapter has no option {', '.join(map(repr, unknown))} "
                f"(it knows {', '.join(sorted(known)) or 'none'})"
            )
        return cls(adapter, values)

    def _wrong(self, name: str, expected: str) -> AdapterError:
        return AdapterError(f"{self.adapter} option {name!r} must be {expected} (got {self.values[name]!r})")

    def integer(self, name: str, default: int, minimum: int = 1) -> int:
        """An integer of at least ``minimum``."""
        value = self.values.get(name, default)
        if type(value) is not int or value < minimum:
            raise self._wrong(name, f"an integer >= {minimum}")
        return value

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        """A finite number of at least ``minimum``."""
        value = self.values.get(name, default)
        if type(value) not in (int, float) or not math.isfinite(value) or value < minimum:
            raise self._wrong(name, f"a number >= {minimum}")
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        """true or false."""
        value = self.values.get(name, default)
        if type(value) is not bool:
            raise self._wrong(name, "true or false")
        return value

    def text(self, name: str) -> str | None:
        """A non-empty string, or None when the option is absent."""
        value = self.values.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise self._wrong(name, "a non-empty string")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        """A list of distinct non-empty strings; empty when the option is absent."""
        value = self.values.get(name, [])
        if (
            not isinstance(value, list)
            or not all(isinstance(item, str) and item for item in value)
            or len(set(value)) != len(value)
        ):
            raise self._wrong(name, "a list of distinct non-empty strings")
        return tuple(value)
