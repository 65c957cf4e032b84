"""logBatch: the ingest hot path."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import TagInput, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.metrics.types import LogBatchResult, MetricBatchInput
from mltrail_server.graphql.runs.types import ParamInput
from mltrail_server.services import tracking
from mltrail_server.store.ingest import MetricColumns


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
        columns = (
            MetricColumns(metrics.keys, metrics.values, metrics.steps, metrics.timestamps)
            if metrics is not None
            else None
        )
        request = tracking.validate_batch(
            settings=info.context.settings,
            run_id=run_id,
            batch_id=batch_id,
            metrics=columns,
            params=[(p.key, p.value) for p in params or []],
            tags=pairs(tags),
        )
        outcome = await tracking.log_batch(
            info.context.resources.writer, request, bus=info.context.resources.bus
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
