"""The prediction event store: Parquet files partitioned by model, version and day.

Layout under the root (see docs/events.md)::

    events/model=<model>/version=<n>/day=<YYYY-MM-DD>/<file>.parquet        the events
    events/model=<model>/version=<n>/day=<YYYY-MM-DD>/<file>.summary.json   their hourly summaries
    labels/model=<model>/<file>.parquet                                    ground truth, by request id

A model name is percent-escaped (``org/bert`` -> ``org%2Fbert``) so that it is one path segment. Every
file is written to a temporary name and renamed into place, so a reader sees a whole file or none, and
appends from many threads or processes never touch each other's files. Each event file has a summary
file beside it, written with it and rewritten with it (retention, erasure), so that the summaries always
describe exactly the events on disk. Reads open each file once with pyarrow and unite and join the
tables with DuckDB.
"""

from __future__ import annotations

import json
import numbers
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelsteward.monitoring._event import INPUT, OUTPUT, Event, Value
from modelsteward.monitoring._summary import Summary, Window, from_json, merge, merge_all, summarise, to_json

_TIME = pa.timestamp("us", tz="UTC")
# The columns every event has; beside them input.<name> and output.<name>, and label on read.
_BASE_SCHEMA = pa.schema(
    [
        ("request_id", pa.string()),
        ("at", _TIME),
        ("model", pa.string()),
        ("version", pa.int64()),
        ("latency_ms", pa.float64()),
        ("error", pa.string()),
    ]
)
_LABEL_SCHEMA = pa.schema([("request_id", pa.string()), ("label", pa.string()), ("labelled_at", _TIME)])
_SUMMARY = ".summary.json"
_HOUR = timedelta(hours=1)


def label_text(label: str | float) -> str:
    """A label as the store keeps it: as text, as Arrow casts a prediction to text (``true``, ``1``),
    so that the two compare equal."""
    if isinstance(label, str):
        return label
    text: str = pa.scalar(label).cast(pa.string()).as_py()
    return text


