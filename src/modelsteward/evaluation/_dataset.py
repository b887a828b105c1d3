"""Evaluation data: a CSV, Parquet or JSONL file read into a table, with a role for each column it uses."""

from __future__ import annotations

import difflib
import enum
import hashlib
import io
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelsteward.checks.performance.adapters import label_text

SEED = 0
"""The seed of ``limit`` sampling: the same file and limit give the same rows on any machine."""


class DatasetError(Exception):
    """The evaluation data cannot be used as given; the message says what is wrong and where."""


class DataFormat(enum.StrEnum):
    """How the evaluation data is stored."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    """One JSON object per line."""


_SUFFIXES = {
    ".csv": DataFormat.CSV,
    ".parquet": DataFormat.PARQUET,
    ".pq": DataFormat.PARQUET,
    ".jsonl": DataFormat.JSONL,
    ".ndjson": DataFormat.JSONL,
}

SINGLE_ROLES = ("text", "label", "reference", "query", "document", "group", "id")
"""Roles that one column plays."""
LIST_ROLES = ("features", "sensitive")
"""Roles that several columns play together."""


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which column plays which role; every role is optional, and the task says which it needs."""

    text: str | None = None
    """The input text of each row (to classify, to tag, or the prompt to generate from)."""
    features: tuple[str, ...] | None = None
    """Numeric input columns; None means every column no other role names. Sensitive columns count as
    named: list them here too to give them to the model."""
    label: str | None = None
    """The expected class (classification) or number (regression)."""
    reference: str | None = None
    """The expected text, for generation."""
    query: str | None = None
    """Retrieval: the query text; each row pairs it with a document relevant to it."""
    document: str | None = None
    """Retrieval: the document text."""
    group: str | None = None
    """Retrieval: documents whose rows share a group value are relevant to each other's queries."""
    sensitive: tuple[str, ...] = ()
    """Columns that say which group of people a row belongs to, for the fairness check."""
    id: str | None = None
    """A column that names each row, for reports."""

    def __post_init__(self) -> None:
        inputs = {self.text, self.query, self.document, *(self.features or ())}
        for role in ("label", "reference"):
            column = getattr(self, role)
            if column is not None and column in inputs:
                raise DatasetError(f"column {column!r} cannot be both the {role} and an input of the model")

    def named(self) -> dict[str, tuple[str, ...]]:
        """The columns of every role that names any, in role order."""
        roles = {role: (getattr(self, role),) for role in SINGLE_ROLES if getattr(self, role) is not None}
        lists = {role: tuple(getattr(self, role) or ()) for role in LIST_ROLES}
        return roles | {role: columns for role, columns in lists.items() if columns}


def parse_columns(columns: str = "", sensitive: str = "") -> ColumnMapping:
    """The mapping the CLI gives as ``--columns label=income,text=headline`` and ``--sensitive sex,race``.

    ``features`` and ``sensitive`` take several columns by repeating the role
    (``features=age,features=hours``); every other role takes one.
    """
    single: dict[str, str] = {}
    lists: dict[str, list[str]] = {role: [] for role in LIST_ROLES}
    for item in _items(columns):
        role, equals, column = (part.strip() for part in item.partition("="))
        if not equals or not role or not column:
            raise DatasetError(f"--columns: {item!r} is not ROLE=COLUMN (for example label=income)")
        if role in lists:
            lists[role].append(column)
        elif role not in SINGLE_ROLES:
            roles = (*SINGLE_ROLES, *LIST_ROLES)
            near = difflib.get_close_matches(role, roles, n=1)
            hint = f"did you mean {near[0]}?" if near else f"the roles are {', '.join(roles)}"
            raise DatasetError(f"--columns: {role!r} is not a role; {hint}")
        elif role in single:
            raise DatasetError(
                f"--columns: {role} is given twice ({single[role]} and {column}); "
                "only features and sensitive take several columns"
            )
        else:
            single[role] = column
    lists["sensitive"].extend(_items(sensitive))
    return ColumnMapping(
        text=single.get("text"),
        features=tuple(dict.fromkeys(lists["features"])) or None,
        label=single.get("label"),
        reference=single.get("reference"),
        query=single.get("query"),
        document=single.get("document"),
        group=single.get("group"),
        sensitive=tuple(dict.fromkeys(lists["sensitive"])),
        id=single.get("id"),
    )


