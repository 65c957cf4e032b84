"""GraphQL types of runs and what hangs off them."""

from __future__ import annotations

import enum
import json
import math
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from mltrail_server.graphql.common import ConnectionBase, EdgeBase, PageInfo, Tag, build_key_value_input
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.experiments.types import Experiment
from mltrail_server.graphql.runs.artifacts import ArtifactEntry, resolve_artifacts
from mltrail_server.graphql.scalars import Long, MetricValue
from mltrail_server.services.pagination import Page
from mltrail_server.store import models as m

if TYPE_CHECKING:
    from mltrail_server.graphql.registry.types import ModelVersion


@strawberry.enum
class RunStatus(enum.Enum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


@strawberry.enum(description="Which runs a search sees: active ones (default), deleted ones, or all.")
class ViewType(enum.Enum):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"
    ALL = "ALL"


@strawberry.type(description="A hyperparameter: immutable once logged.")
class Param:
    key: str
    value: str


@strawberry.input
class ParamInput:
    key: str
    value: str


ParamInput.__strawberry_definition__.from_input = build_key_value_input  # type: ignore[attr-defined]


@strawberry.type(description="The latest point of one metric of a run, with the run's extremes.")
class LatestMetric:
    key: str
    value: MetricValue
    step: Long
    timestamp: Long
    min: MetricValue | None = strawberry.field(description="Lowest value logged (NaN ignored).")
    max: MetricValue | None = strawberry.field(description="Highest value logged (NaN ignored).")
    count: int = strawberry.field(description="Number of points logged.")


@strawberry.type(description="Where the run's code came from.")
class RunSource:
    entry_point: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None


@strawberry.input
class RunSourceInput:
    entry_point: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None


@strawberry.type(description="A dataset a run consumed.")
class DatasetInput:
    name: str
    digest: str
    source: str | None
    source_type: str | None
    schema: JSON | None
    profile: JSON | None
    context: str | None


@strawberry.input(description="A dataset to link to a run (logInputs).")
class DatasetSpec:
    name: str
    digest: str
    source: str | None = None
    source_type: str | None = None
    schema: JSON | None = None
    profile: JSON | None = None
    context: str | None = None


def _json(text: str | None) -> JSON | None:
    return json.loads(text) if text is not None else None


@strawberry.type(description="One execution of training code.")
class Run:
    id: strawberry.ID
    name: str | None
    experiment_id: strawberry.ID
    status: RunStatus
    start_time: Long
    end_time: Long | None
    user: str | None
    parent_id: strawberry.ID | None
    artifact_uri: str
    deleted_at: Long | None
    model: strawberry.Private[m.Run]
    # Filled by a list query for its whole page (RunQuery.runs), keyed by GraphQL field name,
    # with the values the fields return: they then resolve synchronously, without one
    # DataLoader future per field and run, and the executor (graphql/execution.py) completes
    # them without calling the resolver.
    prefetched: strawberry.Private[dict[str, Any] | None] = None
    artifacts: list[ArtifactEntry] = strawberry.field(
        resolver=resolve_artifacts,
        description="Direct children of `path` under the run's artifact root (directories first); "
        "the bytes are at GET /api/artifacts/{runId}/{path}.",
    )

    @classmethod
    def from_model(cls, r: m.Run) -> Run:
        return cls(
            id=strawberry.ID(r.id),
            name=r.name,
            experiment_id=strawberry.ID(str(r.experiment_id)),
            status=RunStatus(r.status),
            start_time=Long(r.start_time),
            end_time=Long(r.end_time) if r.end_time is not None else None,
            user=r.user,
            parent_id=strawberry.ID(r.parent_id) if r.parent_id else None,
            artifact_uri=r.artifact_uri,
            deleted_at=Long(r.deleted_at) if r.deleted_at is not None else None,
            model=r,
        )

    @strawberry.field(description="endTime - startTime in ms; null while the run has no end time.")
    def duration(self) -> Long | None:
        if self.end_time is None:
            return None
        return Long(self.end_time - self.start_time)

    @strawberry.field
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @strawberry.field
    def source(self) -> RunSource | None:
        r = self.model
        if not any((r.entry_point, r.git_commit, r.git_branch, r.git_dirty is not None, r.git_remote)):
            return None
        return RunSource(
            entry_point=r.entry_point,
            git_commit=r.git_commit,
            git_branch=r.git_branch,
            git_dirty=r.git_dirty,
            git_remote=r.git_remote,
        )

    @strawberry.field(description="Python version, platform, host, command line, packages…")
    def environment(self) -> JSON | None:
        return _json(self.model.environment)

    @strawberry.field
    async def experiment(self, info: Info) -> Experiment:
        return Experiment.from_model(
            await info.context.loaders.experiment_by_id.load(self.model.experiment_id)
        )

    @strawberry.field
    async def parent(self, info: Info) -> Run | None:
        if self.model.parent_id is None:
            return None
        parent = await info.context.loaders.run_by_id.load(self.model.parent_id)
        return Run.from_model(parent) if parent is not None else None

    @strawberry.field(description="Nested runs (not deleted), oldest first.")
    async def children(self, info: Info) -> list[Run]:
        return [Run.from_model(c) for c in await info.context.loaders.children_by_parent.load(self.model.id)]

    @strawberry.field
    def params(self, info: Info) -> list[Param]:
        if self.prefetched is not None and "params" in self.prefetched:
            return self.prefetched["params"]  # type: ignore[no-any-return]
        return _later(to_params, info.context.loaders.params_by_run.load(self.model.pk))  # type: ignore[return-value]

    @strawberry.field
    def tags(self, info: Info) -> list[Tag]:
        if self.prefetched is not None and "tags" in self.prefetched:
            return self.prefetched["tags"]  # type: ignore[no-any-return]
        return _later(to_tags, info.context.loaders.tags_by_run.load(self.model.pk))  # type: ignore[return-value]

    @strawberry.field(name="latestMetrics")
    def latest_metrics(self, info: Info) -> list[LatestMetric]:
        if self.prefetched is not None and "latestMetrics" in self.prefetched:
            return self.prefetched["latestMetrics"]  # type: ignore[no-any-return]
        pending = info.context.loaders.latest_metrics_by_run.load(self.model.pk)
        return _later(to_latest_metrics, pending)  # type: ignore[return-value]

    @strawberry.field
    async def inputs(self, info: Info) -> list[DatasetInput]:
        return [
            DatasetInput(
                name=d.name,
                digest=d.digest,
                source=d.source,
                source_type=d.source_type,
                schema=_json(d.schema),
                profile=_json(d.profile),
                context=d.context or None,
            )
            for d in await info.context.loaders.inputs_by_run.load(self.model.pk)
        ]

    @strawberry.field(description="Model versions registered from this run, oldest first.")
    async def model_versions(
        self, info: Info
    ) -> list[Annotated[ModelVersion, strawberry.lazy("mltrail_server.graphql.registry.types")]]:
        from mltrail_server.graphql.registry.types import versions_of

        return await versions_of(info, await info.context.loaders.versions_by_run.load(self.model.id))


async def _later(shape: Any, pending: Any) -> Any:
    return shape(await pending)


def to_params(pairs: list[tuple[str, str]]) -> list[Param]:
    return [Param(key=k, value=v) for k, v in pairs]


def to_tags(pairs: list[tuple[str, str]]) -> list[Tag]:
    return [Tag(key=k, value=v) for k, v in pairs]


def to_latest_metrics(rows: list[Any]) -> list[LatestMetric]:
    return [
        LatestMetric(
            key=r.key,
            # The store returns NaN as None; the scalar writes it back as "NaN".
            value=MetricValue(r.value if r.value is not None else math.nan),
            step=Long(r.step),
            timestamp=Long(r.timestamp),
            min=MetricValue(r.min) if r.min is not None else None,
            max=MetricValue(r.max) if r.max is not None else None,
            count=r.count,
        )
        for r in rows
    ]


@strawberry.type
class RunEdge(EdgeBase):
    node: Run


@strawberry.type
class RunConnection(ConnectionBase):
    edges: list[RunEdge]
    nodes: list[Run]
    page_info: PageInfo
    _page: strawberry.Private[Page]
    node_type = Run
    edge_type = RunEdge

    @strawberry.field(description="Runs matching the search, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await self._total_count(info)