class EventStore:
    """Prediction events of every model under one folder; safe to use from many threads at once."""

    def __init__(self, root: Path) -> None:
        """Open (or start) the store at ``root``; nothing is written until something is stored."""
        self.root = root
        # Appends never share a file; only rewrites (retention, erasure) must not overlap each other.
        self._rewriting = threading.Lock()

    def append(self, events: Sequence[Event]) -> int:
        """Store ``events``: one new file per (model, version, day). Returns how many were stored.

        Raises ValueError, storing nothing, for a column whose values mix types (text and numbers).
        """
        groups: dict[tuple[str, int, date], list[Event]] = defaultdict(list)
        for event in events:
            groups[(event.model, event.version, event.at.astimezone(UTC).date())].append(event)
        tables = {key: _table(group) for key, group in groups.items()}  # every check before any write
        for (model, version, day), table in tables.items():
            folder = self._events / _segment(model) / f"version={version}" / f"day={day.isoformat()}"
            name = _file_name()
            self._write(folder / f"{name}.parquet", table)
        return sum(int(table.num_rows) for table in tables.values())

    def read(
        self,
        model: str,
        *,
        version: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """The events of ``model`` (of one ``version``) at or after ``start`` and before ``end``, in time
        order, with the latest ``label`` of each request (null where none arrived).

        ``columns`` picks columns (default all); raises ValueError naming one the events do not have.
        """
        _check_times(start, end)
        return _select(self._query(model, version, start, end), columns)

    def add_labels(self, model: str, labels: pa.Table) -> int:
        """Store ground truth for ``model``: a table with ``request_id`` and ``label`` columns.

        A later label of a request replaces an earlier one on read. Labels are kept as text (``1``,
        ``cat``, ``true``), as predictions are compared with them. Raises ValueError, storing nothing,
        for a missing column or a missing id or label. Returns how many labels were stored.
        """
        missing = [name for name in ("request_id", "label") if name not in labels.column_names]
        if missing:
            raise ValueError(
                f"labels need the columns request_id and label; missing {', '.join(missing)}"
                f" (got {', '.join(labels.column_names) or 'none'})"
            )
        ids = labels["request_id"].cast(pa.string())
        values = labels["label"].cast(pa.string())
        for name, column in (("request_id", ids), ("label", values)):
            blank = pc.or_kleene(pc.is_null(column), pc.equal(column, "")).fill_null(True)
            if pc.any(blank).as_py():
                row = pc.index(blank, True).as_py() + 1
                raise ValueError(f"labels row {row}: {name} is empty")
        if labels.num_rows == 0:
            return 0
        now = pa.array([datetime.now(UTC)] * labels.num_rows, _TIME)
        table = pa.table([ids, values, now], schema=_LABEL_SCHEMA)
        self._write(self._labels / _segment(model) / f"{_file_name()}.parquet", table)
        return int(table.num_rows)

    def summary(
        self,
        model: str,
        *,
        version: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Summary:
        """The merged summary of the hours from ``start``'s hour up to ``end`` (see :meth:`windows`)."""
        return merge_all(
            [window.summary for window in self.windows(model, version=version, start=start, end=end)]
        )

    def windows(
        self,
        model: str,
        *,
        version: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Window]:
        """One summary per version and hour of ``model``, for the hours that begin at or after the hour
        ``start`` falls in and before ``end``, ordered by hour then version. Reads no events."""
        _check_times(start, end)
        first = None if start is None else start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        merged: dict[tuple[datetime, int], Summary] = {}
        for path in self._event_files(model, version, start, end):
            for hour, summary in _read_summaries(path).items():
                if (first is not None and hour < first) or (end is not None and hour >= end):
                    continue
                key = (hour, _version(path))
                merged[key] = merge(merged[key], summary) if key in merged else summary
        return [
            Window(model=model, version=version_, start=hour, end=hour + _HOUR, summary=summary)
            for (hour, version_), summary in sorted(merged.items())
        ]

    def versions(self, model: str | None = None) -> list[tuple[str, int]]:
        """The (model, version) pairs that have stored events, of ``model`` or of every model, sorted."""
        models = [self._events / _segment(model)] if model is not None else _children(self._events)
        return sorted(
            (unquote(folder.name.removeprefix("model=")), int(child.name.removeprefix("version=")))
            for folder in models
            for child in _children(folder)
            if any(child.rglob("*.parquet"))
        )

    def expire(self, before: datetime) -> int:
        """Remove every event before ``before`` (and labels stored before it): days wholly before it are
        deleted, the day it falls in is rewritten. Returns how many events were removed."""
        _check_times(before, None)
        cutoff = before.astimezone(UTC)
        removed = 0
        with self._rewriting:
            for path in self._event_files(None, None, None, None):
                day = date.fromisoformat(path.parent.name.removeprefix("day="))
                if day > cutoff.date():
                    continue
                if day < cutoff.date():  # wholly before: nothing of it is read
                    removed += self._rewrite(path, pq.read_schema(path).empty_table())
                    continue
                table = pq.read_table(path)
                removed += self._rewrite(
                    path, table.filter(pc.greater_equal(table["at"], pa.scalar(cutoff, _TIME)))
                )
            for path in self._label_files(None):
                table = pq.read_table(path)
                self._rewrite(
                    path, table.filter(pc.greater_equal(table["labelled_at"], pa.scalar(cutoff, _TIME)))
                )
        return removed

    def erase(self, column: str, values: Collection[str], *, model: str | None = None) -> int:
        """Erase every event (of ``model``, or of every model) whose ``column`` (``input.customer_id``)
        is one of ``values``, compared as text, with the labels of those requests and their share of
        the summaries. Files are rewritten atomically. Returns how many events were erased.

        Raises ValueError, erasing nothing, when no stored event has ``column``: a misspelt column must
        not look like a subject with no data.
        """
        wanted = pa.array(sorted({str(v) for v in values}), pa.string())
        erased = 0
        with self._rewriting:
            files = self._event_files(model, None, None, None)
            having = [path for path in files if column in pq.read_schema(path).names]
            if files and not having:
                scope = f"model {model}" if model else "any model"
                raise ValueError(f"no stored event of {scope} has a column {column!r}; nothing was erased")
            gone: dict[str, list[str]] = defaultdict(list)  # model -> erased request ids
            for path in having:
                table = pq.read_table(path)
                hit = pc.is_in(table[column].cast(pa.string()), value_set=wanted).fill_null(False)
                found = table.filter(hit)
                if found.num_rows == 0:
                    continue
                gone[_model(path)] += found["request_id"].to_pylist()
                erased += self._rewrite(path, table.filter(pc.invert(hit)))
            for name, ids in gone.items():
                subjects = pa.array(ids, pa.string())
                for path in self._label_files(name):
                    table = pq.read_table(path)
                    self._rewrite(
                        path, table.filter(pc.invert(pc.is_in(table["request_id"], value_set=subjects)))
                    )
        return erased

    def _query(
        self, model: str, version: int | None, start: datetime | None, end: datetime | None
    ) -> pa.Table:
        # Each file is opened once and read whole from that handle: a file that retention or erasure
        # replaces meanwhile is read as it was or as it is, never half of each (DuckDB opens a path
        # more than once); a file gone since it was listed had no events left.
        tables = _read_all(self._event_files(model, version, start, end))
        if not tables:
            return _BASE_SCHEMA.append(pa.field("label", pa.string())).empty_table()
        labels = _read_all(self._label_files(model))
        connection = _connect()
        # Files of one schema are concatenated; files of different schemas are united by column name,
        # with nulls where a file lacks a column and a common type where their types differ.
        groups: dict[pa.Schema, list[pa.Table]] = defaultdict(list)
        for table in tables:
            groups[table.schema].append(table)
        for index, group in enumerate(groups.values()):
            connection.register(f"e{index}", pa.concat_tables(group))
        united = " UNION ALL BY NAME ".join(f"SELECT * FROM e{index}" for index in range(len(groups)))  # noqa: S608
        if labels:
            numbered = [
                table.append_column("file", pa.array([order] * table.num_rows, pa.int64())).append_column(
                    "row", pa.array(range(table.num_rows), pa.int64())
                )
                for order, table in enumerate(labels)
            ]
            connection.register("labels", pa.concat_tables(numbered))
        conditions, parameters = _time_filter(start, end)
        # Only constant fragments are formatted in; every value is a parameter.
        query = (
            f"SELECT e.*, l.label FROM ({united}) AS e"  # noqa: S608
            f" LEFT JOIN ({_LATEST_LABELS if labels else _NO_LABELS}) AS l USING (request_id)"
            f" {conditions} ORDER BY e.at, e.request_id"
        )
        with connection:
            return _utc(connection.sql(query, params=parameters).to_arrow_table())

    @property
    def _events(self) -> Path:
        return self.root / "events"

    @property
    def _labels(self) -> Path:
        return self.root / "labels"

    def _event_files(
        self, model: str | None, version: int | None, start: datetime | None, end: datetime | None
    ) -> list[Path]:
        """The event files that may hold events in range, pruned by the partition folders."""
        models = [self._events / _segment(model)] if model is not None else _children(self._events)
        files = []
        for model_folder in models:
            versions = (
                [model_folder / f"version={version}"] if version is not None else _children(model_folder)
            )
            for version_folder in versions:
                for day_folder in _children(version_folder):
                    day = date.fromisoformat(day_folder.name.removeprefix("day="))
                    if start is not None and day < start.astimezone(UTC).date():
                        continue
                    if end is not None and datetime.combine(day, datetime.min.time(), UTC) >= end:
                        continue
                    files += sorted(day_folder.glob("*.parquet"))
        return files

    def _label_files(self, model: str | None) -> list[Path]:
        folders = [self._labels / _segment(model)] if model is not None else _children(self._labels)
        return [path for folder in folders for path in sorted(folder.glob("*.parquet"))]

    def _write(self, path: Path, table: pa.Table) -> None:
        """Write ``table`` to ``path`` (and an event file's summaries beside it), each atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_relative_to(self._events):
            # The summary goes first: a summary whose events are not there yet is not read.
            _atomic(path.with_suffix(_SUMMARY), json.dumps(_hourly(table)).encode())
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        pq.write_table(table, temporary, compression="zstd")
        temporary.replace(path)

    def _rewrite(self, path: Path, kept: pa.Table) -> int:
        """Replace the file at ``path`` by ``kept`` (deleting it when empty); the rows it dropped."""
        dropped = int(pq.read_metadata(path).num_rows) - int(kept.num_rows)
        if dropped == 0:
            return 0
        if kept.num_rows:
            self._write(path, kept)
        else:
            path.unlink()
            path.with_suffix(_SUMMARY).unlink(missing_ok=True)
            # Empty partition folders go too, up to (not including) the events or labels folder.
            folder = path.parent
            while folder not in (self._events, self._labels) and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        return dropped


_NO_LABELS = "SELECT NULL::VARCHAR AS request_id, NULL::VARCHAR AS label LIMIT 0"
_LATEST_LABELS = (
    "SELECT request_id, label FROM labels QUALIFY row_number() OVER"
    " (PARTITION BY request_id ORDER BY labelled_at DESC, file DESC, row DESC) = 1"
)
"""The label of each request stored last: by time, then by file (named by time), then by row."""


def _read_all(paths: Sequence[Path]) -> list[pa.Table]:
    """The tables in the files at ``paths``, each read from one handle; files gone are left out."""
    tables = []
    for path in paths:
        try:
            with path.open("rb") as handle:
                tables.append(pq.ParquetFile(handle).read())
        except FileNotFoundError:
            continue
    return tables


def _connect() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def _time_filter(start: datetime | None, end: datetime | None) -> tuple[str, dict[str, object]]:
    conditions: list[str] = []
    parameters: dict[str, object] = {}
    if start is not None:
        conditions.append("e.at >= $start")
        parameters["start"] = start
    if end is not None:
        conditions.append("e.at < $end")
        parameters["end"] = end
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), parameters


def _utc(table: pa.Table) -> pa.Table:
    """``table`` with its ``at`` column as microseconds in UTC, whatever DuckDB gave back."""
    index = table.schema.get_field_index("at")
    return table.set_column(index, "at", table["at"].cast(_TIME))


def _select(table: pa.Table, columns: Sequence[str] | None) -> pa.Table:
    if columns is None:
        return table
    unknown = [name for name in columns if name not in table.column_names]
    if unknown:
        raise ValueError(
            f"the events have no column {unknown[0]!r}; they have {', '.join(table.column_names)}"
        )
    return table.select(list(columns))


def _check_times(start: datetime | None, end: datetime | None) -> None:
    for moment in (start, end):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"times must carry a time zone (got {moment.isoformat()})")


def _segment(model: str) -> str:
    """The partition folder of ``model``: percent-escaped, so that ``/`` and ``..`` stay in one segment."""
    if not model:
        raise ValueError("a model name cannot be empty")
    escaped = quote(model, safe="")
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    return f"model={escaped}"


def _model(path: Path) -> str:
    """The model an event file belongs to, from its partition folder."""
    return unquote(path.parent.parent.parent.name.removeprefix("model="))


def _version(path: Path) -> int:
    return int(path.parent.parent.name.removeprefix("version="))


def _children(folder: Path) -> list[Path]:
    return sorted(child for child in folder.iterdir() if child.is_dir()) if folder.is_dir() else []


def _file_name() -> str:
    """A new file's name: time first, so that names sort by when they were written."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex}"


def _atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def _hourly(table: pa.Table) -> dict[str, object]:
    """The summaries of an event table's hours, as a summary file holds them."""
    hours = pc.floor_temporal(table["at"], unit="hour")
    summaries = {}
    for hour in pc.unique(hours).to_pylist():
        window = table.filter(pc.equal(hours, pa.scalar(hour, _TIME)))
        summaries[hour.isoformat()] = to_json(summarise(window))
    return {"hours": summaries}


def _read_summaries(events: Path) -> Mapping[datetime, Summary]:
    """The hourly summaries of the event file ``events``."""
    try:
        data = json.loads(events.with_suffix(_SUMMARY).read_bytes())
    except FileNotFoundError:  # removed with its events since they were listed
        return {}
    return {datetime.fromisoformat(hour): from_json(summary) for hour, summary in data["hours"].items()}


def _table(events: Sequence[Event]) -> pa.Table:
    """Events of one partition as an Arrow table in the store's columns."""
    base = {
        "request_id": pa.array([e.request_id for e in events], pa.string()),
        "at": pa.array([e.at for e in events], _TIME),
        "model": pa.array([e.model for e in events], pa.string()),
        "version": pa.array([e.version for e in events], pa.int64()),
        "latency_ms": pa.array([e.latency_ms for e in events], pa.float64()),
        "error": pa.array([e.error for e in events], pa.string()),
    }
    extra: dict[str, pa.Array] = {}
    for prefix, side in ((INPUT, "inputs"), (OUTPUT, "outputs")):
        names = sorted({name for event in events for name in getattr(event, side)})
        for name in names:
            values = [getattr(event, side).get(name) for event in events]
            kind = _arrow_type(prefix + name, values, events)
            if kind is not None:
                extra[prefix + name] = pa.array(
                    [None if v is None else list(v) if kind == _VECTOR else v for v in values],
                    kind,
                )
    return pa.table({**base, **extra})


_VECTOR = pa.list_(pa.float32())
_KINDS: Mapping[str, pa.DataType] = {
    "bool": pa.bool_(),
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "vector": _VECTOR,
}


def _kind(value: Value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    if isinstance(value, str):
        return "str"
    return "vector"


def _arrow_type(column: str, values: Sequence[Value], events: Sequence[Event]) -> pa.DataType | None:
    """The Arrow type of a column's values; None when all are null. Raises ValueError on mixed types."""
    kinds: dict[str, int] = {}
    for index, value in enumerate(values):
        if value is not None:
            kinds.setdefault(_kind(value), index)
    if set(kinds) == {"int", "float"}:
        return pa.float64()
    if len(kinds) > 1:
        first, second = sorted(kinds.items(), key=lambda item: item[1])[:2]
        raise ValueError(
            f"column {column!r} mixes {first[0]} (request {events[first[1]].request_id})"
            f" and {second[0]} (request {events[second[1]].request_id}); log one type per column"
        )
    return _KINDS[next(iter(kinds))] if kinds else None
