"""Schema migrations at server start: apply, or refuse with a clear message.

Migrations run on a synchronous connection inside ``run_sync`` so the same alembic scripts
serve SQLite and PostgreSQL. With ``--workers N`` the CLI migrates once before forking and
the workers only check that the schema is current.

Separate servers on one database (replicas that Kubernetes, systemd or compose start
together; an upgrade that brings a migration) migrate one at a time: on PostgreSQL under a
transaction-scoped advisory lock, on SQLite under an exclusive file lock beside the database
file. The first holder migrates; the others wait, then find the schema current and do
nothing. Without it two fresh replicas both created ``alembic_version`` and one died.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


# Any constant both sides agree on: "mltrail migrate" as a signed 64-bit key.
MIGRATION_LOCK_KEY = int.from_bytes(b"mltrmigr", "big", signed=True)


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (idempotent; one process at a time)."""
    async with _sqlite_file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Released by the commit (or rollback) that ends the migration's transaction.
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))


@contextlib.asynccontextmanager
async def _sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """An exclusive lock on ``<database>.migrate.lock`` for SQLite files; nothing otherwise."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one server per SQLite file is the norm
        yield
        return
    lock_path = f"{database}.migrate.lock"
    Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # Blocking, so in a thread: the event loop keeps serving whatever else it runs.
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


async def check_current(engine: AsyncEngine) -> None:
    """Refuse to serve a database whose schema is not the one this code expects."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise RuntimeError(
            f"database schema is at revision {current!r} but this mltrail expects {head!r}: "
            "start `mltrail server` once with a single process: it migrates the database at start"
        )
