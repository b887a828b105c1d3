"""``steward monitor``: load events, see how a served model does, check alert rules, keep the store lawful."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward._text import printable
from modelsteward.cli import _monitor_options, _notifiers
from modelsteward.cli._exit import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from modelsteward.monitoring import (
        AlertRule,
        DriftReport,
        DriftSettings,
        EventStore,
        Reference,
        WindowReport,
    )
    from modelsteward.notify import Notifier
    from modelsteward.registry import Alert, Registry

RULES_FILE = "alerts.yaml"
"""The alert rules under STEWARD_HOME, used when --rules is not given."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``monitor`` and its subcommands to the command parsers."""
    parser = commands.add_parser(
        "monitor",
        help="KPIs, drift and alerts of served models; load, expire and erase prediction events",
        description="Watch models in production through their prediction events: logged by steward "
        "serve, by the SDK (modelsteward.monitoring.log), or loaded from files. See docs/monitoring.md.",
    )
    sub = parser.add_subparsers(dest="monitor_command", metavar="COMMAND", required=True)

    ingest = sub.add_parser(
        "ingest",
        help="load prediction events (or, with --labels, ground truth) from CSV, JSON Lines or Parquet",
        description="Load the predictions of a model served elsewhere into the event store: one row per "
        "prediction with request_id and at (ISO 8601 or seconds since the epoch), optional latency_ms and "
        "error; output.<name> columns are outputs, every other column an input. With --labels, the file "
        "holds request_id and label: ground truth, joined to the predictions by request id. A file with "
        "any problem stores nothing. Exit status: 0 stored, 2 the file cannot be read, 4 bad usage.",
    )
    ingest.add_argument("file", type=Path, metavar="FILE")
    ingest.add_argument("--model", required=True, metavar="NAME", help="the model that made the predictions")
    ingest.add_argument("--version", type=int, metavar="N", help="its registered version (not with --labels)")
    ingest.add_argument("--labels", action="store_true", help="the file holds ground truth, not predictions")
    ingest.add_argument(
        "--output",
        action="append",
        default=[],
        metavar="COLUMN",
        help="a column that is an output although not named output.<name> (repeatable)",
    )
    ingest.add_argument(
        "--timezone-utc",
        action="store_true",
        help="read times without a zone as UTC (default: refuse them)",
    )
    _add_store(ingest)
    ingest.add_argument("--json", action="store_true", help="print what was stored as JSON")
    ingest.set_defaults(run=_ingest)

    status = sub.add_parser(
        "status",
        help="KPIs, drift per column and alerts of a model over the last window",
        description="How NAME does over the window ending now: predictions, throughput, error rate, "
        "latency percentiles, accuracy and F1 once labels arrived, drift of each input and output column "
        "against the reference, and its alerts. Exit status: 0, 1 some column drifted or an alert fires, "
        "2 no events of NAME, 4 bad usage.",
    )
    status.add_argument("name", metavar="NAME")
    status.add_argument("--version", type=int, metavar="N", help="one version (default: every version seen)")
    status.add_argument(
        "--window", type=_monitor_options.duration, default=timedelta(hours=1), help="how far back (1h)"
    )
    _add_now(status)
    _monitor_options.add_drift_options(status)
    _add_store(status)
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(run=_status)

    report = sub.add_parser(
        "report",
        help="a self-contained HTML report: every metric over time and each column's distributions",
        description="Write an HTML page of NAME@VERSION over a range cut into windows: KPIs and drift per "
        "window, the reference-vs-current distribution of each column over the whole range, and the "
        "alerts. Exit status: 0 written, 2 no events or the page cannot be written, 4 bad usage.",
    )
    report.add_argument("name", metavar="NAME")
    report.add_argument("--version", type=int, metavar="N", help="the version (default: the latest seen)")
    report.add_argument(
        "--window", type=_monitor_options.duration, default=timedelta(hours=1), help="one window (1h)"
    )
    report.add_argument(
        "--last", type=_monitor_options.duration, default=timedelta(days=1), help="the range, ending now (1d)"
    )
    _add_now(report)
    _monitor_options.add_drift_options(report)
    _add_store(report)
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="where to write it (default: under the reports folder)",
    )
    report.set_defaults(run=_report)

    check = sub.add_parser(
        "check",
        help="evaluate the alert rules and notify, once or every interval",
        description="Measure every model version the rules watch over each rule's window ending now, "
        "move alerts through pending, firing and resolved, record them in the registry and its audit "
        "log, and tell the notifiers of each alert that fired or resolved (webhooks in Alertmanager's "
        "format, Slack, email). Exit status: 0 no alert firing, 1 some alert firing, 2 the registry "
        "or store could not be read, 4 bad usage.",
    )
    check.add_argument("name", nargs="?", metavar="NAME", help="only this model (default: every model)")
    check.add_argument(
        "--rules", type=Path, metavar="FILE", help=f"alert rules (default: $STEWARD_HOME/{RULES_FILE})"
    )
    check.add_argument(
        "--notify",
        type=Path,
        metavar="FILE",
        help=f"notifications config (default: $STEWARD_HOME/{_notifiers.NOTIFY_FILE} if it exists)",
    )
    check.add_argument(
        "--every", type=_monitor_options.duration, metavar="INTERVAL", help="check every 30s, 1m, ..."
    )
    _add_now(check)
    _monitor_options.add_drift_options(check)
    _add_store(check)
    check.add_argument("--json", action="store_true", help="print each check as one JSON line")
    check.set_defaults(run=_check)

    expire = sub.add_parser(
        "expire",
        help="delete events older than the retention period",
        description="Delete every event older than --older-than (and labels stored before then), "
        "rewriting the files that hold them. Exit status: 0, 4 bad usage.",
    )
    expire.add_argument(
        "--older-than", type=_monitor_options.duration, required=True, metavar="AGE", help="30d, 12w, ..."
    )
    _add_now(expire)
    _add_store(expire)
    expire.add_argument("--json", action="store_true", help="print what was deleted as JSON")
    expire.set_defaults(run=_expire)

    erase = sub.add_parser(
        "erase",
        help="erase every event of a data subject (right to erasure)",
        description="Erase every event whose COLUMN (input.customer_id) is one of VALUES, with its labels "
        "and its share of the stored summaries, rewriting the files. Exit status: 0, 2 no stored event "
        "has COLUMN, 4 bad usage.",
    )
    erase.add_argument("column", metavar="COLUMN")
    erase.add_argument("values", nargs="+", metavar="VALUE")
    erase.add_argument("--model", metavar="NAME", help="only this model's events (default: every model)")
    _add_store(erase)
    erase.add_argument("--json", action="store_true", help="print what was erased as JSON")
    erase.set_defaults(run=_erase)


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=Path, metavar="DIR", help="the event store ($STEWARD_HOME/events)")


