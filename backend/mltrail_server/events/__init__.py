"""Live events: in-process by default, Redis pub/sub across server replicas.

``open_event_bus`` lives here, above the implementations (as ``open_artifact_store`` does in
artifacts/): bus.py holds the Protocol and the fan-out both implementations share, memory.py
and redis.py import it, and nothing imports back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mltrail_server.events.bus import Event, EventBus
from mltrail_server.events.memory import MemoryBus


@asynccontextmanager
async def open_event_bus(redis_url: str | None) -> AsyncIterator[EventBus]:
    """In-process without a Redis URL; Redis pub/sub (shared by all replicas) with one."""
    if redis_url:
        # Imported only when configured: redis is needed by replicas, not by one process.
        from mltrail_server.events.redis import RedisBus

        bus: EventBus = await RedisBus.connect(redis_url)
    else:
        bus = MemoryBus()
    try:
        yield bus
    finally:
        await bus.close()


__all__ = ["Event", "EventBus", "open_event_bus"]
