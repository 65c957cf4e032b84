"""`mltrail.autolog()` with real scikit-learn estimators against a real server (SQLite, real port)."""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mltrail
import mltrail.artifacts
import mltrail.sklearn
from mltrail.models import load_model

from .conftest import IN_CI, ServerProcess, started_server


@pytest.fixture(scope="module")
def autolog_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with started_server(tmp_path_factory, "autolog") as process:
        yield process


@pytest.fixture
def autologged(
    autolog_server: ServerProcess, spool_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("MLTRAIL_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    mltrail.set_tracking_uri(autolog_server.url)
    mltrail.set_experiment("autolog")
    mltrail.autolog(log_child_runs=True, max_tuning_runs=3)
    try:
        yield autolog_server.url
    finally:
        mltrail.autolog(disable=True)


def _data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120), "c": rng.normal(size=120)})
    return X, pd.Series((X["a"] + 0.3 * X["b"] > 0).astype(int), name="y")


def test_random_forest_fit_is_a_run_with_params_metrics_and_model(autologged: str) -> None:
    X, y = _data()
    model = RandomForestClassifier(n_estimators=7, max_depth=3, random_state=0).fit(X, y)
    assert mltrail.active_run() is None  # the run autolog started is ended
    [run] = mltrail.search_runs(filter="params.n_estimators = '7'")
    assert run.params["max_depth"] == "3" and run.status == "FINISHED"
    for key in ("training_score", "training_accuracy_score", "training_precision_score", "training_recall_score",
                "training_f1_score", "training_log_loss", "training_roc_auc"):  # fmt: skip
        assert key in run.metrics, key
    assert run.metrics["training_accuracy_score"] == pytest.approx(model.score(X, y))
    loaded = load_model(f"runs:/{run.id}/model")
    assert loaded.metadata.signature is not None
    assert [c.name for c in loaded.metadata.signature.inputs.inputs] == ["a", "b", "c"]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_pipeline_inside_an_active_run_logs_once_into_it(autologged: str) -> None:
    X, y = _data()
    with mltrail.start_run(name="mine") as run:
        Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5))]).fit(X, y)
    stored = mltrail.get_run(run.id)
    assert stored.params["clf__C"] == "0.5" and "scale__with_mean" in stored.params
    assert "training_roc_auc" in stored.metrics
    # The steps' own fits were not logged as runs of their own.
    assert [r.id for r in mltrail.search_runs(filter="params.C = '0.5'")] == []


def test_grid_search_logs_best_params_cv_results_and_child_runs(autologged: str, tmp_path: Path) -> None:
    X, y = _data()
    with mltrail.start_run(name="search") as run:
        GridSearchCV(LogisticRegression(), {"C": [0.01, 0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    stored = mltrail.get_run(run.id)
    assert stored.params["best_C"] in {"0.01", "0.1", "1.0", "10.0"} and "best_cv_score" in stored.metrics
    table = pd.read_csv(mltrail.artifacts.download(run.id, "cv_results.csv", dst=tmp_path))
    assert len(table) == 4 and {"params", "mean_test_score", "rank_test_score"} <= set(table.columns)
    children = [r for r in mltrail.search_runs() if r.parent_id == run.id]
    assert len(children) == 3 and all("mean_test_score" in c.metrics for c in children)


def test_autolog_never_breaks_training(autologged: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from mltrail import _autolog

    def broken(*args: object, **kwargs: object) -> dict[str, float]:
        raise RuntimeError("metrics exploded")

    monkeypatch.setattr(_autolog, "training_metrics", broken)
    X, y = _data()
    with pytest.warns(UserWarning, match="metrics exploded"):
        model = LogisticRegression().fit(X, y)
    assert model.predict(X).shape == (120,)


def test_libraries_not_installed_are_skipped() -> None:
    enabled = mltrail.autolog()
    try:
        assert "sklearn" in enabled
        for library in ("xgboost", "lightgbm"):
            assert (library in enabled) == (importlib.util.find_spec(library) is not None)
    finally:
        mltrail.autolog(disable=True)


def test_lightgbm_eval_metrics_become_histories(autologged: str) -> None:
    if IN_CI:  # LightGBM is in the dev extra: CI runs this test, never skips it
        lightgbm = importlib.import_module("lightgbm")
    else:
        lightgbm = pytest.importorskip("lightgbm", reason="LightGBM is not installed (it is in the dev extra)")
    X, y = _data()
    with mltrail.start_run(name="lgbm") as run, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LightGBM 4.7 deprecates eval_set (eval_X/eval_y are 4.7+ only)
        lightgbm.LGBMClassifier(n_estimators=12, verbose=-1).fit(X[:80], y[:80], eval_set=[(X[80:], y[80:])])
    stored = mltrail.get_run(run.id)
    assert stored.params["n_estimators"] == "12" and "training_roc_auc" in stored.metrics
    history = mltrail.get_metric_history(run.id, "valid_0-binary_logloss")
    assert list(history.steps) == list(range(12)), sorted(stored.metrics)
