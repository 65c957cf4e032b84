"""runTable: the run search as columns — same rows, order and cursors as `runs`."""

from __future__ import annotations

from sqlalchemy import event

from fixtures.documents import LOG_BATCH, SEARCH, metrics, new_experiment, new_run
from mltrail_server.store import driver_reads

TABLE = """
query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int, $after: String,
      $paramKeys: [String!], $metricKeys: [String!], $tagKeys: [String!], $viewType: ViewType) {
  runTable(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first, after: $after,
           paramKeys: $paramKeys, metricKeys: $metricKeys, tagKeys: $tagKeys, viewType: $viewType) {
    totalCount
    pageInfo { endCursor hasNextPage }
    runIds experimentIds names statuses users startTimes endTimes parentIds artifactUris
    params { key values }
    tags { key values }
    metrics { key values steps timestamps mins maxs }
  }
}"""


async def seed(gql) -> tuple[str, list[str]]:
    """Five runs: lr on all, `model` on some, acc with a NaN on one, loss on one, a tag on one."""
    eid = await new_experiment(gql)
    ids = []
    for i in range(5):
        params = [{"key": "lr", "value": ["0.1", "0.01"][i % 2]}]
        if i % 2 == 0:
            params.append({"key": "model", "value": f"m{i}"})
        rid = await new_run(gql, eid, name=f"r{i}", startTime=1000 + i, params=params)
        values = ["NaN" if i == 3 else 0.2 * i, 0.2 * i + 0.1]
        await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("acc", values, start_step=10)})
        if i == 4:
            await gql.ok(
                LOG_BATCH,
                {"runId": rid, "metrics": metrics("loss", [-1.5]), "tags": [{"key": "team", "value": "nlp"}]},
            )
        ids.append(rid)
    return eid, ids


def column(columns: list[dict], key: str) -> dict:
    return next(c for c in columns if c["key"] == key)


async def test_rows_and_order_match_runs(gql):
    eid, ids = await seed(gql)
    for variables in (
        {},
        {"orderBy": ["metrics.acc DESC"]},
        {"filter": "params.lr = '0.1' or tags.team = 'nlp'", "orderBy": ["name"]},
        {"filter": "metrics.acc.max > 0.25", "orderBy": ["params.model DESC", "start_time"]},
    ):
        runs = (await gql.ok(SEARCH, variables))["runs"]
        table = (await gql.ok(TABLE, variables))["runTable"]
        assert table["runIds"] == [n["id"] for n in runs["nodes"]], variables
        assert table["names"] == [n["name"] for n in runs["nodes"]]
        assert table["totalCount"] == runs["totalCount"]
        assert table["pageInfo"] == runs["pageInfo"]
    table = (await gql.ok(TABLE, {"orderBy": ["start_time"]}))["runTable"]
    assert table["runIds"] == ids
    assert table["experimentIds"] == [eid] * 5 and table["statuses"] == ["RUNNING"] * 5
    assert table["startTimes"] == [1000, 1001, 1002, 1003, 1004]
    assert table["endTimes"] == [None] * 5 and table["parentIds"] == [None] * 5
    assert all(uri.endswith(f"/{rid}/artifacts") for uri, rid in zip(table["artifactUris"], ids, strict=True))


async def test_cells_are_null_where_a_run_has_no_value_and_nan_stays_nan(gql):
    _, ids = await seed(gql)
    table = (await gql.ok(TABLE, {"orderBy": ["start_time"]}))["runTable"]
    assert [c["key"] for c in table["params"]] == ["lr", "model"]
    assert column(table["params"], "lr")["values"] == ["0.1", "0.01", "0.1", "0.01", "0.1"]
    assert column(table["params"], "model")["values"] == ["m0", None, "m2", None, "m4"]
    assert table["tags"] == [{"key": "team", "values": [None, None, None, None, "nlp"]}]
    acc = column(table["metrics"], "acc")
    # Latest acc is the second point (step 11); run 3 logged NaN first: its min ignores it.
    assert acc["values"] == [0.1, 0.30000000000000004, 0.5, 0.7000000000000001, 0.9]
    assert acc["steps"] == [11] * 5 and acc["timestamps"] == [1_700_000_000_001] * 5
    assert acc["mins"] == [0.0, 0.2, 0.4, 0.7000000000000001, 0.8]
    loss = column(table["metrics"], "loss")
    assert loss["values"] == [None, None, None, None, -1.5] and loss["steps"] == [None] * 4 + [0]

    rid = ids[0]
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("loss", ["NaN"])})
    loss = column((await gql.ok(TABLE, {"orderBy": ["start_time"]}))["runTable"]["metrics"], "loss")
    # Only NaN logged: the value is NaN, and there is no extreme (as LatestMetric.min says).
    assert loss["values"][0] == "NaN" and loss["mins"][0] is None and loss["values"][1] is None


