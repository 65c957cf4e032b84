"""Registry subscription: changes as they are committed, on every replica (through the bus)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from mltrail_server.errors import Internal
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.registry.types import RegistryChange, RegistryEvent, Stage
from mltrail_server.graphql.scalars import Long
from mltrail_server.services import registry


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
        "that falls more than 1,000 events behind loses the oldest (`missed` says how many): refetch history."
    )
    async def registry_events(
        self, info: Info, name: str | None = None
    ) -> AsyncGenerator[RegistryEvent, None]:
        bus = info.context.resources.bus
        if bus is None:
            raise Internal("live events are not available on this server")
        if name is not None:
            registry.check_model_name("name", name)
        async with bus.subscribe(registry.TOPIC) as events:
            async for event in events:
                if name is not None and event.payload["name"] != name:
                    continue
                yield RegistryEvent(
                    name=event.payload["name"], change=_change(event.payload), missed=event.missed
                )
