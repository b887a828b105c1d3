"""References to versions (``name``, ``name@3``, ``name@production``) and the names they are made of."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelsteward.registry._values import RegistryInputError

# A model name may hold organisation parts (``org/name``), each starting with a letter or digit, so
# that no part is ``.``, ``..`` or empty: names become folders. An alias starts with a letter, so
# that ``name@3`` is always version 3 and never an alias.
_MODEL = re.compile(r"(?=.{1,200}$)[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*", re.DOTALL)
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/-]{0,99}")
_VERSION = re.compile(r"[1-9][0-9]{0,8}")
_KIND = re.compile(r"[a-z][a-z0-9-]{0,49}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference: a model, and at most one of a version number or an alias."""

    name: str
    number: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.number is not None:
            return f"{self.name}@{self.number}"
        return self.name if self.alias is None else f"{self.name}@{self.alias}"


def parse_ref(text: str) -> Ref:
    """Read ``NAME``, ``NAME@NUMBER`` or ``NAME@ALIAS``; raise RegistryInputError naming what is wrong."""
    name, at, target = text.partition("@")
    model_name(name)
    if not at:
        return Ref(name)
    if _VERSION.fullmatch(target):
        return Ref(name, number=int(target))
    if _ALIAS.fullmatch(target):
        return Ref(name, alias=target)
    raise RegistryInputError(
        f"bad reference {text!r}: after @ comes a version number (1, 2, ...) or an alias such as production"
    )


def model_name(text: str) -> str:
    """``text`` if it is a valid model name."""
    return _checked(
        text,
        _MODEL,
        "model name",
        "letters, digits and . _ -, in parts joined by / that each start with a letter or digit",
    )


def alias_name(text: str) -> str:
    """``text`` if it is a valid alias."""
    return _checked(text, _ALIAS, "alias", "letters, digits and . _ -, starting with a letter")


def tag_name(text: str) -> str:
    """``text`` if it is a valid tag."""
    return _checked(text, _TAG, "tag", "letters, digits and . _ : + / -, starting with a letter or digit")


def role_name(text: str) -> str:
    """``text`` if it is a valid approval role."""
    return _checked(text, _ALIAS, "role", "letters, digits and . _ -, starting with a letter")


def _checked(text: str, pattern: re.Pattern[str], what: str, rule: str) -> str:
    if not pattern.fullmatch(text):
        raise RegistryInputError(f"bad {what} {text!r}: use {rule}")
    return text


def document_kind(text: str) -> str:
    """``text`` if it is a valid document kind (``report``, ``model-card``, ...)."""
    return _checked(text, _KIND, "document kind", "lower-case letters, digits and -, starting with a letter")


def artifact_digest(text: str) -> str:
    """``text`` if it is an artifact store address, ``sha256:<64 hex digits>``."""
    return _checked(text, _DIGEST, "artifact digest", "sha256: and 64 lower-case hex digits")
