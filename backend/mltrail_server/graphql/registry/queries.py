"""Registry queries: models, one model, one version, version search, transition requests."""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import TagInput, page_size, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.registry.types import (
    ModelVersion,
    ModelVersionConnection,
    RegisteredModel,
    RegisteredModelConnection,
    RequestStatus,
    Stage,
    TransitionRequest,
)
from mltrail_server.services import registry, registry_approvals, registry_reads, registry_versions


@strawberry.type
class RegistryQuery:
    @strawberry.field(
        description="Registered models by name. `filter` uses the search language on `name` and `tags.KEY`, "
        "e.g. `name LIKE 'churn%' and tags.team = 'risk'`."
    )
    async def registered_models(
        self, info: Info, filter: str | None = None, first: int | None = 100, after: str | None = None
    ) -> RegisteredModelConnection:
        page = await info.context.read(
            registry_reads.list_models,
            dialect=info.context.dialect,
            filter_text=filter,
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
        )
        return RegisteredModelConnection.from_page(page)

    @strawberry.field(description="One registered model; NOT_FOUND when there is none.")
    async def registered_model(self, info: Info, name: str) -> RegisteredModel | None:
        return RegisteredModel.from_model(await info.context.read(registry.get_model, name=name))

    @strawberry.field(
        description="One live version: by `version`, by `stage` (the newest version in it), by `alias`, or with "
        "none of them the newest version. NOT_FOUND when there is no such model or version."
    )
    async def model_version(
        self,
        info: Info,
        name: str,
        version: int | None = None,
        stage: Stage | None = None,
        alias: str | None = None,
    ) -> ModelVersion | None:
        found = await info.context.read(
            registry_versions.get_version,
            name=name,
            version=version,
            stage=stage.value if stage is not None else None,
            alias=alias,
        )
        return ModelVersion.from_model(found, name)

    @strawberry.field(
        description="Live versions, newest first, matching all the given criteria: model `name`, the `runId` "
        "that produced them, `stage`, `alias`, and every tag in `tags`."
    )
    async def model_versions(
        self,
        info: Info,
        name: str | None = None,
        run_id: strawberry.ID | None = None,
        stage: Stage | None = None,
        alias: str | None = None,
        tags: list[TagInput] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> ModelVersionConnection:
        page = await info.context.read(
            registry_reads.search_versions,
            name=name,
            run_id=run_id,
            stage=stage.value if stage is not None else None,
            alias=alias,
            tags=pairs(tags),
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
        )
        return await ModelVersionConnection.from_page(info, page)

    @strawberry.field(
        description="Transition requests of a model (`name`) and/or by a requester (`requestedBy`), oldest "
        "first; PENDING ones unless `status` says otherwise."
    )
    async def transition_requests(
        self,
        info: Info,
        name: str | None = None,
        requested_by: str | None = None,
        status: RequestStatus | None = RequestStatus.PENDING,
    ) -> list[TransitionRequest]:
        rows = await info.context.read(
            registry_approvals.list_requests,
            name=name,
            requested_by=requested_by,
            status=status.value if status is not None else None,
        )
        models = await info.context.loaders.model_by_id.load_many([r.model_id for r in rows])
        return [TransitionRequest.from_model(r, model.name) for r, model in zip(rows, models, strict=True)]
