"""Autolog: ``mltrail.autolog()`` makes every scikit-learn ``fit`` a logged run, with no other change.

    import mltrail
    mltrail.autolog()                                   # or mltrail.sklearn.autolog()
    RandomForestClassifier().fit(X_train, y_train)      # a run: params, training metrics, the model

What one outermost ``fit`` logs (fits nested inside it, e.g. a Pipeline's steps or a search's
candidates, are not logged again), into the active run, or into a new run it starts and ends:

- params: ``get_params(deep=True)``, values as text, truncated to 500 characters;
- metrics on the training data: ``training_score`` (the estimator's own ``score``), and for a
  classifier accuracy, precision, recall and F1 (weighted averages), log-loss and ROC-AUC
  where ``predict_proba`` exists; for a regressor MSE, RMSE, MAE and R²;
- a search (``GridSearchCV``, ``RandomizedSearchCV``): ``best_<param>`` params,
  ``best_cv_score``, ``cv_results_`` as the table artifact ``cv_results.csv``, and with
  ``log_child_runs=True`` one child run per candidate (the ``max_tuning_runs`` best);
- the fitted model (``model``) with its input example (the first 5 training rows), from which
  the signature is inferred;
- XGBoost and LightGBM scikit-learn estimators, when installed, the same way, plus their
  per-iteration evaluation metrics (``eval_set``) as metric histories (step = iteration).

As MLflow's autolog does, and for the same reason: users expect one run per model they train,
not one per internal clone. Autolog never breaks training: any error while logging becomes a
warning, and the estimator's own errors propagate untouched.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MAX_PARAM_LENGTH = 500


@dataclass
class _Options:
    log_models: bool = True
    log_input_examples: bool = True
    log_child_runs: bool = False
    max_tuning_runs: int = 5


_options = _Options()
_patched: dict[tuple[type, str], Callable[..., Any]] = {}
_inside_fit = threading.local()  # depth of patched fit calls on this thread


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_input_examples: bool = True,
    log_child_runs: bool = False,
    max_tuning_runs: int = 5,
) -> list[str]:
    """Autolog every library that is installed (scikit-learn, XGBoost, LightGBM); returns their
    names. ``disable=True`` restores the original ``fit`` methods."""
    enabled = []
    for library, patch in (
        ("sklearn", _patch_sklearn),
        ("xgboost", _patch_xgboost),
        ("lightgbm", _patch_lightgbm),
    ):
        if importlib.util.find_spec(library) is None:
            continue  # not installed: skipped, silently, as promised
        if library == "sklearn":
            sklearn_autolog(
                disable=disable,
                log_models=log_models,
                log_input_examples=log_input_examples,
                log_child_runs=log_child_runs,
                max_tuning_runs=max_tuning_runs,
            )
        elif not disable:
            _guarded(patch)
        enabled.append(library)
    return enabled


def sklearn_autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_input_examples: bool = True,
    log_child_runs: bool = False,
    max_tuning_runs: int = 5,
) -> None:
    """Autolog scikit-learn estimators, pipelines and searches (`mltrail.sklearn.autolog`)."""
    if disable:
        for (cls, name), original in list(_patched.items()):
            setattr(cls, name, original)
        _patched.clear()
        return
    _options.log_models = log_models
    _options.log_input_examples = log_input_examples
    _options.log_child_runs = log_child_runs
    _options.max_tuning_runs = max_tuning_runs
    _guarded(_patch_sklearn)


def _guarded(patch: Callable[[], None]) -> None:
    try:
        patch()
    except Exception as error:  # a library version we do not know: no autolog, no crash
        warnings.warn(f"mltrail autolog: could not patch ({error})", stacklevel=3)


def _patch(estimator_class: type) -> None:
    # Patch where ``fit`` is defined (RandomForestClassifier's is BaseForest's), once.
    cls = next((c for c in estimator_class.__mro__ if "fit" in c.__dict__), None)
    if cls is None or (cls, "fit") in _patched:
        return
    original = cls.__dict__["fit"]

    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_inside_fit, "depth", 0)
        _inside_fit.depth = depth + 1
        try:
            result = original(self, *args, **kwargs)
        finally:
            _inside_fit.depth = depth
        if depth == 0:  # the user's own call, not a clone fitted inside it
            try:
                _log_fit(self, args, kwargs)
            except Exception as error:
                warnings.warn(f"mltrail autolog: {type(error).__name__}: {error}", stacklevel=2)
        return result

    _patched[(cls, "fit")] = original
    cls.fit = fit  # type: ignore[attr-defined]


def _patch_sklearn() -> None:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    for _, cls in all_estimators():
        _patch(cls)
    for cls in (Pipeline, GridSearchCV, RandomizedSearchCV):
        _patch(cls)


def _patch_xgboost() -> None:
    import xgboost

    for cls in (xgboost.XGBClassifier, xgboost.XGBRegressor, xgboost.XGBRanker):
        _patch(cls)


def _patch_lightgbm() -> None:
    import lightgbm

    for cls in (lightgbm.LGBMClassifier, lightgbm.LGBMRegressor, lightgbm.LGBMRanker):
        _patch(cls)


# -- what a fit logs --------------------------------------------------------------------------------


def _xy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y


def _params(estimator: Any) -> dict[str, str]:
    params = {}
    for key, value in estimator.get_params(deep=True).items():
        text = str(value)
        params[key] = text if len(text) <= _MAX_PARAM_LENGTH else text[: _MAX_PARAM_LENGTH - 3] + "..."
    return params


def _log_fit(estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    import mltrail

    X, y = _xy(args, kwargs)
    run = mltrail.active_run()
    owned = run is None
    if owned:
        run = mltrail.start_run(name=type(estimator).__name__)
    try:
        assert run is not None
        run.set_tag("estimator_class", f"{type(estimator).__module__}.{type(estimator).__qualname__}")
        run.log_params(_params(estimator))
        _each("training metrics", lambda: run.log_metrics(training_metrics(estimator, X, y)))
        if hasattr(estimator, "cv_results_"):
            _each("search results", lambda: _log_search(run, estimator))
        _each("iteration metrics", lambda: _log_eval_histories(run, estimator))
        if _options.log_models and X is not None:
            example = _input_example(X) if _options.log_input_examples else None
            _each("model", lambda: run.log_model(estimator, "model", input_example=example))
    finally:
        if owned:
            run.end()


def _each(what: str, step: Callable[[], Any]) -> None:
    """One part of the logging; its failure is a warning and the other parts still run."""
    try:
        step()
    except Exception as error:
        warnings.warn(f"mltrail autolog ({what}): {type(error).__name__}: {error}", stacklevel=3)


def _input_example(X: Any) -> Any:
    head = getattr(X, "iloc", None)
    return X.iloc[:5] if head is not None else X[:5]


def training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    """Metrics of ``estimator`` on its own training data (empty without labels)."""
    import numpy as np
    from sklearn import metrics
    from sklearn.base import is_classifier, is_regressor

    if y is None or X is None:
        return {}
    found: dict[str, float] = {}

    def measure(name: str, compute: Callable[[], float]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. undefined precision for an absent class
            try:
                found[name] = float(compute())
            except Exception:  # not defined for this estimator or these labels
                pass

    if hasattr(estimator, "score"):
        measure("training_score", lambda: estimator.score(X, y))
    if is_classifier(estimator):
        predicted = estimator.predict(X)
        measure("training_accuracy_score", lambda: metrics.accuracy_score(y, predicted))
        for name, function in (
            ("precision", metrics.precision_score),
            ("recall", metrics.recall_score),
            ("f1", metrics.f1_score),
        ):
            measure(f"training_{name}_score", lambda f=function: f(y, predicted, average="weighted"))
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            labels = getattr(estimator, "classes_", None)
            measure("training_log_loss", lambda: metrics.log_loss(y, proba, labels=labels))
            if proba.shape[1] == 2:
                measure("training_roc_auc", lambda: metrics.roc_auc_score(y, proba[:, 1]))
            else:
                measure(
                    "training_roc_auc",
                    lambda: metrics.roc_auc_score(y, proba, multi_class="ovr", labels=labels),
                )
    elif is_regressor(estimator):
        predicted = estimator.predict(X)
        measure("training_mean_squared_error", lambda: metrics.mean_squared_error(y, predicted))
        measure("training_root_mean_squared_error", lambda: np.sqrt(metrics.mean_squared_error(y, predicted)))
        measure("training_mean_absolute_error", lambda: metrics.mean_absolute_error(y, predicted))
        measure("training_r2_score", lambda: metrics.r2_score(y, predicted))
    return found


def _log_search(run: Any, search: Any) -> None:
    import pandas as pd

    if hasattr(search, "best_params_"):
        run.log_params({f"best_{k}": str(v)[:_MAX_PARAM_LENGTH] for k, v in search.best_params_.items()})
    if getattr(search, "best_score_", None) is not None:
        run.log_metric("best_cv_score", float(search.best_score_))
    table = pd.DataFrame(search.cv_results_)
    run.log_text(table.to_csv(index=False), "cv_results.csv")
    if not _options.log_child_runs:
        return
    import mltrail

    ranked = table.sort_values("rank_test_score").head(_options.max_tuning_runs)
    for index, row in ranked.iterrows():
        with mltrail.start_run(name=f"candidate-{index}", nested=True) as child:
            child.log_params({k: str(v)[:_MAX_PARAM_LENGTH] for k, v in row["params"].items()})
            child.log_metrics(
                {
                    key: float(row[key])
                    for key in ("mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time")
                    if key in row and pd.notna(row[key])
                }
            )


def _log_eval_histories(run: Any, estimator: Any) -> None:
    """XGBoost's ``evals_result()`` / LightGBM's ``evals_result_``: {set: {metric: [per iteration]}}."""
    results = None
    if callable(getattr(estimator, "evals_result", None)):
        try:
            results = estimator.evals_result()
        except Exception:  # XGBoost raises when fitted without eval_set
            results = None
    results = results or getattr(estimator, "evals_result_", None)
    if not isinstance(results, dict):
        return
    for dataset, by_metric in results.items():
        for metric, values in (by_metric or {}).items():
            for step, value in enumerate(values):
                run.log_metric(f"{dataset}-{metric}", float(value), step=step)
