"""The per-request context: one read session, one set of loaders, the app's resources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.graphql.loaders import Loaders, build_loaders
from mltrail_server.services.request_budget import PointBudget
from mltrail_server.store.engine import Database
from mltrail_server.store.writer import RunWriter

if TYPE_CHECKING:
    # Types only: the HTTP layer (telemetry) sits beside graphql/, not under it.
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    from mltrail_server.artifacts import ArtifactStore
    from mltrail_server.events import EventBus
    from mltrail_server.http.prometheus import Telemetry

T = TypeVar("T")

ANONYMOUS = "anonymous"
USER_HEADER = "x-mltrail-user"
MAX_USER_LENGTH = 250


@dataclass
class Resources:
    """What the lifespan opens once and every request shares."""

    settings: Settings
    db: Database
    writer: RunWriter
    telemetry: Telemetry | None = None
    artifact_store: ArtifactStore | None = None
    bus: EventBus | None = None


@dataclass
class Context:
    resources: Resources
    request: Request | WebSocket | None = None
    response: Response | None = None
    user: str | None = None
    # Set by Strawberry from a WebSocket's connection_init payload (it assigns the attribute
    # when the context has one). A browser cannot put headers on a WebSocket, so the SPA sends
    # its acting user there as {"user": ...}.
    connection_params: dict[str, Any] | None = None
    _session: AsyncSession | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaders: Loaders | None = None
    _point_budget: PointBudget | None = None

    @property
    def loaders(self) -> Loaders:
        # Built on first use: most mutations (logBatch, createRun) never load anything.
        if self._loaders is None:
            self._loaders = build_loaders(self.read)
        return self._loaders

    @property
    def acting_user(self) -> str:
        """Who is making this request: the one place the registry (and every audit record) asks.

        For now the client's ``X-Mltrail-User`` header (its ``MLTRAIL_USER`` or login name),
        ``anonymous`` without one; the authentication work fills ``user`` from a verified
        token instead, and nothing downstream changes. Over a WebSocket, where browsers cannot
        set headers, the ``user`` of the connection_init payload stands in for the header.
        """
        user = (self.user or "").strip()
        if not user and isinstance(self.connection_params, dict):
            param = self.connection_params.get("user")
            user = param.strip() if isinstance(param, str) else ""
        if not user:
            return ANONYMOUS
        if len(user) > MAX_USER_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in user):
            from mltrail_server.errors import InvalidArgument

            raise InvalidArgument(
                f"X-Mltrail-User: {user[:40]!r} is not a user name (at most {MAX_USER_LENGTH} "
                "printable characters)"
            )
        return user

    @property
    def point_budget(self) -> PointBudget:
        """The metric points this request may still produce, across all its fields and aliases."""
        if self._point_budget is None:
            self._point_budget = PointBudget(
                self.settings.max_request_points, self.settings.max_request_read_points
            )
        return self._point_budget

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def dialect(self) -> str:
        return self.resources.db.dialect

    async def read(self, fn: Callable[..., Awaitable[T]], /, **kwargs: Any) -> T:
        """Run ``fn(session, **kwargs)`` on the request's read session, one call at a time.

        Sibling fields and DataLoader batches resolve concurrently, but an AsyncSession (and
        the connection under it) allows one operation at a time: the lock serialises them.
        """
        async with self._lock:
            if self._session is None:
                self._session = self.resources.db.sessionmaker()
            return await fn(self._session, **kwargs)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction owned by the calling mutation."""
        async with self.resources.db.transaction() as session:
            yield session

    async def refresh(self) -> None:
        """Start over for the next event of a long-lived subscription: no stale loader cache,
        and no connection held between events."""
        await self.close()
        self._loaders = None
        self._point_budget = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Info = strawberry.Info[Context, None]
