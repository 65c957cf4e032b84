"""The model server's Starlette app: ``/invocations``, ``/health``, ``/version``, ``/metrics``.

Prediction runs on the event loop's thread, not in a thread pool: for the small tabular models
this server is for, a prediction costs less than the hop to a worker thread, and the GIL would
serialize the work anyway. Requests ready together are predicted in one call (`_batching`).
Scale out with ``--workers`` (processes).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mltrail.serving._batching import PredictionBatcher, batchable
from mltrail.serving._payload import PayloadError, parse_request, predictions_body
from mltrail.serving._slot import ModelSlot, RegistryFollower, ServedModel

log = logging.getLogger("mltrail.serving")

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ServingSettings:
    """What one model server process serves; read from ``MLTRAIL_SERVING_*`` by `app_from_env`."""

    model_uri: str
    tracking_uri: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    poll_interval: float = 2.0

    @classmethod
    def from_env(cls) -> ServingSettings:
        env = os.environ
        return cls(
            model_uri=env["MLTRAIL_SERVING_MODEL_URI"],
            tracking_uri=env.get("MLTRAIL_TRACKING_URI") or None,
            max_body_bytes=int(env.get("MLTRAIL_SERVING_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            poll_interval=float(env.get("MLTRAIL_SERVING_POLL_INTERVAL", "2")),
        )


class ServingMetrics:
    """Prometheus series of one server process (a private registry: two apps in one process,
    as in tests, never collide)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mltrail_serving_requests", "Scoring requests by HTTP status.", ["status"], registry=self.registry
        )
        self.latency = Histogram(
            "mltrail_serving_request_seconds",
            "Time to answer a scoring request, parsing and validation included.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.errors = Counter(
            "mltrail_serving_errors",
            "Requests answered with an error, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "mltrail_serving_model_swaps", "Versions swapped in while serving.", registry=self.registry
        )
        self.version = Gauge(
            "mltrail_serving_model_version", "The registered version being served.", registry=self.registry
        )
        self.rows = Counter("mltrail_serving_rows", "Rows scored.", registry=self.registry)
        self.batched = Counter(
            "mltrail_serving_batched_requests",
            "Requests answered by a predict call shared with other requests (dynamic batching).",
            registry=self.registry,
        )

    def swapped(self, served: ServedModel) -> None:
        self.swaps.inc()
        if served.version is not None:
            self.version.set(served.version)


def _error(error: PayloadError) -> Response:
    return Response(orjson.dumps(error.to_json()), status_code=error.status, media_type="application/json")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused past ``limit`` bytes before more of it is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadError(f"the body ({declared} bytes) exceeds the limit of {limit} bytes", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadError(f"the body exceeds the limit of {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: ServingSettings, *, slot: ModelSlot | None = None) -> Starlette:
    """The app for ``settings``; loading the model happens here, so a bad URI fails at start."""
    from mltrail.models import ModelInputError
    from mltrail.models._signature import enforce_schema

    metrics = ServingMetrics()
    batcher = PredictionBatcher(on_batch=metrics.batched.inc)
    slot = slot or ModelSlot(settings.model_uri, settings.tracking_uri, on_swap=metrics.swapped)
    follower = RegistryFollower(slot, poll_interval=settings.poll_interval)
    if slot.current.version is not None:
        metrics.version.set(slot.current.version)

    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        status = 200
        try:
            body = await _read_body(request, settings.max_body_bytes)
            data, params = parse_request(body, request.headers.get("content-type", "application/json"))
            served = slot.current  # read once: this request uses this version to the end
            try:
                if batchable(served, data, params):
                    signature = served.model.metadata.signature
                    if signature is not None:  # each request's own 400 before it joins a batch
                        data = enforce_schema(data, signature.inputs)
                    predictions = await batcher.predict(served, data)
                else:
                    predictions = served.model.predict(data, params) if params else served.model.predict(data)
            except ModelInputError as error:
                raise PayloadError(str(error), column=error.column) from None
            except (ValueError, TypeError, KeyError) as error:
                # The model itself refused the input (e.g. an unseen category): the caller's
                # to fix, so a 400 with the model's words, never a traceback.
                raise PayloadError(f"the model rejected the input: {type(error).__name__}: {error}") from None
            metrics.rows.inc(len(data))
            return Response(predictions_body(predictions), media_type="application/json")
        except PayloadError as error:
            status = error.status
            metrics.errors.labels("payload" if status != 413 else "too_large").inc()
            return _error(error)
        except Exception as error:  # anything else: a JSON 500 without a stack trace
            status = 500
            metrics.errors.labels("internal").inc()
            log.exception("prediction failed")
            return JSONResponse(
                {"error_code": "INTERNAL", "message": f"prediction failed: {type(error).__name__}"},
                status_code=500,
            )
        finally:
            metrics.requests.labels(str(status)).inc()
            metrics.latency.observe(time.perf_counter() - started)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": slot.current.version})

    async def version(request: Request) -> Response:
        body = slot.current.describe()
        body["following"] = slot.follows is not None
        body["subscribed"] = follower.subscribed.is_set()
        return JSONResponse(body)

    async def prometheus(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        follower.start()
        try:
            yield
        finally:
            follower.stop()

    app = Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/ping", health, methods=["GET"]),  # MLflow's name for it
            Route("/version", version, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.slot = slot
    app.state.follower = follower
    return app


def app_from_env() -> Starlette:
    """uvicorn's factory (``--workers`` starts one per process, each loading the model itself)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return create_app(ServingSettings.from_env())


def serve(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5001,
    workers: int = 1,
    tracking_uri: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    poll_interval: float = 2.0,
    log_level: str = "info",
) -> None:
    """Run the model server in this process until interrupted."""
    import uvicorn

    # The settings travel in the environment, the one channel uvicorn's worker processes share.
    os.environ["MLTRAIL_SERVING_MODEL_URI"] = model_uri
    if tracking_uri:
        os.environ["MLTRAIL_TRACKING_URI"] = tracking_uri
    os.environ["MLTRAIL_SERVING_MAX_BODY_BYTES"] = str(max_body_bytes)
    os.environ["MLTRAIL_SERVING_POLL_INTERVAL"] = str(poll_interval)
    uvicorn.run(
        "mltrail.serving._app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,  # one line per prediction costs more than the prediction
    )


__all__ = ["ServingSettings", "app_from_env", "create_app", "serve"]
