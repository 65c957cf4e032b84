"""Experiment queries."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import page_size
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.experiments.types import Experiment, ExperimentConnection
from mltrail_server.services import experiments as experiment_service


@strawberry.type
class ExperimentQuery:
    @strawberry.field(
        description="Experiments, newest first. `filter` takes the search language on attributes "
        "(name, experiment_id, creation_time, last_update_time) and tags, e.g. `name LIKE 'churn%'`."
    )
    async def experiments(
        self,
        info: Info,
        filter: str | None = None,
        first: int | None = 100,
        after: str | None = None,
        include_deleted: bool = False,
    ) -> ExperimentConnection:
        page = await info.context.read(
            experiment_service.list_experiments,
            dialect=info.context.dialect,
            filter_text=filter,
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
            include_deleted=include_deleted,
        )
        return ExperimentConnection.from_page(page)

    @strawberry.field(description="One experiment by id or by name; NOT_FOUND when there is none.")
    async def experiment(
        self, info: Info, id: strawberry.ID | None = None, name: str | None = None
    ) -> Experiment | None:
        found = await info.context.read(experiment_service.get_experiment, experiment_id=id, name=name)
        return Experiment.from_model(found)
