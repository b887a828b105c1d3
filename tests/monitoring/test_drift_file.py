"""The drift settings file: the documented example, each key's effect, and each mistake's place."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from modelsteward.monitoring._drift import ColumnOverride, DriftSettings, compare
from modelsteward.monitoring._drift_file import DriftSettingsError, load_drift_settings, parse_drift_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "drift.md"


def section() -> str:
    """The doc's section on the settings file."""
    return DOC.read_text(encoding="utf-8").split("\n## The settings file\n")[1].split("\n## ")[0]


def documented(language: str) -> str:
    """The section's first code block in ``language`` (empty: plain)."""
    blocks: list[tuple[str, str]] = re.findall(r"^```(\w*)\n(.*?)^```$", section(), re.DOTALL | re.MULTILINE)
    return next(body for found, body in blocks if found == language)


def errors(text: str) -> list[str]:
    with pytest.raises(DriftSettingsError) as raised:
        parse_drift_settings(text, filename="drift.yaml")
    return str(raised.value).splitlines()


def test_the_documented_example_gives_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "drift.yaml"
    path.write_text(documented("yaml"), encoding="utf-8")
    assert load_drift_settings(path) == DriftSettings(
        overrides={
            "input.zip": ColumnOverride(kind="categorical"),
            "input.age": ColumnOverride(threshold=0.2),
            "output.embedding": ColumnOverride(kind="embedding", threshold=0.6),
        }
    )


@pytest.mark.parametrize(
    "text", ["", "# every setting at its default\n", "---\n"], ids=["empty", "comments", "bare-document"]
)
def test_a_file_without_settings_means_the_defaults(text: str) -> None:
    assert parse_drift_settings(text, filename="drift.yaml") == DriftSettings()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("numeric_threshold", 0.25),
        ("categorical_threshold", 0.3),
        ("text_threshold", 0.6),
        ("embedding_threshold", 0.7),
        ("sample", 500),
        ("alpha", 0.01),
        ("share", 1),
        ("seed", 7),
    ],
)
def test_each_setting_replaces_its_default_and_no_other(key: str, value: float) -> None:
    settings, defaults = parse_drift_settings(f"{key}: {value}\n", filename="drift.yaml"), DriftSettings()
    changed = [
        f.name
        for f in dataclasses.fields(DriftSettings)
        if getattr(settings, f.name) != getattr(defaults, f.name)
    ]
    assert changed == [key]
    assert getattr(settings, key) == value


def test_the_file_has_a_key_for_every_setting_and_the_doc_a_row_for_every_key() -> None:
    (message,) = errors("nothing: 1\n")
    keys = message.split("its keys are ")[1].split(", ")
    fields = [f.name for f in dataclasses.fields(DriftSettings) if f.name != "overrides"]
    assert sorted(keys) == sorted([*fields, "columns"])
    first_cells = re.findall(r"^\| (.*?) \|", section(), re.MULTILINE)
    documented_keys = {key for cell in first_cells for key in re.findall(r"`([a-z_.<>]+)`", cell)}
    assert set(keys) | {"columns.<name>.kind", "columns.<name>.threshold"} <= documented_keys


def _tables() -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(0)
    zips = [10115, 20095, 80331, 50667]

    def window(age_mean: float) -> pa.Table:
        return pa.table(
            {
                "input.zip": pa.array(rng.choice(zips, size=400), pa.int64()),
                "input.age": pa.array(rng.normal(age_mean, 10, size=400), pa.float64()),
            }
        )

    # Age moves by 0.3 of its spread: material at the default 0.1, not at the file's 0.5.
    return window(40.0), window(43.0)


