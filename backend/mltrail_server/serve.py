"""Run the server under uvicorn, with one process or several.

With ``--workers N`` uvicorn binds the listening socket itself and hands it to the workers;
that socket reports ``proto == 0``, so asyncio never enables TCP_NODELAY on accepted
connections and every small response on a kept-alive connection waits ≈ 40 ms for a delayed
ACK (uvicorn issue 3149). Our protocol class sets TCP_NODELAY on every connection, whatever
the worker count.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mltrail_server.config import Settings
from mltrail_server.store import migrate
from mltrail_server.store.engine import open_database


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        super().connection_made(transport)


async def _migrate_once(settings: Settings) -> None:
    db = open_database(settings.database_url)
    try:
        await migrate.upgrade(db.write_engine)
    finally:
        await db.dispose()


def run(settings: Settings) -> None:
    """Migrate once, then serve with ``settings.workers`` processes."""
    asyncio.run(_migrate_once(settings))
    # Workers only check the schema: migrating from N processes at once would race.
    os.environ.update(Settings(**{**settings.__dict__, "migrate_on_start": False}).to_env())
    uvicorn.run(
        "mltrail_server.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        http=NoDelayHttpToolsProtocol,
        loop="uvloop",
        log_level=settings.log_level,
        access_log=settings.access_log,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=30,
    )
