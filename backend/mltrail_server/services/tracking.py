"""Experiments, runs, params, tags, datasets and metric histories: the tracking rules.

Service functions take the session first and keyword-only arguments; the caller owns the
transaction (services never commit). ``log_batch`` is the exception that proves the rule:
its write path is the dedicated ``BatchWriter`` (see store/ingest.py), which owns its own
transaction so the hot path can skip the ORM entirely.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.errors import Conflict, InvalidArgument, NotFound
from mltrail_server.events.bus import EventBus
from mltrail_server.services import validation as v
from mltrail_server.services.request_budget import PointBudget, series_cost
from mltrail_server.store import models as m
from mltrail_server.store import series
from mltrail_server.store.engine import Database
from mltrail_server.store.ingest import (
    BatchOutcome,
    BatchRequest,
    BatchWriter,
    MetricColumns,
)
from mltrail_server.store.run_writes import ExperimentMissing, RunCreate
from mltrail_server.store.sqlite_driver import call_on_connection
from mltrail_server.store.statements import dedupe_params, to_dollar


def now_ms() -> int:
    return int(time.time() * 1000)


def _insert(session: AsyncSession, table: Any) -> Any:
    """A dialect-specific INSERT, so ``on_conflict_*`` works on SQLite and PostgreSQL alike."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# --- experiments -------------------------------------------------------------------------


async def get_experiment(
    session: AsyncSession, *, experiment_id: str | None = None, name: str | None = None
) -> m.Experiment:
    """Find an experiment by id or by name (deleted ones included)."""
    if (experiment_id is None) == (name is None):
        raise InvalidArgument("experiment: give exactly one of id and name")
    if experiment_id is not None:
        found = await session.get(m.Experiment, v.parse_experiment_id("id", experiment_id))
        if found is None:
            raise NotFound(f"id: no experiment with id {experiment_id!r}")
        return found
    found = (
        await session.execute(select(m.Experiment).where(m.Experiment.name == name))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"name: no experiment named {name!r}")
    return found


async def create_experiment(
    session: AsyncSession,
    *,
    settings: Settings,
    name: str,
    description: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> m.Experiment:
    """Create an experiment; its artifacts live under ``{artifact_root}/{id}``."""
    v.check_name("name", name, settings, required=True)
    v.check_description("description", description, settings)
    for key, value in tags:
        v.check_key("tags", key, settings)
        v.check_value("tags", key, value, settings.max_tag_value_length)
    existing = (await session.execute(select(m.Experiment.id).where(m.Experiment.name == name))).first()
    if existing is not None:
        raise Conflict(f"name: an experiment named {name!r} already exists (id {existing[0]})")
    now = now_ms()
    experiment = m.Experiment(
        name=name, description=description, artifact_location="", created_at=now, updated_at=now
    )
    session.add(experiment)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"name: an experiment named {name!r} already exists") from None
    experiment.artifact_location = f"{settings.resolved_artifact_root.rstrip('/')}/{experiment.id}"
    # Experiment tags describe the experiment; experiment_keys lists the keys of its *runs*.
    for key, value in dict(tags).items():
        session.add(m.ExperimentTag(experiment_id=experiment.id, key=key, value=value))
    await session.flush()
    return experiment


async def get_or_create_experiment(session: AsyncSession, *, settings: Settings, name: str) -> m.Experiment:
    """The experiment named ``name``, created if missing (what offline clients rely on)."""
    found = (
        await session.execute(select(m.Experiment).where(m.Experiment.name == name))
    ).scalar_one_or_none()
    if found is not None:
        return found
    return await create_experiment(session, settings=settings, name=name)


async def update_experiment(
    session: AsyncSession,
    *,
    settings: Settings,
    experiment_id: str,
    name: str | None = None,
    description: str | None = None,
) -> m.Experiment:
    """Rename or re-describe an experiment."""
    experiment = await get_experiment(session, experiment_id=experiment_id)
    if name is not None and name != experiment.name:
        v.check_name("name", name, settings, required=True)
        clash = (await session.execute(select(m.Experiment.id).where(m.Experiment.name == name))).first()
        if clash is not None:
            raise Conflict(f"name: an experiment named {name!r} already exists (id {clash[0]})")
        experiment.name = name
    if description is not None:
        experiment.description = v.check_description("description", description, settings)
    experiment.updated_at = now_ms()
    await session.flush()
    return experiment


async def set_experiment_deleted(session: AsyncSession, *, experiment_id: str, deleted: bool) -> m.Experiment:
    """Soft-delete or restore an experiment (its runs become unreachable for logging)."""
    experiment = await get_experiment(session, experiment_id=experiment_id)
    now = now_ms()
    experiment.deleted_at = now if deleted else None
    experiment.updated_at = now
    await session.flush()
    return experiment


