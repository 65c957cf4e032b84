"""Tables of the tracking store, one metadata for SQLite and PostgreSQL alike.

Hot tables use integer surrogate keys: runs are exposed by a 32-hex ``id`` but referenced
internally by ``runs.pk``, and metric keys are interned in ``metric_keys``. Metric histories
are chunks of packed arrays, one row per (batch, run, key): see store/series.py.

Non-finite metric values: in the chunks NaN and ±Infinity are stored bit for bit. In the
SQL-visible summary (``latest_metrics``), ±Infinity are stored as themselves and NaN as
NULL (SQLite binds NaN as NULL anyway, and PostgreSQL would sort NaN above every number,
breaking range filters): ``value IS NULL`` there *means* NaN, and the service layer turns it
back into NaN; no metric value is ever absent.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Tables read by primary-key prefix for every page of runs and every filter: on SQLite their
# rows live in the primary key's b-tree (one descent per lookup). Migration 0003.
WITHOUT_ROWID = {"sqlite_with_rowid": False}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    artifact_location: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class ExperimentTag(Base):
    __tablename__ = "experiment_tags"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_experiment_start", "experiment_id", "start_time"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    name: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger)
    user: Mapped[str | None] = mapped_column(String(250))
    parent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    entry_point: Mapped[str | None] = mapped_column(Text)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_branch: Mapped[str | None] = mapped_column(Text)
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)
    git_remote: Mapped[str | None] = mapped_column(Text)
    environment: Mapped[str | None] = mapped_column(Text)  # JSON text
    artifact_uri: Mapped[str] = mapped_column(Text)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class RunTag(Base):
    __tablename__ = "run_tags"
    __table_args__ = WITHOUT_ROWID

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Param(Base):
    __tablename__ = "params"
    __table_args__ = WITHOUT_ROWID

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricKey(Base):
    __tablename__ = "metric_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)


class LatestMetric(Base):
    """Per (run, key): the latest point by (step, timestamp), the extremes and the count.

    Maintained in the same transaction as the points, so search and sort never scan history.
    """

    __tablename__ = "latest_metrics"
    __table_args__ = WITHOUT_ROWID

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("metric_keys.id"), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)  # NULL means NaN
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    min_value: Mapped[float | None] = mapped_column(Float)  # NULL: only NaN seen so far
    max_value: Mapped[float | None] = mapped_column(Float)
    count: Mapped[int] = mapped_column(BigInteger)


class ExperimentKey(Base):
    """Distinct param/metric/tag keys per experiment, for the column chooser (kind: 1/2/3)."""

    __tablename__ = "experiment_keys"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)


KEY_KIND_PARAM, KEY_KIND_METRIC, KEY_KIND_TAG = 1, 2, 3


class LogBatch(Base):
    """Batch ids already applied to a run: what makes logBatch idempotent."""

    __tablename__ = "log_batches"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    metrics_written: Mapped[int] = mapped_column(Integer)
    params_written: Mapped[int] = mapped_column(Integer)
    tags_written: Mapped[int] = mapped_column(Integer)


class DatasetInput(Base):
    __tablename__ = "dataset_inputs"
    __table_args__ = (UniqueConstraint("run_pk", "name", "digest", "context"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(250))
    source: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str | None] = mapped_column(String(64))
    schema: Mapped[str | None] = mapped_column(Text)  # JSON text
    profile: Mapped[str | None] = mapped_column(Text)  # JSON text
    context: Mapped[str] = mapped_column(String(64), default="")


# The full history: a Core table on purpose. One row per (batch, run, key) holding packed
# arrays (see store/series.py); points never become ORM objects or rows of their own.
metric_chunks = Table(
    "metric_chunks",
    Base.metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_pk", Integer, nullable=False),
    Column("key_id", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Column("nan_count", Integer, nullable=False),
    Column("steps", LargeBinary, nullable=False),  # int64 little-endian, sorted
    Column("timestamps", LargeBinary, nullable=False),  # int64 little-endian
    Column("vals", LargeBinary, nullable=False),  # float64 little-endian; NaN/±Inf as themselves
    Index("ix_metric_chunks_run_key_step", "run_pk", "key_id", "min_step"),
)

# Core handles for set-based statements.
experiments = Experiment.__table__
experiment_tags = ExperimentTag.__table__
runs = Run.__table__
run_tags = RunTag.__table__
params = Param.__table__
metric_keys = MetricKey.__table__
latest_metrics = LatestMetric.__table__
experiment_keys = ExperimentKey.__table__
log_batches = LogBatch.__table__
dataset_inputs = DatasetInput.__table__


# --- model registry (migration 0004) ---------------------------------------------------------
#
# Versions number 1, 2, 3… per model: ``registered_models.last_version`` is the counter,
# bumped by one ``UPDATE … SET last_version = last_version + 1 … RETURNING`` in the
# registering transaction. The UPDATE row-locks the model on PostgreSQL and runs under
# SQLite's single writer, so concurrent registrations queue there and never share or skip a
# number; ``uq(model_id, version)`` is the backstop. Deleted versions keep their number.
#
# ``registry_changes`` is the audit trail: append-only (the migration installs triggers that
# refuse UPDATE and DELETE on both databases), and what ``versionAt`` replays.


class RegisteredModel(Base):
    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(250))
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    protected_stages: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of stage names
    protected_aliases: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of aliases
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"), Index("ix_model_versions_stage", "model_id", "stage"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16), default="NONE")
    source: Mapped[str] = mapped_column(Text)
    # Lineage, copied at registration so it survives later edits of the run: the run's id
    # (not a foreign key: a run's row is never the version's to keep alive), its git commit
    # and the datasets it had logged (JSON list).
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    run_git_commit: Mapped[str | None] = mapped_column(String(64))
    run_datasets: Mapped[str] = mapped_column(Text, default="[]")
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(250))
    deleted_at: Mapped[int | None] = mapped_column(BigInteger)


class ModelAlias(Base):
    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class RegisteredModelTag(Base):
    __tablename__ = "registered_model_tags"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersionTag(Base):
    __tablename__ = "model_version_tags"

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RegistryChange(Base):
    """One change to a model, forever: never updated, never deleted (triggers enforce it)."""

    __tablename__ = "registry_changes"
    __table_args__ = (Index("ix_registry_changes_model", "model_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int | None] = mapped_column(Integer)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str | None] = mapped_column(String(16))
    alias: Mapped[str | None] = mapped_column(String(256))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[int | None] = mapped_column(Integer)
    user: Mapped[str] = mapped_column(String(250))
    comment: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class TransitionRequest(Base):
    """A move into a protected stage or alias, waiting for another user's decision."""

    __tablename__ = "transition_requests"
    __table_args__ = (
        Index("ix_transition_requests_model", "model_id", "status"),
        Index("ix_transition_requests_user", "requested_by", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"))
    version: Mapped[int] = mapped_column(Integer)
    to_stage: Mapped[str | None] = mapped_column(String(16))  # exactly one of to_stage, alias
    alias: Mapped[str | None] = mapped_column(String(256))
    archive_existing: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # PENDING, APPROVED, REJECTED
    requested_by: Mapped[str] = mapped_column(String(250))
    requested_at: Mapped[int] = mapped_column(BigInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(250))
    decided_at: Mapped[int | None] = mapped_column(BigInteger)
    decision_comment: Mapped[str | None] = mapped_column(Text)


registered_models = RegisteredModel.__table__
model_versions = ModelVersion.__table__
model_aliases = ModelAlias.__table__
registered_model_tags = RegisteredModelTag.__table__
model_version_tags = ModelVersionTag.__table__
registry_changes = RegistryChange.__table__
transition_requests = TransitionRequest.__table__
