"""What of a prediction is logged: a deterministic sample of requests, and redacted input fields.

Shared by the server and the SDK, so that both keep the same requests and hide fields the same way.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection

from modelsteward.monitoring._event import Event

REDACTED = "[redacted]"
"""What a redacted input's value is replaced with: the column stays, so a reader sees it was there."""


def sampled(request_id: str, rate: float) -> bool:
    """Whether ``request_id`` falls in the logged share ``rate`` (0 to 1).

    Decided by a hash of the id, so every process agrees and a retried request is kept or left alike.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"the sample rate must lie between 0 and 1 (got {rate:g})")
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2.0**64


def redact(event: Event, fields: Collection[str]) -> Event:
    """``event`` with the values of the inputs named in ``fields`` replaced by :data:`REDACTED`."""
    if not any(name in fields for name in event.inputs):
        return event
    inputs = {name: REDACTED if name in fields else value for name, value in event.inputs.items()}
    return dataclasses.replace(event, inputs=inputs)