async def list_experiments(
    session: AsyncSession,
    *,
    dialect: str,
    filter_text: str | None,
    first: int,
    after: str | None,
    include_deleted: bool,
) -> Page:
    """Newest experiments first, keyset-paginated by id."""
    from mltrail_server.services.search.compiler import compile_experiment_filter
    from mltrail_server.services.search.parser import parse_filter

    conditions = []
    if not include_deleted:
        conditions.append(m.experiments.c.deleted_at.is_(None))
    node = parse_filter(filter_text or "")
    if node is not None:
        conditions.append(compile_experiment_filter(node, dialect))
    query = select(m.Experiment).where(*conditions)
    if after is not None:
        (last_id,) = decode_cursor(after, 1)
        query = query.where(m.Experiment.id < last_id)
    rows = (await session.execute(query.order_by(m.Experiment.id.desc()).limit(first + 1))).scalars().all()
    has_next = len(rows) > first
    rows = rows[:first]
    cursors = [encode_cursor([e.id]) for e in rows]
    count_query = select(func.count()).select_from(m.experiments).where(*conditions)
    return Page(list(rows), cursors, has_next, count_query)


# --- runs --------------------------------------------------------------------------------


async def get_run(session: AsyncSession, *, run_id: str) -> m.Run:
    """The run with this id, deleted or not."""
    found = (await session.execute(select(m.Run).where(m.Run.id == run_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"runId: no run with id {run_id!r}")
    return found


@dataclass(frozen=True)
class RunSourceData:
    entry_point: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None


async def create_run(
    db: Database,
    writer: BatchWriter,
    *,
    settings: Settings,
    experiment_id: str | None = None,
    experiment_name: str | None = None,
    run_id: str | None = None,
    name: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
    params: Sequence[tuple[str, str]] = (),
    parent_run_id: str | None = None,
    start_time: int | None = None,
    user: str | None = None,
    source: RunSourceData | None = None,
    environment: Any = None,
) -> m.Run:
    """Create a RUNNING run in an active experiment; idempotent on a client-chosen ``run_id``.

    ``params`` are logged in the same transaction, with logBatch's rules (immutable: a replay
    with the same values is a no-op, a different value is a CONFLICT): a run and its
    configuration arrive together or not at all, in one round trip. The arguments are
    checked here; the writer's connection does the rest in one transaction (store/run_writes.py).
    The run comes back as a detached ``Run`` model.
    """
    if (experiment_id is None) == (experiment_name is None):
        raise InvalidArgument("createRun: give exactly one of experimentId and experimentName")
    experiment_pk = (
        v.parse_experiment_id("experimentId", experiment_id) if experiment_id is not None else None
    )
    if experiment_name is not None:
        v.check_name("experimentName", experiment_name, settings, required=True)
    v.check_name("name", name, settings)
    v.check_int64("startTime", start_time)
    for key, value in tags:
        v.check_key("tags", key, settings)
        v.check_value("tags", key, value, settings.max_tag_value_length)
    if run_id is not None:
        v.check_run_id("runId", run_id)
    wanted_params = check_params(settings, run_id or "", params)
    source = source or RunSourceData()
    now = now_ms()
    request = RunCreate(
        experiment_id=experiment_pk,
        experiment_name=experiment_name,
        run_id=run_id or uuid.uuid4().hex,
        client_chose_id=run_id is not None,
        name=name,
        start_time=start_time if start_time is not None else now,
        user=user,
        parent_id=parent_run_id,
        entry_point=source.entry_point,
        git_commit=source.git_commit,
        git_branch=source.git_branch,
        git_dirty=source.git_dirty,
        git_remote=source.git_remote,
        environment=json.dumps(environment) if environment is not None else None,
        now_ms=now,
        tags=dict(tags),
        params=wanted_params,
    )
    try:
        row = await writer.create_run(request)
    except ExperimentMissing:
        # By name, and the experiment is new: create it (a concurrent creator may win: fine),
        # then the run.
        try:
            async with db.transaction() as session:
                await get_or_create_experiment(session, settings=settings, name=experiment_name or "")
        except Conflict:
            pass
        row = await writer.create_run(request)
    return m.Run(**row)


def check_param_items(settings: Settings, params: Sequence[tuple[str, str]]) -> None:
    """The count limit and each key and value, with the element named in the error."""
    if len(params) > settings.max_batch_params:
        raise InvalidArgument(f"params: {len(params)} in one batch; the limit is {settings.max_batch_params}")
    for i, (key, value) in enumerate(params):
        v.check_key(f"params[{i}]", key, settings)
        v.check_value(f"params[{i}]", key, value, settings.max_param_value_length)


def check_params(settings: Settings, run_id: str, params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """logBatch's rules for params given with createRun: each item, and one value per key."""
    check_param_items(settings, params)
    return dedupe_params(run_id, params)


async def update_run(
    session: AsyncSession,
    *,
    settings: Settings,
    run_id: str,
    status: str | None = None,
    end_time: int | None = None,
    name: str | None = None,
) -> m.Run:
    """Change status, end time or name; a terminal status without an end time sets one."""
    run = await get_run(session, run_id=run_id)
    if run.deleted_at is not None:
        raise InvalidArgument(f"id: run {run_id!r} is deleted; restore it first")
    if status is not None:
        run.status = v.check_status("status", status)
        if status != "RUNNING" and end_time is None and run.end_time is None:
            run.end_time = now_ms()
        if status == "RUNNING":
            run.end_time = None
    if end_time is not None:
        v.check_int64("endTime", end_time)
        if end_time < run.start_time:
            raise InvalidArgument(f"endTime: {end_time} is before the run's start time {run.start_time}")
        run.end_time = end_time
    if name is not None:
        run.name = v.check_name("name", name, settings)
    await session.flush()
    return run


async def set_run_deleted(session: AsyncSession, *, run_id: str, deleted: bool) -> m.Run:
    """Soft-delete or restore a run."""
    run = await get_run(session, run_id=run_id)
    run.deleted_at = now_ms() if deleted else None
    await session.flush()
    return run


async def set_tag(
    session: AsyncSession,
    *,
    settings: Settings,
    run_id: str | None,
    experiment_id: str | None,
    key: str,
    value: str,
) -> tuple[str, str]:
    """Set (or overwrite) a tag on a run or an experiment."""
    v.check_key("key", key, settings)
    v.check_value("value", key, value, settings.max_tag_value_length)
    if (run_id is None) == (experiment_id is None):
        raise InvalidArgument("setTag: give exactly one of runId and experimentId")
    if run_id is not None:
        run = await _active_run(session, run_id)
        stmt = _insert(session, m.run_tags).values(run_pk=run.pk, key=key, value=value)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["run_pk", "key"], set_={"value": value})
        )
        await _add_experiment_keys(session, run.experiment_id, m.KEY_KIND_TAG, [key])
    else:
        experiment = await get_experiment(session, experiment_id=experiment_id)
        stmt = _insert(session, m.experiment_tags).values(experiment_id=experiment.id, key=key, value=value)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["experiment_id", "key"], set_={"value": value})
        )
        experiment.updated_at = now_ms()
    return key, value