def _add_now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        type=_monitor_options.moment,
        metavar="TIME",
        help="measure as if it were this time (ISO 8601 with a zone)",
    )


def _store(args: argparse.Namespace) -> EventStore:
    from modelsteward.monitoring import EventStore  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    return EventStore(args.events or Settings.from_env().events)


def _now(args: argparse.Namespace) -> datetime:
    return args.now or datetime.now(UTC)


def _fail(message: str, status: int = EXIT_ERROR) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _ingest(args: argparse.Namespace) -> int:
    from modelsteward.monitoring import IngestError, read_events, read_labels  # noqa: PLC0415

    if args.labels == (args.version is not None):
        return _fail("give --version for predictions, or --labels for ground truth (not both)", EXIT_USAGE)
    store = _store(args)
    try:
        if args.labels:
            stored = store.add_labels(args.model, read_labels(args.file))
        else:
            events = read_events(
                args.file,
                model=args.model,
                version=args.version,
                outputs=args.output,
                timezone=UTC if args.timezone_utc else None,
            )
            stored = store.append(events)
    except (IngestError, ValueError, OSError) as error:
        return _fail(f"{error}; nothing was stored")
    kind = "labels" if args.labels else "events"
    if args.json:
        print(json.dumps({"model": args.model, "version": args.version, kind: stored}))
    else:
        target = args.model if args.labels else f"{args.model}@{args.version}"
        print(f"stored {stored:,} {kind} of {target}")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    from modelsteward.monitoring import measure  # noqa: PLC0415

    store, now = _store(args), _now(args)
    try:
        reference, drift = _drift_options(args)
    except ValueError as error:
        return _fail(str(error), EXIT_USAGE)
    versions = [v for _, v in store.versions(args.name) if args.version in (None, v)]
    if not versions:
        scope = args.name if args.version is None else f"{args.name}@{args.version}"
        return _fail(f"no events of {scope} in {store.root}")
    with _registry() as registry:
        reports = [
            measure(
                store,
                registry,
                args.name,
                version,
                window=args.window,
                now=now,
                reference=reference,
                settings=drift,
            )
            for version in versions
        ]
        alerts = [a for a in registry.alerts() if a.labels.get("model") == args.name]
    if args.json:
        document = {
            "model": args.name,
            "at": now.isoformat(),
            "versions": [_window_json(r, reference) for r in reports],
            "alerts": [_alert_json(a) for a in alerts],
        }
        print(json.dumps(document, ensure_ascii=False))
    else:
        for report in reports:
            _print_window(report, reference)
        _print_alerts(alerts)
    drifted = any(r.drift is not None and any(c.drifted for c in r.drift.columns) for r in reports)
    firing = any(a.state.value == "firing" for a in alerts)
    return EXIT_FINDINGS if drifted or firing else EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from modelsteward.monitoring import MonitorError, reference_table, timeline  # noqa: PLC0415
    from modelsteward.reports.monitoring_html import render_monitoring_html  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    store, now = _store(args), _now(args)
    try:
        reference, drift = _drift_options(args)
    except ValueError as error:
        return _fail(str(error), EXIT_USAGE)
    versions = [v for _, v in store.versions(args.name) if args.version in (None, v)]
    if not versions:
        scope = args.name if args.version is None else f"{args.name}@{args.version}"
        return _fail(f"no events of {scope} in {store.root}")
    version = versions[-1]
    start = now - args.last
    with _registry() as registry:
        try:
            table, note = (
                reference_table(reference, model=args.name, version=version, store=store, registry=registry),
                "",
            )
        except MonitorError as error:
            table, note = None, str(error)
        alerts = [
            a
            for a in registry.alerts()
            if a.labels.get("model") == args.name and a.labels.get("version") == str(version)
        ]
    try:
        events = store.read(args.name, version=version, start=start, end=now)
        result = timeline(
            events,
            table,
            model=args.name,
            version=version,
            window=args.window,
            start=start,
            end=now,
            settings=drift,
        )
    except ValueError as error:
        return _fail(str(error), EXIT_USAGE)
    described = note or reference.describe(args.name, version)
    page = render_monitoring_html(result, alerts, reference=described, generated=datetime.now(UTC))
    output = args.output or Settings.from_env().reports / f"monitor-{_file_safe(args.name)}-{version}.html"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page, encoding="utf-8")
    except OSError as error:
        return _fail(f"{output}: cannot be written ({error.strerror or error})")
    print(f"{args.name}@{version}: {len(result.windows)} windows of {args.window} written to {output}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from modelsteward.monitoring import RulesError, load_rules  # noqa: PLC0415
    from modelsteward.notify import NotifyConfigError  # noqa: PLC0415
    from modelsteward.registry import RegistryError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    settings = Settings.from_env()
    path = args.rules or settings.home / RULES_FILE
    if args.rules is None and not path.exists():
        return _fail(f"no alert rules: give --rules FILE, or write them to {path}", EXIT_USAGE)
    try:
        reference, drift = _drift_options(args)
        rules = load_rules(path)
        notifiers = _notifiers.notifiers(args.notify, settings.home)
    except (ValueError, RulesError, NotifyConfigError) as error:
        return _fail(str(error), EXIT_USAGE)
    if args.every is not None and args.now is not None:
        return _fail(
            "--now and --every do not go together: --every checks at each moment it wakes", EXIT_USAGE
        )
    status = EXIT_OK
    try:
        while True:
            try:
                status = _check_once(args, rules, reference, drift, notifiers)
            except (RegistryError, OSError) as error:
                # Under --every a database or disk that is away now may be back at the next check.
                status = _fail(str(error))
            if args.every is None:
                return status
            time.sleep(args.every.total_seconds())
    except KeyboardInterrupt:
        return status


def _check_once(
    args: argparse.Namespace,
    rules: Sequence[AlertRule],
    reference: Reference,
    drift: DriftSettings,
    notifiers: Sequence[Notifier],
) -> int:
    from modelsteward.monitoring import apply_alert_rules, observe_for_rules  # noqa: PLC0415

    store, now = _store(args), _now(args)
    with _registry() as registry:
        reports = observe_for_rules(
            store, registry, rules, now=now, reference=reference, settings=drift, model=args.name
        )
        observations = [o for report in reports for o in report.observations()]
        changed = apply_alert_rules(registry, rules, observations, now, notifiers)
        alerts = registry.alerts()
    firing = [a for a in alerts if a.state.value == "firing"]
    if args.json:
        document = {
            "at": now.isoformat(),
            "windows": [_window_json(r, reference) for r in reports],
            "changed": [_alert_json(a) for a in changed],
            "firing": [_alert_json(a) for a in firing],
        }
        print(json.dumps(document, ensure_ascii=False), flush=True)
    else:
        versions = len({(r.model, r.version) for r in reports})
        print(f"{now:%Y-%m-%d %H:%M:%S} UTC: {versions} model versions, {len(observations)} observations")
        for report in reports:
            if report.drift is None and report.drift_note and report.drift_note != "no reference":
                print(
                    f"  {_text(report.model)}@{report.version}: no drift measured: {_text(report.drift_note)}"
                )
        for alert in changed:
            print(f"  {alert.state.value}: {_alert_line(alert)}")
        print(f"{len(firing)} alerts firing")
    return EXIT_FINDINGS if firing else EXIT_OK


def _expire(args: argparse.Namespace) -> int:
    before = _now(args) - args.older_than
    removed = _store(args).expire(before)
    if args.json:
        print(json.dumps({"before": before.isoformat(), "removed": removed}))
    else:
        print(f"removed {removed:,} events from before {before:%Y-%m-%d %H:%M:%S} UTC")
    return EXIT_OK


def _erase(args: argparse.Namespace) -> int:
    try:
        erased = _store(args).erase(args.column, args.values, model=args.model)
    except ValueError as error:
        return _fail(str(error))
    if args.json:
        print(json.dumps({"column": args.column, "erased": erased, "model": args.model}))
    else:
        print(
            f"erased {erased:,} events whose {args.column} is one of the {len(set(args.values))} values given"
        )
    return EXIT_OK


def _drift_options(args: argparse.Namespace) -> tuple[Reference, DriftSettings]:
    """The reference and drift settings the options give; ValueError (MonitorError, DriftSettingsError)
    naming the problem."""
    from modelsteward.monitoring import DriftSettingsError, MonitorError  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    home = Settings.from_env().home
    try:
        return _monitor_options.reference(args), _monitor_options.drift_settings(args, home)
    except (MonitorError, DriftSettingsError) as error:
        raise ValueError(str(error)) from None


def _registry() -> Registry:
    from modelsteward.registry import Registry  # noqa: PLC0415
    from modelsteward.settings import Settings  # noqa: PLC0415

    return Registry.open(Settings.from_env().database_url)


def _window_json(report: WindowReport, reference: Reference) -> dict[str, Any]:
    k = report.kpis
    return {
        "model": report.model,
        "version": report.version,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "kpis": {
            "count": k.count,
            "throughput": _number(k.throughput),
            "error_rate": _number(k.error_rate),
            "latency_ms": {
                "p50": _number(k.latency_p50_ms),
                "p95": _number(k.latency_p95_ms),
                "p99": _number(k.latency_p99_ms),
            },
            "labelled": k.labelled,
            "accuracy": _number(k.accuracy),
            "f1": _number(k.f1),
        },
        "reference": reference.describe(report.model, report.version),
        "drift": None if report.drift is None else _drift_json(report.drift),
        "drift_note": report.drift_note or None,
    }


def _drift_json(drift: DriftReport) -> dict[str, Any]:
    return {
        "share": drift.share,
        "drifted": drift.drifted,
        "reference_rows": drift.reference_rows,
        "current_rows": drift.current_rows,
        "columns": [
            {
                "column": c.column,
                "kind": c.kind,
                "method": c.method,
                "score": _number(c.score),
                "threshold": c.threshold,
                "test": c.test or None,
                "p_value": None if c.p_value is None else _number(c.p_value),
                "drifted": c.drifted,
                "null_shift": _number(c.null_shift),
                "statistics": {name: _number(value) for name, value in c.statistics.items()},
            }
            for c in drift.columns
        ],
    }


def _alert_json(alert: Alert) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "state": alert.state.value,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "severity": alert.severity.value,
        "value": _number(alert.value),
        "active_since": moment(alert.active_since),
        "fired_at": moment(alert.fired_at),
        "resolved_at": moment(alert.resolved_at),
    }


