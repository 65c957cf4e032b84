"""metric histories as chunks of packed arrays instead of a row per point

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 07:40:00

Existing points are copied into chunks of at most 10,000 points per (run, key), in step
order (ties in the order they were stored), then ``metric_points`` is dropped. The
downgrade unpacks the chunks back into rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHUNK = 10_000


def upgrade() -> None:
    op.create_table(
        "metric_chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("min_step", sa.BigInteger(), nullable=False),
        sa.Column("max_step", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("nan_count", sa.Integer(), nullable=False),
        sa.Column("steps", sa.LargeBinary(), nullable=False),
        sa.Column("timestamps", sa.LargeBinary(), nullable=False),
        sa.Column("vals", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_chunks")),
    )
    op.create_index("ix_metric_chunks_run_key_step", "metric_chunks", ["run_pk", "key_id", "min_step"])
    _copy_points_into_chunks()
    op.drop_index("ix_metric_points_run_key_step", table_name="metric_points")
    op.drop_table("metric_points")


def _copy_points_into_chunks() -> None:
    """Series by series (memory bounded by the longest series), in step order, ties in the
    order they were stored (rowid / ctid)."""
    from mltrail_server.store.series import CHUNK_COLUMNS, KeyGroup, chunk_row

    bind = op.get_bind()
    order = "rowid" if bind.dialect.name == "sqlite" else "ctid"
    pairs = bind.execute(sa.text("SELECT DISTINCT run_pk, key_id FROM metric_points")).fetchall()
    insert = sa.text(
        f"INSERT INTO metric_chunks ({', '.join(CHUNK_COLUMNS)}) "
        f"VALUES ({', '.join(':' + c for c in CHUNK_COLUMNS)})"
    )
    for run_pk, key_id in pairs:
        points = bind.execute(
            sa.text(
                "SELECT step, timestamp, value FROM metric_points WHERE run_pk = :r AND key_id = :k "
                f"ORDER BY step, {order}"
            ),
            {"r": run_pk, "k": key_id},
        ).fetchall()
        for start in range(0, len(points), CHUNK):
            part = points[start : start + CHUNK]
            steps, stamps, values = (list(c) for c in zip(*part, strict=True))
            values = [float("nan") if v is None else v for v in values]  # NULL meant NaN there
            row = chunk_row(run_pk, KeyGroup(key_id, steps, stamps, values))
            bind.execute(insert, dict(zip(CHUNK_COLUMNS, row, strict=True)))


def downgrade() -> None:
    from mltrail_server.store.series import assemble

    op.create_table(
        "metric_points",
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
    )
    op.create_index("ix_metric_points_run_key_step", "metric_points", ["run_pk", "key_id", "step"])
    bind = op.get_bind()
    chunks = bind.execute(
        sa.text(
            "SELECT run_pk, key_id, steps, timestamps, vals, min_step, max_step, nan_count "
            "FROM metric_chunks ORDER BY id"
        )
    ).fetchall()
    insert = sa.text(
        "INSERT INTO metric_points (run_pk, key_id, step, timestamp, value) VALUES (:r, :k, :s, :t, :v)"
    )
    for run_pk, key_id, *packed in chunks:
        series = assemble([tuple(packed)])
        bind.execute(
            insert,
            [
                {"r": run_pk, "k": key_id, "s": s, "t": t, "v": None if v != v else v}
                for s, t, v in zip(series.steps, series.timestamps, series.values, strict=True)
            ],
        )
    op.drop_index("ix_metric_chunks_run_key_step", table_name="metric_chunks")
    op.drop_table("metric_chunks")
