"""The event bus seam: publish JSON-able events on a topic; subscribe with a bounded queue.

Overflow: each subscriber has a queue of ``maxsize`` events. A subscriber that falls that
far behind loses the *oldest* queued events, never blocks publishers, and the next event it
receives carries ``missed`` = how many were dropped, so a client knows to refetch (the
subscription descriptions in the schema say so too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_QUEUE_SIZE = 1_000


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    payload: dict[str, Any]
    missed: int = 0


class EventBus(Protocol):
    def may_have_subscribers(self, topic: str) -> bool:
        """False only when nobody anywhere can receive ``topic``: publishers then skip
        building the payload (the ingest hot path would otherwise copy every batch)."""
        ...

    async def publish(self, topic: str, payload: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[Event]]: ...

    async def close(self) -> None: ...


class Subscriber:
    """One bounded queue; drops the oldest event on overflow and counts what it dropped."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self.queue.get()
            if self.dropped:
                event = Event(event.topic, event.payload, self.dropped)
                self.dropped = 0
            yield event


class LocalFanout:
    """Topic → subscribers of this process; what both bus implementations deliver through."""

    def __init__(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> None:
        self.maxsize = maxsize
        self.topics: dict[str, set[Subscriber]] = {}

    def deliver(self, topic: str, payload: dict[str, Any]) -> None:
        for subscriber in self.topics.get(topic, ()):
            subscriber.offer(Event(topic, payload))

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        subscriber = Subscriber(self.maxsize)
        self.topics.setdefault(topic, set()).add(subscriber)
        try:
            yield subscriber.events()
        finally:
            subscribers = self.topics.get(topic)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self.topics[topic]
