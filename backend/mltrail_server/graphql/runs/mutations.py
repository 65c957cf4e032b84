"""Run mutations: lifecycle, tags and dataset inputs. Each one is one transaction."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from mltrail_server.graphql.common import Tag, TagInput, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.runs.types import DatasetSpec, ParamInput, Run, RunSourceInput, RunStatus
from mltrail_server.graphql.scalars import Long
from mltrail_server.services import runs as run_service
from mltrail_server.store import models as m


async def announce(info: Info, run: m.Run, change: str) -> None:
    """After the commit: live subscribers learn of the change."""
    await run_service.announce_run(
        info.context.resources.bus, run_id=run.id, experiment_id=run.experiment_id, change=change
    )


@strawberry.type
class RunMutation:
    @strawberry.mutation(
        description="Start a RUNNING run. Give `experimentId`, or `experimentName` to get-or-create "
        "the experiment. A client-chosen `runId` (32 lowercase hex characters) makes the call "
        "idempotent: creating it again returns the existing run — what offline clients replay. "
        "`params` are logged in the same transaction, with logBatch's rules (immutable)."
    )
    async def create_run(
        self,
        info: Info,
        experiment_id: strawberry.ID | None = None,
        experiment_name: str | None = None,
        run_id: strawberry.ID | None = None,
        name: str | None = None,
        tags: list[TagInput] | None = None,
        params: list[ParamInput] | None = None,
        parent_run_id: strawberry.ID | None = None,
        start_time: Long | None = None,
        user: str | None = None,
        source: RunSourceInput | None = None,
        environment: JSON | None = None,
    ) -> Run:
        src = run_service.RunSourceData(**vars(source)) if source is not None else None
        resources = info.context.resources
        run = await run_service.create_run(
            resources.db,
            resources.writer,
            settings=info.context.settings,
            experiment_id=experiment_id,
            experiment_name=experiment_name,
            run_id=run_id,
            name=name,
            tags=pairs(tags),
            params=pairs(params),
            parent_run_id=parent_run_id,
            start_time=start_time,
            user=user or info.context.user,
            source=src,
            environment=environment,
        )
        await announce(info, run, "created")
        return Run.from_model(run)

    @strawberry.mutation(
        description="Set status, end time or name. A terminal status sets endTime if missing."
    )
    async def update_run(
        self,
        info: Info,
        id: strawberry.ID,
        status: RunStatus | None = None,
        end_time: Long | None = None,
        name: str | None = None,
    ) -> Run:
        async with info.context.transaction() as session:
            run = await run_service.update_run(
                session,
                settings=info.context.settings,
                run_id=id,
                status=status.value if status is not None else None,
                end_time=end_time,
                name=name,
            )
        await announce(info, run, "updated")
        return Run.from_model(run)

    @strawberry.mutation(description="Soft-delete a run.")
    async def delete_run(self, info: Info, id: strawberry.ID) -> Run:
        async with info.context.transaction() as session:
            run = await run_service.set_run_deleted(session, run_id=id, deleted=True)
        await announce(info, run, "deleted")
        return Run.from_model(run)

    @strawberry.mutation(description="Restore a soft-deleted run.")
    async def restore_run(self, info: Info, id: strawberry.ID) -> Run:
        async with info.context.transaction() as session:
            run = await run_service.set_run_deleted(session, run_id=id, deleted=False)
        await announce(info, run, "restored")
        return Run.from_model(run)

    @strawberry.mutation(
        description="Set a tag on a run or an experiment (exactly one of runId, experimentId)."
    )
    async def set_tag(
        self,
        info: Info,
        key: str,
        value: str,
        run_id: strawberry.ID | None = None,
        experiment_id: strawberry.ID | None = None,
    ) -> Tag:
        async with info.context.transaction() as session:
            k, v = await run_service.set_tag(
                session,
                settings=info.context.settings,
                run_id=run_id,
                experiment_id=experiment_id,
                key=key,
                value=value,
            )
        return Tag(key=k, value=v)

    @strawberry.mutation(description="Delete a tag from a run or an experiment; NOT_FOUND when absent.")
    async def delete_tag(
        self,
        info: Info,
        key: str,
        run_id: strawberry.ID | None = None,
        experiment_id: strawberry.ID | None = None,
    ) -> bool:
        async with info.context.transaction() as session:
            await run_service.delete_tag(session, run_id=run_id, experiment_id=experiment_id, key=key)
        return True

    @strawberry.mutation(
        description="Link datasets to a run; the same (name, digest, context) again is a no-op."
    )
    async def log_inputs(self, info: Info, run_id: strawberry.ID, datasets: list[DatasetSpec]) -> Run:
        specs = [run_service.DatasetSpec(**vars(d)) for d in datasets]
        async with info.context.transaction() as session:
            run = await run_service.log_inputs(
                session, settings=info.context.settings, run_id=run_id, datasets=specs
            )
        await announce(info, run, "logged")
        return Run.from_model(run)