async def delete_tag(
    session: AsyncSession, *, run_id: str | None, experiment_id: str | None, key: str
) -> None:
    """Remove a tag; removing a tag that is not there is NOT_FOUND."""
    if (run_id is None) == (experiment_id is None):
        raise InvalidArgument("deleteTag: give exactly one of runId and experimentId")
    if run_id is not None:
        run = await _active_run(session, run_id)
        table, cond = m.run_tags, m.run_tags.c.run_pk == run.pk
    else:
        experiment = await get_experiment(session, experiment_id=experiment_id)
        table, cond = m.experiment_tags, m.experiment_tags.c.experiment_id == experiment.id
    result = await session.execute(table.delete().where(cond, table.c.key == key))
    if result.rowcount == 0:
        raise NotFound(
            f"key: no tag {key!r} on {'run ' + run_id if run_id else 'experiment ' + str(experiment_id)}"
        )


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    digest: str
    source: str | None = None
    source_type: str | None = None
    schema: Any = None
    profile: Any = None
    context: str | None = None


async def log_inputs(
    session: AsyncSession, *, settings: Settings, run_id: str, datasets: Sequence[DatasetSpec]
) -> m.Run:
    """Link datasets to a run; logging the same (name, digest, context) again is a no-op."""
    run = await _active_run(session, run_id)
    rows = []
    for i, d in enumerate(datasets):
        v.check_name(f"datasets[{i}].name", d.name, settings, required=True)
        if not d.digest:
            raise InvalidArgument(f"datasets[{i}].digest: must not be empty")
        rows.append(
            {
                "run_pk": run.pk,
                "name": d.name,
                "digest": d.digest[:250],
                "source": d.source,
                "source_type": d.source_type,
                "schema": json.dumps(d.schema) if d.schema is not None else None,
                "profile": json.dumps(d.profile) if d.profile is not None else None,
                "context": d.context or "",
            }
        )
    if rows:
        stmt = _insert(session, m.dataset_inputs).on_conflict_do_nothing(
            index_elements=["run_pk", "name", "digest", "context"]
        )
        await session.execute(stmt, rows)
    return run


async def _active_run(session: AsyncSession, run_id: str) -> m.Run:
    run = await get_run(session, run_id=run_id)
    if run.deleted_at is not None:
        raise InvalidArgument(f"runId: run {run_id!r} is deleted; restore it first")
    return run


async def _add_experiment_keys(
    session: AsyncSession, experiment_id: int, kind: int, keys: Sequence[str]
) -> None:
    rows = [{"experiment_id": experiment_id, "kind": kind, "key": k} for k in dict.fromkeys(keys)]
    await session.execute(_insert(session, m.experiment_keys).on_conflict_do_nothing(), rows)


# --- logBatch ----------------------------------------------------------------------------


