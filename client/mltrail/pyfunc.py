"""The generic python-function flavor: any Python object that predicts, packaged with cloudpickle.

    import mltrail
    from mltrail.pyfunc import PythonModel

    class Doubler(PythonModel):
        def load_context(self, context):          # once, when the model is loaded
            self.factor = context.model_config.get("factor", 2)

        def predict(self, context, model_input, params=None):
            return model_input["x"] * self.factor

    with mltrail.start_run() as run:
        run.log_model(Doubler(), "model", input_example=df.head())

The methods have MLflow's ``PythonModel`` signatures, so a class written for one reads for the
other. Any object with a ``predict(model_input)`` method is accepted too: it is wrapped in a
`PythonModel` when logged.

The model directory names this module as its ``loader_module``: MLflow's
``mlflow.pyfunc.load_model`` imports it and calls `_load_pyfunc` (MLflow's documented hook for
custom flavors), so a python-function model logged here loads in MLflow wherever mltrail is
installed. This module imports nothing heavy: ``import mltrail`` stays thin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PythonModel", "PythonModelContext"]

PYTHON_MODEL_FILE = "python_model.pkl"


@dataclass
class PythonModelContext:
    """What `PythonModel.load_context` and `PythonModel.predict` receive.

    ``artifacts``: name → local path of files packaged with the model (none yet: reserved for
    MLflow's ``artifacts=``); ``model_config``: the ``model_config`` given to ``log_model``.
    """

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class of custom models: override `predict` (and `load_context` if needed)."""

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before any `predict` (load weights, warm caches)."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Predictions for ``model_input`` (already checked against the signature)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement predict(context, model_input, params=None)"
        )


class _PredictorModel(PythonModel):
    """Wraps any object with ``predict(model_input)`` as a `PythonModel`."""

    def __init__(self, predictor: Any) -> None:
        self.predictor = predictor

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        return self.predictor.predict(model_input)


class _PythonModelPredictor:
    """A loaded `PythonModel` bound to its context: ``predict(data, params=None)``."""

    def __init__(self, python_model: PythonModel, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.python_model.predict(self.context, data, params)

    def unwrap(self) -> Any:
        model = self.python_model
        return model.predictor if isinstance(model, _PredictorModel) else model


def load_python_model(model_dir: str | Path, flavor: dict[str, Any]) -> _PythonModelPredictor:
    """Unpickle the flavor's ``python_model`` and run its ``load_context``."""
    import cloudpickle

    path = Path(model_dir) / flavor.get("python_model", PYTHON_MODEL_FILE)
    with path.open("rb") as handle:
        python_model = cloudpickle.load(handle)
    context = PythonModelContext(model_config=dict(flavor.get("model_config") or {}))
    python_model.load_context(context)
    return _PythonModelPredictor(python_model, context)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _PythonModelPredictor:
    """MLflow's loader-module hook: ``path`` is the model directory."""
    import yaml

    model_dir = Path(path)
    if model_dir.is_file():
        model_dir = model_dir.parent
    flavors = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]
    flavor = dict(flavors["python_function"])
    if model_config:
        flavor["model_config"] = {**(flavor.get("model_config") or {}), **model_config}
    return load_python_model(model_dir, flavor)
