"""The registry against real server processes: concurrent registrations on SQLite and
PostgreSQL, and registry events over a real WebSocket across two replicas through Redis."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from ..metrics.test_subscriptions import call, next_event, redis_replicas, subscription
from ..metrics.test_subscriptions import (
    postgres_url as postgres_url,  # the fixture: replicas share a database
)

MLMODEL = b"artifact_path: model\nflavors: {}\n"
REGISTER = """mutation($n: String!, $s: String!) { createModelVersion(name: $n, source: $s) { version } }"""


async def run_with_model(http: httpx.AsyncClient) -> str:
    rid = (await call(http, 'mutation { createRun(experimentName: "registry") { id } }'))["createRun"]["id"]
    response = await http.put(f"/api/artifacts/{rid}/model/MLmodel", content=MLMODEL)
    assert response.status_code in (200, 201), response.text
    return rid


async def test_concurrent_registrations_number_versions_one_to_eight(live_server):
    """Eight registrations of one new name at once: the model is created once and the
    versions are exactly 1..8 — no gap, no duplicate — on both databases."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        rid = await run_with_model(http)
        results = await asyncio.gather(
            *(call(http, REGISTER, {"n": "Concurrent", "s": f"runs:/{rid}/model"}) for _ in range(8))
        )
        assert sorted(r["createModelVersion"]["version"] for r in results) == list(range(1, 9))
        model = await call(
            http, '{ registeredModel(name: "Concurrent") { versions { version } history { kind version } } }'
        )
        history = model["registeredModel"]["history"]
        assert [h["kind"] for h in history].count("MODEL_CREATED") == 1
        assert [h["version"] for h in history if h["kind"] == "VERSION_CREATED"] == list(range(1, 9))
        assert [v["version"] for v in model["registeredModel"]["versions"]] == list(range(8, 0, -1))
    assert "Traceback" not in live_server.log_path.read_text()


EVENTS = """subscription($n: String) { registryEvents(name: $n) {
  name missed change { kind version fromStage toStage alias fromVersion toVersion user comment } } }"""

PROBE_COMMENT = "_subscribed"
UPDATE_DESCRIPTION = """mutation($n: String!, $d: String!, $c: String) {
  updateRegisteredModel(name: $n, description: $d, comment: $c) { name } }"""


def description_probe(http: httpx.AsyncClient, name: str):
    """Edit the model's description with a comment of its own: a change on the subscribed
    model that `is_registry_probe` recognises, so the helper knows the subscription streams."""

    async def send(attempt: int) -> None:
        await call(http, UPDATE_DESCRIPTION, {"n": name, "d": f"probe {attempt}", "c": PROBE_COMMENT})

    return send


def is_registry_probe(payload: dict) -> bool:
    event = (payload.get("data") or {}).get("registryEvents")
    return event is not None and event["change"].get("comment") == PROBE_COMMENT


async def test_registry_events_cross_replicas_through_redis(postgres_url, tmp_path):
    async with redis_replicas(postgres_url, tmp_path) as (a, b):
        async with httpx.AsyncClient(base_url=b.url, timeout=30, headers={"X-Mltrail-User": "ci-bot"}) as http:
            rid = await run_with_model(http)
            # The model exists first, so the probe (a description edit) has something to edit.
            await call(http, 'mutation { createRegisteredModel(name: "Churn") { name } }')
            probe = description_probe(http, "Churn")
            async with subscription(a.url, EVENTS, {"n": "Churn"}, probe, is_registry_probe) as events:
                await call(http, REGISTER, {"n": "Other", "s": f"runs:/{rid}/model"})  # filtered out
                await call(http, REGISTER, {"n": "Churn", "s": f"runs:/{rid}/model"})
                await call(
                    http,
                    'mutation { transitionModelVersionStage(name: "Churn", version: 1, stage: STAGING, '
                    'comment: "canary") { stage } }',
                )
                await call(
                    http, 'mutation { setModelVersionAlias(name: "Churn", alias: "champion", version: 1) { version } }'
                )
                received = [(await next_event(events))["registryEvents"] for _ in range(3)]
                assert events.empty()
        assert all(e["name"] == "Churn" and e["missed"] == 0 for e in received)
        changes = [e["change"] for e in received]
        assert [(c["kind"], c["version"], c["toStage"], c["alias"]) for c in changes] == [
            ("VERSION_CREATED", 1, "NONE", None),
            ("STAGE_CHANGED", 1, "STAGING", None),
            ("ALIAS_SET", 1, None, "champion"),
        ]
        assert all(c["user"] == "ci-bot" for c in changes) and changes[1]["comment"] == "canary"


CATCH_UP = """subscription($n: String, $a: ID) { registryEvents(name: $n, afterId: $a) {
  name change { id kind version toStage comment } } }"""


async def test_a_reconnecting_subscriber_catches_up_from_after_id(live_server):
    """Changes recorded after `afterId` are replayed from the database first, then live ones
    stream, each once."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        rid = await run_with_model(http)
        await call(http, REGISTER, {"n": "Churn", "s": f"runs:/{rid}/model"})
        await call(http, REGISTER, {"n": "Churn", "s": f"runs:/{rid}/model"})
        history = (await call(http, '{ registeredModel(name: "Churn") { history { id kind } } }'))[
            "registeredModel"
        ]["history"]
        assert [h["kind"] for h in history] == ["MODEL_CREATED", "VERSION_CREATED", "VERSION_CREATED"]
        probe = description_probe(http, "Churn")
        variables = {"n": "Churn", "a": history[1]["id"]}
        async with subscription(live_server.url, CATCH_UP, variables, probe, is_registry_probe) as events:
            replayed = (await next_event(events))["registryEvents"]["change"]
            assert replayed["id"] == history[2]["id"] and replayed["version"] == 2
            await call(
                http, 'mutation { transitionModelVersionStage(name: "Churn", version: 2, stage: STAGING) { stage } }'
            )
            live = (await next_event(events))["registryEvents"]["change"]
            assert (live["kind"], live["version"], live["toStage"]) == ("STAGE_CHANGED", 2, "STAGING")
            await asyncio.sleep(0.3)
            assert events.empty()


async def _mutate_over_websocket(url: str, payload: dict, query: str) -> dict:
    """Run one mutation over graphql-transport-ws with `payload` as connection_init's."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["type"] == "next", message
        return message["payload"]


async def test_acting_user_over_websocket_comes_from_connection_init(live_server):
    """Browsers cannot set headers on a WebSocket: the dashboard sends its acting user in
    connection_init's payload, and changes made over that socket are recorded as that user
    (anonymous without one; a bad name is refused as it is in the header)."""
    create = 'mutation { createRegisteredModel(name: "%s") { createdBy } }'
    zoe = await _mutate_over_websocket(live_server.url, {"user": "zoe"}, create % "WsZoe")
    assert zoe["data"]["createRegisteredModel"]["createdBy"] == "zoe"
    nobody = await _mutate_over_websocket(live_server.url, {}, create % "WsNobody")
    assert nobody["data"]["createRegisteredModel"]["createdBy"] == "anonymous"
    bad = await _mutate_over_websocket(live_server.url, {"user": "a\nb"}, create % "WsBad")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    assert "X-Mltrail-User" in bad["errors"][0]["message"]
