"""Users, roles and API tokens: who may sign in to the server, and the secrets they sign in with.

A token's secret is ``stw_<12 hex>_<43 url-safe characters>``: the hex is the token's id, so a
secret is found by one primary-key lookup, and the 256 random bits after it are what authenticates.
Only the SHA-256 of the whole secret is stored: a stolen database yields no usable token, and a
fast hash is enough for a secret with that much entropy (slow hashes are for guessable passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelsteward.registry._schema import TokenRow, UserRow
from modelsteward.registry._values import RegistryError, RegistryInputError, Role, TokenInfo, User

PREFIX = "stw_"
_SECRET = re.compile(r"stw_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
_DOMAIN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")
_TOKEN_ID = re.compile(r"tok_[0-9a-f]{12}")
_MAX_LABEL = 100

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used`` is rewritten at most this often: a busy client must not turn reads into writes."""


def new_secret() -> tuple[str, str]:
    """A fresh ``(token id, secret)``."""
    hex_id = secrets.token_hex(6)
    # token_urlsafe(32): 32 random bytes, 43 base64url characters without padding.
    return f"tok_{hex_id}", f"{PREFIX}{hex_id}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """SHA-256 (hex) of ``secret``: what is stored and compared."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_id_of(secret: str) -> str | None:
    """The id a well-formed secret names; None for anything else."""
    match = _SECRET.fullmatch(secret)
    return None if match is None else f"tok_{match.group(1)}"


def matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored``, in time that does not depend on where they differ."""
    return hmac.compare_digest(digest(secret), stored)


def user_name(text: str) -> str:
    """``text`` if it is a valid user name."""
    if not _USER.fullmatch(text):
        raise RegistryInputError(
            f"bad user name {text!r}: use letters, digits and . _ @ + -, starting with a letter or digit"
        )
    return text


def token_id(text: str) -> str:
    """``text`` if it is a valid token id."""
    if not _TOKEN_ID.fullmatch(text):
        raise RegistryInputError(f"bad token id {text!r}: a token id is tok_ and 12 hex digits")
    return text


def token_label(text: str) -> str:
    """``text`` if it can label a token: printable, at most 100 characters."""
    if len(text) > _MAX_LABEL or not text.isprintable():
        raise RegistryInputError(f"bad token name {text[:40]!r}: at most {_MAX_LABEL} printable characters")
    return text


def role_of(value: Role | str) -> Role:
    """The role ``value`` names."""
    try:
        return Role(value)
    except ValueError:
        raise RegistryInputError(
            f"bad role {value!r}: one of {', '.join(role.value for role in Role)}"
        ) from None


def domains_for(role: Role, domains: Iterable[str]) -> tuple[str, ...]:
    """A reviewer's domains, checked, without repeats, in the order given; none for any other role."""
    chosen = tuple(dict.fromkeys(domains))
    for domain in chosen:
        if not _DOMAIN.fullmatch(domain):
            raise RegistryInputError(
                f"bad domain {domain!r}: use letters, digits and . _ -, starting with a letter"
            )
    if chosen and role is not Role.REVIEWER:
        # A domain is where a reviewer approves; on any other role it would promise a power it lacks.
        raise RegistryInputError(f"only reviewers have domains; {role.value} takes none")
    return chosen


def user_row(session: Session, name: str) -> UserRow:
    """The user ``name``, or RegistryError."""
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise RegistryError(f"no user named {name}")
    return row


def token_row(session: Session, ident: str) -> TokenRow:
    """The token ``ident``, or RegistryError."""
    row = session.get(TokenRow, token_id(ident))
    if row is None:
        raise RegistryError(f"no token {ident}")
    return row


def to_user(row: UserRow) -> User:
    """The row as a detached value."""
    return User(
        name=row.name,
        role=Role(row.role),
        domains=tuple(row.domains),
        disabled=row.disabled,
        created=row.created,
    )


def to_token(row: TokenRow) -> TokenInfo:
    """The row as a detached value."""
    return TokenInfo(
        id=row.id,
        user=row.user.name,
        name=row.name,
        created=row.created,
        expires=row.expires,
        revoked=row.revoked,
        last_used=row.last_used,
    )


def usable(row: TokenRow, now: datetime) -> bool:
    """Whether the token may authenticate at ``now``: not revoked, not expired, its user not disabled."""
    if row.revoked is not None or row.user.disabled:
        return False
    return row.expires is None or now < row.expires
