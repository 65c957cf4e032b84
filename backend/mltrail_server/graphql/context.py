"""The per-request context: one read session, one set of loaders, the app's resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.graphql.loaders import Loaders, build_loaders
from mltrail_server.store.engine import Database
from mltrail_server.store.ingest import BatchWriter


@dataclass
class Resources:
    """What the lifespan opens once and every request shares."""

    settings: Settings
    db: Database
    writer: BatchWriter
    telemetry: Any = None
    artifact_store: Any = None
    bus: Any = None


@dataclass
class Context:
    resources: Resources
    request: Any = None
    response: Any = None
    user: str | None = None
    _session: AsyncSession | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = build_loaders(self.session)

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    @property
    def dialect(self) -> str:
        return self.resources.db.dialect

    async def session(self) -> AsyncSession:
        """The request's read session, opened on first use."""
        if self._session is None:
            self._session = self.resources.db.sessionmaker()
        return self._session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction owned by the calling mutation."""
        async with self.resources.db.transaction() as session:
            yield session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


Info = strawberry.Info[Context, None]
