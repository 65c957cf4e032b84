"""The bus's overflow policy: a slow subscriber loses the oldest events and is told how many."""

from __future__ import annotations

from mltrail_server.events.bus import LocalFanout


async def test_overflow_drops_oldest_and_reports_missed():
    fanout = LocalFanout(maxsize=3)
    async with fanout.subscribe("t") as events:
        for i in range(5):
            fanout.deliver("t", {"i": i})
        first = await anext(events)
        assert first.payload == {"i": 2} and first.missed == 2
        second = await anext(events)
        assert second.payload == {"i": 3} and second.missed == 0
    assert fanout.topics == {}


async def test_memory_bus_knows_when_nobody_listens():
    from mltrail_server.events.memory import MemoryBus

    bus = MemoryBus()
    assert bus.may_have_subscribers("metrics") is False
    async with bus.subscribe("metrics"):
        assert bus.may_have_subscribers("metrics") is True
        assert bus.may_have_subscribers("runs") is False
    assert bus.may_have_subscribers("metrics") is False