def validate_batch(
    *,
    settings: Settings,
    run_id: str,
    batch_id: str | None,
    metrics: MetricColumns | None,
    params: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
) -> BatchRequest:
    """Check a whole batch before any of it is written; errors name the element."""
    if batch_id is not None and not 0 < len(batch_id) <= 128:
        raise InvalidArgument(f"batchId: must be 1 to 128 characters long, got {len(batch_id)}")
    if metrics is not None:
        n = len(metrics.keys)
        lengths = {
            "values": len(metrics.values),
            "steps": len(metrics.steps),
            "timestamps": len(metrics.timestamps),
        }
        for name, length in lengths.items():
            if length != n:
                raise InvalidArgument(
                    f"metrics.{name}: has {length} elements but metrics.keys has {n}; the lists are parallel"
                )
        if n > settings.max_batch_points:
            raise InvalidArgument(
                f"metrics: {n} points in one batch; the limit is {settings.max_batch_points} "
                "(split the batch)"
            )
        for key in set(metrics.keys):
            v.check_key("metrics.keys", key, settings)
    check_param_items(settings, params)
    if len(tags) > settings.max_batch_tags:
        raise InvalidArgument(f"tags: {len(tags)} in one batch; the limit is {settings.max_batch_tags}")
    for i, (key, value) in enumerate(tags):
        v.check_key(f"tags[{i}]", key, settings)
        v.check_value(f"tags[{i}]", key, value, settings.max_tag_value_length)
    return BatchRequest(run_id, batch_id, metrics, params, tags, now_ms())


async def log_batch(
    writer: BatchWriter, request: BatchRequest, *, bus: EventBus | None = None
) -> BatchOutcome:
    """Write a validated batch whole or not at all; the same batch id twice stores it once.

    Once stored (never for a duplicate), the points are announced on the ``metrics`` topic.
    """
    outcome = await writer.write(request)
    if (
        bus is not None
        and not outcome.duplicate
        and request.metrics is not None
        and outcome.metrics_written
        and bus.may_have_subscribers("metrics")
    ):
        m = request.metrics
        await bus.publish(
            "metrics",
            {
                "run_id": outcome.run_id,
                "experiment_id": outcome.experiment_id,
                "keys": list(m.keys),
                "steps": list(m.steps),
                "timestamps": list(m.timestamps),
                "values": wire_values(m.values),
            },
        )
    if bus is not None and not outcome.duplicate and (request.params or request.tags):
        await announce_run(bus, run_id=outcome.run_id, experiment_id=outcome.experiment_id, change="logged")
    return outcome


def wire_values(values: Sequence[float | None]) -> list[float | str]:
    """Metric values as JSON can carry them: NaN and ±Infinity become their names."""
    return [
        v
        if v is not None and v - v == 0
        else ("NaN" if v is None or v != v else ("Infinity" if v > 0 else "-Infinity"))
        for v in values
    ]


async def announce_run(bus: EventBus | None, *, run_id: str, experiment_id: int, change: str) -> None:
    """Tell live subscribers that a run was created or changed (after the commit)."""
    if bus is not None:
        await bus.publish("runs", {"run_id": run_id, "experiment_id": experiment_id, "change": change})


# --- metric histories --------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSeriesData:
    run_id: str
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[float]  # NaN and ±Infinity as floats
    downsampled: bool
    total_points: int


async def metric_histories(
    session: AsyncSession,
    *,
    settings: Settings,
    run_ids: Sequence[str],
    keys: Sequence[str] | None,
    max_points: int | None,
    min_step: int | None = None,
    max_step: int | None = None,
    budget: PointBudget | None = None,
) -> list[MetricSeriesData]:
    """Columnar histories of many runs and keys, downsampled per series above ``max_points``.

    Every series is read as its chunks (store/series.py) in one trip to the database thread
    on SQLite; a step range skips the chunks outside it. Downsampling is min/max buckets over
    the step range (``series.downsample``).
    """
    if not run_ids:
        return []
    if max_points is not None and max_points < 4:
        raise InvalidArgument(f"maxPoints: {max_points} is too small; ask for at least 4 points")
    run_rows = (await session.execute(select(m.runs.c.pk, m.runs.c.id).where(m.runs.c.id.in_(run_ids)))).all()
    pk_by_id = {row.id: row.pk for row in run_rows}
    for run_id in run_ids:
        if run_id not in pk_by_id:
            raise NotFound(f"runIds: no run with id {run_id!r}")
    lm, mk = m.latest_metrics, m.metric_keys
    query = (
        select(lm.c.run_pk, mk.c.id, mk.c.key, lm.c.count)
        .join(mk, mk.c.id == lm.c.key_id)
        .where(lm.c.run_pk.in_(pk_by_id.values()))
    )
    if keys is not None:
        query = query.where(mk.c.key.in_(keys))
    available = {(r.run_pk, r.key): (r.id, r.count) for r in (await session.execute(query)).all()}
    # A key listed twice is one series, sent once (duplicates once multiplied the answer).
    wanted_keys = list(dict.fromkeys(keys)) if keys is not None else sorted({k for _, k in available})
    ranged = min_step is not None or max_step is not None

    wanted: list[tuple[str, str, int, int]] = []  # (run_id, key, run_pk, key_id)
    cost = 0
    for run_id in dict.fromkeys(run_ids):
        run_pk = pk_by_id[run_id]
        for key in wanted_keys:
            found = available.get((run_pk, key))
            if found is None:
                continue
            key_id, total = found
            if not ranged and (max_points is None or total <= max_points):
                _check_history_size(settings, run_id, key, total)
            wanted.append((run_id, key, run_pk, key_id))
            cost += series_cost(total, max_points)
    if budget is not None:  # before any chunk is read (services/request_budget.py)
        budget.charge(cost, field="metricHistories")
    loaded = await _read_series(
        session, [(run_pk, key_id) for _, _, run_pk, key_id in wanted], min_step, max_step
    )
    out = []
    for (run_id, key, _, _), data in zip(wanted, loaded, strict=True):
        start, stop = series.step_range(data, min_step, max_step)
        total = stop - start
        if max_points is not None and total > max_points:
            picked = series.downsample(data, start, stop, max_points)
            out.append(
                MetricSeriesData(
                    run_id,
                    key,
                    [data.steps[i] for i in picked],
                    [data.timestamps[i] for i in picked],
                    [data.values[i] for i in picked],
                    True,
                    total,
                )
            )
            continue
        _check_history_size(settings, run_id, key, total)
        out.append(
            MetricSeriesData(
                run_id,
                key,
                data.steps[start:stop].tolist(),
                data.timestamps[start:stop].tolist(),
                data.values[start:stop].tolist(),
                False,
                total,
            )
        )
    return out


