"""Fixtures shared by every suite: settings → app → client, on SQLite and PostgreSQL.

PostgreSQL: the server on 127.0.0.1:5432 (or ``MLTRAIL_TEST_POSTGRES_URL``, an
``postgresql+asyncpg://`` URL of a database we may create databases from). Each test gets a
fresh database, dropped afterwards. When the server is unreachable the PostgreSQL half of the
suite fails under CI (``CI=true``) and is skipped elsewhere, with a message saying how to
enable it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.databases import create_database, drop_database, require_postgres
from fixtures.live_server import LiveServer, make_live_server
from mltrail_server.app import create_app
from mltrail_server.config import Settings

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def database_url(db_backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if db_backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mltrail.db'}"
        return
    admin = await require_postgres()
    url = await create_database(admin)
    try:
        yield url
    finally:
        await drop_database(admin, url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        backend_store_uri=database_url,
        artifact_root=str(tmp_path / "artifacts"),
        static_dir=None,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    # ASGITransport does not run the lifespan; run it here so the app owns its resources.
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http


class GraphQLClient:
    """Posts GraphQL documents; ``ok`` asserts success, ``error`` asserts one error and its code."""

    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(self.path, json={"query": query, "variables": variables or {}})
        assert response.headers["content-type"].startswith("application/json"), response.text
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None, *, code: str) -> str:
        body = await self.raw(query, variables)
        errors = body.get("errors")
        assert errors, f"expected a {code} error, got {body}"
        assert errors[0]["extensions"]["code"] == code, errors
        assert "Traceback" not in errors[0]["message"]
        return errors[0]["message"]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """``mltrail server`` in a subprocess, on SQLite and on PostgreSQL (via ``settings``)."""
    server = make_live_server(settings, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
