"""Small real scikit-learn models, fitted on sklearn's bundled datasets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.checks.performance.adapters.tabular import Fitted


@pytest.fixture(scope="session")
def iris_classifier() -> Fitted:
    data = load_iris()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(data.data, data.target)
    return Fitted(model, np.asarray(data.data[::10], dtype=np.float64))


@pytest.fixture(scope="session")
def diabetes_regressor() -> Fitted:
    data = load_diabetes()
    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(data.data, data.target)
    return Fitted(model, np.asarray(data.data[::40], dtype=np.float64))