async def test_key_lists_choose_columns(gql):
    await seed(gql)
    table = (await gql.ok(TABLE, {"paramKeys": ["model", "absent"], "metricKeys": [], "tagKeys": []}))["runTable"]
    assert [c["key"] for c in table["params"]] == ["model"]
    assert table["metrics"] == [] and table["tags"] == []
    table = (await gql.ok(TABLE, {"metricKeys": ["loss"], "paramKeys": []}))["runTable"]
    assert [c["key"] for c in table["metrics"]] == ["loss"] and table["params"] == []


async def test_pages_follow_the_same_cursors_as_runs(gql):
    await seed(gql)
    seen: list[str] = []
    after = None
    while True:
        table = (await gql.ok(TABLE, {"orderBy": ["metrics.acc DESC"], "first": 2, "after": after}))["runTable"]
        runs = (await gql.ok(SEARCH, {"orderBy": ["metrics.acc DESC"], "first": 2, "after": after}))["runs"]
        assert table["runIds"] == [n["id"] for n in runs["nodes"]]
        assert table["pageInfo"] == runs["pageInfo"]
        seen += table["runIds"]
        if not table["pageInfo"]["hasNextPage"]:
            break
        after = table["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 5
    empty = (await gql.ok(TABLE, {"filter": "params.lr = 'none'"}))["runTable"]
    assert empty["runIds"] == [] and empty["params"] == [] and empty["pageInfo"]["endCursor"] is None


async def test_errors_are_the_searchs(gql):
    await seed(gql)
    message = await gql.error(TABLE, {"filter": "metrics.acc >"}, code="INVALID_ARGUMENT")
    assert "line 1, column" in message
    await gql.error(TABLE, {"orderBy": ["nonsense.x"]}, code="INVALID_ARGUMENT")
    await gql.error(TABLE, {"first": 100_000}, code="INVALID_ARGUMENT")
    await gql.error(TABLE, {"after": "not-a-cursor"}, code="INVALID_ARGUMENT")


async def test_deleted_runs_follow_the_view_type(gql):
    eid = await new_experiment(gql)
    keep, gone = await new_run(gql, eid), await new_run(gql, eid)
    await gql.ok("mutation($id: ID!){ deleteRun(id: $id) { deleted } }", {"id": gone})
    assert (await gql.ok(TABLE))["runTable"]["runIds"] == [keep]
    assert (await gql.ok(TABLE, {"viewType": "DELETED"}))["runTable"]["runIds"] == [gone]


async def test_statement_count_does_not_grow_with_page_size(app, gql, monkeypatch):
    eid = await new_experiment(gql)
    for i in range(30):
        rid = await new_run(gql, eid, params=[{"key": f"p{j}", "value": str(i)} for j in range(5)])
        await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("acc", [0.5]), "tags": [{"key": "t", "value": "x"}]})
    engine = app.state.resources.db.read_engine.sync_engine
    statements: list[str] = []
    cell_calls: list[int] = []
    page_cells = driver_reads.read_page_cells

    async def counted(session, pks, *keys):
        cell_calls.append(len(pks))
        return await page_cells(session, pks, *keys)

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    monkeypatch.setattr(driver_reads, "read_page_cells", counted)
    event.listen(engine, "before_cursor_execute", record)
    try:
        for first in (3, 30):
            statements.clear()
            cell_calls.clear()
            table = (await gql.ok(TABLE, {"first": first}))["runTable"]
            assert len(table["runIds"]) == first and len(table["params"]) == 5
            # The page and the count for totalCount through SQLAlchemy; params, tags and
            # latest metrics in one _page_cells call (three statements on the driver).
            assert len(statements) == 2, statements
            assert cell_calls == [first]
    finally:
        event.remove(engine, "before_cursor_execute", record)