@dataclass(frozen=True, slots=True, eq=False)
class RetrievalSet:
    """Distinct queries and documents of the data, and which documents are relevant to which query."""

    queries: tuple[str, ...]
    documents: tuple[str, ...]
    relevance: npt.NDArray[np.bool_]
    """Shape (queries, documents): true where the document is relevant to the query."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """Evaluation rows read from one file, and the role of each column the evaluation uses."""

    path: Path
    digest: str
    """``sha256:<hex>`` of the file's bytes: which data the results were measured on."""
    format: DataFormat
    mapping: ColumnMapping
    source_rows: int
    """Rows in the file; more than :attr:`rows` when a limit sampled some of them."""
    table: pd.DataFrame = field(compare=False, repr=False)
    """The rows used, indexed by their position in the file (from 0)."""

    @property
    def rows(self) -> int:
        """Rows used for the evaluation."""
        return len(self.table)

    def texts(self) -> tuple[str, ...]:
        """The ``text`` column."""
        return _strings(self._column("text"))

    def references(self) -> tuple[str, ...]:
        """The ``reference`` column (expected generated text)."""
        return _strings(self._column("reference"))

    def labels(self) -> npt.NDArray[Any]:
        """The ``label`` column, as stored (class names or numbers)."""
        labels: npt.NDArray[Any] = self._column("label").to_numpy()
        return labels

    def label_texts(self) -> tuple[str, ...]:
        """The ``label`` column as text, by the rule adapters report labels with: ``1.0`` is ``"1"``."""
        return tuple(label_text(value) for value in self.labels().tolist())

    def targets(self) -> npt.NDArray[np.float64]:
        """The ``label`` column as numbers, for regression; DatasetError naming a value that is not one."""
        labels = self.labels()
        try:
            return np.asarray(labels, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(v for v in labels.tolist() if not _is_number(v))
            raise DatasetError(
                f"{self.path}: regression needs numbers in the label column {self.mapping.label!r} "
                f"(found {bad!r})"
            ) from None

    def ids(self) -> tuple[str, ...]:
        """The ``id`` column, or each row's 1-based position among the file's rows when there is none."""
        if self.mapping.id is None:
            return tuple(str(row + 1) for row in self.table.index)
        return _strings(self._column("id"))

    def feature_names(self) -> tuple[str, ...]:
        """The ``features`` columns, or every column no other role names."""
        if self.mapping.features is not None:
            return self.mapping.features
        taken = {column for role, columns in self.mapping.named().items() for column in columns}
        return tuple(str(column) for column in self.table.columns if column not in taken)

    def features(self) -> npt.NDArray[np.float64]:
        """The feature columns as a (rows, features) float array; missing values become NaN."""
        names = self.feature_names()
        if not names:
            raise DatasetError(f"{self.path}: no feature columns are left once the other roles are taken")
        text = [name for name in names if not pd.api.types.is_numeric_dtype(self.table[name])]
        if text:
            raise DatasetError(
                f"{self.path}: the model needs numeric features, but {_listing(text)} "
                f"{'is' if len(text) == 1 else 'are'} not numeric; encode them as numbers "
                "or list the numeric columns with features=..."
            )
        values: npt.NDArray[np.float64] = self.table[list(names)].to_numpy(dtype=np.float64, na_value=np.nan)
        return values

    def sensitive(self) -> pd.DataFrame:
        """The ``sensitive`` columns, one per sensitive feature."""
        if not self.mapping.sensitive:
            raise DatasetError("no sensitive columns are given: pass --sensitive COLUMN[,COLUMN...]")
        for column in self.mapping.sensitive:
            self._complete("sensitive", column)
        return self.table[list(self.mapping.sensitive)]

    def retrieval(self) -> RetrievalSet:
        """Distinct queries and documents, in order of first appearance, and their relevance.

        A document is relevant to a query when a row pairs them or, with a ``group`` column, when a
        row of the query and a row of the document share a group.
        """
        query_of = pd.factorize(pd.Series(self._column("query")), sort=False)
        document_of = pd.factorize(pd.Series(self._column("document")), sort=False)
        queries, documents = query_of[1].size, document_of[1].size
        if self.mapping.group is None:
            relevance = np.zeros((queries, documents), dtype=np.bool_)
            relevance[query_of[0], document_of[0]] = True
        else:
            group_of, groups = pd.factorize(self._column("group"), sort=False)
            query_groups = np.zeros((queries, groups.size))
            document_groups = np.zeros((documents, groups.size))
            query_groups[query_of[0], group_of] = 1
            document_groups[document_of[0], group_of] = 1
            relevance = (query_groups @ document_groups.T) > 0
        return RetrievalSet(_strings(query_of[1]), _strings(document_of[1]), relevance)

    def _column(self, role: str) -> pd.Series[Any]:
        column = getattr(self.mapping, role)
        if column is None:
            raise DatasetError(f"the task needs a {role} column: pass --columns {role}=COLUMN")
        return self._complete(role, column)

    def _complete(self, role: str, column: str) -> pd.Series[Any]:
        values = self.table[column]
        missing = values.isna().to_numpy()
        if missing.any():
            first = int(self.table.index[np.flatnonzero(missing)[0]]) + 1
            raise DatasetError(
                f"{self.path}: the {role} column {column!r} is empty in {int(missing.sum())} rows "
                f"(the first is data row {first})"
            )
        return values


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def load_dataset(
    path: Path, mapping: ColumnMapping, *, limit: int | None = None, seed: int = SEED
) -> Dataset:
    """Read the evaluation data at ``path`` and check that every column ``mapping`` names exists.

    The format comes from the suffix (``.csv``, ``.parquet``/``.pq``, ``.jsonl``/``.ndjson``), else from
    the content. ``limit`` keeps that many rows, drawn with ``seed`` and, when there is a label,
    in proportion to each label's share of the rows.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror or error})") from None
    data_format = _SUFFIXES.get(path.suffix.lower()) or sniff(data)
    table = _READERS[data_format](data, path)
    if table.empty:
        raise DatasetError(f"{path}: has no rows")
    _check_columns(path, mapping, [str(column) for column in table.columns])
    source_rows = len(table)
    if limit is not None:
        if limit < 1:
            raise DatasetError(f"the row limit must be at least 1, got {limit}")
        strata = (
            None if mapping.label is None else pd.factorize(table[mapping.label], use_na_sentinel=False)[0]
        )
        table = table.iloc[sample_rows(source_rows, limit, strata, seed)]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return Dataset(path, digest, data_format, mapping, source_rows, table)


def sniff(data: bytes) -> DataFormat:
    """The format of ``data`` by its content: Parquet's magic, a JSON object per line, else CSV."""
    if data[:4] == b"PAR1":
        return DataFormat.PARQUET
    if data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"{":
        return DataFormat.JSONL
    return DataFormat.CSV


def sample_rows(
    rows: int, limit: int, strata: npt.NDArray[np.intp] | None = None, seed: int = SEED
) -> npt.NDArray[np.intp]:
    """Positions of ``limit`` of ``rows`` rows in file order, drawn without replacement with ``seed``.

    With ``strata`` (a group code per row), each group keeps its share of the rows: its quota is
    rounded down and the rows left over go to the groups with the largest remainders.
    """
    if limit >= rows:
        return np.arange(rows)
    generator = np.random.default_rng(seed)
    if strata is None:
        return np.sort(generator.choice(rows, size=limit, replace=False))
    groups, counts = np.unique(strata, return_counts=True)
    quotas = counts * limit / rows
    taken = np.floor(quotas).astype(np.intp)
    taken[np.argsort(taken - quotas, kind="stable")[: limit - taken.sum()]] += 1
    chosen = [
        generator.choice(np.flatnonzero(strata == group), size=count, replace=False)
        for group, count in zip(groups, taken, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def _read_csv(data: bytes, path: Path) -> pd.DataFrame:
    try:
        # index_col=False: a row with more fields than the header is an error, never an index; pandas
        # only warns (and drops data) when that row is the first, so the warning is an error too.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(io.BytesIO(data), index_col=False)
    except pd.errors.ParserWarning:
        raise DatasetError(f"{path}: not readable as CSV: a row has more fields than the header") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path}: is empty (not even a header line)") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise DatasetError(f"{path}: not readable as CSV: {str(error).strip()}") from None


def _read_jsonl(data: bytes, path: Path) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text (byte {error.start})") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{path}:{number}:{error.colno}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DatasetError(
                f"{path}:{number}: each line must be a JSON object, got {type(record).__name__}"
            )
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_parquet(data: bytes, path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except (ValueError, OSError) as error:  # pyarrow's errors derive from these
        raise DatasetError(f"{path}: not readable as Parquet: {error}") from None


_READERS = {DataFormat.CSV: _read_csv, DataFormat.JSONL: _read_jsonl, DataFormat.PARQUET: _read_parquet}


def _check_columns(path: Path, mapping: ColumnMapping, available: list[str]) -> None:
    for role, columns in mapping.named().items():
        for column in columns:
            if column not in available:
                near = difflib.get_close_matches(column, available, n=1)
                hint = f"did you mean {near[0]!r}? " if near else ""
                raise DatasetError(
                    f"{path}: no column {column!r} for the {role}; "
                    f"{hint}the columns are {_listing(available)}"
                )


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _strings(values: Iterable[Any]) -> tuple[str, ...]:
    """Cells as text; lists and objects from JSONL become JSON again, so a reader can parse them."""
    return tuple(json.dumps(v) if isinstance(v, list | dict) else str(v) for v in values)


def _listing(names: list[str], most: int = 20) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
