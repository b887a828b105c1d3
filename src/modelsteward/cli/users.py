"""``steward users``: the people and services the server knows, and their roles."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_OK
from modelsteward.cli.registry import cells, new_table, print_json, print_table, when, with_registry

if TYPE_CHECKING:
    from modelsteward.client import RegistryAPI
    from modelsteward.registry import User

ROLES = ("viewer", "submitter", "reviewer", "owner", "admin")
"""The values of :class:`modelsteward.registry.Role`, spelt out so that ``--help`` needs no registry."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``users`` and its subcommands to the command parsers."""
    parser = commands.add_parser(
        "users",
        help="add, list and disable users; give them roles",
        description="Users of the server and their roles (docs/identity.md). A reviewer approves in "
        "the domains given with --domain (security, legal, ethics, ...). The database is "
        "STEWARD_DATABASE_URL, or SQLite under STEWARD_HOME.",
        epilog="exit status: 0 done; 1 unknown or existing user; 4 bad usage",
    )
    sub = parser.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--actor", help="who is acting, for the audit log (default: the login name)")
    role = argparse.ArgumentParser(add_help=False)
    role.add_argument("--role", required=True, choices=ROLES, help="what the user may do")
    role.add_argument(
        "--domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="a domain a reviewer approves in (repeat for several; reviewers only)",
    )

    command = sub.add_parser("add", parents=[acting, role], help="add a user")
    command.add_argument("name", metavar="NAME")
    command.set_defaults(run=with_registry(_add))
    command = sub.add_parser("list", help="every user")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(run=with_registry(_list))
    command = sub.add_parser("set-role", parents=[acting, role], help="give a user another role")
    command.add_argument("name", metavar="NAME")
    command.set_defaults(run=with_registry(_set_role))
    command = sub.add_parser("disable", parents=[acting], help="disable a user: their tokens stop working")
    command.add_argument("name", metavar="NAME")
    command.set_defaults(run=with_registry(_disable))


def _add(registry: RegistryAPI, args: argparse.Namespace) -> int:
    user = registry.add_user(args.name, args.role, domains=args.domain, actor=actor(args.actor))
    print(f"user {user.name} added as {_role(user)}")
    return EXIT_OK


def _list(registry: RegistryAPI, args: argparse.Namespace) -> int:
    users = registry.users()
    if args.json:
        return print_json(users)
    table = new_table(f"{len(users)} users", "name", "role", "domains", "disabled", "created (UTC)")
    for user in users:
        disabled = "yes" if user.disabled else ""
        table.add_row(*cells(user.name, user.role, ", ".join(user.domains), disabled, when(user.created)))
    return print_table(table)


def _set_role(registry: RegistryAPI, args: argparse.Namespace) -> int:
    user = registry.set_role(args.name, args.role, domains=args.domain, actor=actor(args.actor))
    print(f"user {user.name} is {_role(user)}")
    return EXIT_OK


def _disable(registry: RegistryAPI, args: argparse.Namespace) -> int:
    user = registry.disable_user(args.name, actor=actor(args.actor))
    print(f"user {user.name} disabled: their tokens no longer authenticate")
    return EXIT_OK


def _role(user: User) -> str:
    return f"{user.role} in {', '.join(user.domains)}" if user.domains else str(user.role)