def _check_history_size(settings: Settings, run_id: str, key: str, total: int) -> None:
    if total > settings.max_history_points:
        raise InvalidArgument(
            f"maxPoints: series {key!r} of run {run_id!r} has {total} points; pass maxPoints "
            f"(at most {settings.max_history_points} points come back undownsampled)"
        )


_CHUNKS_SQL = (
    "SELECT steps, timestamps, vals, min_step, max_step, nan_count FROM metric_chunks "
    "WHERE run_pk = ? AND key_id = ?{bounds} ORDER BY id"
)


async def _read_series(
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
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "sqlite":
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


# --- search and pagination ---------------------------------------------------------------


@dataclass
class Page:
    """One page of a connection; ``count_query`` is run only if totalCount is asked for."""

    items: list[Any]
    cursors: list[str]
    has_next: bool
    count_query: Any


def encode_cursor(values: Sequence[Any]) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list[Any]:
    import base64

    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except Exception:
        raise InvalidArgument(f"after: {cursor!r} is not a cursor this server issued") from None
    if not isinstance(values, list) or len(values) != n:
        raise InvalidArgument(f"after: {cursor!r} does not belong to this query (was the order changed?)")
    return values


@dataclass(frozen=True)
class _Search:
    """A compiled search: the WHERE conditions, and the sort expressions with directions.

    Immutable and shared: compiled searches are cached (see ``_compile_search``), and so are
    their first-page statements, since SQLAlchemy Core constructs can be executed by many
    requests at once.
    """

    conditions: tuple[Any, ...]
    exprs: tuple[Any, ...]
    descending: tuple[bool, ...]
    _first_pages: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def page(self, *columns: Any, first: int, after: str | None) -> Any:
        """SELECT ``columns`` plus the sort values, after the cursor, one row beyond the page."""
        if after is None:
            key = (*columns, first)
            query = self._first_pages.get(key)
            if query is None:
                if len(self._first_pages) >= 16:
                    self._first_pages.clear()
                query = self._first_pages[key] = self._page(columns, first, None)
            return query
        return self._page(columns, first, after)

    def _page(self, columns: tuple[Any, ...], first: int, after: str | None) -> Any:
        labelled = [e.label(f"sort_{i}") for i, e in enumerate(self.exprs)]
        query = select(*columns, *labelled).where(*self.conditions)
        if after is not None:
            values = decode_cursor(after, len(self.exprs) + 1)
            query = query.where(_after_cursor(self.exprs, self.descending, values[:-1], values[-1]))
        order = [
            (e.desc() if d else e.asc()).nulls_last()
            for e, d in zip(self.exprs, self.descending, strict=True)
        ]
        return query.order_by(*order, m.runs.c.pk.desc()).limit(first + 1)

    def count_query(self) -> Any:
        return select(func.count()).select_from(m.runs).where(*self.conditions)


def _compile_search(
    *,
    dialect: str,
    experiment_ids: Sequence[str] | None,
    filter_text: str | None,
    order_by: Sequence[str] | None,
    view: str,
) -> _Search:
    return _compiled_search(
        dialect,
        tuple(experiment_ids) if experiment_ids else None,
        filter_text or "",
        tuple(order_by or ()),
        view,
    )


@lru_cache(maxsize=256)
def _compiled_search(
    dialect: str,
    experiment_ids: tuple[str, ...] | None,
    filter_text: str,
    order_by: tuple[str, ...],
    view: str,
) -> _Search:
    """Parse and compile a search once: dashboards and scripts repeat the same searches (paging,
    polling), and building the statement costs more Python than running it. Failures are not
    cached (lru_cache keeps return values only)."""
    from mltrail_server.services.search.compiler import compile_run_filter, compile_run_order
    from mltrail_server.services.search.parser import parse_filter, parse_order_by

    runs = m.runs
    conditions: list[Any] = []
    if experiment_ids:
        ids = [v.parse_experiment_id("experimentIds", e) for e in experiment_ids]
        conditions.append(runs.c.experiment_id.in_(ids))
    if view == "ACTIVE":
        conditions.append(runs.c.deleted_at.is_(None))
    elif view == "DELETED":
        conditions.append(runs.c.deleted_at.is_not(None))
    node = parse_filter(filter_text or "")
    if node is not None:
        conditions.append(compile_run_filter(node, dialect))
    terms = compile_run_order(parse_order_by(list(order_by or [])), dialect)
    exprs = [t.expression for t in terms] or [runs.c.start_time]
    descending = [t.descending for t in terms] or [True]
    return _Search(tuple(conditions), tuple(exprs), tuple(descending))


async def search_runs(
    session: AsyncSession,
    *,
    dialect: str,
    experiment_ids: Sequence[str] | None,
    filter_text: str | None,
    order_by: Sequence[str] | None,
    first: int,
    after: str | None,
    view: str = "ACTIVE",
) -> Page:
    """Runs matching the filter, in one SQL statement, keyset-paginated over the order terms.

    Keyset (not offset) pagination keeps pages stable while runs are being created: the
    cursor holds the sort values of the last row, and the next page starts strictly after.
    """
    search = _compile_search(
        dialect=dialect, experiment_ids=experiment_ids, filter_text=filter_text, order_by=order_by, view=view
    )
    rows = (await session.execute(search.page(m.Run, first=first, after=after))).all()
    has_next = len(rows) > first
    rows = rows[:first]
    items = [row[0] for row in rows]
    cursors = [encode_cursor([*row[1:], row[0].pk]) for row in rows]
    return Page(items, cursors, has_next, search.count_query())


@dataclass(frozen=True)
class TextColumn:
    key: str
    values: list[str | None]  # None: the run has no such param or tag


@dataclass(frozen=True)
class MetricColumn:
    """Latest value, its step and timestamp, and the run's extremes; None where the run has
    not logged the metric (a NaN value stays a float NaN, so it is not confused with absence).
    An extreme is None also where the run logged nothing but NaN (as ``LatestMetric.min``)."""

    key: str
    values: list[float | None]
    steps: list[int | None]
    timestamps: list[int | None]
    mins: list[float | None]
    maxs: list[float | None]


@dataclass(frozen=True)
class RunTableData:
    run_ids: list[str]
    experiment_ids: list[str]
    names: list[str | None]
    statuses: list[str]
    users: list[str | None]
    start_times: list[int]
    end_times: list[int | None]
    parent_ids: list[str | None]
    artifact_uris: list[str]
    params: list[TextColumn]
    tags: list[TextColumn]
    metrics: list[MetricColumn]
    end_cursor: str | None
    has_next: bool
    count_query: Any


_TABLE_COLUMNS = (
    "pk",
    "id",
    "experiment_id",
    "name",
    "status",
    "user",
    "start_time",
    "end_time",
    "parent_id",
    "artifact_uri",
)


async def run_table(
    session: AsyncSession,
    *,
    dialect: str,
    experiment_ids: Sequence[str] | None,
    filter_text: str | None,
    order_by: Sequence[str] | None,
    first: int,
    after: str | None,
    view: str = "ACTIVE",
    param_keys: Sequence[str] | None = None,
    metric_keys: Sequence[str] | None = None,
    tag_keys: Sequence[str] | None = None,
) -> RunTableData:
    """The same search as ``search_runs``, returned as columns: row i of every column is the
    i-th run of the page. Four statements whatever the page size (page, params, tags, latest
    metrics), plain rows, no ORM objects; a key list of ``[]`` skips that kind, ``None`` takes
    every key the page's runs have."""
    search = _compile_search(
        dialect=dialect, experiment_ids=experiment_ids, filter_text=filter_text, order_by=order_by, view=view
    )
    runs = m.runs
    n_cols = len(_TABLE_COLUMNS)
    rows = (
        await session.execute(search.page(*(runs.c[c] for c in _TABLE_COLUMNS), first=first, after=after))
    ).all()
    has_next = len(rows) > first
    rows = rows[:first]
    end_cursor = encode_cursor([*rows[-1][n_cols:], rows[-1][0]]) if rows else None
    columns: list[Any] = [list(c) for c in zip(*(row[:n_cols] for row in rows), strict=True)] or [
        [] for _ in range(n_cols)
    ]
    pks, ids, experiment_pks, names, statuses, users, starts, ends, parents, uris = columns
    row_of = {pk: i for i, pk in enumerate(pks)}

    param_rows, tag_rows, metric_rows = await _page_cells(session, pks, param_keys, tag_keys, metric_keys)
    n = len(pks)

    def text_columns(rows: Sequence[Any]) -> list[TextColumn]:
        cells: dict[str, list[str | None]] = {}
        for run_pk, key, value in rows:
            column = cells.get(key)
            if column is None:
                column = cells[key] = [None] * n
            column[row_of[run_pk]] = value
        return [TextColumn(key, cells[key]) for key in sorted(cells)]

    found: dict[str, MetricColumn] = {}
    nan = float("nan")
    for run_pk, key, value, step, stamp, low, high in metric_rows:
        metric = found.get(key)
        if metric is None:
            metric = found[key] = MetricColumn(
                key, [None] * n, [None] * n, [None] * n, [None] * n, [None] * n
            )
        i = row_of[run_pk]
        # In the store NULL means NaN (models.py); in a column None means "not logged".
        metric.values[i] = nan if value is None else value
        metric.steps[i] = step
        metric.timestamps[i] = stamp
        metric.mins[i] = low  # None: nothing but NaN logged, as LatestMetric.min says
        metric.maxs[i] = high
    params, tags = text_columns(param_rows), text_columns(tag_rows)
    metrics = [found[key] for key in sorted(found)]
    return RunTableData(
        run_ids=ids,
        experiment_ids=[str(e) for e in experiment_pks],
        names=names,
        statuses=statuses,
        users=users,
        start_times=starts,
        end_times=ends,
        parent_ids=parents,
        artifact_uris=uris,
        params=params,
        tags=tags,
        metrics=metrics,
        end_cursor=end_cursor,
        has_next=has_next,
        count_query=search.count_query(),
    )


_CELL_SQL = {
    "params": "SELECT run_pk, key, value FROM params WHERE run_pk IN ({pks}){keys}",
    "tags": "SELECT run_pk, key, value FROM run_tags WHERE run_pk IN ({pks}){keys}",
    "metrics": (
        "SELECT lm.run_pk, mk.key, lm.value, lm.step, lm.timestamp, lm.min_value, lm.max_value "
        "FROM latest_metrics lm JOIN metric_keys mk ON mk.id = lm.key_id WHERE lm.run_pk IN ({pks}){keys}"
    ),
}
_CELL_KEY = {"params": "key", "tags": "key", "metrics": "mk.key"}


async def _page_cells(
    session: AsyncSession,
    pks: Sequence[int],
    param_keys: Sequence[str] | None,
    tag_keys: Sequence[str] | None,
    metric_keys: Sequence[str] | None,
) -> tuple[list[Any], list[Any], list[Any]]:
    """Param, tag and latest-metric rows of a page's runs, as plain tuples, on the driver.

    Three small statements with a list of up to a page of ids: through SQLAlchemy, expanding
    those IN lists and making Row objects cost more than the queries. On SQLite all three run
    in one trip to the connection's thread; on PostgreSQL the ids travel as one array.
    """
    wanted = {"params": param_keys, "tags": tag_keys, "metrics": metric_keys}
    if not pks:
        return [], [], []
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "sqlite":
        statements = []
        for kind, keys in wanted.items():
            if keys == []:
                statements.append(None)
                continue
            key_sql = f" AND {_CELL_KEY[kind]} IN ({', '.join('?' * len(keys))})" if keys else ""
            sql = _CELL_SQL[kind].format(pks=", ".join("?" * len(pks)), keys=key_sql)
            statements.append((sql, (*pks, *(keys or ()))))
        found = await call_on_connection(driver, _fetch_all, statements)
        return found[0], found[1], found[2]
    out: list[list[Any]] = []
    for kind, keys in wanted.items():
        if keys == []:
            out.append([])
            continue
        key_sql = f" AND {_CELL_KEY[kind]} = ANY($2::text[])" if keys else ""
        sql = _CELL_SQL[kind].format(pks="SELECT unnest($1::integer[])", keys=key_sql)
        args = (list(pks), list(keys)) if keys else (list(pks),)
        out.append(await driver.fetch(sql, *args))
    return out[0], out[1], out[2]


def _fetch_all(conn: Any, statements: Sequence[tuple[str, Sequence[Any]] | None]) -> list[list[Any]]:
    return [conn.execute(*stmt).fetchall() if stmt is not None else [] for stmt in statements]


def _after_cursor(
    exprs: Sequence[Any], descending: Sequence[bool], values: Sequence[Any], last_pk: int
) -> Any:
    def eq(expr: Any, value: Any) -> Any:
        return expr.is_(None) if value is None else expr == value

    def beyond(expr: Any, value: Any, desc: bool) -> Any:
        # NULLS LAST: a NULL sorts after every value, and nothing sorts after a NULL.
        if value is None:
            return None
        return or_(expr < value if desc else expr > value, expr.is_(None))

    alternatives = []
    for i, (expr, value, desc) in enumerate(zip(exprs, values, descending, strict=True)):
        step = beyond(expr, value, desc)
        if step is not None:
            alternatives.append(
                and_(*(eq(e, val) for e, val in zip(exprs[:i], values[:i], strict=True)), step)
            )
    alternatives.append(
        and_(*(eq(e, val) for e, val in zip(exprs, values, strict=True)), m.runs.c.pk < last_pk)
    )
    return or_(*alternatives)


async def count(session: AsyncSession, query: Any) -> int:
    return int((await session.execute(query)).scalar_one())


# --- what lists of runs and experiments ask for per item (DataLoader batches) -------------


async def _pairs_by_run(
    session: AsyncSession, table: Any, run_pks: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    rows = await session.execute(
        select(table.c.run_pk, table.c.key, table.c.value)
        .where(table.c.run_pk.in_(run_pks))
        .order_by(table.c.key)
    )
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for run_pk, key, value in rows:
        out[run_pk].append((key, value))
    return out


async def params_by_run(session: AsyncSession, *, run_pks: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    return await _pairs_by_run(session, m.params, run_pks)


async def tags_by_run(session: AsyncSession, *, run_pks: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    return await _pairs_by_run(session, m.run_tags, run_pks)


@dataclass(frozen=True)
class LatestMetricData:
    key: str
    value: float | None  # None means NaN
    step: int
    timestamp: int
    min: float | None
    max: float | None
    count: int


async def latest_metrics_by_run(
    session: AsyncSession, *, run_pks: Sequence[int]
) -> dict[int, list[LatestMetricData]]:
    lm, mk = m.latest_metrics, m.metric_keys
    rows = await session.execute(
        select(
            lm.c.run_pk,
            mk.c.key,
            lm.c.value,
            lm.c.step,
            lm.c.timestamp,
            lm.c.min_value,
            lm.c.max_value,
            lm.c.count,
        )
        .join(mk, mk.c.id == lm.c.key_id)
        .where(lm.c.run_pk.in_(run_pks))
        .order_by(mk.c.key)
    )
    out: dict[int, list[LatestMetricData]] = defaultdict(list)
    for run_pk, *rest in rows:
        out[run_pk].append(LatestMetricData(*rest))
    return out


async def inputs_by_run(session: AsyncSession, *, run_pks: Sequence[int]) -> dict[int, list[m.DatasetInput]]:
    rows = await session.execute(
        select(m.DatasetInput).where(m.DatasetInput.run_pk.in_(run_pks)).order_by(m.DatasetInput.id)
    )
    out: dict[int, list[m.DatasetInput]] = defaultdict(list)
    for d in rows.scalars():
        out[d.run_pk].append(d)
    return out


async def runs_by_id(session: AsyncSession, *, run_ids: Sequence[str]) -> dict[str, m.Run]:
    rows = await session.execute(select(m.Run).where(m.Run.id.in_(run_ids)))
    return {r.id: r for r in rows.scalars()}


async def children_by_parent(session: AsyncSession, *, parent_ids: Sequence[str]) -> dict[str, list[m.Run]]:
    rows = await session.execute(
        select(m.Run)
        .where(m.Run.parent_id.in_(parent_ids), m.Run.deleted_at.is_(None))
        .order_by(m.Run.start_time)
    )
    out: dict[str, list[m.Run]] = defaultdict(list)
    for r in rows.scalars():
        out[r.parent_id or ""].append(r)
    return out


async def experiments_by_id(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, m.Experiment]:
    rows = await session.execute(select(m.Experiment).where(m.Experiment.id.in_(ids)))
    return {e.id: e for e in rows.scalars()}


async def experiment_tags_by_id(
    session: AsyncSession, *, ids: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    t = m.experiment_tags
    rows = await session.execute(
        select(t.c.experiment_id, t.c.key, t.c.value).where(t.c.experiment_id.in_(ids)).order_by(t.c.key)
    )
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for eid, key, value in rows:
        out[eid].append((key, value))
    return out


@dataclass(frozen=True)
class ExperimentStats:
    run_count: int
    last_activity: int | None


async def experiment_stats_by_id(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, ExperimentStats]:
    r = m.runs
    rows = await session.execute(
        select(
            r.c.experiment_id,
            func.count(),
            func.max(func.coalesce(r.c.end_time, r.c.start_time)),
        )
        .where(r.c.experiment_id.in_(ids), r.c.deleted_at.is_(None))
        .group_by(r.c.experiment_id)
    )
    return {eid: ExperimentStats(n, last) for eid, n, last in rows}


async def experiment_keys_by_id(
    session: AsyncSession, *, ids: Sequence[int]
) -> dict[int, dict[int, list[str]]]:
    """Distinct keys per experiment and kind, from the table ingest maintains (no run scan)."""
    k = m.experiment_keys
    rows = await session.execute(
        select(k.c.experiment_id, k.c.kind, k.c.key).where(k.c.experiment_id.in_(ids)).order_by(k.c.key)
    )
    out: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for eid, kind, key in rows:
        out[eid][kind].append(key)
    return out