def _print_window(report: WindowReport, reference: Reference) -> None:
    k = report.kpis
    print(
        f"{_text(report.model)}@{report.version},"
        f" {report.start:%Y-%m-%d %H:%M:%S} to {report.end:%Y-%m-%d %H:%M:%S} UTC"
    )
    if k.count == 0:
        print("  no predictions in this window")
        return
    print(
        f"  predictions {k.count:,} ({k.throughput:.3g}/s), errors {_percent(k.error_rate)},"
        f" latency p50 {_ms(k.latency_p50_ms)} p95 {_ms(k.latency_p95_ms)} p99 {_ms(k.latency_p99_ms)}"
    )
    if k.labelled:
        print(f"  accuracy {k.accuracy:.3f}, F1 {k.f1:.3f} ({k.labelled:,} labelled)")
    if report.drift is None:
        print(f"  drift not measured: {_text(report.drift_note)}")
        return
    drifted = sum(c.drifted for c in report.drift.columns)
    print(
        f"  drift against {_text(reference.describe(report.model, report.version))}:"
        f" {drifted} of {len(report.drift.columns)} columns ({_percent(report.drift.share)})"
    )
    width = max(len(c.column) for c in report.drift.columns)
    for c in report.drift.columns:
        p_value = "" if c.p_value is None else f"  p={c.p_value:.2g}"
        mark = "  DRIFTED" if c.drifted else ""
        print(
            f"    {_text(c.column):<{width}}  {c.kind:<11} {c.method} {c.score:.3f}"
            f" (threshold {c.threshold:g}){p_value}{mark}"
        )
    if report.drift_note:
        print(f"    {_text(report.drift_note)}")


def _print_alerts(alerts: Sequence[Alert]) -> None:
    active = [a for a in alerts if a.state.value in ("pending", "firing")]
    if not active:
        print("no alerts firing or pending")
    for alert in active:
        print(f"{alert.state.value}: {_alert_line(alert)}")


def _alert_line(alert: Alert) -> str:
    where = ", ".join(f"{k}={v}" for k, v in alert.labels.items() if k != "alertname")
    since = alert.active_since or alert.evaluated_at
    return _text(f"{alert.rule} ({where}) value {alert.value:.4g} since {since:%Y-%m-%d %H:%M:%S} UTC")


def _text(value: str) -> str:
    # Column names, models and rule text reach the terminal: no control character is sent raw.
    return printable(value, len(value))


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _percent(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.1%}"


def _ms(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.1f} ms"


def _file_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
