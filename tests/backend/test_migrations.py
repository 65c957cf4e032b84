"""Migration 0002: points stored one row each (0001) move into chunks, exactly, and back."""

from __future__ import annotations

import math

import pytest
from alembic import command
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text

from mltrail_server.services import tracking
from mltrail_server.store import migrate
from mltrail_server.store.engine import open_database

N = 25_000  # more than one 10,000-point chunk


def _history(i: int) -> tuple[int, int, float | None]:
    """Point i of the long series as 0001 stored it: NULL meant NaN; steps out of order."""
    step = (i * 7919) % N  # a permutation of 0..N-1, inserted out of step order
    value = None if i % 1000 == 3 else (math.inf if i == 5 else float(i))
    return step, 1_700_000_000_000 + i, value


async def _at(engine, revision: str) -> None:
    async with engine.begin() as conn:
        if revision == "head":
            await conn.run_sync(lambda c: command.upgrade(migrate.alembic_config(c), "head"))
        else:
            await conn.run_sync(lambda c: command.downgrade(migrate.alembic_config(c), revision))


async def test_upgrade_moves_points_into_chunks_and_downgrade_restores_them(database_url, settings):
    db = open_database(database_url)
    try:
        async with db.write_engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(migrate.alembic_config(c), "0001"))
        points = [(1, 1, *_history(i)) for i in range(N)]
        points += [(1, 2, 10, 5, 0.5), (1, 2, 10, 4, 0.25), (1, 2, 11, 6, None)]  # tie on step 10
        async with db.write_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO experiments (id, name, artifact_location, created_at, updated_at) "
                    "VALUES (1, 'e', '/a/1', 0, 0)"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO runs (pk, id, experiment_id, status, start_time, artifact_uri) "
                    "VALUES (1, :id, 1, 'RUNNING', 0, '/a/1/x')"
                ),
                {"id": "a" * 32},
            )
            await conn.execute(text("INSERT INTO metric_keys (id, key) VALUES (1, 'long'), (2, 'short')"))
            await conn.execute(
                text(
                    "INSERT INTO latest_metrics (run_pk, key_id, value, step, timestamp, min_value, max_value, count) "
                    "VALUES (1, 1, 0, 0, 0, 0, 0, :n), (1, 2, NULL, 11, 6, 0.25, 0.5, 3)"
                ),
                {"n": N},
            )
            await conn.execute(
                text("INSERT INTO metric_points (run_pk, key_id, step, timestamp, value) VALUES (:r, :k, :s, :t, :v)"),
                [{"r": r, "k": k, "s": s, "t": t, "v": v} for r, k, s, t, v in points],
            )

        await _at(db.write_engine, "head")
        async with db.sessionmaker() as session:
            got = await tracking.metric_histories(
                session, settings=settings, run_ids=["a" * 32], keys=None, max_points=None
            )
            chunks = (await session.execute(text("SELECT key_id, n FROM metric_chunks ORDER BY id"))).all()
        assert [tuple(c) for c in chunks] == [(1, 10_000), (1, 10_000), (1, 5_000), (2, 3)]
        long, short = got
        expected = sorted((_history(i) for i in range(N)), key=lambda p: p[0])
        assert long.steps == [p[0] for p in expected] and long.timestamps == [p[1] for p in expected]
        assert [("NaN" if v != v else v) for v in long.values] == [
            ("NaN" if v is None else v) for _, _, v in expected
        ]
        assert short.steps == [10, 10, 11] and short.timestamps == [5, 4, 6]  # ties as stored
        assert short.values[:2] == [0.5, 0.25] and math.isnan(short.values[2])

        await _at(db.write_engine, "0001")
        async with db.write_engine.connect() as conn:
            back = (
                await conn.execute(text("SELECT run_pk, key_id, step, timestamp, value FROM metric_points"))
            ).all()
        assert sorted(map(tuple, back), key=repr) == sorted(points, key=repr)
    finally:
        await db.dispose()


