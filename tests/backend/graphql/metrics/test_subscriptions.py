"""Subscriptions over graphql-transport-ws against real servers; across replicas via Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
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
  metricsLogged(runIds: $runIds, experimentId: $experimentId) { runId experimentId batchId keys steps timestamps values missed }
}"""
RUNS = "subscription($e: ID) { runChanged(experimentId: $e) { id name status endTime params { key value } } }"


PROBE_KEY = "_subscribed"
PROBE_RUN_PREFIX = "_subscribed-"

# Sends one event the subscription under test will receive and recognise (attempt = 0, 1, ...).
Probe = Callable[[int], Awaitable[None]]


@asynccontextmanager
async def subscription(
    url: str,
    query: str,
    variables: dict[str, Any],
    probe: Probe | None,
    is_probe: Callable[[dict[str, Any]], bool] = lambda payload: False,
) -> AsyncIterator[asyncio.Queue]:
    """Open a graphql-transport-ws subscription; yields a queue of `next` payloads once the
    server streams it.

    graphql-transport-ws acknowledges the connection but not a subscription: the server
    registers it on its event bus some time after `subscribe`, and an event published before
    then is not delivered (live events are not replayed). So this sends probe events until the
    first one comes back through the subscription itself; probe events (recognised by
    `is_probe`) never reach the queue, however late they arrive. Without a probe it yields at
    once: for a subscription whose first events are a catch-up replay, which prove it streams.
    """
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        queue: asyncio.Queue = asyncio.Queue()
        streaming = asyncio.Event()

        async def pump() -> None:
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] not in ("next", "error"):
                    continue
                if message["type"] == "next" and is_probe(message["payload"]):
                    streaming.set()
                else:
                    await queue.put(message["payload"])
                    streaming.set()  # an error ends the wait too: the test's next_event reports it

        task = asyncio.create_task(pump())
        try:
            deadline = asyncio.get_running_loop().time() + 15
            attempt = 0
            while probe is not None and not streaming.is_set():
                assert asyncio.get_running_loop().time() < deadline, "the subscription never streamed"
                await probe(attempt)
                attempt += 1
                # Not a sleep: returns as soon as the probe arrives; a probe published before
                # the server registered the subscription is lost, so send another.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(streaming.wait(), 0.25)
            yield queue
        finally:
            task.cancel()


def metric_probe(http: httpx.AsyncClient, run_id: str) -> Probe:
    """Log one point of a key of its own on the subscribed run (a metrics-only batch announces
    no run change, so it cannot disturb a runChanged subscription)."""

    async def send(attempt: int) -> None:
        await call(
            http, LOG_BATCH, {"runId": run_id, "metrics": metrics(PROBE_KEY, [0.0], start_step=attempt)}
        )

    return send


def is_metric_probe(payload: dict[str, Any]) -> bool:
    event = (payload.get("data") or {}).get("metricsLogged")
    return event is not None and set(event["keys"]) == {PROBE_KEY}


def run_probe(http: httpx.AsyncClient, experiment_id: str) -> Probe:
    """Create a run of its own in the subscribed experiment."""

    async def send(attempt: int) -> None:
        await call(
            http,
            "mutation($e: ID!, $n: String) { createRun(experimentId: $e, name: $n) { id } }",
            {"e": experiment_id, "n": f"{PROBE_RUN_PREFIX}{attempt}"},
        )

    return send


def is_run_probe(payload: dict[str, Any]) -> bool:
    run = (payload.get("data") or {}).get("runChanged")
    return run is not None and (run["name"] or "").startswith(PROBE_RUN_PREFIX)


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
            subscription(
                live_server.url, METRICS, {"runIds": [rid]}, metric_probe(http, rid), is_metric_probe
            ) as points,
            subscription(live_server.url, RUNS, {"e": eid}, run_probe(http, eid), is_run_probe) as runs,
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
            assert event["batchId"] == "b1"  # a writer can match its own batches
            assert event["values"] == [1.5, "NaN", "Infinity"] and event["steps"][0] == 2**40
            # A duplicate batch is stored once and announced once.
            await call(http, LOG_BATCH, {"runId": rid, "batchId": "b1", "metrics": metrics("loss", [1.5])})
            await call(http, "mutation($r: ID!) { updateRun(id: $r, status: FINISHED) { id } }", {"r": rid})
            changed = (await next_event(runs))["runChanged"]
            assert changed["id"] == rid and changed["status"] == "FINISHED" and changed["endTime"] is not None
            assert points.empty()


async def first_message(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The first answer to a graphql-transport-ws subscription (no event is sent to it)."""
    async with websockets.connect(url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def test_a_subscription_to_an_unknown_run_or_experiment_is_not_found(live_server):
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        eid = (await call(http, 'mutation { createExperiment(name: "nf") { id } }'))["createExperiment"]["id"]
        rid = (await call(http, "mutation($e: ID!) { createRun(experimentId: $e) { id } }", {"e": eid}))[
            "createRun"
        ]["id"]
    cases = [
        (METRICS, {"runIds": [rid, "no-such-run"]}, "runIds", "no-such-run"),
        (METRICS, {"experimentId": "987654"}, "experimentId", "987654"),
        (RUNS, {"e": "987654"}, "experimentId", "987654"),
    ]
    for query, variables, field, value in cases:
        message = await first_message(live_server.url, query, variables)
        errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
        assert errors, message
        assert errors[0]["extensions"]["code"] == "NOT_FOUND", message
        assert field in errors[0]["message"] and value in errors[0]["message"], message


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """Replicas share one PostgreSQL database (SQLite is one machine's store)."""
    admin = await require_postgres()
    url = await create_database(admin)
    try:
        yield url
    finally:
        await drop_database(admin, url)


@asynccontextmanager
async def redis_replicas(postgres_url: str, tmp_path: Any) -> AsyncIterator[tuple[Any, Any]]:
    """Two `mltrail server` processes on one PostgreSQL database, their events through Redis.

    Redis unreachable: the test fails under CI and is skipped elsewhere, saying how to start it.
    """
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
        yield a, b
    finally:
        a.stop()
        b.stop()


async def test_a_subscriber_on_one_replica_sees_points_logged_through_another(postgres_url, tmp_path):
    async with redis_replicas(postgres_url, tmp_path) as (a, b):
        async with httpx.AsyncClient(base_url=b.url, timeout=30) as http:
            rid = (await call(http, 'mutation { createRun(experimentName: "replicas") { id } }'))[
                "createRun"
            ]["id"]
            probe = metric_probe(http, rid)  # through replica b, as the points below
            async with subscription(a.url, METRICS, {"runIds": [rid]}, probe, is_metric_probe) as points:
                await call(
                    http, LOG_BATCH, {"runId": rid, "batchId": "x", "metrics": metrics("acc", [0.25, 0.5])}
                )
                event = (await next_event(points))["metricsLogged"]
                assert (
                    event["runId"] == rid
                    and event["values"] == [0.25, 0.5]
                    and event["keys"] == ["acc", "acc"]
                )
