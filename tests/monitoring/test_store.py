"""The event store on real Parquet files: partitions, reads, labels, summaries, retention and erasure."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelsteward.monitoring import Event
from modelsteward.monitoring._store import EventStore
from modelsteward.monitoring._summary import NumericColumn

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
MODEL = "org/bert"


def _event(i: int, *, at: datetime | None = None, model: str = MODEL, version: int = 1) -> Event:
    return Event(
        request_id=f"r{i}",
        model=model,
        version=version,
        at=at or T0 + timedelta(minutes=10 * i),
        inputs={"customer_id": f"c{i % 4}", "income": 1000.0 + i, "text": f"hello {i}"},
        outputs={"label": i % 2, "embedding": [float(i), 0.5]},
        latency_ms=2.0 + i,
        error="timeout" if i % 5 == 4 else None,
    )


def _on_disk(root: Path) -> pa.Table:
    """Every stored event, read from the Parquet files with pyarrow alone."""
    files = sorted((root / "events").rglob("*.parquet"))
    tables = [pq.read_table(path) for path in files]
    return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    store = EventStore(tmp_path / "events-store")
    store.append([_event(i) for i in range(20)])  # 22:00 on 1 March to 01:10 on 2 March
    return store


def test_events_are_stored_partitioned_by_model_version_and_day(store: EventStore) -> None:
    folders = sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("day=*"))
    assert folders == [
        "events/model=org%2Fbert/version=1/day=2025-03-01",
        "events/model=org%2Fbert/version=1/day=2025-03-02",
    ]
    on_disk = _on_disk(store.root)
    assert on_disk.num_rows == 20
    assert on_disk.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert on_disk.schema.field("output.embedding").type == pa.list_(pa.float32())
    assert set(on_disk["model"].to_pylist()) == {MODEL}


def test_read_gives_the_events_back_in_time_order(store: EventStore) -> None:
    table = store.read(MODEL)
    assert table.num_rows == 20
    first = table.slice(0, 1).to_pylist()[0]
    assert first == {
        "request_id": "r0",
        "at": T0,
        "model": MODEL,
        "version": 1,
        "latency_ms": 2.0,
        "error": None,
        "input.customer_id": "c0",
        "input.income": 1000.0,
        "input.text": "hello 0",
        "output.embedding": [0.0, 0.5],
        "output.label": 0,
        "label": None,
    }
    assert table["request_id"].to_pylist() == [f"r{i}" for i in range(20)]


def test_read_filters_by_version_time_and_columns(store: EventStore) -> None:
    store.append([_event(100 + i, at=T0 + timedelta(minutes=i), version=2) for i in range(3)])
    assert store.read(MODEL, version=2)["request_id"].to_pylist() == ["r100", "r101", "r102"]
    window = store.read(MODEL, version=1, start=T0 + timedelta(minutes=30), end=T0 + timedelta(hours=2))
    assert window["request_id"].to_pylist() == [f"r{i}" for i in range(3, 12)]
    assert store.read(MODEL, columns=["request_id", "label"]).column_names == ["request_id", "label"]
    with pytest.raises(ValueError, match=r"no column 'input\.age'"):
        store.read(MODEL, columns=["input.age"])
    with pytest.raises(ValueError, match="time zone"):
        store.read(MODEL, start=datetime(2025, 3, 1))
    assert store.read("org/other").num_rows == 0


def test_files_of_different_columns_read_as_one_table(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    store.append([Event("a", "m", 1, T0, inputs={"x": 1})])
    store.append([Event("b", "m", 1, T0 + timedelta(seconds=1), inputs={"y": "text"}, outputs={"p": 0.5})])
    rows = store.read("m", columns=["request_id", "input.x", "input.y", "output.p"]).to_pylist()
    assert rows == [
        {"request_id": "a", "input.x": 1, "input.y": None, "output.p": None},
        {"request_id": "b", "input.x": None, "input.y": "text", "output.p": 0.5},
    ]


def test_a_column_of_mixed_types_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    events = [Event("a", "m", 1, T0, inputs={"zip": 1234}), Event("b", "m", 1, T0, inputs={"zip": "01234"})]
    with pytest.raises(ValueError, match=r"'input.zip' mixes int \(request a\) and str \(request b\)"):
        store.append([_event(1, model="m"), *events])
    assert not list(tmp_path.rglob("*.parquet"))


def test_model_names_round_trip_through_their_partition_folder(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    for name in ("org/a=b", "..", "with space/x"):
        store.append([_event(1, model=name)])
        assert store.read(name)["model"].to_pylist() == [name]
    segments = sorted(p.name for p in (tmp_path / "events").iterdir())
    assert segments == ["model=%2E.", "model=org%2Fa%3Db", "model=with%20space%2Fx"]


def test_labels_are_joined_by_request_id_and_the_latest_wins(store: EventStore) -> None:
    assert store.add_labels(MODEL, pa.table({"request_id": ["r1", "r2", "r1"], "label": [1, 0, 0]})) == 3
    store.add_labels(MODEL, pa.table({"request_id": ["r2"], "label": ["1"]}))
    labels = dict(zip(*store.read(MODEL, columns=["request_id", "label"]).to_pydict().values(), strict=True))
    assert (labels["r0"], labels["r1"], labels["r2"]) == (None, "0", "1")
    with pytest.raises(ValueError, match="missing label"):
        store.add_labels(MODEL, pa.table({"request_id": ["r1"]}))
    with pytest.raises(ValueError, match="row 2: request_id is empty"):
        store.add_labels(MODEL, pa.table({"request_id": ["r1", ""], "label": ["a", "b"]}))
    assert len(list((store.root / "labels").rglob("*.parquet"))) == 2


def test_concurrent_appends_lose_nothing(tmp_path: Path) -> None:
    store = EventStore(tmp_path)

    def writer(thread: int) -> None:
        for batch in range(10):
            store.append([_event(thread * 1000 + batch * 50 + i) for i in range(50)])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = _on_disk(tmp_path)["request_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 8 * 500
    assert store.summary(MODEL).count == 4000


def test_hourly_windows_summarise_the_events_of_each_hour(store: EventStore) -> None:
    windows = store.windows(MODEL)
    assert [w.start.hour for w in windows] == [22, 23, 0, 1]
    assert [w.summary.count for w in windows] == [6, 6, 6, 2]
    assert all(w.end - w.start == timedelta(hours=1) for w in windows)
    middle = store.summary(MODEL, start=T0 + timedelta(minutes=70), end=T0 + timedelta(hours=3))
    assert middle.count == 12  # the hours 23:00 and 00:00
    assert middle.errors == 2  # r9 and r14
    assert store.summary(MODEL, version=2).count == 0


def test_expire_removes_old_days_and_rewrites_the_straddling_one(store: EventStore) -> None:
    store.add_labels(MODEL, pa.table({"request_id": ["r1"], "label": ["1"]}))
    cutoff = datetime(2025, 3, 2, 0, 30, tzinfo=UTC)
    assert store.expire(cutoff) == 15
    on_disk = _on_disk(store.root)
    assert sorted(on_disk["request_id"].to_pylist()) == sorted(f"r{i}" for i in range(15, 20))
    assert min(on_disk["at"].to_pylist()) >= cutoff
    assert not (store.root / "events" / "model=org%2Fbert" / "version=1" / "day=2025-03-01").exists()
    assert [(w.start.hour, w.summary.count) for w in store.windows(MODEL)] == [(0, 3), (1, 2)]
    assert store.read(MODEL).num_rows == 5
    # Labels stored before the cutoff go as well (these were stored now, so they stay).
    assert pq.read_table(next((store.root / "labels").rglob("*.parquet"))).num_rows == 1
    assert store.expire(datetime.now(UTC) + timedelta(days=1)) == 5
    assert not list((store.root / "events").iterdir())  # no empty partition folders left
    assert not list((store.root / "labels").iterdir())
    assert store.windows(MODEL) == []


def test_erase_removes_every_event_of_a_subject_from_files_summaries_and_labels(store: EventStore) -> None:
    store.append([_event(i, model="org/other") for i in range(4)])
    store.add_labels(MODEL, pa.table({"request_id": ["r1", "r2"], "label": ["1", "0"]}))
    assert store.erase("input.customer_id", ["c1"], model=MODEL) == 5
    on_disk = _on_disk(store.root)
    mine = on_disk.filter(pa.compute.equal(on_disk["model"], MODEL))
    assert "c1" not in mine["input.customer_id"].to_pylist()
    assert mine.num_rows == 15
    assert on_disk.num_rows == 19  # org/other keeps its own c1
    erased_incomes = {1000.0 + i for i in range(1, 20, 4)}
    for window in store.windows(MODEL):
        income = window.summary.columns["input.income"]
        assert isinstance(income, NumericColumn)
        assert not erased_incomes & set(income.sample)
    assert store.summary(MODEL).count == 15
    labels = pq.read_table(next((store.root / "labels").rglob("*.parquet")))
    assert labels["request_id"].to_pylist() == ["r2"]
    assert store.erase("input.customer_id", ["c1"], model=MODEL) == 0


def test_erase_refuses_a_column_no_event_has(store: EventStore) -> None:
    with pytest.raises(ValueError, match=r"no stored event of any model has a column 'input\.customer'"):
        store.erase("input.customer", ["c1"])
    assert _on_disk(store.root).num_rows == 20


def test_appends_and_reads_go_on_while_files_are_rewritten(store: EventStore) -> None:
    fresh = [
        Event(f"new{i}", MODEL, 1, T0 + timedelta(minutes=i), inputs={"customer_id": "keep"})
        for i in range(200)
    ]

    def appender() -> None:
        for i in range(0, 200, 10):
            store.append(fresh[i : i + 10])

    failures: list[Exception] = []

    def reader() -> None:
        for _ in range(10):
            try:
                store.read(MODEL, columns=["request_id"])
            except Exception as error:  # noqa: BLE001 - collected, and the test fails on it below
                failures.append(error)

    threads = [threading.Thread(target=appender), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    erased = sum(store.erase("input.customer_id", [f"c{s}"]) for s in range(4))
    for thread in threads:
        thread.join()
    assert erased == 20
    assert failures == []
    assert sorted(_on_disk(store.root)["request_id"].to_pylist()) == sorted(e.request_id for e in fresh)
