"""``steward serve``: a registered version, verified, sandboxed and behind a JSON predict API."""

from __future__ import annotations

import argparse
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from modelsteward.cli import _monitor_options
from modelsteward.cli._exit import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from modelsteward.monitoring import DriftSettings, EventStore, Reference, WindowReport
    from modelsteward.runtime.serving import Deployment, ServingMetrics
    from modelsteward.settings import Settings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` to the command parsers."""
    parser = commands.add_parser(
        "serve",
        help="serve a registered version over HTTP, sandboxed, with metrics and prediction logging",
        description=(
            "Verify the stored files of NAME@ALIAS or NAME@VERSION against its registered manifest, load it "
            "in the sandboxed worker and serve POST /v1/predict, GET /v1/model, /healthz, /readyz and "
            "/metrics until interrupted; every prediction is logged as an event. A tampered version is not "
            "served. Exit status: 0 stopped cleanly, 1 the files differ from the manifest, 2 the version "
            "could not be found or loaded or the address not listened on, 4 bad usage. See docs/serving.md."
        ),
    )
    parser.add_argument("ref", metavar="NAME@ALIAS|VERSION")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--events", type=Path, metavar="DIR", help="event store (default: $STEWARD_HOME/events)"
    )
    parser.add_argument("--no-events", action="store_true", help="log no prediction events")
    parser.add_argument(
        "--sample-rate", type=float, default=1.0, metavar="R", help="share of requests logged, 0 to 1 (1)"
    )
    parser.add_argument(
        "--redact", action="append", default=[], metavar="FIELD", help="input field never stored (repeatable)"
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=1 << 20, metavar="N", help="largest predict body (1048576)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per predict request (30)"
    )
    parser.add_argument(
        "--adapter", help="sklearn, onnx, transformers, sentence-transformers (default: by content)"
    )
    parser.add_argument(
        "--isolation", choices=("bubblewrap", "unshare", "none"), help="default: the strongest here"
    )
    parser.add_argument("--no-sandbox", action="store_true", help="allow running the model without isolation")
    parser.add_argument(
        "--monitor-every",
        type=_monitor_options.duration,
        default=timedelta(minutes=1),
        metavar="INTERVAL",
        help="how often the KPI and drift gauges of /metrics are measured (1m)",
    )
    parser.add_argument(
        "--monitor-window",
        type=_monitor_options.duration,
        default=timedelta(minutes=5),
        metavar="WINDOW",
        help="the window they are measured over, ending at each measurement (5m)",
    )
    _monitor_options.add_drift_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Verify, load and serve ``args.ref`` until interrupted."""
    import uvicorn  # noqa: PLC0415 - heavy; only when serving

    from modelsteward.monitoring import DriftSettingsError, MonitorError  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.runtime.sandbox import Isolation, SandboxConfig, SandboxUnavailable  # noqa: PLC0415
    from modelsteward.runtime.serving import (  # noqa: PLC0415
        EventPolicy,
        RefusedToServe,
        SandboxedModel,
        ServeOptions,
        ServingError,
        ServingMetrics,
        create_app,
        prepare,
    )
    from modelsteward.settings import Settings  # noqa: PLC0415
    from modelsteward.sources import SourceError  # noqa: PLC0415

    problem = _usage_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings.from_env()
    try:
        reference = _monitor_options.reference(args)
        drift = _monitor_options.drift_settings(args, settings.home)
    except (MonitorError, DriftSettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    sandbox = SandboxConfig(
        isolation=None if args.isolation is None else Isolation(args.isolation),
        allow_unsandboxed=args.no_sandbox,
        # The worker is restarted after a timed-out call: its limit is the request's.
        call_timeout=args.timeout,
    )
    try:
        deployment = prepare(args.ref, settings=settings, sandbox=sandbox, adapter=args.adapter)
        metrics = ServingMetrics(deployment.model, deployment.version)
        served = SandboxedModel(deployment.spec, on_restart=metrics.count_restart)
    except RefusedToServe as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    except (RegistryError, SourceError, ServingError, SandboxUnavailable) as error:
        print(f"error: {args.ref}: {error}", file=sys.stderr)
        return EXIT_ERROR
    options = ServeOptions(
        model=deployment.model,
        version=deployment.version,
        timeout=args.timeout,
        max_body_bytes=args.max_body_bytes,
        events=EventPolicy(sample_rate=args.sample_rate, redact=frozenset(args.redact)),
    )
    sink = None
    if not args.no_events:
        from modelsteward.monitoring import EventStore  # noqa: PLC0415

        sink = EventStore(args.events or settings.events)
    gauges = _gauges(args, settings, deployment, sink, metrics, reference, drift)
    app = create_app(served, options, metrics=metrics, sink=sink)
    print(
        f"serving {deployment.model}@{deployment.version} on http://{args.host}:{args.port}",
        file=sys.stderr,
    )
    try:
        with gauges:
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    except SystemExit as exit_:
        # uvicorn exits this way when it cannot listen, after logging why.
        if exit_.code:
            print(f"error: cannot serve on {args.host}:{args.port}", file=sys.stderr)
            return EXIT_ERROR
    finally:
        served.close()  # already closed by the app's shutdown, unless the server never started
    return EXIT_OK


def _gauges(
    args: argparse.Namespace,
    settings: Settings,
    deployment: Deployment,
    store: EventStore | None,
    metrics: ServingMetrics,
    reference: Reference,
    drift: DriftSettings,
) -> AbstractContextManager[object]:
    """What keeps the KPI and drift gauges current while serving: nothing when no events are logged."""
    from modelsteward.monitoring import measure  # noqa: PLC0415
    from modelsteward.registry import Registry  # noqa: PLC0415
    from modelsteward.runtime.serving import GaugeUpdater  # noqa: PLC0415

    if store is None:
        return nullcontext()
    events: EventStore = store

    def measured(now: datetime) -> WindowReport:
        with Registry.open(settings.database_url) as registry:
            return measure(
                events,
                registry,
                deployment.model,
                deployment.version,
                window=args.monitor_window,
                now=now,
                reference=reference,
                settings=drift,
            )

    return GaugeUpdater(measured, metrics, every=args.monitor_every.total_seconds())


def _usage_problem(args: argparse.Namespace) -> str | None:
    if not 0.0 <= args.sample_rate <= 1.0:
        return f"--sample-rate must lie between 0 and 1 (got {args.sample_rate:g})"
    if args.max_body_bytes < 1:
        return f"--max-body-bytes must be at least 1 (got {args.max_body_bytes})"
    if not args.timeout > 0:
        return f"--timeout must be a positive number of seconds (got {args.timeout:g})"
    if not 0 <= args.port <= 65535:
        return f"--port must lie between 0 and 65535 (got {args.port})"
    return None
