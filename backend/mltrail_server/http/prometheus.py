"""Prometheus metrics: request and ingest counters in the text exposition format.

Each app gets its own registry (no process-global state, so tests can build many apps).
With ``--workers N`` every worker reports its own counters; scrape each or sum them.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail_server.store.batch_writes import BatchOutcome


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mltrail_http_requests",
            "HTTP requests served",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mltrail_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.ingest_points = Counter("mltrail_ingest_points", "Metric points stored", registry=self.registry)
        self.ingest_batches = Counter(
            "mltrail_ingest_batches", "logBatch calls applied", ["outcome"], registry=self.registry
        )

    def record_batch(self, outcome: BatchOutcome) -> None:
        if outcome.duplicate:
            self.ingest_batches.labels("duplicate").inc()
            return
        self.ingest_batches.labels("stored").inc()
        self.ingest_points.inc(outcome.metrics_written)


def route_label(path: str) -> str:
    # Bounded label values: never one series per run id or artifact path.
    for prefix in ("/graphql", "/api/artifacts", "/healthz", "/readyz", "/metrics"):
        if path.startswith(prefix):
            return prefix
    return "/"


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_label(scope["path"])
            self.telemetry.requests.labels(route, scope["method"], str(status["code"])).inc()
            self.telemetry.latency.labels(route).observe(time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    telemetry: Telemetry = request.app.state.resources.telemetry
    return Response(generate_latest(telemetry.registry), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics, methods=["GET"])]
