"""The server itself: start time, small-request latency, memory.

- start: process spawn -> ``/readyz`` 200 (MLflow: ``/health``), fresh data directory,
  migrations included (``Server.start_s``);
- small requests on one kept-alive connection (``GET /healthz`` and a one-field GraphQL
  query; MLflow: ``/health`` and ``experiments/search``) with ``--workers 1`` and
  ``--workers 2``: Nagle's algorithm plus delayed ACKs would show as ≈ 40 ms;
- RSS: VmRSS summed over the process tree, after the benchmark.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

import httpx
from _harness import mltrail_server, running
from _mltrail_side import SMALL_QUERY
from _workload import timed

LATENCY_REQUESTS = 200
# Above this, a small request's fastest answer is waiting for a delayed ACK (≈ 40 ms).
NAGLE_SUSPECT_MS = 20.0

MLTRAIL_SMALL = [
    ("GET /healthz", "/healthz", None),
    ("GraphQL experiments(first:1)", "/graphql", json.dumps({"query": SMALL_QUERY}).encode()),
]
MLFLOW_SMALL = [
    ("GET /health", "/health", None),
    (
        "POST experiments/search",
        "/api/2.0/mlflow/experiments/search",
        json.dumps({"max_results": 1}).encode(),
    ),
]


def small_request_latency(
    url: str, paths: list[tuple[str, str, bytes | None]]
) -> dict[str, tuple[float, float]]:
    """(p50, min) ms per (label, path, body) on one kept-alive connection; GET when body is None."""
    out = {}
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for label, path, body in paths:

            def call(path: str = path, body: bytes | None = body) -> None:
                if body is None:
                    response = client.get(path)
                else:
                    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
                response.raise_for_status()

            samples = timed(call, LATENCY_REQUESTS, warmup=5)
            out[label] = (statistics.median(samples), min(samples))
    return out


def two_workers(data_dir: str, db_url: str | None, mr: dict[str, Any]) -> None:
    """mltrail again on the benchmark's data, with ``--workers 2``: start, latency, memory."""
    with running(mltrail_server(data_dir, workers=2, db_url=db_url)) as server:
        mr["start_w2_s"] = server.start_s
        # Several connections: each lands on whichever worker accepts it.
        mr["latency_w2"] = small_request_latency(server.url, MLTRAIL_SMALL)
        mr["latency_w2_b"] = small_request_latency(server.url, MLTRAIL_SMALL)
        mr["rss_w2"] = server.rss()