async def test_0003_rebuilds_key_tables_without_rowid_and_back(database_url):
    """On SQLite, params, run_tags and latest_metrics become WITHOUT ROWID tables (and rowid
    tables again on downgrade) with every row kept; on PostgreSQL the revision changes nothing."""
    db = open_database(database_url)
    sqlite = db.dialect == "sqlite"

    async def snapshot() -> dict[str, list[tuple]]:
        async with db.write_engine.connect() as conn:
            return {
                t: sorted(map(tuple, (await conn.execute(text(f"SELECT * FROM {t}"))).all()), key=repr)
                for t in ("params", "run_tags", "latest_metrics")
            }

    async def without_rowid() -> set[str]:
        async with db.write_engine.connect() as conn:
            rows = (await conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))).all()
        return {name for name, sql in rows if sql.rstrip().upper().endswith("WITHOUT ROWID")}

    try:
        await _at(db.write_engine, "head")
        await _at(db.write_engine, "0002")
        async with db.write_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO experiments (id, name, artifact_location, created_at, updated_at) "
                    "VALUES (1, 'e', '/a/1', 0, 0)"
                )
            )
            for pk in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO runs (pk, id, experiment_id, status, start_time, artifact_uri) "
                        "VALUES (:pk, :id, 1, 'RUNNING', 0, '/a/1/x')"
                    ),
                    {"pk": pk, "id": str(pk) * 32},
                )
            await conn.execute(text("INSERT INTO metric_keys (id, key) VALUES (1, 'acc'), (2, 'loss')"))
            await conn.execute(
                text("INSERT INTO params (run_pk, key, value) VALUES (:r, :k, :v)"),
                [{"r": r, "k": f"p{i}", "v": f"{r}-{i}"} for r in (1, 2) for i in range(20)],
            )
            await conn.execute(
                text("INSERT INTO run_tags (run_pk, key, value) VALUES (1, 'a', 'x'), (2, 'a', 'y')")
            )
            await conn.execute(
                text(
                    "INSERT INTO latest_metrics (run_pk, key_id, value, step, timestamp, min_value, max_value, count) "
                    "VALUES (1, 1, 0.5, 3, 9, 0.1, 0.9, 4), (1, 2, NULL, 2, 8, NULL, NULL, 1), "
                    "(2, 1, 0.25, 1, 7, 0.25, 0.25, 1)"
                )
            )
        before = await snapshot()
        assert len(before["params"]) == 40
        if sqlite:
            assert await without_rowid() == set()

        await _at(db.write_engine, "head")
        assert await snapshot() == before
        if sqlite:
            assert await without_rowid() == {"params", "run_tags", "latest_metrics"}
            async with db.write_engine.connect() as conn:
                plan = (
                    await conn.execute(text("EXPLAIN QUERY PLAN SELECT value FROM params WHERE run_pk = 1 AND key = 'p3'"))
                ).all()
            assert "PRIMARY KEY" in " ".join(str(row[-1]) for row in plan), plan

        await _at(db.write_engine, "0002")
        assert await snapshot() == before
        if sqlite:
            assert await without_rowid() == set()
    finally:
        await db.dispose()


REGISTRY_TABLES = {
    "registered_models",
    "model_versions",
    "model_aliases",
    "registered_model_tags",
    "model_version_tags",
    "registry_changes",
    "transition_requests",
}


async def test_0004_adds_the_registry_and_downgrade_removes_it(database_url):
    """The registry tables appear with the append-only guard on registry_changes, and go
    again on downgrade with the tracking data untouched; on SQLite and PostgreSQL alike."""
    db = open_database(database_url)

    async def tables() -> set[str]:
        async with db.write_engine.connect() as conn:
            return await conn.run_sync(lambda c: set(sa_inspect(c).get_table_names()))

    try:
        await _at(db.write_engine, "head")
        assert REGISTRY_TABLES <= await tables()
        async with db.write_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO registered_models (id, name, created_at, updated_at, created_by, last_version, "
                    "protected_stages, protected_aliases) VALUES (1, 'm', 0, 0, 'u', 0, '[]', '[]')"
                )
            )
            await conn.execute(
                text(
                    'INSERT INTO registry_changes (model_id, kind, "user", timestamp) VALUES (1, \'MODEL_CREATED\', \'u\', 0)'
                )
            )
            await conn.execute(
                text("INSERT INTO experiments (id, name, artifact_location, created_at, updated_at) VALUES (1, 'e', '/a', 0, 0)")
            )
        for statement in ("UPDATE registry_changes SET kind = 'X'", "DELETE FROM registry_changes"):
            with pytest.raises(Exception, match="append-only"):
                async with db.write_engine.begin() as conn:
                    await conn.execute(text(statement))

        await _at(db.write_engine, "0003")
        assert not (REGISTRY_TABLES & await tables())
        async with db.write_engine.connect() as conn:
            assert (await conn.execute(text("SELECT name FROM experiments"))).scalars().all() == ["e"]
        await _at(db.write_engine, "head")  # and up again: nothing left behind (triggers, functions)
        assert REGISTRY_TABLES <= await tables()
    finally:
        await db.dispose()
