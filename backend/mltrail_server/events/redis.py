"""Redis pub/sub: a subscriber on one replica sees what was published through another.

Every event goes through Redis, even to subscribers of the publishing process, so all
subscribers see one order. One pattern subscription per process feeds the local fan-out;
a publish that fails (Redis down) is logged and dropped: live events are best effort, the
database stays the source of truth and clients refetch on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
import redis.asyncio as aioredis

from mltrail_server.events.bus import Event, LocalFanout

log = logging.getLogger("mltrail.events")
PREFIX = "mltrail:"


class RedisBus:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._fanout = LocalFanout()
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str) -> RedisBus:
        client = aioredis.from_url(url)
        await client.ping()
        bus = cls(client)
        await bus._pubsub.psubscribe(PREFIX + "*")
        bus._reader = asyncio.create_task(bus._read(), name="mltrail-redis-events")
        return bus

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep serving: reconnect after a pause
                log.warning("redis event stream interrupted; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            if message is None or message.get("type") != "pmessage":
                continue
            channel = (
                message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            )
            self._fanout.deliver(channel.removeprefix(PREFIX), orjson.loads(message["data"]))

    def may_have_subscribers(self, topic: str) -> bool:
        # Subscribers on other replicas are invisible from here: always publish.
        return True

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        try:
            await self._client.publish(PREFIX + topic, orjson.dumps(payload))
        except Exception:
            log.warning("could not publish a live event on %s", topic, exc_info=True)

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        return self._fanout.subscribe(topic)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()
        await self._client.aclose()
