"""`mltrail server` as users run it: real processes, real ports, several workers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fixtures.live_server import make_live_server


def test_two_workers_share_one_migrated_database(settings, tmp_path):
    server = make_live_server(settings, tmp_path, workers=2)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            created = http.post(
                "/graphql", json={"query": 'mutation { createExperiment(name: "w") { id } }'}
            ).json()
            assert "errors" not in created, created
            for _ in range(40):
                body = http.post("/graphql", json={"query": "{ experiments { totalCount } }"}).json()
                assert body["data"]["experiments"]["totalCount"] == 1
                assert http.get("/healthz").status_code == 200
            # The supervisor runs two worker processes.
            assert server.process is not None
            children = (
                Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
            )
            assert len(children) >= 2, children
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Traceback" not in log, log


@pytest.mark.parametrize("flag", [None, "--access-log"])
def test_access_log_is_off_unless_asked(settings, tmp_path, flag):
    server = make_live_server(settings, tmp_path, log_level="info", extra_args=(flag,) if flag else ())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            body = http.post("/graphql", json={"query": "{ experiments { totalCount } }"}).json()
            assert body["data"]["experiments"]["totalCount"] == 0
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "Application startup complete" in log, log  # info lines are there either way
    assert ('"POST /graphql HTTP/1.1" 200' in log) == (flag == "--access-log"), log


def test_server_refuses_bad_store_uri(settings, tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mltrail.cli", "server", "--backend-store-uri", "mysql://x/y", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "backend store URI" in (result.stderr + result.stdout)
