"""Options the monitoring commands share: durations, times, and how drift is measured (against which
reference, with which settings)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelsteward.monitoring import DriftSettings, Reference

DRIFT_FILE = "drift.yaml"
"""The drift settings file read from the steward home when ``--drift`` is not given."""


def add_drift_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--reference START..END``, ``--reference-version N`` and ``--drift FILE``; read them with
    :func:`reference` and :func:`drift_settings`."""
    parser.add_argument(
        "--reference",
        type=period,
        metavar="START..END",
        help="compare with the events of this period (default: the data the version was evaluated on)",
    )
    parser.add_argument(
        "--reference-version",
        type=int,
        metavar="N",
        help="the period's events are of this version (default: the version measured)",
    )
    parser.add_argument(
        "--drift",
        type=Path,
        metavar="FILE",
        help=f"drift thresholds and settings (default: $STEWARD_HOME/{DRIFT_FILE} if it exists)",
    )


def duration(text: str) -> timedelta:
    """An argparse type: ``30s``, ``5m``, ``1h30m``, as alert rules write durations."""
    from modelsteward.monitoring._rules import duration as parse  # noqa: PLC0415

    try:
        return parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def moment(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with a zone, as UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-05-01T12:00Z (got {text!r})"
        ) from None
    if parsed.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"the time {text!r} needs a zone (Z or +02:00)")
    return parsed.astimezone(UTC)


def period(text: str) -> tuple[datetime, datetime]:
    """An argparse type: ``START..END``, two ISO 8601 times."""
    start, dots, end = text.partition("..")
    if not dots:
        raise argparse.ArgumentTypeError(f"expected START..END (got {text!r})")
    return moment(start), moment(end)


def reference(args: argparse.Namespace) -> Reference:
    """The reference the options describe; raises MonitorError for an inconsistent one."""
    from modelsteward.monitoring import Reference  # noqa: PLC0415

    if args.reference is None:
        return Reference(version=args.reference_version)
    start, end = args.reference
    return Reference(start=start, end=end, version=args.reference_version)


def drift_settings(args: argparse.Namespace, home: Path) -> DriftSettings:
    """The drift settings ``--drift`` names, else those of ``home``'s drift file, else the defaults.

    Raises DriftSettingsError naming the file and each problem in it.
    """
    from modelsteward.monitoring import DriftSettings, load_drift_settings  # noqa: PLC0415

    path = args.drift or home / DRIFT_FILE
    if args.drift is None and not path.exists():
        return DriftSettings()
    return load_drift_settings(path)
