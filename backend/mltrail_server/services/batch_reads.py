"""What lists of runs and experiments ask for per item: the DataLoaders' batch reads.

Each function answers one DataLoader batch (graphql/loaders.py) with one
``WHERE … IN (:keys)`` statement and returns a dict keyed like the batch, so a page of 100
runs with params, tags and latest metrics is a fixed number of statements whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.store import driver_reads, models


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
    return await _pairs_by_run(session, models.params, run_pks)


async def tags_by_run(session: AsyncSession, *, run_pks: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    return await _pairs_by_run(session, models.run_tags, run_pks)


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
    latest, metric_keys = models.latest_metrics, models.metric_keys
    rows = await session.execute(
        select(
            latest.c.run_pk,
            metric_keys.c.key,
            latest.c.value,
            latest.c.step,
            latest.c.timestamp,
            latest.c.min_value,
            latest.c.max_value,
            latest.c.count,
        )
        .join(metric_keys, metric_keys.c.id == latest.c.key_id)
        .where(latest.c.run_pk.in_(run_pks))
        .order_by(metric_keys.c.key)
    )
    out: dict[int, list[LatestMetricData]] = defaultdict(list)
    for run_pk, *rest in rows:
        out[run_pk].append(LatestMetricData(*rest))
    return out


@dataclass(frozen=True, slots=True)
class PageLists:
    """What a page of runs lists per run, keyed by run pk, each list sorted by key; None for
    a kind that was not asked for."""

    params: dict[int, list[tuple[str, str]]] | None
    tags: dict[int, list[tuple[str, str]]] | None
    latest_metrics: dict[int, list[LatestMetricData]] | None


async def page_lists_by_run(
    session: AsyncSession, *, run_pks: Sequence[int], params: bool, tags: bool, latest_metrics: bool
) -> PageLists:
    """Params, tags and latest metrics of a whole page of runs in one trip to the driver.

    The DataLoaders' reads above go through SQLAlchemy one statement at a time; for a page of
    1,000 runs (≈ 12,000 rows) its Row objects and expanded IN lists cost more than the
    queries, so a list query reads the page's rows as plain tuples instead.
    """
    every_key, skip = None, []
    cells = await driver_reads.read_page_cells(
        session,
        run_pks,
        every_key if params else skip,
        every_key if tags else skip,
        every_key if latest_metrics else skip,
    )

    def pairs(rows: Sequence[Any]) -> dict[int, list[tuple[str, str]]]:
        out: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for run_pk, key, value in sorted(rows, key=itemgetter(1)):
            out[run_pk].append((key, value))
        return out

    latest: dict[int, list[LatestMetricData]] = defaultdict(list)
    for run_pk, *rest in sorted(cells.metrics, key=itemgetter(1)):
        latest[run_pk].append(LatestMetricData(*rest))
    return PageLists(
        params=pairs(cells.params) if params else None,
        tags=pairs(cells.tags) if tags else None,
        latest_metrics=latest if latest_metrics else None,
    )


async def inputs_by_run(session: AsyncSession, *, run_pks: Sequence[int]) -> dict[int, list[models.DatasetInput]]:
    rows = await session.execute(
        select(models.DatasetInput).where(models.DatasetInput.run_pk.in_(run_pks)).order_by(models.DatasetInput.id)
    )
    out: dict[int, list[models.DatasetInput]] = defaultdict(list)
    for d in rows.scalars():
        out[d.run_pk].append(d)
    return out


async def runs_by_id(session: AsyncSession, *, run_ids: Sequence[str]) -> dict[str, models.Run]:
    rows = await session.execute(select(models.Run).where(models.Run.id.in_(run_ids)))
    return {r.id: r for r in rows.scalars()}


async def children_by_parent(session: AsyncSession, *, parent_ids: Sequence[str]) -> dict[str, list[models.Run]]:
    rows = await session.execute(
        select(models.Run)
        .where(models.Run.parent_id.in_(parent_ids), models.Run.deleted_at.is_(None))
        .order_by(models.Run.start_time)
    )
    out: dict[str, list[models.Run]] = defaultdict(list)
    for r in rows.scalars():
        out[r.parent_id or ""].append(r)
    return out


async def experiments_by_id(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, models.Experiment]:
    rows = await session.execute(select(models.Experiment).where(models.Experiment.id.in_(ids)))
    return {e.id: e for e in rows.scalars()}


async def experiment_tags_by_id(
    session: AsyncSession, *, ids: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    tags = models.experiment_tags
    rows = await session.execute(
        select(tags.c.experiment_id, tags.c.key, tags.c.value)
        .where(tags.c.experiment_id.in_(ids))
        .order_by(tags.c.key)
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
    runs = models.runs
    rows = await session.execute(
        select(
            runs.c.experiment_id,
            func.count(),
            func.max(func.coalesce(runs.c.end_time, runs.c.start_time)),
        )
        .where(runs.c.experiment_id.in_(ids), runs.c.deleted_at.is_(None))
        .group_by(runs.c.experiment_id)
    )
    return {eid: ExperimentStats(n, last) for eid, n, last in rows}


async def experiment_keys_by_id(
    session: AsyncSession, *, ids: Sequence[int]
) -> dict[int, dict[int, list[str]]]:
    """Distinct keys per experiment and kind, from the table ingest maintains (no run scan)."""
    keys = models.experiment_keys
    rows = await session.execute(
        select(keys.c.experiment_id, keys.c.kind, keys.c.key)
        .where(keys.c.experiment_id.in_(ids))
        .order_by(keys.c.key)
    )
    out: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for eid, kind, key in rows:
        out[eid][kind].append(key)
    return out
