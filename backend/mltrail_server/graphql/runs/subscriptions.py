"""Run subscriptions: runs created, changed, finished."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from mltrail_server.errors import Internal
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.runs.types import Run
from mltrail_server.services import experiments as experiment_service
from mltrail_server.services import runs as run_service


@strawberry.type
class RunSubscription:
    @strawberry.subscription(
        description="Runs as they are created or change (status, end, params, tags, deletion), "
        "optionally of one experiment. Each event is the run as stored right after the change. "
        "A subscriber that falls more than 1,000 events behind loses the oldest; refetch then."
    )
    async def run_changed(
        self, info: Info, experiment_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Run, None]:
        bus = info.context.resources.bus
        if bus is None:
            raise Internal("live events are not available on this server")
        wanted = None
        if experiment_id is not None:  # an unknown experiment is NOT_FOUND, as in the queries
            wanted = await info.context.read(
                experiment_service.require_experiment, field="experimentId", experiment_id=experiment_id
            )
        async with bus.subscribe("runs") as events:
            async for event in events:
                if wanted is not None and event.payload["experiment_id"] != wanted:
                    continue
                await info.context.refresh()
                run = await info.context.read(run_service.get_run, run_id=event.payload["run_id"])
                yield Run.from_model(run)
