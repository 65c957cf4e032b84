"""Subscriptions over graphql-transport-ws against real servers; across replicas via Redis."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets

from fixtures.databases import create_database, drop_database, require_postgres
from fixtures.documents import LOG_BATCH, metrics
from fixtures.live_server import make_live_server
from mltrail_server.config import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("MLTRAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

METRICS = """subscription($runIds: [ID!], $experimentId: ID) {
  metricsLogged(runIds: $runIds, experimentId: $experimentId) { runId experimentId keys steps timestamps values missed }
}"""
RUNS = "subscription($e: ID) { runChanged(experimentId: $e) { id name status endTime params { key value } } }"


@asynccontextmanager
async def subscription(url: str, query: str, variables: dict[str, Any]) -> AsyncIterator[asyncio.Queue]:
    """Open a graphql-transport-ws subscription; yields a queue of `next` payloads."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        queue: asyncio.Queue = asyncio.Queue()

        async def pump() -> None:
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] in ("next", "error"):
                    await queue.put(message["payload"])

        task = asyncio.create_task(pump())
        await asyncio.sleep(0.3)  # the server subscribes to the bus before any event is published
        try:
            yield queue
        finally:
            task.cancel()


async def call(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = (await http.post("/graphql", json={"query": query, "variables": variables or {}})).json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def next_event(queue: asyncio.Queue) -> dict[str, Any]:
    payload = await asyncio.wait_for(queue.get(), 15)
    assert not payload.get("errors"), payload
    return payload["data"]


async def test_metrics_and_run_changes_stream_live(live_server):
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        eid = (await call(http, 'mutation { createExperiment(name: "live") { id } }'))["createExperiment"][
            "id"
        ]
        rid = (await call(http, "mutation($e: ID!) { createRun(experimentId: $e) { id } }", {"e": eid}))[
            "createRun"
        ]["id"]
        async with (
            subscription(live_server.url, METRICS, {"runIds": [rid]}) as points,
            subscription(live_server.url, RUNS, {"e": eid}) as runs,
        ):
            await call(
                http,
                LOG_BATCH,
                {
                    "runId": rid,
                    "batchId": "b1",
                    "metrics": metrics("loss", [1.5, "NaN", "Infinity"], start_step=2**40),
                },
            )
            event = (await next_event(points))["metricsLogged"]
            assert event["runId"] == rid and event["experimentId"] == eid and event["missed"] == 0
            assert event["values"] == [1.5, "NaN", "Infinity"] and event["steps"][0] == 2**40
            # A duplicate batch is stored once and announced once.
            await call(http, LOG_BATCH, {"runId": rid, "batchId": "b1", "metrics": metrics("loss", [1.5])})
            await call(http, "mutation($r: ID!) { updateRun(id: $r, status: FINISHED) { id } }", {"r": rid})
            changed = (await next_event(runs))["runChanged"]
            assert changed["id"] == rid and changed["status"] == "FINISHED" and changed["endTime"] is not None
            assert points.empty()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """Replicas share one PostgreSQL database (SQLite is one machine's store)."""
    admin = await require_postgres()
    url = await create_database(admin)
    try:
        yield url
    finally:
        await drop_database(admin, url)


async def test_a_subscriber_on_one_replica_sees_points_logged_through_another(postgres_url, tmp_path):
    import redis.asyncio as aioredis

    try:
        client = aioredis.from_url(REDIS_URL)
        await client.ping()
        await client.aclose()
    except Exception:
        message = f"Redis is not reachable at {REDIS_URL}: start redis-server or set MLTRAIL_TEST_REDIS_URL"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    shared = Settings(
        data_dir=str(tmp_path / "data"),
        backend_store_uri=postgres_url,
        artifact_root=str(tmp_path / "artifacts"),
        redis_url=REDIS_URL,
        static_dir=None,
    )
    a, b = make_live_server(shared, tmp_path), make_live_server(shared, tmp_path)
    a.start()
    b.start()
    try:
        async with httpx.AsyncClient(base_url=b.url, timeout=30) as http:
            rid = (await call(http, 'mutation { createRun(experimentName: "replicas") { id } }'))[
                "createRun"
            ]["id"]
            async with subscription(a.url, METRICS, {"runIds": [rid]}) as points:
                await call(
                    http, LOG_BATCH, {"runId": rid, "batchId": "x", "metrics": metrics("acc", [0.25, 0.5])}
                )
                event = (await next_event(points))["metricsLogged"]
                assert (
                    event["runId"] == rid
                    and event["values"] == [0.25, 0.5]
                    and event["keys"] == ["acc", "acc"]
                )
    finally:
        a.stop()
        b.stop()
