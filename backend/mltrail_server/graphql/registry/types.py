"""GraphQL types of the model registry."""

from __future__ import annotations

import enum
import json
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from mltrail_server.graphql.common import ConnectionBase, EdgeBase, PageInfo, Tag
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.scalars import Long
from mltrail_server.services import registry, registry_reads
from mltrail_server.services.pagination import Page
from mltrail_server.store import models as m

if TYPE_CHECKING:
    from mltrail_server.graphql.runs.types import Run


@strawberry.enum(description="Lifecycle stage of a model version.")
class Stage(enum.Enum):
    NONE = "NONE"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    ARCHIVED = "ARCHIVED"


@strawberry.enum(description="State of a transition request.")
class RequestStatus(enum.Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def _stage(value: str | None) -> Stage | None:
    return Stage(value) if value is not None else None


@strawberry.type(
    description="One change to a registered model, kept forever (never edited or deleted). `kind` is one "
    "of MODEL_CREATED, MODEL_UPDATED, PROTECTION_CHANGED, MODEL_DELETED, VERSION_CREATED, VERSION_UPDATED, "
    "VERSION_DELETED, STAGE_CHANGED, ALIAS_SET, ALIAS_MOVED, ALIAS_DELETED, TRANSITION_REQUESTED, "
    "TRANSITION_APPROVED, TRANSITION_REJECTED."
)
class RegistryChange:
    id: strawberry.ID
    kind: str
    version: int | None
    from_stage: Stage | None
    to_stage: Stage | None
    alias: str | None
    from_version: int | None = strawberry.field(description="Alias moves and removals: where it pointed.")
    to_version: int | None = strawberry.field(description="Alias sets and moves: where it points now.")
    request_id: strawberry.ID | None = strawberry.field(
        description="The transition request involved, if any."
    )
    user: str
    comment: str | None
    timestamp: Long

    @classmethod
    def from_model(cls, c: m.RegistryChange) -> RegistryChange:
        return cls(
            id=strawberry.ID(str(c.id)),
            kind=c.kind,
            version=c.version,
            from_stage=_stage(c.from_stage),
            to_stage=_stage(c.to_stage),
            alias=c.alias,
            from_version=c.from_version,
            to_version=c.to_version,
            request_id=strawberry.ID(str(c.request_id)) if c.request_id is not None else None,
            user=c.user,
            comment=c.comment,
            timestamp=Long(c.timestamp),
        )


@strawberry.type(description="A dataset the version's run had logged when the version was registered.")
class VersionDataset:
    name: str
    digest: str
    source: str | None
    source_type: str | None
    context: str | None


@strawberry.type(description="An alias of a registered model and the version it points at.")
class ModelAlias:
    alias: str
    version: int


@strawberry.type(description="A version of a registered model: a model directory in a run's artifacts.")
class ModelVersion:
    name: str
    version: int
    stage: Stage
    source: str = strawberry.field(description="As registered, e.g. 'runs:/<run_id>/model'.")
    run_id: strawberry.ID | None
    git_commit: str | None = strawberry.field(description="The run's git commit, copied at registration.")
    description: str | None
    created_at: Long
    updated_at: Long
    created_by: str
    model: strawberry.Private[m.ModelVersion]
    # Filled for a whole list at once (``versions_of``): aliases and tags then resolve
    # synchronously instead of one DataLoader future per field and version — on a page of
    # 1,000 versions those futures, not SQL, were most of the time.
    prefetched: strawberry.Private[dict[str, Any] | None] = None

    @classmethod
    def from_model(cls, v: m.ModelVersion, name: str) -> ModelVersion:
        return cls(
            name=name,
            version=v.version,
            stage=Stage(v.stage),
            source=v.source,
            run_id=strawberry.ID(v.run_id) if v.run_id else None,
            git_commit=v.run_git_commit,
            description=v.description,
            created_at=Long(v.created_at),
            updated_at=Long(v.updated_at),
            created_by=v.created_by,
            model=v,
        )

    @strawberry.field(
        description="Datasets the run had logged at registration (a copy: later edits of the "
        "run do not change it)."
    )
    def datasets(self) -> list[VersionDataset]:
        return [VersionDataset(**d) for d in json.loads(self.model.run_datasets)]

    @strawberry.field
    def aliases(self, info: Info) -> list[str]:
        if self.prefetched is not None:
            return self.prefetched["aliases"]
        return info.context.loaders.aliases_by_version.load((self.model.model_id, self.version))  # type: ignore[return-value]

    @strawberry.field
    def tags(self, info: Info) -> list[Tag]:
        if self.prefetched is not None:
            return _tags(self.prefetched["tags"])
        return _later(_tags, info.context.loaders.tags_by_version.load(self.model.id))  # type: ignore[return-value]

    @strawberry.field(
        description="The run that produced it: params, metrics, source, datasets (null if the run is gone)."
    )
    async def run(
        self, info: Info
    ) -> Annotated[Run, strawberry.lazy("mltrail_server.graphql.runs.types")] | None:
        from mltrail_server.graphql.runs.types import Run

        if self.model.run_id is None:
            return None
        found = await info.context.loaders.run_by_id.load(self.model.run_id)
        return Run.from_model(found) if found is not None else None

    @strawberry.field(
        description="Every change of this version — created, stage moves, aliases set, moved "
        "to or away from it, requests — oldest first."
    )
    async def history(self, info: Info) -> list[RegistryChange]:
        changes = await info.context.loaders.history_by_version.load((self.model.model_id, self.version))
        return [RegistryChange.from_model(c) for c in changes]


async def versions_of(info: Info, rows: list[m.ModelVersion]) -> list[ModelVersion]:
    """Versions with their model names (one batched lookup for the lot)."""
    models = await info.context.loaders.model_by_id.load_many([row.model_id for row in rows])
    return [ModelVersion.from_model(row, model.name) for row, model in zip(rows, models, strict=True)]


async def prefetch_versions(info: Info, versions: list[ModelVersion]) -> None:
    """Aliases and tags of a top-level page of versions, one query each (nested lists, e.g.
    each run's versions on a runs page, go through the DataLoaders instead)."""
    if len(versions) < 2:
        return
    keys = [(v.model.model_id, v.version) for v in versions]
    aliases = await info.context.read(registry_reads.aliases_by_version, keys=keys)
    tags = await info.context.read(registry_reads.tags_by_version, ids=[v.model.id for v in versions])
    for version, key in zip(versions, keys, strict=True):
        version.prefetched = {"aliases": aliases.get(key, []), "tags": tags.get(version.model.id, [])}


async def _later(shape: Any, pending: Any) -> Any:
    return shape(await pending)


def _tags(pairs: list[tuple[str, str]]) -> list[Tag]:
    return [Tag(key=k, value=v) for k, v in pairs]


@strawberry.type(description="A request to move a version into a protected stage or alias.")
class TransitionRequest:
    id: strawberry.ID
    name: str
    version: int
    stage: Stage | None = strawberry.field(description="The stage asked for (or null for an alias).")
    alias: str | None
    archive_existing: bool
    status: RequestStatus
    requested_by: str
    requested_at: Long
    comment: str | None
    decided_by: str | None
    decided_at: Long | None
    decision_comment: str | None

    @classmethod
    def from_model(cls, r: m.TransitionRequest, name: str) -> TransitionRequest:
        return cls(
            id=strawberry.ID(str(r.id)),
            name=name,
            version=r.version,
            stage=_stage(r.to_stage),
            alias=r.alias,
            archive_existing=r.archive_existing,
            status=RequestStatus(r.status),
            requested_by=r.requested_by,
            requested_at=Long(r.requested_at),
            comment=r.comment,
            decided_by=r.decided_by,
            decided_at=Long(r.decided_at) if r.decided_at is not None else None,
            decision_comment=r.decision_comment,
        )


@strawberry.type(description="A named model and its numbered versions.")
class RegisteredModel:
    name: str
    description: str | None
    created_at: Long
    updated_at: Long
    created_by: str
    protected_stages: list[Stage] = strawberry.field(
        description="Moving a version into these needs approval."
    )
    protected_aliases: list[str] = strawberry.field(description="Setting these aliases needs approval.")
    model: strawberry.Private[m.RegisteredModel]

    @classmethod
    def from_model(cls, r: m.RegisteredModel) -> RegisteredModel:
        return cls(
            name=r.name,
            description=r.description,
            created_at=Long(r.created_at),
            updated_at=Long(r.updated_at),
            created_by=r.created_by,
            protected_stages=[Stage(s) for s in registry.protected_stages(r)],
            protected_aliases=registry.protected_aliases(r),
            model=r,
        )

    @strawberry.field
    async def tags(self, info: Info) -> list[Tag]:
        return [Tag(key=k, value=v) for k, v in await info.context.loaders.tags_by_model.load(self.model.id)]

    @strawberry.field
    async def aliases(self, info: Info) -> list[ModelAlias]:
        pairs = await info.context.loaders.aliases_by_model.load(self.model.id)
        return [ModelAlias(alias=a, version=v) for a, v in pairs]

    @strawberry.field(description="Live versions, newest first.")
    async def versions(self, info: Info) -> list[ModelVersion]:
        rows = await info.context.loaders.versions_by_model.load(self.model.id)
        return [ModelVersion.from_model(r, self.name) for r in rows]

    @strawberry.field(description="The newest live version in each stage that has one, newest first.")
    async def latest_versions(self, info: Info) -> list[ModelVersion]:
        rows = await info.context.loaders.latest_versions_by_model.load(self.model.id)
        return [ModelVersion.from_model(r, self.name) for r in rows]

    @strawberry.field(description="Every change of the model and its versions, oldest first.")
    async def history(self, info: Info) -> list[RegistryChange]:
        return [
            RegistryChange.from_model(c)
            for c in await info.context.loaders.history_by_model.load(self.model.id)
        ]

    @strawberry.field(description="Transition requests waiting for a decision, oldest first.")
    async def pending_requests(self, info: Info) -> list[TransitionRequest]:
        rows = await info.context.loaders.pending_requests_by_model.load(self.model.id)
        return [TransitionRequest.from_model(r, self.name) for r in rows]

    @strawberry.field(
        description="Which version held `stage` (the last to enter it, if several did) or `alias` at `time` "
        "(ms since the epoch), answered from the change log; null if none did. Give exactly one of stage and alias."
    )
    async def version_at(
        self, info: Info, time: Long, stage: Stage | None = None, alias: str | None = None
    ) -> ModelVersion | None:
        found = await info.context.read(
            registry_reads.version_at,
            model_id=self.model.id,
            time=int(time),
            stage=stage.value if stage is not None else None,
            alias=alias,
        )
        return ModelVersion.from_model(found, self.name) if found is not None else None


@strawberry.type
class RegisteredModelEdge(EdgeBase):
    node: RegisteredModel


@strawberry.type
class RegisteredModelConnection(ConnectionBase):
    edges: list[RegisteredModelEdge]
    nodes: list[RegisteredModel]
    page_info: PageInfo
    _page: strawberry.Private[Page]
    node_type = RegisteredModel
    edge_type = RegisteredModelEdge

    @strawberry.field(description="Models matching the filter, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await self._total_count(info)


@strawberry.type
class ModelVersionEdge(EdgeBase):
    node: ModelVersion


@strawberry.type
class ModelVersionConnection:
    edges: list[ModelVersionEdge]
    nodes: list[ModelVersion]
    page_info: PageInfo
    _page: strawberry.Private[Page]

    @classmethod
    async def from_page(cls, info: Info, page: Page) -> ModelVersionConnection:
        nodes = await versions_of(info, page.items)
        await prefetch_versions(info, nodes)
        return cls(
            edges=[ModelVersionEdge(_cursors=page.cursors, _index=i, node=n) for i, n in enumerate(nodes)],
            nodes=nodes,
            page_info=PageInfo(
                end_cursor=page.cursors[-1] if page.cursors else None, has_next_page=page.has_next
            ),
            _page=page,
        )

    @strawberry.field(description="Versions matching the search, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await info.context.read(self._page.total_count)


@strawberry.type(
    description="A registry change as it happened (published after its commit). `missed` counts events this "
    "subscriber lost by falling more than 1,000 behind: refetch `history` then."
)
class RegistryEvent:
    name: str
    change: RegistryChange
    missed: int
