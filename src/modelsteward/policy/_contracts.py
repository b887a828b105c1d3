"""The facts each check reports in its result's ``data``, as far as the policy reads them.

Read through these models so that a result that breaks its contract becomes a reason to review,
never a traceback or a silent pass.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_CONFIG = ConfigDict(extra="ignore", frozen=True)


class Incomplete(BaseModel):
    """A file the security scan could not read to the end."""

    model_config = _CONFIG

    path: str
    reasons: tuple[str, ...]


class SecurityData(BaseModel):
    """``data`` of the security check."""

    model_config = _CONFIG

    incomplete: tuple[Incomplete, ...]


class Signature(BaseModel):
    """The publisher's signature as the integrity check found it."""

    model_config = _CONFIG

    status: Literal["absent", "verified", "mismatch", "unverified", "invalid"]
    path: str | None
    detail: str


class IntegrityData(BaseModel):
    """``data`` of the integrity check."""

    model_config = _CONFIG

    upstream_signature: Signature


class FoundLicense(BaseModel):
    """A licence id and where it was declared."""

    model_config = _CONFIG

    id: str
    where: str


class Obligation(BaseModel):
    """A condition a licence puts on the enterprise."""

    model_config = _CONFIG

    id: str
    text: str


class LicenseData(BaseModel):
    """``data`` of the license check."""

    model_config = _CONFIG

    licenses: tuple[FoundLicense, ...]
    license_class: str = Field(alias="class")
    ids: tuple[str, ...]
    known: bool
    conflict: bool
    conflict_detail: str
    obligations: tuple[Obligation, ...]


class DocumentationData(BaseModel):
    """``data`` of the documentation check."""

    model_config = _CONFIG

    card: str | None
    sections: dict[str, bool]
