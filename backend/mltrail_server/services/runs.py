"""Runs and what is logged to them one call at a time: params, tags and dataset inputs.

Service functions take the session first and keyword-only arguments; the caller owns the
transaction (services never commit). ``create_run`` is the exception that proves the rule:
its write is a program on the run writer's own connection (store/run_writes.py), which owns
its transaction so the hot path can skip the ORM. logBatch lives in services/metrics.py.

Every write here is safe under concurrency on both databases: tags and dataset inputs are
single upserts / ``ON CONFLICT DO NOTHING`` inserts, and params go through the insert-first
program of store/statements.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.errors import InvalidArgument, NotFound
from mltrail_server.events import EventBus
from mltrail_server.services import validation
from mltrail_server.services.clock import now_ms
from mltrail_server.services.experiments import get_experiment, get_or_create_experiment
from mltrail_server.store import models
from mltrail_server.store.engine import Database, dialect_insert
from mltrail_server.store.run_writes import ExperimentMissing, RunCreate
from mltrail_server.store.statements import dedupe_params
from mltrail_server.store.writer import RunWriter

# The column's width (store/models.py): longer digests are cut rather than refused.
DIGEST_MAX_LENGTH = 250


async def get_run(session: AsyncSession, *, run_id: str) -> models.Run:
    """The run with this id, deleted or not."""
    found = (await session.execute(select(models.Run).where(models.Run.id == run_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"runId: no run with id {run_id!r}")
    return found


async def require_runs(session: AsyncSession, *, run_ids: Sequence[str]) -> None:
    """NOT_FOUND naming the first of ``run_ids`` that is no run (deleted runs count as runs)."""
    wanted = list(dict.fromkeys(run_ids))
    if not wanted:
        return
    found = set((await session.execute(select(models.Run.id).where(models.Run.id.in_(wanted)))).scalars())
    for run_id in wanted:
        if run_id not in found:
            raise NotFound(f"runIds: no run with id {run_id!r}")


@dataclass(frozen=True)
class RunSourceData:
    entry_point: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None


async def create_run(
    db: Database,
    writer: RunWriter,
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
) -> models.Run:
    """Create a RUNNING run in an active experiment; idempotent on a client-chosen ``run_id``.

    ``params`` are logged in the same transaction, with logBatch's rules (immutable: a replay
    with the same values is a no-op, a different value is a CONFLICT): a run and its
    configuration arrive together or not at all, in one round trip. The arguments are
    checked here; the writer's connection does the rest in one transaction (store/run_writes.py).
    Concurrent writers of the same param key get one winner (store/statements.py).
    The run comes back as a detached ``Run`` model.
    """
    if (experiment_id is None) == (experiment_name is None):
        raise InvalidArgument("createRun: give exactly one of experimentId and experimentName")
    experiment_pk = (
        validation.parse_experiment_id("experimentId", experiment_id) if experiment_id is not None else None
    )
    if experiment_name is not None:
        validation.check_name("experimentName", experiment_name, settings, required=True)
    validation.check_name("name", name, settings)
    validation.check_int64("startTime", start_time)
    validation.check_tags(settings, "tags", tags)
    if run_id is not None:
        validation.check_run_id("runId", run_id)
    # logBatch's rules for params given with createRun: each item, and one value per key.
    validation.check_param_items(settings, params)
    wanted_params = dedupe_params(run_id or "", params)
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
        # By name, and the experiment is new: create it (a concurrent creator may win: then
        # its experiment is the one), then the run.
        async with db.transaction() as session:
            await get_or_create_experiment(session, settings=settings, name=experiment_name or "")
        row = await writer.create_run(request)
    return models.Run(**row)


async def update_run(
    session: AsyncSession,
    *,
    settings: Settings,
    run_id: str,
    status: str | None = None,
    end_time: int | None = None,
    name: str | None = None,
) -> models.Run:
    """Change status, end time or name; a terminal status without an end time sets one."""
    run = await get_run(session, run_id=run_id)
    if run.deleted_at is not None:
        raise InvalidArgument(f"id: run {run_id!r} is deleted; restore it first")
    if status is not None:
        run.status = validation.check_status("status", status)
        if status != "RUNNING" and end_time is None and run.end_time is None:
            run.end_time = now_ms()
        if status == "RUNNING":
            run.end_time = None
    if end_time is not None:
        validation.check_int64("endTime", end_time)
        if end_time < run.start_time:
            raise InvalidArgument(f"endTime: {end_time} is before the run's start time {run.start_time}")
        run.end_time = end_time
    if name is not None:
        run.name = validation.check_name("name", name, settings)
    await session.flush()
    return run


async def set_run_deleted(session: AsyncSession, *, run_id: str, deleted: bool) -> models.Run:
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
    validation.check_key("key", key, settings)
    validation.check_value("value", key, value, settings.max_tag_value_length)
    if (run_id is None) == (experiment_id is None):
        raise InvalidArgument("setTag: give exactly one of runId and experimentId")
    if run_id is not None:
        run = await active_run(session, run_id)
        stmt = dialect_insert(session, models.run_tags).values(run_pk=run.pk, key=key, value=value)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["run_pk", "key"], set_={"value": value})
        )
        await _add_experiment_keys(session, run.experiment_id, models.KEY_KIND_TAG, [key])
    else:
        experiment = await get_experiment(session, experiment_id=experiment_id)
        stmt = dialect_insert(session, models.experiment_tags).values(experiment_id=experiment.id, key=key, value=value)
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
        run = await active_run(session, run_id)
        table, cond = models.run_tags, models.run_tags.c.run_pk == run.pk
    else:
        experiment = await get_experiment(session, experiment_id=experiment_id)
        table, cond = models.experiment_tags, models.experiment_tags.c.experiment_id == experiment.id
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
) -> models.Run:
    """Link datasets to a run; logging the same (name, digest, context) again is a no-op."""
    # Locked: two calls linking the same datasets in different orders would otherwise wait
    # for each other's rows in a cycle on PostgreSQL (a deadlock, answered INTERNAL). The
    # inputs keep the order they were logged in, so sorting them is not an option.
    run = await active_run(session, run_id, one_writer_at_a_time=True)
    rows = []
    for i, d in enumerate(datasets):
        validation.check_name(f"datasets[{i}].name", d.name, settings, required=True)
        if not d.digest:
            raise InvalidArgument(f"datasets[{i}].digest: must not be empty")
        rows.append(
            {
                "run_pk": run.pk,
                "name": d.name,
                "digest": d.digest[:DIGEST_MAX_LENGTH],
                "source": d.source,
                "source_type": d.source_type,
                "schema": json.dumps(d.schema) if d.schema is not None else None,
                "profile": json.dumps(d.profile) if d.profile is not None else None,
                "context": d.context or "",
            }
        )
    if rows:
        stmt = dialect_insert(session, models.dataset_inputs).on_conflict_do_nothing(
            index_elements=["run_pk", "name", "digest", "context"]
        )
        await session.execute(stmt, rows)
    return run


async def active_run(
    session: AsyncSession, run_id: str, *, one_writer_at_a_time: bool = False
) -> models.Run:
    """The run, refused when it is deleted: what every write to a run checks first.

    ``one_writer_at_a_time`` locks the run's row until the transaction ends (PostgreSQL's
    ``FOR NO KEY UPDATE``: other such writers wait, batches and readers do not; SQLite has
    one writer anyway and ignores it)."""
    query = select(models.Run).where(models.Run.id == run_id)
    if one_writer_at_a_time:
        query = query.with_for_update(key_share=True)
    run = (await session.execute(query)).scalar_one_or_none()
    if run is None:
        raise NotFound(f"runId: no run with id {run_id!r}")
    if run.deleted_at is not None:
        raise InvalidArgument(f"runId: run {run_id!r} is deleted; restore it first")
    return run


async def _add_experiment_keys(
    session: AsyncSession, experiment_id: int, kind: int, keys: Sequence[str]
) -> None:
    """Record keys of the experiment's runs for the column chooser (new ones only)."""
    rows = [{"experiment_id": experiment_id, "kind": kind, "key": k} for k in dict.fromkeys(keys)]
    await session.execute(dialect_insert(session, models.experiment_keys).on_conflict_do_nothing(), rows)


async def announce_run(bus: EventBus | None, *, run_id: str, experiment_id: int, change: str) -> None:
    """Tell live subscribers that a run was created or changed (after the commit)."""
    if bus is not None:
        await bus.publish("runs", {"run_id": run_id, "experiment_id": experiment_id, "change": change})
