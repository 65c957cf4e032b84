"""create_app(settings) -> Starlette: routes, the SPA, and the lifespan that owns resources.

The lifespan opens, once per process: the database (migrating it, or checking it is
current), the batch writer, the artifact store and the telemetry registry. Nothing is
created at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from mltrail_server.artifacts import open_artifact_store
from mltrail_server.config import Settings
from mltrail_server.events import open_event_bus
from mltrail_server.graphql.context import Context, Resources
from mltrail_server.graphql.schema import build_schema
from mltrail_server.http import health, prometheus
from mltrail_server.http.hosts import HostAllowList, HostPolicy
from mltrail_server.http.request_bounds import BodyRefused, measure_body
from mltrail_server.mlflow_api import routes as mlflow_routes
from mltrail_server.services.pagination import use_cursor_secret
from mltrail_server.store import migrate
from mltrail_server.store.engine import open_database
from mltrail_server.store.writer import open_run_writer

log = logging.getLogger("mltrail.server")

API_PREFIXES = ("/graphql", "/api/", "/ajax-api/", "/healthz", "/readyz", "/metrics")


class MltrailGraphQL(GraphQL):
    """Strawberry's ASGI app with our context, a faster JSON encoder, and a guarded front door.

    Before a body is parsed: only ``application/json`` is read as JSON (``application/json-evil``
    is not), and the body is measured against the request bounds (http/request_bounds.py).
    Every refusal at this level — unreadable JSON, wrong media type, a body over a bound — is
    answered as GraphQL errors are, ``{"errors": [{"message", "extensions": {"code"}}]}``,
    not as strawberry's plain text.
    """

    def __init__(self, schema: Any, *, settings: Settings, hosts: HostPolicy, **options: Any) -> None:
        super().__init__(schema, **options)
        self.settings = settings
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            if request.method == "POST":
                await self._screen_body(request)
            response = await self.run(request)
        except BodyRefused as refused:
            response = graphql_error_response(refused.message, refused.code, refused.status)
        except HTTPException as error:
            code = "INVALID_ARGUMENT" if error.status_code < 500 else "INTERNAL"
            response = graphql_error_response(error.reason, code, error.status_code)
        await response(scope, receive, send)

    async def _screen_body(self, request: Request) -> None:
        """The media type, then the body's bounds, before strawberry parses it (the body is
        read once: Starlette's Request keeps it for strawberry's own read)."""
        media_type, _ = parse_content_type(request.headers.get("content-type", ""))
        if media_type != "application/json":
            raise BodyRefused(
                f"unsupported content type {media_type[:100]!r}: send application/json",
                code="INVALID_ARGUMENT",
                status=415,
            )
        shape = measure_body(await request.body(), self.settings)
        # Read by the input rules (graphql/extensions.py): no NUL escape, no NUL to look for.
        request.scope["mltrail.nul_free"] = not shape.may_contain_nul

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except orjson.JSONDecodeError as error:
            raise BodyRefused(
                f"request body is not valid JSON: {str(error)[:200]}", code="INVALID_ARGUMENT", status=400
            ) from None

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        # Cross-origin handshakes only (strawberry accepts same-origin ones itself): a page
        # served under one of the server's own names keeps its live updates.
        return self.hosts.origin_allowed(origin)

    async def get_context(self, request: Any, response: Any = None) -> Context:  # type: ignore[override]
        resources: Resources = request.app.state.resources
        user = request.headers.get("x-mltrail-user") if hasattr(request, "headers") else None
        return Context(resources=resources, request=request, response=response, user=user)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        # orjson is several times faster than json.dumps on columnar metric responses. A str,
        # not bytes: the same encoder feeds WebSocket messages, which must be text frames.
        return orjson.dumps(data).decode()


def graphql_error_response(message: str, code: str, status: int) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class BodySizeLimit:
    """Refuse GraphQL request bodies over the limit with 413, before parsing them."""

    def __init__(self, app: ASGIApp, max_bytes: int, prefix: str = "/graphql") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "errors": [
                    {
                        "message": f"request body is larger than the limit of {self.max_bytes} bytes "
                        "(MLTRAIL_MAX_REQUEST_BYTES); split the batch",
                        "extensions": {"code": "RESOURCE_EXHAUSTED"},
                    }
                ]
            },
            status_code=413,
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def _spa_routes(static_dir: str | None) -> list[BaseRoute]:
    if not static_dir:

        async def no_spa(request: Request) -> Response:
            if request.url.path.startswith(API_PREFIXES):
                return JSONResponse({"error": {"code": "NOT_FOUND", "message": "no such route"}}, 404)
            return HTMLResponse(
                "<!doctype html><title>mltrail</title><h1>mltrail</h1><p>The dashboard is not built "
                "(run <code>make run</code>, or <code>npm run build</code> in frontend/). The API is at "
                '<a href="/graphql">/graphql</a>.</p>'
            )

        return [Route("/{path:path}", no_spa, methods=["GET", "HEAD"])]

    root = Path(static_dir).resolve()
    index = root / "index.html"

    async def spa(request: Request) -> Response:
        path = request.path_params.get("path", "")
        if request.url.path.startswith(API_PREFIXES):
            return JSONResponse({"error": {"code": "NOT_FOUND", "message": "no such route"}}, 404)
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            # Hashed asset names never change content: cache them for good.
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        # Client-side routes fall back to the SPA's entry point.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    return [Route("/{path:path}", spa, methods=["GET", "HEAD"])]


def _artifact_routes() -> list[BaseRoute]:
    try:
        from mltrail_server.http import artifacts
    except ImportError:  # pragma: no cover - until the artifact routes exist
        return []
    return list(artifacts.routes)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    telemetry = prometheus.Telemetry()
    hosts = HostPolicy(settings)
    graphql_app = MltrailGraphQL(
        build_schema(settings),
        settings=settings,
        hosts=hosts,
        # graphql-transport-ws first (the current protocol, what graphql-ws and the SPA speak);
        # the legacy graphql-ws protocol too, because older Apollo clients
        # (subscriptions-transport-ws) speak only that and were closed with 4406.
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        multipart_uploads_enabled=False,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            use_cursor_secret(settings.cursor_secret_bytes())
            db = open_database(settings.database_url)
            stack.push_async_callback(db.dispose)
            if settings.migrate_on_start:
                await migrate.upgrade(db.write_engine)
            else:
                await migrate.check_current(db.read_engine)
            writer = open_run_writer(db)
            stack.push_async_callback(writer.close)
            store = await stack.enter_async_context(open_artifact_store(settings))
            bus = await stack.enter_async_context(open_event_bus(settings.redis_url))
            resources = Resources(
                settings=settings, db=db, writer=writer, telemetry=telemetry, artifact_store=store, bus=bus
            )
            app.state.resources = resources
            # Plain names for the HTTP routes that do not go through GraphQL.
            app.state.settings = settings
            app.state.sessionmaker = db.sessionmaker
            app.state.write_sessionmaker = db.write_sessionmaker
            app.state.artifact_store = store
            yield

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        *health.routes,
        *prometheus.routes,
        *_artifact_routes(),
        *mlflow_routes,
        *_spa_routes(settings.static_dir),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            # First: a request for a host we do not answer to (DNS rebinding) reaches nothing.
            Middleware(HostAllowList, policy=hosts),
            Middleware(prometheus.RequestMetricsMiddleware, telemetry=telemetry),
            Middleware(BodySizeLimit, max_bytes=settings.max_request_bytes),
        ],
    )


def create_app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings come from the MLTRAIL_* environment."""
    return create_app(Settings.from_env())
