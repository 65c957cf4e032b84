"""Metric history queries."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.context import Info
from mltrail_server.graphql.metrics.types import MetricSeries
from mltrail_server.graphql.scalars import Long, LongList, MetricValueList
from mltrail_server.services import metrics as metric_service


@strawberry.type
class MetricQuery:
    @strawberry.field(
        description="Histories of many runs and keys in one call (all keys when `keys` is null). "
        "With `maxPoints`, a series longer than that is downsampled by min/max buckets: the "
        "first and last points and every bucket's lowest and highest point survive. "
        "`minStep`/`maxStep` restrict the range (a chart's zoom)."
    )
    async def metric_histories(
        self,
        info: Info,
        run_ids: list[strawberry.ID],
        keys: list[str] | None = None,
        max_points: int | None = None,
        min_step: Long | None = None,
        max_step: Long | None = None,
    ) -> list[MetricSeries]:
        series = await info.context.read(
            metric_service.metric_histories,
            settings=info.context.settings,
            run_ids=run_ids,
            keys=keys,
            max_points=max_points,
            min_step=min_step,
            max_step=max_step,
            budget=info.context.point_budget,
        )
        return [
            MetricSeries(
                run_id=strawberry.ID(s.run_id),
                key=s.key,
                steps=LongList(s.steps),
                timestamps=LongList(s.timestamps),
                values=MetricValueList(s.values),
                downsampled=s.downsampled,
                total_points=s.total_points,
            )
            for s in series
        ]
