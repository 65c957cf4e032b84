"""A page of 100 runs with params, tags and latest metrics costs a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from fixtures.documents import LOG_BATCH, metrics, new_experiment, new_run
from mltrail_server.services import batch_reads
from mltrail_server.store import driver_reads


@contextmanager
def recorded_statements(app, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement a request runs: through SQLAlchemy, and on the driver directly (a page
    of runs reads its params, tags and latest metrics there, one statement per kind)."""
    engine = app.state.resources.db.read_engine.sync_engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    read_page_cells = driver_reads.read_page_cells

    async def record_cells(session, pks, param_keys, tag_keys, metric_keys):
        for keys, sql in zip((param_keys, tag_keys, metric_keys), driver_reads._CELL_SQL.values(), strict=True):
            if keys != []:
                statements.append(sql)
        return await read_page_cells(session, pks, param_keys, tag_keys, metric_keys)

    monkeypatch.setattr(batch_reads.driver_reads, "read_page_cells", record_cells)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        monkeypatch.undo()

PAGE = """{ runs(first: 100) { totalCount nodes { id name params { key value } tags { key value }
  latestMetrics { key value } experiment { name } inputs { name } parent { id } } } }"""


async def count_statements(app, gql, monkeypatch: pytest.MonkeyPatch) -> int:
    with recorded_statements(app, monkeypatch) as statements:
        data = await gql.ok(PAGE)
    assert data["runs"]["nodes"]
    return len(statements)


async def test_statement_count_does_not_grow_with_page_size(app, gql, monkeypatch):
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
    small = await count_statements(app, gql, monkeypatch)
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
    large = await count_statements(app, gql, monkeypatch)
    assert large == small
    assert large <= 9  # search + count + one per loader (params, tags, metrics, experiments, inputs, parents)


FRAGMENTED = """
fragment RunCells on Run { params { key value } ... on Run { tags { key } } }
{ runs(first: 100) { edges { node { id ...RunCells latestMetrics { key value } } } } }
"""


async def test_page_fields_are_fetched_once_per_page_through_fragments_too(app, gql, monkeypatch):
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
    with recorded_statements(app, monkeypatch) as statements:
        data = await gql.ok(FRAGMENTED)
    nodes = [e["node"] for e in data["runs"]["edges"]]
    assert sorted(n["params"][0]["value"] for n in nodes) == ["0", "1", "2"]
    assert all(n["tags"] == [{"key": "t"}] and len(n["latestMetrics"]) == 1 for n in nodes)
    assert sum("FROM params" in s for s in statements) == 1
    assert sum("FROM run_tags" in s for s in statements) == 1
