"""aiosqlite for SQLAlchemy with one thread hop per statement instead of four.

SQLAlchemy's aiosqlite adapter sends every statement to aiosqlite's connection thread four
times: to make a cursor, to execute, to fetch the rows and to close the cursor. Each trip is a
queue put, a thread wake-up and an event-loop wake-up through the self-pipe (≈ 50 to 100 µs here),
so a request of three statements spent more in hops than in SQLite. The cursor below does all
four steps in one function on that thread and hands back the rows, the description, the row
count and the last row id together; everything else is SQLAlchemy's own adapter.

Used through ``create_async_engine(url, module=one_hop_dbapi())`` (engine.py); the URL stays
``sqlite+aiosqlite://``. Server-side cursors (``stream_results``) keep the stock behaviour.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, int, int | None, list[Any] | None]


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any) -> _Outcome:
    """On aiosqlite's thread: the whole life of one cursor."""
    cursor = conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, operation: str, seq_of_parameters: Any) -> _Outcome:
    cursor = conn.cursor()
    try:
        cursor.executemany(operation, seq_of_parameters)
        return None, cursor.rowcount, cursor.lastrowid, None
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A DBAPI cursor whose state is a snapshot taken on aiosqlite's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        # No cursor is opened here (the stock adapter opens one: a hop); each execute opens
        # and closes its own on the connection's thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:  # type: ignore[override]
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def _store(self, outcome: _Outcome) -> None:
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()

    async def _run(self, fn: Any, operation: str, parameters: Any) -> _Outcome:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            return await connection._execute(fn, connection._conn, operation, parameters)  # type: ignore[no-any-return]

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            self._store(await_(self._run(_execute, operation, parameters)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            self._store(await_(self._run(_executemany, operation, seq_of_parameters)))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor  # type: ignore[assignment]


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)


async def call_on_connection(connection: aiosqlite.Connection, fn: Any, /, *args: Any) -> Any:
    """Run ``fn(sqlite3_connection, *args)`` on the connection's own thread: one hop for work
    that needs many statements or many rows (e.g. several metric series read as columns)."""
    return await connection._execute(fn, connection._conn, *args)
