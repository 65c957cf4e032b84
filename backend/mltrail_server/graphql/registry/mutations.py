"""Registry mutations. Each is one transaction; its changes are published after the commit.

The acting user of every change is ``info.context.acting_user`` (see graphql/context.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.graphql.common import Tag, TagInput, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.registry.types import ModelVersion, RegisteredModel, Stage, TransitionRequest
from mltrail_server.services import registry, registry_approvals, registry_reads, registry_versions


@asynccontextmanager
async def registry_write(info: Info) -> AsyncIterator[AsyncSession]:
    """One write transaction; what it recorded reaches the event bus only once committed."""
    async with info.context.transaction() as session:
        yield session
        changes = registry.recorded_changes(session)
    await registry.publish_changes(info.context.resources.bus, changes)


def _stages(stages: list[Stage] | None) -> list[str] | None:
    return [s.value for s in stages] if stages is not None else None


@strawberry.type
class RegistryMutation:
    @strawberry.mutation(
        description="Create a registered model; CONFLICT if the name is taken. `protectedStages` and "
        "`protectedAliases` make moves into them need another user's approval (requestTransition)."
    )
    async def create_registered_model(
        self,
        info: Info,
        name: str,
        description: str | None = None,
        tags: list[TagInput] | None = None,
        protected_stages: list[Stage] | None = None,
        protected_aliases: list[str] | None = None,
    ) -> RegisteredModel:
        async with registry_write(info) as session:
            model = await registry.create_registered_model(
                session,
                settings=info.context.settings,
                name=name,
                user=info.context.acting_user,
                description=description,
                tags=pairs(tags),
                protected_stages=_stages(protected_stages) or [],
                protected_aliases=protected_aliases or [],
            )
        return RegisteredModel.from_model(model)

    @strawberry.mutation(description="Change a model's description or its protected stages and aliases.")
    async def update_registered_model(
        self,
        info: Info,
        name: str,
        description: str | None = None,
        protected_stages: list[Stage] | None = None,
        protected_aliases: list[str] | None = None,
        comment: str | None = None,
    ) -> RegisteredModel:
        async with registry_write(info) as session:
            model = await registry.update_registered_model(
                session,
                name=name,
                user=info.context.acting_user,
                description=description,
                protected_stages=_stages(protected_stages),
                protected_aliases=protected_aliases,
                comment=comment,
            )
        return RegisteredModel.from_model(model)

    @strawberry.mutation(
        description="Delete a model and its versions. Its history is kept; registering the name again "
        "revives it and numbering continues."
    )
    async def delete_registered_model(self, info: Info, name: str, comment: str | None = None) -> bool:
        async with registry_write(info) as session:
            await registry.delete_registered_model(
                session, name=name, user=info.context.acting_user, comment=comment
            )
        return True

    @strawberry.mutation(description="Set a tag on a registered model.")
    async def set_registered_model_tag(self, info: Info, name: str, key: str, value: str) -> Tag:
        async with registry_write(info) as session:
            await registry.set_model_tag(
                session, settings=info.context.settings, name=name, key=key, value=value
            )
        return Tag(key=key, value=value)

    @strawberry.mutation(description="Delete a registered model's tag; NOT_FOUND when absent.")
    async def delete_registered_model_tag(self, info: Info, name: str, key: str) -> bool:
        async with registry_write(info) as session:
            await registry.delete_model_tag(session, name=name, key=key)
        return True

    @strawberry.mutation(
        description="Register the model directory `source` (`runs:/<runId>/<path>`, holding an MLmodel file) "
        "as the next version of `name`, creating the model if needed. Versions number 1, 2, 3… per model, "
        "without gaps or duplicates under concurrent registration. The run's git commit and datasets are "
        "copied onto the version."
    )
    async def create_model_version(
        self,
        info: Info,
        name: str,
        source: str,
        run_id: strawberry.ID | None = None,
        description: str | None = None,
        tags: list[TagInput] | None = None,
    ) -> ModelVersion:
        async with registry_write(info) as session:
            version = await registry_versions.create_model_version(
                session,
                settings=info.context.settings,
                store=info.context.resources.artifact_store,
                name=name,
                source=source,
                user=info.context.acting_user,
                run_id=run_id,
                description=description,
                tags=pairs(tags),
            )
        return ModelVersion.from_model(version, name)

    @strawberry.mutation(description="Change a version's description.")
    async def update_model_version(
        self, info: Info, name: str, version: int, description: str, comment: str | None = None
    ) -> ModelVersion:
        async with registry_write(info) as session:
            found = await registry_versions.update_model_version(
                session,
                name=name,
                version=version,
                user=info.context.acting_user,
                description=description,
                comment=comment,
            )
        return ModelVersion.from_model(found, name)

    @strawberry.mutation(description="Delete a version (its aliases go with it; its number is never reused).")
    async def delete_model_version(
        self, info: Info, name: str, version: int, comment: str | None = None
    ) -> bool:
        async with registry_write(info) as session:
            await registry_versions.delete_model_version(
                session, name=name, version=version, user=info.context.acting_user, comment=comment
            )
        return True

    @strawberry.mutation(description="Set a tag on a model version.")
    async def set_model_version_tag(self, info: Info, name: str, version: int, key: str, value: str) -> Tag:
        async with registry_write(info) as session:
            await registry_versions.set_version_tag(
                session, settings=info.context.settings, name=name, version=version, key=key, value=value
            )
        return Tag(key=key, value=value)

    @strawberry.mutation(description="Delete a version's tag; NOT_FOUND when absent.")
    async def delete_model_version_tag(self, info: Info, name: str, version: int, key: str) -> bool:
        async with registry_write(info) as session:
            await registry_versions.delete_version_tag(session, name=name, version=version, key=key)
        return True

    @strawberry.mutation(
        description="Move a version to `stage`, recording who, when and `comment`. `archiveExisting` archives "
        "the other versions in that stage in the same transaction. Rollback is moving an older version back. "
        "PERMISSION_DENIED for a protected stage: use requestTransition."
    )
    async def transition_model_version_stage(
        self,
        info: Info,
        name: str,
        version: int,
        stage: Stage,
        comment: str | None = None,
        archive_existing: bool = False,
    ) -> ModelVersion:
        async with registry_write(info) as session:
            found = await registry_versions.transition_stage(
                session,
                name=name,
                version=version,
                stage=stage.value,
                user=info.context.acting_user,
                comment=comment,
                archive_existing=archive_existing,
            )
        return ModelVersion.from_model(found, name)

    @strawberry.mutation(
        description="Point `alias` at `version`: set it, or move it from another version in one change. "
        "PERMISSION_DENIED for a protected alias: use requestTransition."
    )
    async def set_model_version_alias(
        self, info: Info, name: str, alias: str, version: int, comment: str | None = None
    ) -> ModelVersion:
        async with registry_write(info) as session:
            found = await registry_versions.set_alias(
                session,
                name=name,
                alias=alias,
                version=version,
                user=info.context.acting_user,
                comment=comment,
            )
        return ModelVersion.from_model(found, name)

    @strawberry.mutation(description="Remove an alias; NOT_FOUND when the model has no such alias.")
    async def delete_model_version_alias(
        self, info: Info, name: str, alias: str, comment: str | None = None
    ) -> bool:
        async with registry_write(info) as session:
            await registry_versions.delete_alias(
                session, name=name, alias=alias, user=info.context.acting_user, comment=comment
            )
        return True

    @strawberry.mutation(
        description="Ask to move a version into a stage or onto an alias (exactly one), typically a protected "
        "one. Another user approves (approveTransition) or rejects (rejectTransition) it."
    )
    async def request_transition(
        self,
        info: Info,
        name: str,
        version: int,
        stage: Stage | None = None,
        alias: str | None = None,
        comment: str | None = None,
        archive_existing: bool = False,
    ) -> TransitionRequest:
        async with registry_write(info) as session:
            request = await registry_approvals.request_transition(
                session,
                name=name,
                version=version,
                user=info.context.acting_user,
                stage=stage.value if stage is not None else None,
                alias=alias,
                comment=comment,
                archive_existing=archive_existing,
            )
        return TransitionRequest.from_model(request, name)

    @strawberry.mutation(
        description="Approve a pending request and apply it. PERMISSION_DENIED for its own requester; CONFLICT "
        "if it was already decided."
    )
    async def approve_transition(
        self, info: Info, id: strawberry.ID, comment: str | None = None
    ) -> TransitionRequest:
        async with registry_write(info) as session:
            request = await registry_approvals.approve(
                session, request_id=_request_id(id), user=info.context.acting_user, comment=comment
            )
            name = (await registry_reads.models_by_id(session, ids=[request.model_id]))[request.model_id].name
        return TransitionRequest.from_model(request, name)

    @strawberry.mutation(
        description="Reject a pending request; nothing moves. CONFLICT if it was already decided."
    )
    async def reject_transition(
        self, info: Info, id: strawberry.ID, comment: str | None = None
    ) -> TransitionRequest:
        async with registry_write(info) as session:
            request = await registry_approvals.reject(
                session, request_id=_request_id(id), user=info.context.acting_user, comment=comment
            )
            name = (await registry_reads.models_by_id(session, ids=[request.model_id]))[request.model_id].name
        return TransitionRequest.from_model(request, name)


def _request_id(value: str) -> int:
    from mltrail_server.errors import NotFound

    try:
        parsed = int(value)
    except ValueError:
        raise NotFound(f"id: no transition request {value!r}") from None
    if not 0 < parsed < 2**31:
        raise NotFound(f"id: no transition request {value!r}")
    return parsed
