"""The sklearn adapter on real estimators saved as pickle, joblib and skops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from modelsteward.checks.performance.adapters import AdapterError, Batch, Operation, SklearnAdapter
from tests.checks.performance.adapters.tabular import Fitted, save


@pytest.mark.parametrize("name", ["model.pkl", "model.pickle", "model.joblib", "model.skops"])
def test_a_classifier_in_every_format_predicts_as_sklearn_does(
    name: str, iris_classifier: Fitted, tmp_path: Path
) -> None:
    save(iris_classifier.model, tmp_path, name)
    adapter = SklearnAdapter()
    description = adapter.load(tmp_path, {})
    prediction = adapter.predict(Batch(Operation.CLASSIFY, features=iris_classifier.features))
    assert description.operations == (Operation.CLASSIFY,)
    assert description.classes == ("0", "1", "2")
    assert description.details["estimator"] == "Pipeline"
    assert description.details["file"] == name
    assert description.framework.startswith("scikit-learn ")
    expected = iris_classifier.model.predict(iris_classifier.features)
    assert prediction.labels == tuple(str(label) for label in expected)
    assert prediction.classes == ("0", "1", "2")
    assert prediction.scores is not None
    np.testing.assert_allclose(
        prediction.scores, iris_classifier.model.predict_proba(iris_classifier.features)
    )


def test_a_regressor_gives_one_value_per_row(diabetes_regressor: Fitted, tmp_path: Path) -> None:
    save(diabetes_regressor.model, tmp_path, "model.joblib")
    adapter = SklearnAdapter()
    assert adapter.load(tmp_path, {}).operations == (Operation.REGRESS,)
    prediction = adapter.predict(Batch(Operation.REGRESS, features=diabetes_regressor.features))
    assert prediction.values is not None
    assert prediction.values.dtype == np.float64
    np.testing.assert_allclose(
        prediction.values, diabetes_regressor.model.predict(diabetes_regressor.features)
    )
    with pytest.raises(AdapterError, match="can regress, not classify"):
        adapter.predict(Batch(Operation.CLASSIFY, features=diabetes_regressor.features))


def test_string_labels_and_a_classifier_without_probabilities(tmp_path: Path) -> None:
    data = load_breast_cancer()
    names = np.array(["malignant", "benign"])[data.target]
    model = LogisticRegression(max_iter=5000).fit(data.data, names)
    save(model, tmp_path, "cancer.skops")
    adapter = SklearnAdapter()
    assert adapter.load(tmp_path, {}).classes == ("benign", "malignant")
    prediction = adapter.predict(
        Batch(Operation.CLASSIFY, features=np.asarray(data.data[:5], dtype=np.float64))
    )
    assert prediction.labels == tuple(model.predict(data.data[:5]))


def test_a_text_pipeline_takes_texts(tmp_path: Path) -> None:
    texts = ["good film", "great acting", "bad plot", "awful film"]
    model = make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(texts, ["pos", "pos", "neg", "neg"])
    save(model, tmp_path, "text.pkl")
    adapter = SklearnAdapter()
    adapter.load(tmp_path, {})
    prediction = adapter.predict(Batch(Operation.CLASSIFY, texts=("great film", "awful plot")))
    assert prediction.labels == ("pos", "neg")


def test_the_file_option_picks_among_several(
    iris_classifier: Fitted, diabetes_regressor: Fitted, tmp_path: Path
) -> None:
    save(iris_classifier.model, tmp_path, "iris.pkl")
    save(diabetes_regressor.model, tmp_path, "diabetes.joblib")
    with pytest.raises(AdapterError, match=r"exactly one .* \(found diabetes.joblib, iris.pkl\)"):
        SklearnAdapter().load(tmp_path, {})
    assert SklearnAdapter().load(tmp_path, {"file": "diabetes.joblib"}).operations == (Operation.REGRESS,)
    with pytest.raises(AdapterError, match="not a file inside"):
        SklearnAdapter().load(tmp_path, {"file": "../iris.pkl"})


def test_objects_that_are_not_estimators_are_refused(tmp_path: Path) -> None:
    save({"weights": [1, 2]}, tmp_path, "model.pkl")
    with pytest.raises(AdapterError, match="holds a dict, which has no predict method"):
        SklearnAdapter().load(tmp_path, {})


def test_unknown_options_are_refused(iris_classifier: Fitted, tmp_path: Path) -> None:
    save(iris_classifier.model, tmp_path, "model.pkl")
    with pytest.raises(AdapterError, match="the sklearn adapter has no option 'fiel'"):
        SklearnAdapter().load(tmp_path, {"fiel": "model.pkl"})


def test_a_multi_output_regressor_is_refused_at_prediction(tmp_path: Path) -> None:
    features = np.arange(20, dtype=np.float64).reshape(10, 2)
    save(
        LinearRegression().fit(features, np.column_stack([features[:, 0], features[:, 1]])),
        tmp_path,
        "two.pkl",
    )
    adapter = SklearnAdapter()
    adapter.load(tmp_path, {})
    with pytest.raises(AdapterError, match=r"returns \(2,\) outputs per row; one is supported"):
        adapter.predict(Batch(Operation.REGRESS, features=features))


def test_float_classes_are_written_as_the_data_writes_them(iris_classifier: Fitted, tmp_path: Path) -> None:
    # A classifier trained on 0.0/1.0/2.0 names its classes as the evaluation data's 0/1/2 are named.
    labels = iris_classifier.model.predict(iris_classifier.features).astype(float)
    model = LogisticRegression(max_iter=500).fit(iris_classifier.features, labels)
    save(model, tmp_path, "model.pkl")
    adapter = SklearnAdapter()
    assert adapter.load(tmp_path, {}).classes == ("0", "1", "2")
    prediction = adapter.predict(Batch(Operation.CLASSIFY, features=iris_classifier.features[:3]))
    assert set(prediction.labels or ()) <= {"0", "1", "2"}
