"""scikit-learn estimators and pipelines, from skops, joblib or pickle files."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modelsteward.checks.performance.adapters._base import (
    AdapterError,
    Batch,
    ModelDescription,
    Operation,
    Prediction,
    label_texts,
    one_value_per_row,
    top_classes,
)
from modelsteward.checks.performance.adapters._detect import SKLEARN_SUFFIXES, model_file
from modelsteward.checks.performance.adapters._options import Options


class SklearnAdapter:
    """Classifies or regresses rows of features (or texts, for pipelines that start with a vectoriser)."""

    name: ClassVar[str] = "sklearn"
    _OPTIONS: ClassVar[frozenset[str]] = frozenset({"file"})

    def __init__(self) -> None:
        self._model: Any = None
        self._operation = Operation.CLASSIFY
        self._classes: tuple[str, ...] = ()

    def load(self, root: Path, options: Mapping[str, Any]) -> ModelDescription:
        """Load the estimator; options: ``file`` (which file, when there are several)."""
        import sklearn  # noqa: PLC0415 - heavy; the worker imports it only for sklearn models
        from sklearn.base import is_classifier, is_regressor  # noqa: PLC0415

        read = Options.read(self.name, options, self._OPTIONS)
        path = model_file(root, read.text("file"), SKLEARN_SUFFIXES, self.name)
        model = _unpickle(path)
        if not callable(getattr(model, "predict", None)):
            raise AdapterError(f"{path.name} holds a {type(model).__name__}, which has no predict method")
        if is_classifier(model):
            self._operation = Operation.CLASSIFY
        elif is_regressor(model):
            self._operation = Operation.REGRESS
        else:
            raise AdapterError(
                f"{path.name} holds a {type(model).__name__}, neither a classifier nor a regressor"
            )
        self._model = model
        self._classes = _classes(model) if self._operation is Operation.CLASSIFY else ()
        details: dict[str, Any] = {"estimator": type(model).__name__, "file": path.name}
        if hasattr(model, "n_features_in_"):
            details["features"] = int(model.n_features_in_)
        if hasattr(model, "steps"):
            details["steps"] = [type(step).__name__ for _, step in model.steps]
        return ModelDescription(
            adapter=self.name,
            framework=f"scikit-learn {sklearn.__version__}",
            operations=(self._operation,),
            classes=self._classes,
            details=details,
        )

    def predict(self, batch: Batch) -> Prediction:
        """Predict labels (and probabilities where the estimator has them) or values."""
        if self._model is None:
            raise AdapterError("no model is loaded")
        if batch.operation is not self._operation:
            raise AdapterError(f"this model can {self._operation}, not {batch.operation}")
        rows: Any = batch.features if batch.features is not None else list(batch.texts or ())
        if self._operation is Operation.REGRESS:
            return Prediction(values=one_value_per_row(np.asarray(self._model.predict(rows))))
        if not callable(getattr(self._model, "predict_proba", None)):
            return Prediction(labels=label_texts(self._model.predict(rows)))
        # One pass: the label is the class the scores rank first, so labels and scores always agree
        # (as predict does for every probabilistic scikit-learn classifier but SVC's Platt scaling).
        scores = np.asarray(self._model.predict_proba(rows), dtype=np.float64)
        return Prediction(labels=top_classes(scores, self._classes), scores=scores, classes=self._classes)


def _unpickle(path: Path) -> Any:
    """Load ``path`` by its format, trusting every type in it: this runs inside the sandbox."""
    if path.suffix == ".skops":
        import skops.io  # noqa: PLC0415 - only for skops files

        return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    if path.suffix == ".joblib":
        import joblib  # noqa: PLC0415 - only for joblib files

        return joblib.load(path)
    with path.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301 - the sandbox is what makes loading an untrusted pickle safe


def _classes(model: Any) -> tuple[str, ...]:
    classes = getattr(model, "classes_", None)
    return () if classes is None else label_texts(classes)
