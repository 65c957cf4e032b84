"""Reads that run on the database driver under the session: metric series and table cells.

Why below SQLAlchemy: these reads return many rows (every chunk of many series; the params,
tags and latest metrics of a page of runs) or take long IN lists, and through SQLAlchemy
expanding the lists and building Row objects cost more than the queries. They still run on
the request's session connection (same transaction, same snapshot as its other reads). On
SQLite all statements of a call make one trip to the connection's thread
(``call_on_connection``); on PostgreSQL ids travel as one array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.store import series
from mltrail_server.store.programs import to_dollar
from mltrail_server.store.sqlite_driver import call_on_connection

_CHUNKS_SQL = (
    "SELECT steps, timestamps, vals, min_step, max_step, nan_count FROM metric_chunks "
    "WHERE run_pk = ? AND key_id = ?{bounds} ORDER BY id"
)


async def _driver(session: AsyncSession) -> tuple[str, Any]:
    """The dialect name and the driver's own connection under the session."""
    connection = await session.connection()
    return connection.dialect.name, (await connection.get_raw_connection()).driver_connection


async def read_series(
    session: AsyncSession, pairs: Sequence[tuple[int, int]], min_step: int | None, max_step: int | None
) -> list[series.Series]:
    """Each (run_pk, key_id) series, or the chunks of it that reach into the step range."""
    bounds_sql = ""
    bounds: list[int] = []
    if min_step is not None:
        bounds_sql += " AND max_step >= ?"
        bounds.append(min_step)
    if max_step is not None:
        bounds_sql += " AND min_step <= ?"
        bounds.append(max_step)
    sql = _CHUNKS_SQL.format(bounds=bounds_sql)
    dialect, driver = await _driver(session)
    if dialect == "sqlite":
        # All series in one trip to the connection's thread (see store/sqlite_driver.py).
        return await call_on_connection(driver, _assemble_all, sql, pairs, bounds)  # type: ignore[no-any-return]
    sql = to_dollar(sql)
    return [series.assemble(await driver.fetch(sql, run_pk, key_id, *bounds)) for run_pk, key_id in pairs]


def _assemble_all(
    conn: Any, sql: str, pairs: Sequence[tuple[int, int]], bounds: Sequence[int]
) -> list[series.Series]:
    return [
        series.assemble(conn.execute(sql, (run_pk, key_id, *bounds)).fetchall()) for run_pk, key_id in pairs
    ]


_CELL_SQL = {
    "params": "SELECT run_pk, key, value FROM params WHERE run_pk IN ({pks}){keys}",
    "tags": "SELECT run_pk, key, value FROM run_tags WHERE run_pk IN ({pks}){keys}",
    "metrics": (
        "SELECT lm.run_pk, mk.key, lm.value, lm.step, lm.timestamp, lm.min_value, lm.max_value, lm.count "
        "FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id WHERE lm.run_pk IN ({pks}){keys}"
    ),
}
_CELL_KEY = {"params": "key", "tags": "key", "metrics": "mk.key"}


@dataclass(frozen=True, slots=True)
class PageCells:
    """Rows of a page's runs, as plain tuples, in no particular order: ``params`` and ``tags``
    are (run_pk, key, value); ``metrics`` (run_pk, key, value, step, timestamp, min, max,
    count)."""

    params: list[Any]
    tags: list[Any]
    metrics: list[Any]


async def read_page_cells(
    session: AsyncSession,
    pks: Sequence[int],
    param_keys: Sequence[str] | None,
    tag_keys: Sequence[str] | None,
    metric_keys: Sequence[str] | None,
) -> PageCells:
    """Param, tag and latest-metric rows of the runs ``pks``; a key list of ``[]`` skips
    that kind, ``None`` takes every key."""
    wanted = {"params": param_keys, "tags": tag_keys, "metrics": metric_keys}
    if not pks:
        return PageCells([], [], [])
    dialect, driver = await _driver(session)
    if dialect == "sqlite":
        statements = []
        for kind, keys in wanted.items():
            if keys == []:
                statements.append(None)
                continue
            key_sql = f" AND {_CELL_KEY[kind]} IN ({', '.join('?' * len(keys))})" if keys else ""
            sql = _CELL_SQL[kind].format(pks=", ".join("?" * len(pks)), keys=key_sql)
            statements.append((sql, (*pks, *(keys or ()))))
        found = await call_on_connection(driver, _fetch_all, statements)
        return PageCells(*found)
    out: list[list[Any]] = []
    for kind, keys in wanted.items():
        if keys == []:
            out.append([])
            continue
        key_sql = f" AND {_CELL_KEY[kind]} = ANY($2::text[])" if keys else ""
        sql = _CELL_SQL[kind].format(pks="SELECT unnest($1::integer[])", keys=key_sql)
        args = (list(pks), list(keys)) if keys else (list(pks),)
        out.append(await driver.fetch(sql, *args))
    return PageCells(*out)


def _fetch_all(conn: Any, statements: Sequence[tuple[str, Sequence[Any]] | None]) -> list[list[Any]]:
    return [conn.execute(*stmt).fetchall() if stmt is not None else [] for stmt in statements]
