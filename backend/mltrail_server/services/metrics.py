"""Metric points: logBatch (the ingest hot path) and metric histories (columnar, downsampled).

``log_batch`` checks a whole batch (services/validation.py), hands it to the run writer,
which writes it in one transaction of its own (store/batch_writes.py), and announces what
was stored on the event bus. ``metric_histories`` reads series as packed chunks on the
driver (store/driver_reads.py) and downsamples them per series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.errors import InvalidArgument, NotFound
from mltrail_server.events import EventBus
from mltrail_server.services import validation
from mltrail_server.services.clock import now_ms
from mltrail_server.services.request_budget import PointBudget, series_cost
from mltrail_server.services.runs import announce_run
from mltrail_server.store import driver_reads, models, series
from mltrail_server.store.batch_writes import BatchOutcome, BatchRequest, MetricColumns
from mltrail_server.store.writer import RunWriter

# Downsampling keeps each bucket's lowest and highest point plus the first and the last
# point of the range: fewer than four points cannot hold even one bucket and both ends.
MIN_MAX_POINTS = 4


async def log_batch(
    writer: RunWriter,
    *,
    settings: Settings,
    run_id: str,
    batch_id: str | None = None,
    metric_keys: Sequence[str] = (),
    values: Sequence[float] = (),
    steps: Sequence[int] = (),
    timestamps: Sequence[int] = (),
    params: Sequence[tuple[str, str]] = (),
    tags: Sequence[tuple[str, str]] = (),
    bus: EventBus | None = None,
) -> BatchOutcome:
    """Write a batch whole or not at all; the same batch id twice stores it once.

    Metric points arrive as parallel lists (element i of each is one point). The whole batch
    is checked before any of it is written. Once stored (never for a duplicate), the points
    are announced on the ``metrics`` topic.
    """
    validation.check_batch(
        settings,
        batch_id=batch_id,
        metric_keys=metric_keys,
        values=values,
        steps=steps,
        timestamps=timestamps,
        params=params,
        tags=tags,
    )
    points = MetricColumns(metric_keys, values, steps, timestamps) if metric_keys else None
    request = BatchRequest(run_id, batch_id, points, params, tags, now_ms())
    outcome = await writer.write(request)
    if (
        bus is not None
        and not outcome.duplicate
        and points is not None
        and outcome.metrics_written
        and bus.may_have_subscribers("metrics")
    ):
        await bus.publish(
            "metrics",
            {
                "run_id": outcome.run_id,
                "experiment_id": outcome.experiment_id,
                "batch_id": batch_id,
                "keys": list(points.keys),
                "steps": list(points.steps),
                "timestamps": list(points.timestamps),
                "values": wire_values(points.values),
            },
        )
    if bus is not None and not outcome.duplicate and (params or tags):
        await announce_run(bus, run_id=outcome.run_id, experiment_id=outcome.experiment_id, change="logged")
    return outcome


def wire_values(values: Sequence[float | None]) -> list[float | str]:
    """Metric values as JSON can carry them: NaN and ±Infinity become their names."""
    return [
        value
        if value is not None and value - value == 0
        else ("NaN" if value is None or value != value else ("Infinity" if value > 0 else "-Infinity"))
        for value in values
    ]


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
    if max_points is not None and max_points < MIN_MAX_POINTS:
        raise InvalidArgument(
            f"maxPoints: {max_points} is too small; ask for at least {MIN_MAX_POINTS} points"
        )
    runs = models.runs
    run_rows = (await session.execute(select(runs.c.pk, runs.c.id).where(runs.c.id.in_(run_ids)))).all()
    pk_by_id = {row.id: row.pk for row in run_rows}
    for run_id in run_ids:
        if run_id not in pk_by_id:
            raise NotFound(f"runIds: no run with id {run_id!r}")
    latest, metric_keys = models.latest_metrics, models.metric_keys
    query = (
        select(latest.c.run_pk, metric_keys.c.id, metric_keys.c.key, latest.c.count)
        .join(metric_keys, metric_keys.c.id == latest.c.key_id)
        .where(latest.c.run_pk.in_(pk_by_id.values()))
    )
    if keys is not None:
        query = query.where(metric_keys.c.key.in_(keys))
    available = {(r.run_pk, r.key): (r.id, r.count) for r in (await session.execute(query)).all()}
    # A key listed twice is one series, sent once (duplicates once multiplied the answer).
    wanted_keys = list(dict.fromkeys(keys)) if keys is not None else sorted({k for _, k in available})
    ranged = min_step is not None or max_step is not None

    wanted: list[tuple[str, str, int, int]] = []  # (run_id, key, run_pk, key_id)
    cost = read = 0
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
            read += total  # a step range may read less: this is the most it reads
    if budget is not None:  # before any chunk is read (services/request_budget.py)
        budget.charge(cost, field="metricHistories")
        budget.charge_read(read, field="metricHistories")
    loaded = await driver_reads.read_series(
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
                    downsampled=True,
                    total_points=total,
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
                downsampled=False,
                total_points=total,
            )
        )
    return out


def _check_history_size(settings: Settings, run_id: str, key: str, total: int) -> None:
    if total > settings.max_history_points:
        raise InvalidArgument(
            f"maxPoints: series {key!r} of run {run_id!r} has {total} points; pass maxPoints "
            f"(at most {settings.max_history_points} points come back undownsampled)"
        )
