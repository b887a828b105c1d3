"""Real scikit-learn models for the adapter tests, and how to save them in each format."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import skops.io


@dataclass(frozen=True)
class Fitted:
    """A fitted estimator and the rows to predict with it."""

    model: Any
    features: npt.NDArray[np.float64]


def save(model: Any, directory: Path, name: str) -> Path:
    """Write ``model`` to ``directory/name`` in the format its suffix names."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if path.suffix == ".skops":
        skops.io.dump(model, path)
    elif path.suffix == ".joblib":
        joblib.dump(model, path)
    else:
        path.write_bytes(pickle.dumps(model))
    return path
