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
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import mltrail
from mltrail import _fluent

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get("MLTRAIL_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env(env: dict[str, str]) -> dict[str, str]:
    """The environment for child processes, letting them cache bytecode: a server start
    imports a few hundred modules, and compiling them all again for each start made it cost
    seconds instead of about one."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


class ServerProcess:
    """`mltrail server` in a subprocess that can be stopped and started again on its port."""

    def __init__(self, data_dir: Path, *, store_uri: str | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.store_uri = store_uri
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        args = [
            sys.executable, "-m", "mltrail.cli", "server", "--host", "127.0.0.1",
            "--port", str(self.port), "--data-dir", str(self.data_dir), "--log-level", "warning",
        ]  # fmt: skip
        if self.store_uri:
            args += ["--backend-store-uri", self.store_uri]
        env = subprocess_env({k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")})
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not become ready:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _postgres_reachable() -> bool:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(
                host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                database=url.database, timeout=3,
            )  # fmt: skip
        except Exception:
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


def _admin(statement: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL)

    async def run() -> None:
        conn = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    return _postgres_reachable()


def _store_uri(backend: str, postgres_available: bool) -> Iterator[str | None]:
    if backend == "sqlite":
        yield None  # the server's default: SQLite under --data-dir
        return
    if not postgres_available:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} (set MLTRAIL_TEST_POSTGRES_URL)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from sqlalchemy.engine import make_url

    name = f"mltrail_client_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def server(backend: str, postgres_available: bool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per backend, shared by the API tests of the session."""
    for store_uri in _store_uri(backend, postgres_available):
        process = ServerProcess(tmp_path_factory.mktemp(f"server-{backend}") / "data", store_uri=store_uri)
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
        process = ServerProcess(tmp_path / "data", store_uri=store_uri)
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
