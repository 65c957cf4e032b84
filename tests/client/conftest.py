"""Fixtures for the client suite: real `mltrail server` processes on real ports.

The client is tested the way training scripts use it: over HTTP against a server process.
API tests share one server per backend for the whole session (starting one costs about a
second); fault tests get their own server, which they stop, restart or never start.

PostgreSQL (127.0.0.1:5432, trust auth, user postgres, database test, or
MLTRAIL_TEST_POSTGRES_URL): a database `mltrail_client_<random>` is created per server and
dropped afterwards. Unreachable PostgreSQL fails the suite under CI (CI=true) and skips the
PostgreSQL half elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from fixtures.databases import create_database, drop_database, postgres_admin_url
from fixtures.live_server import LiveServer, make_live_server
from mltrail import _fluent
from mltrail_server.config import Settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# The server process and the PostgreSQL helpers are the ones every suite uses.
ServerProcess = LiveServer


def server_process(data_dir: Path, *, store_uri: str | None = None) -> LiveServer:
    """`mltrail server` on its own port, not started; it can be stopped and started again."""
    settings = Settings(data_dir=str(data_dir), backend_store_uri=store_uri or "", static_dir=None)
    return make_live_server(settings, data_dir.parent)


@contextlib.contextmanager
def started_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LiveServer]:
    """A started `mltrail server` on SQLite in a fresh directory, stopped on exit (for the
    module-scoped servers that several test files share among their tests)."""
    process = server_process(tmp_path_factory.mktemp(name) / "data")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _postgres_reachable() -> bool:
    return asyncio.run(postgres_admin_url()) is not None


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return _postgres_reachable()


def _store_uri(backend: str, postgres_available: bool) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None  # the server's default: SQLite under --data-dir
        return
    if not postgres_available:
        message = "PostgreSQL is not reachable on 127.0.0.1:5432 (set MLTRAIL_TEST_POSTGRES_URL)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    admin = asyncio.run(postgres_admin_url())
    assert admin is not None
    url = asyncio.run(create_database(admin))
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin, url))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def server(backend: str, postgres_available: bool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per backend, shared by the API tests of the session."""
    for store_uri in _store_uri(backend, postgres_available):
        process = server_process(tmp_path_factory.mktemp(f"server-{backend}") / "data", store_uri=store_uri)
        process.start()
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture
def own_backend() -> str:
    """The store of `own_server`: SQLite unless a test parametrizes `own_backend`."""
    return "sqlite"


@pytest.fixture
def own_server(own_backend: str, postgres_available: bool, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server for this test alone, not started: fault tests start, stop and restart it."""
    for store_uri in _store_uri(own_backend, postgres_available):
        process = server_process(tmp_path / "data", store_uri=store_uri)
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spool"
    monkeypatch.setenv("MLTRAIL_SPOOL_DIR", str(path))
    return path


@pytest.fixture
def client(server: ServerProcess, spool_dir: Path) -> Iterator[mltrail.MltrailClient]:
    with mltrail.MltrailClient(server.url, spool_dir=spool_dir, capture_environment=False) as c:
        yield c


@pytest.fixture
def experiment_name(request: pytest.FixtureRequest) -> str:
    """A name unique to this test, so tests sharing a server never see each other's runs."""
    return f"{request.node.name[:60]}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def fluent_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no default client and no active run, and leaves none behind."""
    for name in ("MLTRAIL_TRACKING_URI", "MLTRAIL_EXPERIMENT_NAME", "MLTRAIL_RUN_ID", "MLTRAIL_USER"):
        monkeypatch.delenv(name, raising=False)
    yield
    for run in reversed(list(_fluent._active_runs)):
        run.end("KILLED", timeout=5)
    if _fluent._client is not None:
        _fluent._client.close(timeout=5)
    _fluent._client = None
    _fluent._tracking_uri = None
    _fluent._experiment_name = None
    _fluent._experiment_id = None
    _fluent._active_runs.clear()
