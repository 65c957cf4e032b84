"""Run subscriptions: runs created, changed, finished."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from mltrail_server.errors import Internal
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.runs.types import Run
from mltrail_server.services import runs as run_service
from mltrail_server.services.validation import parse_experiment_id


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
        wanted = parse_experiment_id("experimentId", experiment_id) if experiment_id is not None else None
        async with bus.subscribe("runs") as events:
            async for event in events:
                if wanted is not None and event.payload["experiment_id"] != wanted:
                    continue
                await info.context.refresh()
                run = await info.context.read(run_service.get_run, run_id=event.payload["run_id"])
                yield Run.from_model(run)
