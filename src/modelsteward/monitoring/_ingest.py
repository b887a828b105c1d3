"""Prediction events and labels from files: CSV, JSON Lines or Parquet, told apart by their bytes.

For models served elsewhere: ``steward monitor ingest FILE`` reads a file with these functions and
stores what they return. Every problem is an :class:`IngestError` naming the file, the line (CSV, JSON
Lines) or row (Parquet) and the column; nothing is returned from a file with any problem.
"""

from __future__ import annotations

import csv
import json
import math
import numbers
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeGuard

import pyarrow as pa
import pyarrow.parquet as pq

from modelsteward.monitoring._event import INPUT, OUTPUT, Event, Value
from modelsteward.monitoring._store import label_text

_PARQUET_MAGIC = b"PAR1"


class IngestError(ValueError):
    """A file that cannot be read as events or labels; the message says where and what."""


def read_events(
    path: Path,
    *,
    model: str,
    version: int,
    id_column: str = "request_id",
    time_column: str = "at",
    latency_column: str = "latency_ms",
    error_column: str = "error",
    outputs: Collection[str] = (),
    timezone: tzinfo | None = None,
) -> list[Event]:
    """The events in the file at ``path``, logged by ``model`` at ``version``.

    Each row is one prediction. ``id_column`` and ``time_column`` are required (times as ISO 8601 text,
    timestamps, or seconds since the epoch); ``latency_column`` (milliseconds) and ``error_column`` are
    optional. Every other column is an input, except those named ``output.<name>`` or listed in
    ``outputs``; ``input.<name>`` names an input explicitly. A time without a zone is read in
    ``timezone``, and refused when it is None. Raises :class:`IngestError`.
    """
    events: list[Event] = []
    first_seen: dict[str, str] = {}
    for where, row in _rows(path):
        request_id = _text(where, id_column, row.get(id_column), required=True)
        assert request_id is not None  # noqa: S101 - required=True never returns None
        if request_id in first_seen:
            raise IngestError(f"{where}: request id {request_id!r} is also at {first_seen[request_id]}")
        first_seen[request_id] = where
        inputs: dict[str, Value] = {}
        predicted: dict[str, Value] = {}
        for name, value in row.items():
            if name in (id_column, time_column, latency_column, error_column):
                continue
            if name.startswith(OUTPUT) or name in outputs:
                predicted[name.removeprefix(OUTPUT)] = _value(where, name, value)
            else:
                inputs[name.removeprefix(INPUT)] = _value(where, name, value)
        events.append(
            Event(
                request_id=request_id,
                model=model,
                version=version,
                at=_time(where, time_column, row.get(time_column), timezone),
                inputs=inputs,
                outputs=predicted,
                latency_ms=_number(where, latency_column, row.get(latency_column)),
                error=_text(where, error_column, row.get(error_column), required=False),
            )
        )
    return events


def read_labels(path: Path, *, id_column: str = "request_id", label_column: str = "label") -> pa.Table:
    """The labels in the file at ``path`` as a table of ``request_id`` and ``label`` (text), ready for
    :meth:`~modelsteward.monitoring._store.EventStore.add_labels`. Raises :class:`IngestError`."""
    ids: list[str] = []
    labels: list[str] = []
    for where, row in _rows(path):
        request_id = _text(where, id_column, row.get(id_column), required=True)
        label = row.get(label_column)
        if label is None or label == "":
            raise IngestError(f"{where}: column {label_column!r} is missing or empty")
        if not isinstance(label, str | int | float):
            raise IngestError(f"{where}: column {label_column!r} must be text or a number (got {label!r})")
        assert request_id is not None  # noqa: S101 - required=True never returns None
        ids.append(request_id)
        labels.append(label_text(label))
    return pa.table({"request_id": pa.array(ids, pa.string()), "label": pa.array(labels, pa.string())})


