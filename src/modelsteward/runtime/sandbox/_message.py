"""What crosses the sandbox boundary: a JSON header and named numeric arrays, nothing executable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Message:
    """One request to the worker or one reply from it."""

    header: Mapping[str, Any]
    """A JSON object (strings, numbers, booleans, null, lists and objects of them)."""
    arrays: Mapping[str, npt.NDArray[Any]] = field(default_factory=dict)
    """Named numeric arrays (bool, signed and unsigned integers, floats); never object arrays."""
