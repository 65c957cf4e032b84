"""Registry subscription: changes as they are committed, on every replica (through the bus)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from mltrail_server.errors import Internal
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.registry.types import RegistryChange, RegistryEvent, Stage
from mltrail_server.graphql.scalars import Long
from mltrail_server.services import registry, registry_reads


def _change(payload: dict) -> RegistryChange:
    def stage(value: str | None) -> Stage | None:
        return Stage(value) if value is not None else None

    return RegistryChange(
        id=strawberry.ID(str(payload["id"])),
        kind=payload["kind"],
        version=payload["version"],
        from_stage=stage(payload["from_stage"]),
        to_stage=stage(payload["to_stage"]),
        alias=payload["alias"],
        from_version=payload["from_version"],
        to_version=payload["to_version"],
        request_id=strawberry.ID(str(payload["request_id"])) if payload["request_id"] is not None else None,
        user=payload["user"],
        comment=payload["comment"],
        timestamp=Long(payload["timestamp"]),
    )


@strawberry.type
class RegistrySubscription:
    @strawberry.subscription(
        description="Registry changes (version created, stage moved, alias set/moved/removed, request opened, "
        "approved or rejected, …) of one model (`name`) or all, each published after its commit. A subscriber "
        "that falls more than 1,000 events behind loses the oldest (`missed` says how many): refetch history. "
        "`afterId` (a `RegistryChange.id` already seen) first replays what was recorded after it (up to "
        "1,000 changes), then streams: a reconnecting subscriber misses nothing and sees nothing twice."
    )
    async def registry_events(
        self, info: Info, name: str | None = None, after_id: strawberry.ID | None = None
    ) -> AsyncGenerator[RegistryEvent, None]:
        bus = info.context.resources.bus
        if bus is None:
            raise Internal("live events are not available on this server")
        if name is not None:
            registry.check_model_name("name", name)
        # Subscribe first, then catch up from the database: nothing committed in between is
        # lost. Duplicates are dropped per model by change id (a model's changes are recorded
        # under its row lock, so their ids follow commit order; across models they need not).
        seen: dict[str, int] = {}
        async with bus.subscribe(registry.TOPIC) as events:
            if after_id is not None:
                start = _change_id(after_id)
                backlog = await info.context.read(registry_reads.changes_after, after_id=start, name=name)
                await info.context.refresh()  # no connection held while streaming
                for model_name, change in backlog:
                    seen[model_name] = change.id
                    yield RegistryEvent(
                        name=model_name, change=_change(registry.change_payload(model_name, change)), missed=0
                    )
            async for event in events:
                payload = event.payload
                if name is not None and payload["name"] != name:
                    continue
                if payload["id"] <= seen.get(payload["name"], 0):
                    continue
                seen[payload["name"]] = payload["id"]
                yield RegistryEvent(name=payload["name"], change=_change(payload), missed=event.missed)


def _change_id(value: str) -> int:
    from mltrail_server.errors import InvalidArgument

    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"afterId: {value!r} is not a registry change id") from None
