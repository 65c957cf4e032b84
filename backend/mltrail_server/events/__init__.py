"""Live events: in-process by default, Redis pub/sub across server replicas."""

from __future__ import annotations

from mltrail_server.events.bus import EventBus, open_event_bus

__all__ = ["EventBus", "open_event_bus"]
