"""Alembic environment: runs migrations on the connection handed over by ``store.migrate``."""

from __future__ import annotations

from alembic import context

from mltrail_server.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - mltrail always hands a connection over
    raise RuntimeError("run migrations through `mltrail_server.store.migrate`, not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