def test_a_columns_kind_and_threshold_reach_the_comparison() -> None:
    reference, current = _tables()
    defaults = compare(reference, current, DriftSettings())
    assert defaults.column("input.zip").kind == "numeric"
    assert defaults.column("input.age").drifted
    text = "columns:\n  input.zip: {kind: categorical}\n  input.age: {threshold: 0.5}\n"
    report = compare(reference, current, parse_drift_settings(text, filename="drift.yaml"))
    assert report.column("input.zip").kind == "categorical"
    assert report.column("input.age").threshold == 0.5
    assert not report.column("input.age").drifted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "sampel: 500\n",
            "drift.yaml:1:1: sampel is not a key of the drift settings file (did you mean sample?); its keys"
            " are numeric_threshold, categorical_threshold, text_threshold, embedding_threshold, sample,"
            " alpha, share, seed, columns",
            id="misspelt-key",
        ),
        pytest.param(
            "columns:\n  input.age: {treshold: 0.2}\n",
            "drift.yaml:2:15: columns.input.age.treshold is not a key of a column's settings"
            " (did you mean threshold?); its keys are kind, threshold",
            id="misspelt-column-key",
        ),
        pytest.param(
            "columns:\n  input.zip: {kind: category}\n",
            "drift.yaml:2:21: columns.input.zip.kind must be one of numeric, categorical, text, embedding"
            ' (got "category") (did you mean categorical?)',
            id="unknown-kind",
        ),
        pytest.param(
            "columns:\n  input.zip: {kind: histogram}\n",
            "drift.yaml:2:21: columns.input.zip.kind must be one of numeric, categorical, text, embedding"
            ' (got "histogram")',
            id="unknown-kind-nothing-close",
        ),
        pytest.param(
            "numeric_threshold: -0.1\n",
            "drift.yaml:1:20: numeric_threshold must be a finite number of at least 0 (got -0.1)",
            id="negative-threshold",
        ),
        pytest.param(
            "text_threshold: .inf\n",
            "drift.yaml:1:17: text_threshold must be a finite number of at least 0 (got inf)",
            id="infinite-threshold",
        ),
        pytest.param(
            "columns:\n  input.age: {threshold: -0.2}\n",
            "drift.yaml:2:26: columns.input.age.threshold must be a finite number of at least 0 (got -0.2)",
            id="negative-column-threshold",
        ),
        pytest.param("alpha: 1.5\n", "drift.yaml:1:8: alpha must be between 0 and 1 (got 1.5)", id="alpha"),
        pytest.param("sample: 5\n", "drift.yaml:1:9: sample must be at least 20 rows (got 5)", id="sample"),
        pytest.param(
            "share: 0\n", "drift.yaml:1:8: share must be above 0 and at most 1 (got 0.0)", id="share"
        ),
        pytest.param("seed: -1\n", "drift.yaml:1:7: seed must be at least 0 (got -1)", id="seed"),
        pytest.param(
            "columns:\n  input.age: 0.2\n",
            "drift.yaml:2:14: columns.input.age must be a mapping of keys to values (got 0.2)",
            id="column-not-a-mapping",
        ),
        pytest.param(
            "columns:\n  age: {threshold: 0.2}\n",
            "drift.yaml:2:3: columns.age is not a column the monitor compares: name it input.<field> or"
            " output.<field>, as the event store does",
            id="column-without-side",
        ),
        pytest.param(
            "columns:\n  1: {kind: text}\n",
            "drift.yaml:2:3: columns has a key that is not text (got 1)",
            id="column-name-not-text",
        ),
        pytest.param('alpha: "0.01"\n', 'drift.yaml:1:8: alpha must be a number (got "0.01")', id="text"),
        pytest.param(
            "sample: 500.0\n", "drift.yaml:1:9: sample must be a whole number (got 500.0)", id="fraction"
        ),
        pytest.param(
            "columns: [input.age]\n",
            "drift.yaml:1:10: columns must be a mapping of keys to values (got a list)",
            id="columns-not-a-mapping",
        ),
        pytest.param(
            "- alpha: 0.01\n",
            "drift.yaml:1:1: the file must be a mapping of keys to values (got a list)",
            id="not-a-mapping",
        ),
        pytest.param(
            "alpha: 0.01\nalpha: 0.02\n", "drift.yaml:2:1: alpha is given twice (first on line 1)", id="twice"
        ),
        pytest.param("columns: {\n", "drift.yaml:2:1: YAML syntax error", id="syntax"),
    ],
)
def test_mistakes_are_reported_where_they_are_written(text: str, expected: str) -> None:
    assert any(line.startswith(expected) for line in errors(text))


def test_every_mistake_is_reported_at_once_as_the_doc_shows() -> None:
    text = (
        "numeric_threshold: 0.1\n"
        "alpah: 0.1\n"
        "sample: 5\n"
        "columns:\n"
        "  input.zip: {kind: categoric}\n"
        "  input.age: {threshold: -0.2}\n"
    )
    assert errors(text) == documented("").splitlines()


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DriftSettingsError, match=r"drift\.yaml: cannot read"):
        load_drift_settings(tmp_path / "drift.yaml")
