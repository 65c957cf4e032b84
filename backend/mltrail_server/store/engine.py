"""Engines and sessions for SQLite (embedded default) and PostgreSQL (scale-out).

Reads and writes use separate engines on SQLite: readers run concurrently under WAL, while
every write transaction starts with ``BEGIN IMMEDIATE`` on a one-connection pool, so writers
queue in-process instead of failing with "database is locked" when a deferred transaction
tries to upgrade its lock. Across processes (``--workers N``) the busy timeout makes them wait.
On PostgreSQL both names point at the same engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from mltrail_server.store.sqlite_driver import one_hop_dbapi

SQLITE_BUSY_TIMEOUT_MS = 30_000


def tune_sqlite(connection: sqlite3.Connection | Any) -> None:
    """Apply the PRAGMAs every mltrail SQLite connection needs (plain or aiosqlite-adapted)."""
    cursor = connection.cursor()
    # WAL: readers never block the writer and the writer never blocks readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode (only an OS crash or power
    # loss can lose the last commits), and avoids an fsync per transaction on the hot path.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Wait for another process's writer instead of failing at once (--workers N).
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Referential integrity is checked by the database, not only by the services.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Sorting and grouping for downsampling happen in memory rather than in temp files.
    cursor.execute("PRAGMA temp_store=MEMORY")
    # The batch writer checkpoints the WAL in the background (store/wal.py), off the request
    # path; a committing connection does it itself only as a backstop, past ~80 MB of log.
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.close()


@dataclass
class Database:
    """The engines and session factories the application holds for its lifetime."""

    url: str
    read_engine: AsyncEngine
    write_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    write_sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.read_engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: commits on success, rolls back on any exception."""
        async with self.write_sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    return Path(parsed.database or ":memory:")


def open_database(url: str, *, pool_size: int = 10) -> Database:
    """Create the engines for ``url``; no connection is made until first use."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None and str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # One thread hop per statement instead of four (see sqlite_driver.py).
        read_engine = create_async_engine(url, module=one_hop_dbapi(), pool_size=pool_size, max_overflow=10)
        write_engine = create_async_engine(
            url, module=one_hop_dbapi(), pool_size=1, max_overflow=0, pool_timeout=600
        )

        @event.listens_for(read_engine.sync_engine, "connect")
        def _tune_reader(dbapi_connection: Any, _record: Any) -> None:
            tune_sqlite(dbapi_connection)

        @event.listens_for(write_engine.sync_engine, "connect")
        def _tune_writer(dbapi_connection: Any, _record: Any) -> None:
            tune_sqlite(dbapi_connection)
            # Take transaction control away from the sqlite3 module so we can say IMMEDIATE.
            dbapi_connection.isolation_level = None

        @event.listens_for(write_engine.sync_engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    elif parsed.drivername.startswith("postgresql"):
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+asyncpg")
            url = parsed.render_as_string(hide_password=False)
        read_engine = create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
        write_engine = read_engine
    else:
        raise ValueError(
            f"backend store URI {parsed.render_as_string(hide_password=True)!r}: expected "
            "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
        )
    return Database(
        url=url,
        read_engine=read_engine,
        write_engine=write_engine,
        sessionmaker=async_sessionmaker(read_engine, expire_on_commit=False),
        write_sessionmaker=async_sessionmaker(write_engine, expire_on_commit=False),
    )


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT for the session's dialect, so ``on_conflict_*`` works on SQLite and
    PostgreSQL alike (SQLAlchemy's generic insert has no ON CONFLICT)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
