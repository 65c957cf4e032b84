"""Schema migrations at server start: apply, or refuse with a clear message.

Migrations run on a synchronous connection inside ``run_sync`` so the same alembic scripts
serve SQLite and PostgreSQL. With ``--workers N`` the CLI migrates once before forking and
the workers only check that the schema is current (no race between processes).
"""

from __future__ import annotations

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


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))


async def check_current(engine: AsyncEngine) -> None:
    """Refuse to serve a database whose schema is not the one this code expects."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise RuntimeError(
            f"database schema is at revision {current!r} but this mltrail expects {head!r}: "
            "start `mltrail server` once with a single process: it migrates the database at start"
        )
