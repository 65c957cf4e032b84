"""Fixtures of the artifact suite: the same tests run on the local store and on S3.

S3 is a real server on loopback (moto's standalone server in a subprocess), reached through
aioboto3 exactly as in production: no in-process mocking of botocore.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mltrail_server.artifacts.base import ArtifactStore

S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@contextlib.contextmanager
def run_moto_server() -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def s3_credentials() -> Iterator[None]:
    # botocore reads credentials from the environment; these are moto's dummy ones.
    with pytest.MonkeyPatch.context() as patch:
        for key, value in S3_CREDENTIALS.items():
            patch.setenv(key, value)
        yield


@pytest.fixture(scope="session")
def s3_endpoint(s3_credentials: None) -> Iterator[str]:
    with run_moto_server() as endpoint:
        yield endpoint


async def create_bucket(endpoint: str) -> str:
    import aioboto3

    bucket = f"mltrail-{uuid.uuid4().hex[:12]}"
    async with aioboto3.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1") as client:
        await client.create_bucket(Bucket=bucket)
    return bucket


@dataclass
class StoreCase:
    kind: str  # "local" | "s3"
    store: ArtifactStore
    run_root: str
    artifact_root: str
    local_dir: Path | None  # the run root on disk, for the local store


@pytest.fixture(params=["local", "s3"])
async def store_case(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreCase]:
    if request.param == "local":
        from mltrail_server.artifacts.local import LocalStore

        root = tmp_path / "artifacts"
        run_root = root / "1" / "0123456789abcdef0123456789abcdef" / "artifacts"
        store = LocalStore(str(root))
        yield StoreCase("local", store, str(run_root), str(root), run_root)
        await store.close()
    else:
        from mltrail_server.artifacts.s3 import S3Store

        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = await create_bucket(endpoint)
        # A small part size so that multipart uploads are exercised by modest files.
        store = await S3Store.open(endpoint_url=endpoint, part_size=5 * 1024 * 1024)
        artifact_root = f"s3://{bucket}/mltrail"
        yield StoreCase(
            "s3", store, f"{artifact_root}/1/0123456789abcdef0123456789abcdef/artifacts", artifact_root, None
        )
        await store.close()


# -- the real app, on each store ---------------------------------------------------------------


@dataclass
class ArtifactServer:
    """The app on one store, an HTTP client through ASGI, and a run to put artifacts in."""

    kind: str
    app: Any
    settings: Any
    http: httpx.AsyncClient
    run_id: str
    artifact_uri: str

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        return response.json()

    async def create_run(self) -> tuple[str, str]:
        payload = await self.graphql(
            "mutation($e: String!) { createRun(experimentName: $e) { id artifactUri } }", e="artifacts"
        )
        assert "errors" not in payload, payload
        run = payload["data"]["createRun"]
        return run["id"], run["artifactUri"]

    def local_run_dir(self) -> Path | None:
        return Path(self.artifact_uri) if self.kind == "local" else None


@contextlib.asynccontextmanager
async def serve_app(settings: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The real app with its lifespan running (ASGITransport does not run lifespans)."""
    from mltrail_server.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield app, http


def artifact_settings(
    kind: str, tmp_path: Path, endpoint: str | None, bucket: str | None, **overrides: Any
) -> Any:
    from mltrail_server.config import Settings

    values: dict[str, Any] = {"data_dir": str(tmp_path / "data"), "static_dir": None}
    if kind == "s3":
        values.update(artifact_root=f"s3://{bucket}/mltrail", s3_endpoint_url=endpoint)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(params=["local", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """What a test module changes in the server's settings (override to change it)."""
    return {}


@pytest.fixture
async def artifact_server(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest, settings_overrides: dict[str, Any]
) -> AsyncIterator[ArtifactServer]:
    endpoint = bucket = None
    if store_kind == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = await create_bucket(endpoint)
    settings = artifact_settings(store_kind, tmp_path, endpoint, bucket, **settings_overrides)
    async with serve_app(settings) as (app, http):
        server = ArtifactServer(store_kind, app, settings, http, "", "")
        server.run_id, server.artifact_uri = await server.create_run()
        yield server
