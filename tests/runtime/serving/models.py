"""Real models for the serving tests: scikit-learn estimators saved with skops and admitted by the gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from modelsteward.gate import admit
from modelsteward.policy import load_policy
from modelsteward.registry import Registry
from modelsteward.settings import Settings

REPO = Path(__file__).resolve().parents[3]
CARD = """---
license: apache-2.0
---
# {name}

## Intended uses

Tests of steward serve.

## Training data

Random numbers.
"""
FEATURES = ("age", "income", "tenure")


def fitted_models() -> dict[str, BaseEstimator]:
    """A fast logistic regression and a slow brute-force nearest-neighbour classifier, on 3 features."""
    rng = np.random.default_rng(0)
    small = rng.normal(size=(300, 3))
    # 60,000 stored points searched by brute force: a batch of a few thousand rows takes about a second.
    large = rng.normal(size=(60_000, 3))
    return {
        "acme/churn": LogisticRegression().fit(small, (small[:, 0] > 0).astype(int)),
        "acme/slow": KNeighborsClassifier(algorithm="brute").fit(large, (large[:, 1] > 0).astype(int)),
    }


def register_models(settings: Settings, folder: Path) -> dict[str, BaseEstimator]:
    """Save each model with skops, admit it as version 1 under its name and point ``production`` at it;
    return the estimators."""
    models = fitted_models()
    for name, model in models.items():
        root = folder / name.replace("/", "-")
        root.mkdir(parents=True)
        sio.dump(model, root / "model.skops")
        (root / "README.md").write_text(CARD.format(name=name))
        outcome = admit(
            str(root),
            name=name,
            policy=load_policy(REPO / "examples" / "policy.yaml"),
            settings=settings,
            actor="tester",
        )
        assert outcome.admission.version == 1
        with Registry.open(settings.database_url) as registry:
            registry.set_alias(name, "production", 1, actor="tester")
    return models