def _rows(path: Path) -> Iterator[tuple[str, Mapping[str, object]]]:
    """Each row of the file with where it is (``file:line 3``, ``file: row 3``), by the file's content."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise IngestError(f"{path}: cannot read: {error.strerror or error}") from None
    if not head:
        raise IngestError(f"{path}: the file is empty")
    if head == _PARQUET_MAGIC:
        yield from _parquet_rows(path)
        return
    text = _decode(path)
    if text.lstrip().startswith("{"):
        yield from _jsonl_rows(path, text)
    else:
        yield from _csv_rows(path, text)


def _decode(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestError(
            f"{path}: not UTF-8 text (byte {error.start}), nor Parquet; events are CSV, JSON Lines or Parquet"
        ) from None


def _parquet_rows(path: Path) -> Iterator[tuple[str, Mapping[str, object]]]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise IngestError(f"{path}: not a readable Parquet file: {error}") from None
    for index, row in enumerate(table.to_pylist(), start=1):
        yield f"{path}: row {index}", row


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise IngestError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(row, dict):
            raise IngestError(f"{where}: each line must be a JSON object (got {type(row).__name__})")
        yield where, row


def _csv_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise IngestError(f"{path}:1: the CSV file has no header line")
    rows: list[tuple[str, list[str]]] = []
    for record in reader:
        where = f"{path}:{reader.line_num}"
        if not record:
            continue
        if len(record) != len(header):
            raise IngestError(f"{where}: {len(record)} fields where the header has {len(header)}")
        rows.append((where, record))
    # A column's type is decided by all its values, so that 007 in a column of codes stays text.
    columns = [_csv_column([record[i] for _, record in rows]) for i in range(len(header))]
    for index, (where, _) in enumerate(rows):
        yield where, {name: column[index] for name, column in zip(header, columns, strict=True)}


def _csv_column(cells: list[str]) -> list[object]:
    present = [cell for cell in cells if cell != ""]
    for parse in (_csv_int, _csv_float, _csv_vector):
        try:
            parsed = [parse(cell) for cell in present]
        except ValueError:
            continue
        values = iter(parsed)
        return [None if cell == "" else next(values) for cell in cells]
    return [None if cell == "" else cell for cell in cells]


def _csv_int(cell: str) -> int:
    return int(_not_a_code(cell))


def _csv_float(cell: str) -> float:
    return float(_not_a_code(cell))


def _not_a_code(cell: str) -> str:
    """``cell``, unless a leading zero makes it a code (``007``, ``012.5``), which stays text."""
    digits = cell.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        raise ValueError("a leading zero: a code, not a number")
    return cell


def _csv_vector(cell: str) -> list[float]:
    if not cell.startswith("["):
        raise ValueError("not a vector")
    try:
        values = json.loads(cell)
    except json.JSONDecodeError:
        raise ValueError("not a vector") from None
    if not isinstance(values, list) or not all(_is_number(v) for v in values):
        raise ValueError("not a vector")
    return [float(v) for v in values]


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _value(where: str, column: str, value: object) -> Value:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    raise IngestError(
        f"{where}: column {column!r} must be text, a number, true/false or a list of numbers (got {value!r})"
    )


def _text(where: str, column: str, value: object, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise IngestError(f"{where}: column {column!r} is missing or empty")
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise IngestError(f"{where}: column {column!r} must be text (got {value!r})")


def _number(where: str, column: str, value: object) -> float | None:
    if value is None or value == "":
        return None
    if not _is_number(value) or not math.isfinite(float(value)):
        raise IngestError(f"{where}: column {column!r} must be a number of milliseconds (got {value!r})")
    return float(value)


def _time(where: str, column: str, value: object, zone: tzinfo | None) -> datetime:
    if value is None or value == "":
        raise IngestError(f"{where}: column {column!r} is missing or empty")
    if isinstance(value, datetime):
        moment = value
    elif _is_number(value):
        moment = datetime.fromtimestamp(float(value), tz=zone or UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise IngestError(
                f"{where}: column {column!r} is not an ISO 8601 time"
                f" such as 2025-03-01T12:00:00Z (got {value!r})"
            ) from None
    else:
        raise IngestError(f"{where}: column {column!r} must be a time (got {value!r})")
    if moment.utcoffset() is None:
        if zone is None:
            raise IngestError(
                f"{where}: column {column!r} has no time zone ({value!r}); write one (…Z, +02:00) or give one"
            )
        moment = moment.replace(tzinfo=zone)
    return moment
