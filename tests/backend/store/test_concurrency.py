"""Sixteen clients logging to one run at once, through a real server on a real port."""

from __future__ import annotations

import asyncio

import httpx

from fixtures.documents import HISTORIES, LOG_BATCH, metrics

CLIENTS, BATCHES, POINTS = 16, 4, 500


async def test_concurrent_batches_to_one_run_store_every_point_once(live_server):
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as http:

        async def call(query, variables):
            body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
            assert not body.get("errors"), body["errors"]
            return body["data"]

        eid = (await call('mutation { createExperiment(name: "conc") { id } }', {}))["createExperiment"]["id"]
        rid = (await call("mutation($e: ID!) { createRun(experimentId: $e) { id } }", {"e": eid}))[
            "createRun"
        ]["id"]

        async def client(c: int) -> None:
            for b in range(BATCHES):
                start = (c * BATCHES + b) * POINTS
                batch = metrics("loss", [float(start + i) for i in range(POINTS)], start_step=start)
                # Every batch is sent twice (a retry after a lost answer): stored once.
                for _ in range(2):
                    await call(LOG_BATCH, {"runId": rid, "batchId": f"c{c}-b{b}", "metrics": batch})

        await asyncio.gather(*(client(c) for c in range(CLIENTS)))
        series = (await call(HISTORIES, {"runIds": [rid]}))["metricHistories"][0]
        total = CLIENTS * BATCHES * POINTS
        assert series["totalPoints"] == total
        assert series["steps"] == list(range(total))
        run = await call(
            "query($r: ID!) { run(id: $r) { latestMetrics { value step count min max } } }", {"r": rid}
        )
        assert run["run"]["latestMetrics"] == [
            {
                "value": float(total - 1),
                "step": total - 1,
                "count": total,
                "min": 0.0,
                "max": float(total - 1),
            }
        ]
        log = live_server.log_path.read_text()
        assert "database is locked" not in log


async def test_concurrent_replays_of_one_create_run_make_one_run(live_server):
    """Eight clients send the same createRun (client-chosen id, params) at once — what retries
    after a timeout look like: one run, its params once, every caller gets the same run."""
    run_id = "ab" * 16
    params = [{"key": "lr", "value": "0.01"}, {"key": "layers", "value": "4"}]
    document = """mutation($id: ID, $p: [ParamInput!]) {
      createRun(experimentName: "replayed", runId: $id, params: $p) { id experimentId } }"""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=120) as http:

        async def create() -> dict:
            body = (await http.post("/graphql", json={"query": document, "variables": {"id": run_id, "p": params}})).json()
            assert not body.get("errors"), body["errors"]
            return body["data"]["createRun"]

        created = await asyncio.gather(*(create() for _ in range(8)))
        assert {c["id"] for c in created} == {run_id} and len({c["experimentId"] for c in created}) == 1
        body = (
            await http.post(
                "/graphql",
                json={"query": '{ runs(filter: "params.lr = \'0.01\'") { totalCount nodes { params { key value } } } }'},
            )
        ).json()
        assert body["data"]["runs"]["totalCount"] == 1
        assert body["data"]["runs"]["nodes"][0]["params"] == [
            {"key": "layers", "value": "4"},
            {"key": "lr", "value": "0.01"},
        ]
