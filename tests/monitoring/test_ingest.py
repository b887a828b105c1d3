"""Events and labels from CSV, JSON Lines and Parquet files, and the errors that say where a file is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelsteward.monitoring._ingest import IngestError, read_events, read_labels
from modelsteward.monitoring._store import EventStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ROWS: list[dict[str, object]] = [
    {
        "request_id": "a",
        "at": "2025-03-01T12:00:00Z",
        "age": 31,
        "code": "007",
        "output.label": "cat",
        "latency_ms": 4.5,
        "error": None,
    },
    {
        "request_id": "b",
        "at": "2025-03-01T12:00:01+00:00",
        "age": None,
        "code": "012",
        "output.label": "dog",
        "latency_ms": None,
        "error": "timeout",
    },
]


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


CSV = (
    "request_id,at,age,code,output.label,latency_ms,error\n"
    "a,2025-03-01T12:00:00Z,31,007,cat,4.5,\n"
    "b,2025-03-01T12:00:01+00:00,,012,dog,,timeout\n"
)


def test_csv_jsonl_and_parquet_give_the_same_events(tmp_path: Path) -> None:
    parquet = tmp_path / "events.bin"  # by content, not by name
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)
    files = [_csv(tmp_path / "events.csv", CSV), _jsonl(tmp_path / "events.jsonl", ROWS), parquet]
    read = [read_events(path, model="org/m", version=3) for path in files]
    assert read[0] == read[1] == read[2]
    first, second = read[0]
    assert (first.request_id, first.at, first.model, first.version) == ("a", T0, "org/m", 3)
    assert dict(first.inputs) == {"age": 31, "code": "007"}
    assert dict(first.outputs) == {"label": "cat"}
    assert (first.latency_ms, first.error) == (4.5, None)
    assert (second.inputs["age"], second.latency_ms, second.error) == (None, None, "timeout")
    store = EventStore(tmp_path / "store")
    assert store.append(read[0]) == 2
    assert store.read("org/m")["input.code"].to_pylist() == ["007", "012"]


def test_columns_named_as_outputs_and_vectors_in_csv(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "e.csv",
        'id,time,score,embedding\nx,1740830400,0.9,"[0.5, 1]"\ny,1740830401.5,0.1,"[1, 2]"\n',
    )
    events = read_events(path, model="m", version=1, id_column="id", time_column="time", outputs={"score"})
    assert [dict(e.outputs) for e in events] == [{"score": 0.9}, {"score": 0.1}]
    assert [dict(e.inputs) for e in events] == [{"embedding": [0.5, 1.0]}, {"embedding": [1.0, 2.0]}]
    assert events[1].at == T0 + timedelta(seconds=1.5)


def test_times_without_a_zone_are_refused_unless_one_is_given(tmp_path: Path) -> None:
    path = _csv(tmp_path / "e.csv", "request_id,at\na,2025-03-01T13:00:00\n")
    with pytest.raises(IngestError, match=r"e\.csv:2: column 'at' has no time zone"):
        read_events(path, model="m", version=1)
    (event,) = read_events(path, model="m", version=1, timezone=timezone(timedelta(hours=1)))
    assert event.at == T0


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "fields.csv",
            "request_id,at\na,2025-03-01T12:00:00Z\nb,2025-03-01T12:00:00Z,extra\n",
            r":3: 3 fields",
        ),
        ("noid.csv", "id,at\na,2025-03-01T12:00:00Z\n", r":2: column 'request_id' is missing"),
        ("time.csv", "request_id,at\na,yesterday\n", r":2: column 'at' is not an ISO 8601 time"),
        (
            "twice.csv",
            "request_id,at\na,2025-03-01T12:00:00Z\na,2025-03-01T12:00:00Z\n",
            r":3: request id 'a' is also at .*twice\.csv:2",
        ),
        ("bad.jsonl", '{"request_id": "a", "at": 0}\n{"request_id": \n', r"bad\.jsonl:2: not JSON"),
        (
            "list.jsonl",
            '{"request_id": "a", "at": 0}\n[1]\n',
            r"list\.jsonl:2: each line must be a JSON object",
        ),
        (
            "nested.jsonl",
            '{"request_id": "a", "at": 0, "meta": {"k": 1}}\n',
            r"nested\.jsonl:1: column 'meta' must be text, a number",
        ),
        (
            "latency.jsonl",
            '{"request_id": "a", "at": 0, "latency_ms": "fast"}\n',
            r":1: column 'latency_ms' must be a number",
        ),
        ("empty.csv", "", r"empty\.csv: the file is empty"),
    ],
)
def test_malformed_files_are_refused_naming_file_line_and_column(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(IngestError, match=message):
        read_events(_csv(tmp_path / name, text), model="m", version=1)


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"request_id": ["a", None], "at": [T0, T0]}), path)
    with pytest.raises(IngestError, match=r"e\.parquet: row 2: column 'request_id' is missing"):
        read_events(path, model="m", version=1)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(IngestError, match="not a readable Parquet file"):
        read_events(broken, model="m", version=1)
    with pytest.raises(IngestError, match="cannot read"):
        read_events(tmp_path / "absent.csv", model="m", version=1)


def test_labels_files_become_a_table_the_store_joins(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "store")
    store.append(read_events(_csv(tmp_path / "e.csv", CSV), model="m", version=1))
    labels = read_labels(
        _jsonl(tmp_path / "l.jsonl", [{"request_id": "a", "label": "cat"}, {"request_id": "b", "label": 1}])
    )
    assert labels.to_pylist() == [{"request_id": "a", "label": "cat"}, {"request_id": "b", "label": "1"}]
    store.add_labels("m", labels)
    assert store.read("m")["label"].to_pylist() == ["cat", "1"]
    with pytest.raises(IngestError, match=r"l2\.csv:3: column 'label' is missing or empty"):
        read_labels(_csv(tmp_path / "l2.csv", "request_id,label\na,1\nb,\n"))
