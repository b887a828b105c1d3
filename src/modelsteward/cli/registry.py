"""``steward registry``: registered models and their versions, aliases, tags and approvals."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward._text import printable
from modelsteward.cli._actor import actor
from modelsteward.cli._exit import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from modelsteward.cli._server import server_of, session
from modelsteward.core import Manifest

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from modelsteward.client import RegistryAPI
    from modelsteward.registry import VersionDiff, VersionInfo

Action = Callable[["RegistryAPI", argparse.Namespace], int]

EXIT_NOT_FOUND = EXIT_FINDINGS
"""Unknown model, version or alias; an archived version; a broken audit chain."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``registry`` and its subcommands to the command parsers."""
    parser = commands.add_parser(
        "registry",
        help="list, show and compare registered models; move aliases; archive, tag and approve versions",
        description="Registered models and their versions. A REF is NAME (its latest version), NAME@N "
        "or NAME@ALIAS. The database is STEWARD_DATABASE_URL, or SQLite under STEWARD_HOME.",
        epilog="exit status: 0 done; 1 unknown or archived model, version or alias; 4 bad usage",
    )
    sub = parser.add_subparsers(dest="registry_command", metavar="COMMAND", required=True)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--actor", help="who is acting, for the audit log (default: the login name)")
    promoting = argparse.ArgumentParser(add_help=False)
    promoting.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy YAML whose promotion section says what approvals ALIAS needs (default: the built-in "
        "policy, which needs none)",
    )

    command = sub.add_parser("list", parents=[as_json], help="every registered model")
    command.set_defaults(run=with_registry(_list))
    command = sub.add_parser(
        "show", parents=[as_json], help="one version: files, verdict, documents, approvals"
    )
    command.add_argument("ref", metavar="REF")
    command.set_defaults(run=with_registry(_show))
    command = sub.add_parser(
        "evaluations", parents=[as_json], help="a version's evaluations made with steward evaluate"
    )
    command.add_argument("ref", metavar="REF")
    command.set_defaults(run=with_registry(_evaluations))
    command = sub.add_parser("diff", parents=[as_json], help="how version B differs from version A")
    command.add_argument("a", metavar="A")
    command.add_argument("b", metavar="B")
    command.set_defaults(run=with_registry(_diff))

    alias = sub.add_parser("alias", help="point an alias (such as production) at a version, or remove it")
    alias_sub = alias.add_subparsers(dest="alias_command", metavar="COMMAND", required=True)
    command = alias_sub.add_parser(
        "set",
        parents=[acting, promoting],
        help="point NAME@ALIAS at VERSION",
        description="Point NAME@ALIAS at VERSION. The policy's promotion section can require approvals in "
        "reviewer domains first (docs/identity.md).",
    )
    command.add_argument("name", metavar="NAME")
    command.add_argument("alias", metavar="ALIAS")
    command.add_argument("version", type=_version, metavar="VERSION")
    command.set_defaults(run=with_registry(_alias_set))
    command = alias_sub.add_parser("remove", parents=[acting], help="remove NAME@ALIAS")
    command.add_argument("name", metavar="NAME")
    command.add_argument("alias", metavar="ALIAS")
    command.set_defaults(run=with_registry(_alias_remove))
    command = sub.add_parser(
        "rollback",
        parents=[acting, promoting],
        help="point an alias back at the version it pointed to before",
        description="Point NAME@ALIAS back at the version it pointed to before its latest move. That "
        "version needs the approvals the policy's promotion section names, as for alias set.",
    )
    command.add_argument("name", metavar="NAME")
    command.add_argument("alias", metavar="ALIAS")
    command.set_defaults(run=with_registry(_rollback))

    command = sub.add_parser("archive", parents=[acting], help="archive a version (NAME@N) or a model (NAME)")
    command.add_argument("ref", metavar="REF")
    command.set_defaults(run=with_registry(_archive))
    for name, doing in (("tag", "label a version"), ("untag", "take a label off a version")):
        command = sub.add_parser(name, parents=[acting], help=doing)
        command.add_argument("ref", metavar="REF")
        command.add_argument("tag", metavar="TAG")
        command.set_defaults(run=with_registry(_tag if name == "tag" else _untag))
    command = sub.add_parser("approve", parents=[acting], help="sign a version off in a role")
    command.add_argument("ref", metavar="REF")
    command.add_argument(
        "--role", required=True, help="the role you approve in (security, legal, owner, ...)"
    )
    command.add_argument("--comment", default="", help="why, or under what conditions")
    command.set_defaults(run=with_registry(_approve))
    command = sub.add_parser(
        "reject", parents=[acting], help="turn a version down in a role: it blocks promotion"
    )
    command.add_argument("ref", metavar="REF")
    command.add_argument("--role", required=True, help="the role you reject in (security, legal, ...)")
    command.add_argument("--comment", default="", help="why")
    command.set_defaults(run=with_registry(_reject))


