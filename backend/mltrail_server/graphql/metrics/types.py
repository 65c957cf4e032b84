"""Metric types: columnar on purpose (three parallel arrays, never one object per point)."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.scalars import LongList, MetricValueList, StringList


@strawberry.type(description="One metric history of one run, as parallel arrays (what uPlot takes).")
class MetricSeries:
    run_id: strawberry.ID
    key: str
    steps: LongList
    timestamps: LongList
    values: MetricValueList
    downsampled: bool = strawberry.field(
        description="True when min/max buckets replaced the full history (see maxPoints)."
    )
    total_points: int = strawberry.field(description="Points in the requested range before downsampling.")


@strawberry.input(description="Metric points as parallel lists: element i of each list is one point.")
class MetricBatchInput:
    keys: StringList
    values: MetricValueList
    steps: LongList
    timestamps: LongList


@strawberry.type
class LogBatchResult:
    run_id: strawberry.ID
    batch_id: str | None
    duplicate: bool = strawberry.field(
        description="True when this batchId was already applied to the run: nothing was written again."
    )
    metrics_written: int
    params_written: int
    tags_written: int
