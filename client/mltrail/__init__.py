"""mltrail: track training runs — params, metrics, tags, datasets, artifacts — from Python.

    import mltrail

    mltrail.set_experiment("churn")
    with mltrail.start_run(name="rf-100") as run:
        run.log_params({"n_estimators": 100})
        for step, loss in enumerate(train()):
            run.log_metric("loss", loss, step=step)   # queued; returns in microseconds

Models: ``run.log_model(model, "model", input_example=X[:5])`` and
``mltrail.models.load_model("models:/Churn/Production")`` (the ``models`` extra).

Importing this package is cheap: the HTTP and GraphQL libraries load on first use, and nothing
of the server is imported.
"""

from mltrail._autolog import autolog
from mltrail._client import ActiveRun, MltrailClient
from mltrail._entities import (
    Dataset,
    Experiment,
    LatestMetric,
    MetricBatch,
    MetricSeries,
    Run,
    RunSource,
    RunTable,
)
from mltrail._exceptions import (
    ApiError,
    Conflict,
    InternalError,
    InvalidArgument,
    MltrailError,
    MltrailWarning,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServerUnavailable,
    Unauthenticated,
)
from mltrail._fluent import (
    active_run,
    end_run,
    flush,
    get_client,
    get_metric_history,
    get_run,
    get_tracking_uri,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_input,
    log_inputs,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_text,
    search_runs,
    search_runs_table,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from mltrail._registry import (
    ModelVersion,
    RegisteredModel,
    RegistryChange,
    TransitionRequest,
    register_model,
)

__all__ = [
    "ActiveRun",
    "ApiError",
    "Conflict",
    "Dataset",
    "Experiment",
    "InternalError",
    "InvalidArgument",
    "LatestMetric",
    "MetricBatch",
    "MetricSeries",
    "MltrailClient",
    "MltrailError",
    "MltrailWarning",
    "ModelVersion",
    "NotFound",
    "PermissionDenied",
    "RegisteredModel",
    "RegistryChange",
    "ResourceExhausted",
    "Run",
    "RunSource",
    "RunTable",
    "ServerUnavailable",
    "TransitionRequest",
    "Unauthenticated",
    "active_run",
    "autolog",
    "end_run",
    "flush",
    "get_client",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_runs",
    "search_runs_table",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def __getattr__(name: str) -> object:
    # `mltrail.models` and `mltrail.pyfunc` load on first use (PEP 562): they are what a
    # serving process needs, and a training script that never logs a model pays nothing.
    if name in ("models", "pyfunc", "sklearn"):
        import importlib

        return importlib.import_module(f"mltrail.{name}")
    raise AttributeError(f"module 'mltrail' has no attribute {name!r}")
