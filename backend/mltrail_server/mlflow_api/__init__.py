"""MLflow's REST API, served by mltrail: a thin adapter onto the same services, never a second store.

With ``MLFLOW_TRACKING_URI`` pointing at an mltrail server, unchanged ``mlflow`` code logs
into mltrail's own tables. Each route reads MLflow's request (``protocol.py``), calls the
service the GraphQL resolvers call (``tracking.py``), and answers in MLflow's shape. Every
route is served under ``/api/2.0/mlflow/`` and ``/ajax-api/2.0/mlflow/`` (the prefix MLflow's
own web UI uses).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mltrail_server.mlflow_api import artifacts, registry, tracking
from mltrail_server.mlflow_api.protocol import endpoint, error_response

PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")

# (path under the prefix, method, handler): the methods are those of MLflow's protos.
TRACKING_ENDPOINTS = (
    ("/experiments/create", "POST", tracking.create_experiment),
    ("/experiments/get", "GET", tracking.get_experiment),
    ("/experiments/get-by-name", "GET", tracking.get_experiment_by_name),
    ("/experiments/search", "POST", tracking.search_experiments),
    ("/experiments/search", "GET", tracking.search_experiments),
    ("/experiments/update", "POST", tracking.update_experiment),
    ("/experiments/delete", "POST", tracking.delete_experiment),
    ("/experiments/restore", "POST", tracking.restore_experiment),
    ("/experiments/set-experiment-tag", "POST", tracking.set_experiment_tag),
    ("/experiments/delete-experiment-tag", "POST", tracking.delete_experiment_tag),
    ("/runs/create", "POST", tracking.create_run),
    ("/runs/get", "GET", tracking.get_run),
    ("/runs/update", "POST", tracking.update_run),
    ("/runs/delete", "POST", tracking.delete_run),
    ("/runs/restore", "POST", tracking.restore_run),
    ("/runs/search", "POST", tracking.search_runs),
    ("/runs/set-tag", "POST", tracking.set_tag),
    ("/runs/delete-tag", "POST", tracking.delete_tag),
    ("/runs/log-metric", "POST", tracking.log_metric),
    ("/runs/log-parameter", "POST", tracking.log_param),
    ("/runs/log-batch", "POST", tracking.log_batch),
    ("/runs/log-inputs", "POST", tracking.log_inputs),
    ("/metrics/get-history", "GET", tracking.get_metric_history),
    ("/logged-models/search", "POST", tracking.search_logged_models),
)

REGISTRY_ENDPOINTS = (
    ("/registered-models/create", "POST", registry.create_registered_model),
    ("/registered-models/get", "GET", registry.get_registered_model),
    ("/registered-models/search", "GET", registry.search_registered_models),
    ("/registered-models/update", "PATCH", registry.update_registered_model),
    ("/registered-models/delete", "DELETE", registry.delete_registered_model),
    ("/registered-models/get-latest-versions", "POST", registry.get_latest_versions),
    ("/registered-models/get-latest-versions", "GET", registry.get_latest_versions),
    ("/registered-models/set-tag", "POST", registry.set_registered_model_tag),
    ("/registered-models/delete-tag", "DELETE", registry.delete_registered_model_tag),
    ("/registered-models/alias", "POST", registry.set_alias),
    ("/registered-models/alias", "DELETE", registry.delete_alias),
    ("/registered-models/alias", "GET", registry.get_version_by_alias),
    ("/model-versions/create", "POST", registry.create_model_version),
    ("/model-versions/get", "GET", registry.get_model_version),
    ("/model-versions/update", "PATCH", registry.update_model_version),
    ("/model-versions/delete", "DELETE", registry.delete_model_version),
    ("/model-versions/transition-stage", "POST", registry.transition_stage),
    ("/model-versions/search", "GET", registry.search_model_versions),
    ("/model-versions/get-download-uri", "GET", registry.get_download_uri),
    ("/model-versions/set-tag", "POST", registry.set_model_version_tag),
    ("/model-versions/delete-tag", "DELETE", registry.delete_model_version_tag),
)


def _routes() -> list[BaseRoute]:
    by_path: dict[str, dict[str, object]] = {}
    for path, method, handler in (*TRACKING_ENDPOINTS, *REGISTRY_ENDPOINTS):
        by_path.setdefault(path, {})[method] = endpoint(handler)
    routes: list[BaseRoute] = []
    for prefix in PREFIXES:
        for path, handlers in by_path.items():
            routes.append(Route(prefix + path, _dispatch(handlers), methods=list(handlers)))
    return routes


def _dispatch(handlers: dict[str, object]):  # type: ignore[no-untyped-def]
    async def dispatch(request):  # type: ignore[no-untyped-def]
        return await handlers[request.method](request)  # type: ignore[operator]

    return dispatch


async def not_served(request: Request) -> Response:
    """MLflow's answer for an endpoint it does not know: ``ENDPOINT_NOT_FOUND``, which its
    client treats as "this server does not have it" (and falls back where it can)."""
    return error_response(
        "ENDPOINT_NOT_FOUND",
        f"{request.method} {request.url.path} is not served by mltrail's MLflow API (see README: Coming from MLflow)",
        404,
    )


_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# After the served routes: a known path with another method, or an unknown path, ends here
# rather than in the SPA's fallback (whose JSON MLflow's client cannot read).
routes = [
    *_routes(),
    *artifacts.routes,
    *(Route(prefix + "/{path:path}", not_served, methods=_ALL_METHODS) for prefix in PREFIXES),
    Route("/api/2.0/mlflow-artifacts/{path:path}", not_served, methods=_ALL_METHODS),
]
