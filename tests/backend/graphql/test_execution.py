"""The fast execution path answers exactly what graphql-core's general path answers.

Every document runs twice against the same database: through the app as built
(``PlainFieldExecutor``) and through an app built with Strawberry's own execution context.
The answers must be identical — data, nulls, NaN, enums, aliases, fragments, directives,
``__typename``, errors — and the fast path must actually be taken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from fixtures.documents import LOG_BATCH, new_experiment, new_run
from mltrail_server.app import create_app
from mltrail_server.graphql import execution
from mltrail_server.graphql import schema as schema_module

PAGE = """query($skip: Boolean!, $first: Int) {
  runs(first: $first, orderBy: ["attributes.start_time"]) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { cursor node { id } }
    nodes {
      __typename
      ...Basics
      alias: id
      status endTime duration deleted parentId user artifactUri
      p: params { k: key ...Value @include(if: $skip) __typename }
      params { key value }
      tags @skip(if: $skip) { key value }
      latestMetrics { key value min max count step timestamp }
      source { gitCommit }
    }
  }
}
fragment Basics on Run { name startTime experimentId }
fragment Value on Param { value }
"""

ONE_RUN = """query($id: ID!) { run(id: $id) {
  id name params { key value } tags { value key } latestMetrics { key value min max }
  children { id name params { key } }
} }"""

# A field error inside a list of small objects: the general path must report it, with its path.
BAD_ARGUMENT = '{ runs(first: 2) { nodes { id artifacts(path: "../x") { path } } } }'


@pytest.fixture
async def general_client(settings: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, executing with Strawberry's own context."""
    monkeypatch.setattr(schema_module, "PlainFieldExecutor", StrawberryGraphQLCoreExecutionContext)
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield http


async def _seed(gql: Any) -> list[str]:
    eid = await new_experiment(gql)
    run_ids = []
    for i in range(6):
        rid = await new_run(gql, eid, name=f"r{i}" if i % 2 else None, startTime=1000 + i)
        run_ids.append(rid)
        metrics = {
            "keys": ["loss", "loss", "acc", "nan_only"],
            "values": [1.5 - i, "NaN", "Infinity", "NaN"],
            "steps": [0, 1, 0, 0],
            "timestamps": [10, 11, 12, 13],
        }
        params = [{"key": f"p{j}", "value": f"v{i}-{j}"} for j in range(3)]
        tags = [{"key": "team", "value": "a" if i % 2 else "b"}] if i != 3 else []
        await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics, "params": params, "tags": tags})
    child = await new_run(gql, eid, parentRunId=run_ids[0], name="child")
    await gql.ok(LOG_BATCH, {"runId": child, "params": [{"key": "c", "value": "1"}]})
    await gql.ok(
        'mutation($id: ID!){ updateRun(id: $id, status: FINISHED, endTime: 5000) { id } }', {"id": run_ids[1]}
    )
    return run_ids


async def _both(client: httpx.AsyncClient, general: httpx.AsyncClient, query: str, variables: dict) -> Any:
    fast = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    slow = (await general.post("/graphql", json={"query": query, "variables": variables})).json()
    assert fast == slow
    return fast


async def test_fast_and_general_paths_answer_the_same(gql, client, general_client):
    run_ids = await _seed(gql)
    for skip in (True, False):
        for first in (0, 3, 50):
            body = await _both(client, general_client, PAGE, {"skip": skip, "first": first})
            assert not body.get("errors"), body
    page = body["data"]["runs"]["nodes"]
    edges = body["data"]["runs"]["edges"]
    assert len(page) == 7 and page[0]["__typename"] == "Run" and page[0]["alias"] == edges[0]["node"]["id"]
    assert page[0]["p"][0] == {"k": "p0", "__typename": "Param"}  # @include(if: false) left value out
    loss = next(m for m in page[0]["latestMetrics"] if m["key"] == "loss")
    assert loss["value"] == "NaN" and loss["min"] == 1.5 and loss["count"] == 2
    nan_only = next(m for m in page[0]["latestMetrics"] if m["key"] == "nan_only")
    assert nan_only["min"] is None and nan_only["max"] is None
    assert page[1]["status"] == "FINISHED" and page[1]["endTime"] == 5000 and page[0]["endTime"] is None
    assert page[3]["tags"] == []
    for rid in run_ids[:2]:
        body = await _both(client, general_client, ONE_RUN, {"id": rid})
        assert not body.get("errors"), body
    assert body["data"]["run"]["tags"] == [{"value": "a", "key": "team"}]
    errors = (await _both(client, general_client, BAD_ARGUMENT, {}))["errors"]
    assert errors and errors[0]["path"][:3] == ["runs", "nodes", 0]


async def test_the_fast_path_is_taken(gql, client, monkeypatch):
    await _seed(gql)
    calls: list[str] = []
    general = execution.PlainFieldExecutor.execute_field

    def counting(self: Any, parent_type: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(parent_type.name)
        return general(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(execution.PlainFieldExecutor, "execute_field", counting)
    body = (await client.post("/graphql", json={"query": PAGE, "variables": {"skip": False, "first": 50}})).json()
    assert not body.get("errors"), body
    # Per run only the resolvers the page cannot hold (duration, deleted, source) run the
    # general way: no Param, Tag or LatestMetric field, and no plain Run field, does.
    assert {"Param", "Tag", "LatestMetric", "RunSource"}.isdisjoint(calls), calls
    assert calls.count("Run") == 3 * 7, calls
