"""Make the fourth example: a scikit-learn classifier and the enterprise's own evaluation data.

Writes, under the folder given (default ``.steward/examples``):
  breast-cancer-lr/model.joblib   a logistic regression trained on half of scikit-learn's bundled
                                  breast cancer data, with a model card
  breast-cancer-eval.csv          the other half, which the classifier never saw: its evaluation data
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

CARD = """---
license: apache-2.0
---
# Breast cancer classifier

## Intended use
Example only: shows how ModelSteward evaluates a tabular classifier on held-out data.

## Training data
Half of the Wisconsin diagnostic breast cancer data that ships with scikit-learn.
"""


def main(folder: Path) -> None:
    """Train the classifier and write it and its evaluation data under ``folder``."""
    data = load_breast_cancer(as_frame=True).frame
    train, held_out = train_test_split(data, test_size=0.5, random_state=0, stratify=data["target"])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train.drop(columns="target").to_numpy(), train["target"])
    target = folder / "breast-cancer-lr"
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, target / "model.joblib")
    (target / "README.md").write_text(CARD, encoding="utf-8")
    held_out.to_csv(folder / "breast-cancer-eval.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".steward/examples"))
