"""``steward server``: the team server (JSON API and web UI) over the workspace's registry."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from modelsteward.cli._exit import EXIT_ERROR, EXIT_OK, EXIT_USAGE


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``server`` to the command parsers."""
    parser = commands.add_parser(
        "server",
        help="run the team server: the registry's JSON API with tokens and roles, jobs, and the web UI",
        description=(
            "Serve the registry ($STEWARD_DATABASE_URL, or SQLite in $STEWARD_HOME) over HTTP until "
            "interrupted: the JSON API under /api/v1 (bearer tokens from `steward tokens create`, "
            "permissions by role), admit and evaluate jobs, and the web UI at /. Exit status: 0 stopped, "
            "2 the registry or the address could not be used, 4 bad usage. See docs/server.md."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on (8700)")
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="policy for admit jobs and promotions (default: built-in)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (1); each holds its own pool"
    )
    parser.add_argument("--no-web", action="store_true", help="serve the JSON API only")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=1 << 20,
        metavar="N",
        help="largest request body, API and web forms alike; larger ones get 413 (1048576)",
    )
    levels = ("critical", "error", "warning", "info", "debug")
    parser.add_argument("--log-level", default="info", choices=levels)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the registry and policy once, then serve until interrupted."""
    import uvicorn  # noqa: PLC0415 -- only the server needs it

    from modelsteward.policy import PolicyError, load_policy  # noqa: PLC0415
    from modelsteward.registry import Registry, RegistryError  # noqa: PLC0415
    from modelsteward.server._app import MAX_BODY_ENV, POLICY_ENV, WEB_ENV  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    if args.workers < 1 or not 0 < args.port < 65536:
        print("error: --workers must be at least 1 and --port between 1 and 65535", file=sys.stderr)
        return EXIT_USAGE
    if args.max_body_bytes < 1:
        print(f"error: --max-body-bytes must be at least 1 (got {args.max_body_bytes})", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.policy is not None:
            load_policy(args.policy)
        # Opened once here, so that the schema is migrated before the workers start and a bad URL is
        # told once, not by every worker.
        Registry.open(Settings.from_env().database_url).close()
    except PolicyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    # The workers are separate processes that import the app by name: they read their settings here.
    if args.policy is not None:
        os.environ[POLICY_ENV] = str(args.policy.absolute())
    os.environ[WEB_ENV] = "0" if args.no_web else "1"
    os.environ[MAX_BODY_ENV] = str(args.max_body_bytes)
    try:
        uvicorn.run(
            "modelsteward.server._app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=False,
        )
    except (OSError, SystemExit) as error:
        if isinstance(error, SystemExit) and error.code in (None, 0):
            return EXIT_OK
        print(f"error: cannot serve on {args.host}:{args.port}: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK
