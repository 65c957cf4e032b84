"""Packaged models: log them from a run, load them back anywhere by URI.

    import mltrail, mltrail.models

    with mltrail.start_run() as run:
        info = run.log_model(pipeline, "model", input_example=X_train[:5])

    model = mltrail.models.load_model(f"runs:/{run.id}/model")   # or "models:/Churn/Production"
    model.predict(X_test)          # checked against the signature inferred from the example
    model.metadata.signature       # the MLmodel file, parsed

A model is a directory in MLflow's layout (``MLmodel``, the pickled model, ``requirements.txt``,
the input example). Flavors: ``sklearn`` (any estimator or pipeline) and ``python_function``
(a `mltrail.pyfunc.PythonModel`, or any object with ``predict``).

Both are serialized with **cloudpickle**, not skops: skops refuses custom and third-party
types unless they are listed as trusted, and that list travels with the model, so it guards
little in a registry; cloudpickle takes any estimator, serializes classes defined in
``__main__`` by value (no training code needed to load) and loads fast. Each file's SHA-256
is recorded in ``MLmodel`` and checked on download. Unpickling runs code: load models from
servers you trust. (Details in ``mltrail.models._flavors``.)

This package needs the ``models`` extra (``pip install 'mltrail[models]'``: cloudpickle,
PyYAML, numpy, pandas, scikit-learn); importing it imports none of them.
"""

from __future__ import annotations

from typing import Any

from mltrail.models._cache import CacheInfo
from mltrail.models._cache import get_cache as _get_cache
from mltrail.models._load import LoadedModel, load_model
from mltrail.models._log import ModelInfo, save_model
from mltrail.models._mlmodel import ModelMetadata
from mltrail.models._signature import (
    ColSpec,
    ModelInputError,
    ModelSignature,
    Schema,
    TensorSpec,
    infer_signature,
)
from mltrail.models._uri import ModelsUri, RunsUri, parse_model_uri

__all__ = [
    "CacheInfo",
    "ColSpec",
    "LoadedModel",
    "ModelInfo",
    "ModelInputError",
    "ModelMetadata",
    "ModelSignature",
    "ModelsUri",
    "RunsUri",
    "Schema",
    "TensorSpec",
    "cache_info",
    "clear_cache",
    "infer_signature",
    "load_model",
    "log_model",
    "parse_model_uri",
    "save_model",
]


def log_model(model: Any, artifact_path: str = "model", **options: Any) -> ModelInfo:
    """Log ``model`` into the active run (started if none is): `mltrail.log_model`."""
    from mltrail._fluent import log_model as fluent_log_model

    return fluent_log_model(model, artifact_path, **options)


def cache_info() -> CacheInfo:
    """Where the model cache is (``MLTRAIL_MODEL_CACHE_DIR``), and this process's hits and downloads."""
    return _get_cache().info()


def clear_cache() -> None:
    """Remove every model from the local cache."""
    _get_cache().clear()
