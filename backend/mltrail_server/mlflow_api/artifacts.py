"""MLflow's proxied artifact API (``mlflow-artifacts``) onto mltrail's artifact store.

    PUT /api/2.0/mlflow-artifacts/artifacts/{run_id}/{path}   upload (streamed, bounded)
    GET /api/2.0/mlflow-artifacts/artifacts/{run_id}/{path}   download (streamed)
    GET /api/2.0/mlflow-artifacts/artifacts?path={run_id}/…   list: {"files": [{path, is_dir, file_size}]}

A run's ``artifact_uri`` is answered as ``mlflow-artifacts:/{run_id}`` (tracking.py), so
MLflow's client sends every artifact of a run here, and the first path segment names the
run. The bytes land under the run's own artifact root through services/artifacts.py (path
confinement, size limit, atomic writes), where the dashboard and mltrail's client see them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mltrail_server.errors import InvalidArgument, MltrailError, NotFound, ResourceExhausted
from mltrail_server.mlflow_api.protocol import ERROR_CODES, error_response, json_response
from mltrail_server.services import artifacts as artifact_service

ROOT = "/api/2.0/mlflow-artifacts/artifacts"


def _split(raw: str) -> tuple[str, str]:
    """``{run_id}/{path}`` into the run id and the path under the run's root."""
    run_id, _, path = raw.strip("/").partition("/")
    if not run_id:
        raise InvalidArgument(f"path: {raw!r} does not start with a run id")
    return run_id, path


async def _run_root(request: Request, run_id: str, *, for_write: bool) -> str:
    # A short session: never hold a database connection for the length of a transfer.
    async with request.app.state.sessionmaker() as session:
        return await artifact_service.get_run_artifact_root(session, run_id=run_id, for_write=for_write)


def _error(exc: MltrailError) -> Response:
    error_code, status = ERROR_CODES.get(exc.code, ("INTERNAL_ERROR", 500))
    return error_response(error_code, exc.message if status != 500 else "internal error", status)


async def upload(request: Request) -> Response:
    try:
        run_id, path = _split(request.path_params["path"])
        max_bytes: int = request.app.state.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise ResourceExhausted(f"upload of {declared} bytes exceeds the limit of {max_bytes} bytes")
        root = await _run_root(request, run_id, for_write=True)
        await artifact_service.put_artifact(
            request.app.state.artifact_store,
            artifact_uri=root,
            path=path,
            chunks=request.stream(),
            max_bytes=max_bytes,
        )
    except MltrailError as exc:
        return _error(exc)
    return json_response({})


async def download(request: Request) -> Response:
    try:
        run_id, path = _split(request.path_params["path"])
        root = await _run_root(request, run_id, for_write=False)
        store = request.app.state.artifact_store
        entry = await artifact_service.stat_artifact(store, artifact_uri=root, path=path)
        if entry.is_dir:
            raise NotFound(f"path: {path!r} is a directory, not a file")
    except MltrailError as exc:
        return _error(exc)
    headers = {"Content-Length": str(entry.size)} if entry.size is not None else {}
    return StreamingResponse(
        store.read_range(root, entry.path, etag=entry.etag),
        media_type="application/octet-stream",
        headers=headers,
    )


async def list_artifacts(request: Request) -> Response:
    try:
        run_id, path = _split(request.query_params.get("path") or "")
        root = await _run_root(request, run_id, for_write=False)
        entries = await artifact_service.list_artifacts(
            request.app.state.artifact_store, artifact_uri=root, path=path
        )
    except MltrailError as exc:
        return _error(exc)
    # Names relative to the listed directory, as MLflow's own server answers them.
    files = [
        {
            "path": e.path.rsplit("/", 1)[-1],
            "is_dir": e.is_dir,
            **({"file_size": e.size} if not e.is_dir else {}),
        }
        for e in entries
    ]
    return json_response({"files": files})


routes = [
    Route(ROOT, list_artifacts, methods=["GET"]),
    Route(ROOT + "/{path:path}", download, methods=["GET"]),
    Route(ROOT + "/{path:path}", upload, methods=["PUT"]),
]
