"""``steward tokens``: API tokens for the server, issued to users, listed and revoked."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_OK
from modelsteward.cli.registry import cells, new_table, print_json, print_table, when, with_registry

if TYPE_CHECKING:
    from modelsteward.client import RegistryAPI
    from modelsteward.registry import TokenInfo

DEFAULT_DAYS = 90


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tokens`` and its subcommands to the command parsers."""
    parser = commands.add_parser(
        "tokens",
        help="issue, list and revoke users' API tokens",
        description="API tokens authenticate a user to the server (docs/identity.md). A token's secret "
        "is printed once, when it is created; the registry keeps only its SHA-256.",
        epilog="exit status: 0 done; 1 unknown user or token, or a disabled user; 4 bad usage",
    )
    sub = parser.add_subparsers(dest="tokens_command", metavar="COMMAND", required=True)
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--actor", help="who is acting, for the audit log (default: the login name)")

    command = sub.add_parser(
        "create",
        parents=[acting],
        help="issue a token to USER and print its secret, once",
        description="Issue a token to USER. The secret alone goes to standard output, so that a script "
        "can capture it; it cannot be shown again.",
    )
    command.add_argument("user", metavar="USER")
    command.add_argument("--name", default="", metavar="LABEL", help="a label, such as ci or laptop")
    command.add_argument(
        "--expires-in",
        type=_days,
        default=DEFAULT_DAYS,
        metavar="DAYS",
        help=f"days until it expires (default {DEFAULT_DAYS}; 0: never)",
    )
    command.set_defaults(run=with_registry(_create))
    command = sub.add_parser("list", help="tokens (of USER only, when given), without their secrets")
    command.add_argument("user", nargs="?", metavar="USER")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=with_registry(_list))
    command = sub.add_parser("revoke", parents=[acting], help="revoke a token for good")
    command.add_argument("id", metavar="ID", help="the token's id (tok_...)")
    command.set_defaults(run=with_registry(_revoke))


def _days(text: str) -> int:
    if not text.isdigit() or int(text) > 36_500:
        raise argparse.ArgumentTypeError(f"must be a number of days from 0 to 36500 (got {text!r})")
    return int(text)


def _create(registry: RegistryAPI, args: argparse.Namespace) -> int:
    expires = None if args.expires_in == 0 else datetime.now(UTC) + timedelta(days=args.expires_in)
    issued = registry.issue_token(args.user, name=args.name, expires=expires, actor=actor(args.actor))
    expiry = issued.info.expires
    until = "never expires" if expiry is None else f"expires {when(expiry)} UTC"
    print(
        f"token {issued.info.id} for {issued.info.user} ({until}); the secret below is shown only now",
        file=sys.stderr,
    )
    print(issued.secret)
    return EXIT_OK


def _list(registry: RegistryAPI, args: argparse.Namespace) -> int:
    tokens = registry.tokens(args.user)
    if args.json:
        return print_json(tokens)
    now = datetime.now(UTC)
    table = new_table(
        f"{len(tokens)} tokens", "id", "user", "name", "created (UTC)", "expires", "last used", "state"
    )
    for token in tokens:
        table.add_row(
            *cells(
                token.id,
                token.user,
                token.name,
                when(token.created),
                "never" if token.expires is None else when(token.expires),
                "" if token.last_used is None else when(token.last_used),
                _state(token, now),
            )
        )
    return print_table(table)


def _revoke(registry: RegistryAPI, args: argparse.Namespace) -> int:
    token = registry.revoke_token(args.id, actor=actor(args.actor))
    print(f"token {token.id} of {token.user} revoked")
    return EXIT_OK


def _state(token: TokenInfo, now: datetime) -> str:
    if token.revoked is not None:
        return "revoked"
    if token.expires is not None and token.expires <= now:
        return "expired"
    return "active"
