"""Run queries: one run, and search across experiments."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import page_size
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.runs.types import Run, RunConnection, ViewType
from mltrail_server.services import tracking


@strawberry.type
class RunQuery:
    @strawberry.field(
        description="Search runs. `filter` is MLflow's search syntax plus OR, parentheses, IN on "
        "params/tags/attributes and run extremes (`metrics.loss.min`, `metrics.acc.max`), e.g. "
        "`metrics.acc > 0.9 and (params.model = 'rf' or tags.team IN ('a', 'b'))`. `orderBy` items "
        "look like `metrics.acc DESC`, `params.lr`, `attributes.start_time`; missing values sort "
        "last. Cursors are keyset-based: pages stay stable while runs are being created."
    )
    async def runs(
        self,
        info: Info,
        experiment_ids: list[strawberry.ID] | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        first: int | None = 100,
        after: str | None = None,
        view_type: ViewType = ViewType.ACTIVE,
    ) -> RunConnection:
        page = await info.context.read(
            tracking.search_runs,
            dialect=info.context.dialect,
            experiment_ids=experiment_ids,
            filter_text=filter,
            order_by=order_by,
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
            view=view_type.value,
        )
        return RunConnection.from_page(page)

    @strawberry.field(description="One run by id (deleted ones too); NOT_FOUND when there is none.")
    async def run(self, info: Info, id: strawberry.ID) -> Run | None:
        return Run.from_model(await info.context.read(tracking.get_run, run_id=id))
