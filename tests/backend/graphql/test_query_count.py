"""A page of 100 runs with params, tags and latest metrics costs a fixed number of statements."""

from __future__ import annotations

from sqlalchemy import event

from fixtures.documents import LOG_BATCH, metrics, new_experiment, new_run

PAGE = """{ runs(first: 100) { totalCount nodes { id name params { key value } tags { key value }
  latestMetrics { key value } experiment { name } inputs { name } parent { id } } } }"""


async def count_statements(app, gql) -> int:
    engine = app.state.resources.db.read_engine.sync_engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        data = await gql.ok(PAGE)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert data["runs"]["nodes"]
    return len(statements)


async def test_statement_count_does_not_grow_with_page_size(app, gql):
    eid = await new_experiment(gql)
    parent = await new_run(gql, eid)
    for i in range(5):
        rid = await new_run(gql, eid, parentRunId=parent)
        await gql.ok(
            LOG_BATCH,
            {
                "runId": rid,
                "metrics": metrics("m", [1.0]),
                "params": [{"key": "p", "value": str(i)}],
                "tags": [{"key": "t", "value": "x"}],
            },
        )
    small = await count_statements(app, gql)
    for i in range(60):
        rid = await new_run(gql, eid, parentRunId=parent)
        await gql.ok(
            LOG_BATCH,
            {
                "runId": rid,
                "metrics": metrics("m", [1.0, 2.0]),
                "params": [{"key": "p", "value": str(i)}],
                "tags": [{"key": "t", "value": "y"}],
            },
        )
    large = await count_statements(app, gql)
    assert large == small
    assert large <= 9  # search + count + one per loader (params, tags, metrics, experiments, inputs, parents)


FRAGMENTED = """
fragment RunCells on Run { params { key value } ... on Run { tags { key } } }
{ runs(first: 100) { edges { node { id ...RunCells latestMetrics { key value } } } } }
"""


async def test_page_fields_are_fetched_once_per_page_through_fragments_too(app, gql):
    eid = await new_experiment(gql)
    for i in range(3):
        rid = await new_run(gql, eid)
        await gql.ok(
            LOG_BATCH,
            {
                "runId": rid,
                "metrics": metrics("m", [float(i)]),
                "params": [{"key": "p", "value": str(i)}],
                "tags": [{"key": "t", "value": "x"}],
            },
        )
    engine = app.state.resources.db.read_engine.sync_engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        data = await gql.ok(FRAGMENTED)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    nodes = [e["node"] for e in data["runs"]["edges"]]
    assert sorted(n["params"][0]["value"] for n in nodes) == ["0", "1", "2"]
    assert all(n["tags"] == [{"key": "t"}] and len(n["latestMetrics"]) == 1 for n in nodes)
    assert sum("FROM params" in s for s in statements) == 1
    assert sum("FROM run_tags" in s for s in statements) == 1