class RegistryCommand:
    """A command run on a registry: the workspace's own, or with ``--server URL`` (or
    ``STEWARD_SERVER``) a team server's, authenticated by ``STEWARD_TOKEN``. Errors become messages."""

    def __init__(self, action: Action) -> None:
        self._action = action

    def __call__(self, args: argparse.Namespace) -> int:
        # Imported here so that `steward --help` and `steward scan` never load the registry stack.
        from modelsteward.registry import RegistryError, RegistryInputError  # noqa: PLC0415

        try:
            with _open(args) as registry:
                return self._action(registry, args)
        except RegistryInputError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except RegistryError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_NOT_FOUND


def with_registry(action: Action) -> RegistryCommand:
    """``action`` as a command that opens the registry, local or remote, and runs on it."""
    return RegistryCommand(action)


def _open(args: argparse.Namespace) -> AbstractContextManager[RegistryAPI]:
    server = server_of(args)
    if server is None:
        from modelsteward.registry import Registry  # noqa: PLC0415
        from modelsteward.settings import Settings  # noqa: PLC0415

        return Registry.open(Settings.from_env().database_url)
    from modelsteward.client import RemoteRegistry  # noqa: PLC0415

    return RemoteRegistry(session(args, server))


def _version(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a version number, 1 or more (got {text!r})")
    return int(text)


def _list(registry: RegistryAPI, args: argparse.Namespace) -> int:
    models = registry.list_models()
    if args.json:
        return print_json(models)
    table = new_table(f"{len(models)} models", "name", "versions", "latest", "verdict", "aliases", "archived")
    for model in models:
        aliases = ", ".join(f"{alias}={number}" for alias, number in model.aliases.items())
        latest = "" if model.latest is None else model.latest
        table.add_row(
            *cells(model.name, model.versions, latest, model.verdict or "", aliases, _yes(model.archived))
        )
    return print_table(table)


def _show(registry: RegistryAPI, args: argparse.Namespace) -> int:
    version = registry.get(args.ref)
    if args.json:
        return print_json(version)
    print_table(_version_table(version))
    if version.documents:
        table = new_table("documents", "kind", "artifact")
        for kind, digest in version.documents.items():
            table.add_row(*cells(kind, digest))
        print_table(table)
    if version.approvals:
        table = new_table("approvals", "role", "by", "at (UTC)", "comment")
        for approval in version.approvals:
            table.add_row(*cells(approval.role, approval.actor, when(approval.at), approval.comment))
        print_table(table)
    return EXIT_OK


def _evaluations(registry: RegistryAPI, args: argparse.Namespace) -> int:
    records = registry.evaluations(args.ref)
    if args.json:
        return print_json(records)
    table = new_table(
        f"{len(records)} evaluations", "at (UTC)", "by", "task", "data", "rows", "isolation", "metrics"
    )
    for record in records:
        data = record.record
        metrics = ", ".join(
            f"{name} {estimate['value']:.3g}"
            for name, estimate in data.get("metrics", {}).items()
            if estimate.get("value") is not None
        )
        dataset = data.get("dataset", {})
        table.add_row(
            *cells(
                when(record.at),
                record.actor,
                record.task,
                record.dataset_digest.removeprefix("sha256:")[:12],
                dataset.get("rows", ""),
                data.get("isolation", ""),
                metrics,
            )
        )
    return print_table(table)


def _version_table(version: VersionInfo) -> Table:
    table = new_table(version.ref, "", "")
    table.show_header = False
    rows = {
        "verdict": version.verdict,
        "source": version.source,
        "revision": version.revision or "",
        "manifest": version.manifest_digest,
        "files": f"{len(version.manifest.files)} ({version.manifest.size} bytes)",
        "created (UTC)": when(version.created),
        "derived from": version.derived_from or "",
        "aliases": ", ".join(version.aliases),
        "tags": ", ".join(version.tags),
        "archived": _yes(version.archived),
    }
    for field, value in rows.items():
        table.add_row(*cells(field, value))
    return table


def _diff(registry: RegistryAPI, args: argparse.Namespace) -> int:
    diff = registry.diff(args.a, args.b)
    if args.json:
        return print_json(diff)
    print_table(_diff_table(diff))
    return EXIT_OK


def _diff_table(diff: VersionDiff) -> Table:
    table = new_table(f"{diff.a} -> {diff.b}", "", "", "")
    table.show_header = False
    before, after = diff.verdicts
    table.add_row(*cells("verdict", before, after))
    table.add_row(*cells("licences", ", ".join(diff.licenses[0]), ", ".join(diff.licenses[1])))
    marks = (("added", "+", diff.added), ("removed", "-", diff.removed), ("changed", "~", diff.changed))
    for what, mark, paths in marks:
        for path in paths:
            table.add_row(*cells(what, mark, path))
    if diff.same_files:
        table.add_row(*cells("files", "the same", ""))
    return table


def _required_approvals(args: argparse.Namespace) -> tuple[str, ...]:
    """The reviewer domains ``--policy`` requires before ``args.alias`` moves (RegistryInputError for a
    bad policy file)."""
    from modelsteward.policy import PolicyError, default_policy, load_policy  # noqa: PLC0415
    from modelsteward.registry import RegistryInputError  # noqa: PLC0415

    try:
        policy = default_policy() if args.policy is None else load_policy(args.policy)
    except PolicyError as error:
        raise RegistryInputError(str(error)) from None
    return policy.required_approvals(args.alias)


def _alias_set(registry: RegistryAPI, args: argparse.Namespace) -> int:
    required = _required_approvals(args)
    registry.set_alias(
        args.name, args.alias, args.version, actor=actor(args.actor), required_approvals=required
    )
    print(f"{args.name}@{args.alias} -> {args.name}@{args.version}")
    return EXIT_OK


def _alias_remove(registry: RegistryAPI, args: argparse.Namespace) -> int:
    registry.remove_alias(args.name, args.alias, actor=actor(args.actor))
    print(f"{args.name}@{args.alias} removed")
    return EXIT_OK


def _rollback(registry: RegistryAPI, args: argparse.Namespace) -> int:
    required = _required_approvals(args)
    version = registry.rollback(args.name, args.alias, actor=actor(args.actor), required_approvals=required)
    print(f"{args.name}@{args.alias} -> {version.ref}")
    return EXIT_OK


def _archive(registry: RegistryAPI, args: argparse.Namespace) -> int:
    registry.archive(args.ref, actor=actor(args.actor))
    print(f"{args.ref} archived")
    return EXIT_OK


def _tag(registry: RegistryAPI, args: argparse.Namespace) -> int:
    registry.tag(args.ref, args.tag, actor=actor(args.actor))
    print(f"{args.ref} tagged {args.tag}")
    return EXIT_OK


def _untag(registry: RegistryAPI, args: argparse.Namespace) -> int:
    registry.untag(args.ref, args.tag, actor=actor(args.actor))
    print(f"{args.ref} untagged {args.tag}")
    return EXIT_OK


def _approve(registry: RegistryAPI, args: argparse.Namespace) -> int:
    approval = registry.approve(args.ref, role=args.role, actor=actor(args.actor), comment=args.comment)
    print(f"{args.ref} approved by {approval.actor} as {approval.role}")
    return EXIT_OK


def _reject(registry: RegistryAPI, args: argparse.Namespace) -> int:
    rejection = registry.reject(args.ref, role=args.role, actor=actor(args.actor), comment=args.comment)
    print(f"{args.ref} rejected by {rejection.actor} as {rejection.role}")
    return EXIT_OK


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def when(moment: datetime) -> str:
    """A UTC time for a table: to the second, without the zone, which the column header gives."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def as_json(value: Any) -> Any:
    """A registry value (dataclasses, manifests, times, enums) as JSON-ready data."""
    if isinstance(value, Manifest):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: as_json(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value


def print_json(value: Any) -> int:
    """Print ``value`` as indented JSON; the command succeeded."""
    print(json.dumps(as_json(value), indent=2, ensure_ascii=False))
    return EXIT_OK


def new_table(title: str, *columns: str) -> Table:
    """A rich table whose cells wrap rather than cut."""
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def cells(*values: object) -> list[Text]:
    """Table cells shown as they are: names come from models, so no markup or control character acts."""
    from rich.text import Text  # noqa: PLC0415

    return [Text(printable(str(value), len(str(value)))) for value in values]


def print_table(table: Table) -> int:
    """Print ``table`` on stdout; the command succeeded."""
    from rich.console import Console  # noqa: PLC0415

    Console().print(table)
    return EXIT_OK
