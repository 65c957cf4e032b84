"""The in-process bus: one server process, no broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from mltrail_server.events.bus import Event, LocalFanout


class MemoryBus:
    def __init__(self) -> None:
        self._fanout = LocalFanout()

    def may_have_subscribers(self, topic: str) -> bool:
        return bool(self._fanout.topics.get(topic))

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._fanout.deliver(topic, payload)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        return self._fanout.subscribe(topic)

    async def close(self) -> None:
        return None
