"""logBatch: the ingest hot path."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import TagInput, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.metrics.types import LogBatchResult, MetricBatchInput
from mltrail_server.graphql.runs.types import ParamInput
from mltrail_server.graphql.scalars import LongList, MetricValueList, StringList
from mltrail_server.services import metrics as metric_service

# What a batch without metrics carries: no points (the service then writes none).
NO_POINTS = MetricBatchInput(
    keys=StringList([]), values=MetricValueList([]), steps=LongList([]), timestamps=LongList([])
)


@strawberry.type
class MetricMutation:
    @strawberry.mutation(
        description="Log metrics (columnar), params and tags in one transaction: written whole or "
        "not at all. Idempotent per (runId, batchId): a batch sent twice is stored once. A param "
        "that already has a different value is a CONFLICT naming key, old and new value."
    )
    async def log_batch(
        self,
        info: Info,
        run_id: strawberry.ID,
        batch_id: str | None = None,
        metrics: MetricBatchInput | None = None,
        params: list[ParamInput] | None = None,
        tags: list[TagInput] | None = None,
    ) -> LogBatchResult:
        points = metrics or NO_POINTS
        outcome = await metric_service.log_batch(
            info.context.resources.writer,
            settings=info.context.settings,
            run_id=run_id,
            batch_id=batch_id,
            metric_keys=points.keys,
            values=points.values,
            steps=points.steps,
            timestamps=points.timestamps,
            params=[(p.key, p.value) for p in params or []],
            tags=pairs(tags),
            bus=info.context.resources.bus,
        )
        telemetry = info.context.resources.telemetry
        if telemetry is not None:
            telemetry.record_batch(outcome)
        return LogBatchResult(
            run_id=strawberry.ID(outcome.run_id),
            batch_id=outcome.batch_id,
            duplicate=outcome.duplicate,
            metrics_written=outcome.metrics_written,
            params_written=outcome.params_written,
            tags_written=outcome.tags_written,
        )
