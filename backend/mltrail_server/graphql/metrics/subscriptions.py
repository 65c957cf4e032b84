"""Metric subscriptions: points as they are logged, columnar like MetricSeries."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from mltrail_server.errors import Internal
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.scalars import LongList, MetricValueList, StringList
from mltrail_server.services import experiments as experiment_service
from mltrail_server.services import runs as run_service


@strawberry.type(description="One stored logBatch's points: parallel arrays, element i is one point.")
class MetricBatchEvent:
    run_id: strawberry.ID
    experiment_id: strawberry.ID
    batch_id: str | None = strawberry.field(
        description="The batchId the writer gave logBatch (null when it gave none), so a writer "
        "watching its own run can tell its batches from others'."
    )
    keys: StringList
    steps: LongList
    timestamps: LongList
    values: MetricValueList
    missed: int = strawberry.field(
        description="Events dropped before this one because the subscriber fell behind: when "
        "non-zero, refetch the histories (metricHistories) to fill the gap."
    )


@strawberry.type
class MetricSubscription:
    @strawberry.subscription(
        description="Points as they are stored, for some runs or a whole experiment (or all). "
        "Subscribe, then fetch metricHistories, so no point falls between the two. A "
        "subscriber that falls more than 1,000 batches behind loses the oldest (see `missed`). "
        "An unknown run id or experiment id is a NOT_FOUND error, as in the queries."
    )
    async def metrics_logged(
        self,
        info: Info,
        run_ids: list[strawberry.ID] | None = None,
        experiment_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[MetricBatchEvent, None]:
        bus = info.context.resources.bus
        if bus is None:
            raise Internal("live events are not available on this server")
        runs = set(run_ids) if run_ids is not None else None
        experiment = None
        if experiment_id is not None:
            experiment = await info.context.read(
                experiment_service.require_experiment, field="experimentId", experiment_id=experiment_id
            )
        if run_ids:
            await info.context.read(run_service.require_runs, run_ids=list(run_ids))
        async with bus.subscribe("metrics") as events:
            async for event in events:
                p = event.payload
                if runs is not None and p["run_id"] not in runs:
                    continue
                if experiment is not None and p["experiment_id"] != experiment:
                    continue
                yield MetricBatchEvent(
                    run_id=strawberry.ID(p["run_id"]),
                    experiment_id=strawberry.ID(str(p["experiment_id"])),
                    batch_id=p.get("batch_id"),
                    keys=StringList(p["keys"]),
                    steps=LongList(p["steps"]),
                    timestamps=LongList(p["timestamps"]),
                    values=MetricValueList(p["values"]),
                    missed=event.missed,
                )
