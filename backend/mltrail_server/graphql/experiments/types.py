"""GraphQL types of experiments."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import ConnectionBase, EdgeBase, PageInfo, Tag
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.scalars import Long
from mltrail_server.services.pagination import Page
from mltrail_server.store import models as m


@strawberry.type(description="A named group of runs.")
class Experiment:
    id: strawberry.ID
    name: str
    description: str | None
    created_at: Long
    updated_at: Long
    deleted_at: Long | None
    artifact_location: str
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, e: m.Experiment) -> Experiment:
        return cls(
            id=strawberry.ID(str(e.id)),
            name=e.name,
            description=e.description,
            created_at=Long(e.created_at),
            updated_at=Long(e.updated_at),
            deleted_at=Long(e.deleted_at) if e.deleted_at is not None else None,
            artifact_location=e.artifact_location,
            pk=e.id,
        )

    @strawberry.field
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @strawberry.field
    async def tags(self, info: Info) -> list[Tag]:
        return [Tag(key=k, value=v) for k, v in await info.context.loaders.experiment_tags.load(self.pk)]

    @strawberry.field(description="Number of active (not deleted) runs.")
    async def run_count(self, info: Info) -> int:
        return (await info.context.loaders.experiment_stats.load(self.pk)).run_count

    @strawberry.field(description="Newest start or end time among the active runs, in ms.")
    async def last_activity(self, info: Info) -> Long | None:
        last = (await info.context.loaders.experiment_stats.load(self.pk)).last_activity
        return Long(last) if last is not None else None

    @strawberry.field(description="Distinct param keys logged in this experiment, sorted.")
    async def param_keys(self, info: Info) -> list[str]:
        return (await info.context.loaders.experiment_keys.load(self.pk)).get(m.KEY_KIND_PARAM, [])

    @strawberry.field(description="Distinct metric keys logged in this experiment, sorted.")
    async def metric_keys(self, info: Info) -> list[str]:
        return (await info.context.loaders.experiment_keys.load(self.pk)).get(m.KEY_KIND_METRIC, [])

    @strawberry.field(description="Distinct run tag keys used in this experiment, sorted.")
    async def tag_keys(self, info: Info) -> list[str]:
        return (await info.context.loaders.experiment_keys.load(self.pk)).get(m.KEY_KIND_TAG, [])


@strawberry.type
class ExperimentEdge(EdgeBase):
    node: Experiment


@strawberry.type
class ExperimentConnection(ConnectionBase):
    edges: list[ExperimentEdge]
    nodes: list[Experiment]
    page_info: PageInfo
    _page: strawberry.Private[Page[m.Experiment]]
    node_type = Experiment
    edge_type = ExperimentEdge

    @strawberry.field(description="Experiments matching the filter, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await self._total_count(info)
