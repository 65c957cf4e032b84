"""Experiment mutations; each one is one transaction."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import TagInput, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.experiments.types import Experiment
from mltrail_server.services import experiments as experiment_service


@strawberry.type
class ExperimentMutation:
    @strawberry.mutation(description="Create an experiment; CONFLICT when the name is taken.")
    async def create_experiment(
        self, info: Info, name: str, description: str | None = None, tags: list[TagInput] | None = None
    ) -> Experiment:
        async with info.context.transaction() as session:
            experiment = await experiment_service.create_experiment(
                session, settings=info.context.settings, name=name, description=description, tags=pairs(tags)
            )
        return Experiment.from_model(experiment)

    @strawberry.mutation(description="Rename or re-describe an experiment.")
    async def update_experiment(
        self, info: Info, id: strawberry.ID, name: str | None = None, description: str | None = None
    ) -> Experiment:
        async with info.context.transaction() as session:
            experiment = await experiment_service.update_experiment(
                session, settings=info.context.settings, experiment_id=id, name=name, description=description
            )
        return Experiment.from_model(experiment)

    @strawberry.mutation(description="Soft-delete an experiment; its runs can no longer be logged to.")
    async def delete_experiment(self, info: Info, id: strawberry.ID) -> Experiment:
        async with info.context.transaction() as session:
            experiment = await experiment_service.set_experiment_deleted(session, experiment_id=id, deleted=True)
        return Experiment.from_model(experiment)

    @strawberry.mutation(description="Restore a soft-deleted experiment.")
    async def restore_experiment(self, info: Info, id: strawberry.ID) -> Experiment:
        async with info.context.transaction() as session:
            experiment = await experiment_service.set_experiment_deleted(session, experiment_id=id, deleted=False)
        return Experiment.from_model(experiment)
