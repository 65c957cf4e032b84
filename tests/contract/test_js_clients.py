"""The API through JavaScript clients the project did not write, against a real server.

graphql-ws (the `graphql-transport-ws` protocol) and subscriptions-transport-ws (the legacy
`graphql-ws` protocol of older Apollo clients), both over a real WebSocket, plus the 2^53 + 1
round trip through `JSON.parse`. The npm packages are this directory's test-only
package.json (`make test` installs them); without them the test fails under CI and skips
elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "subscriptions-transport-ws").is_dir():
        message = "node or tests/contract/node_modules is missing: run `make test` (or npm ci in tests/contract)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return node


def run_client(node: str, protocol: str, url: str, run_id: str, mode: str = "stream") -> dict:
    done = subprocess.run(
        [node, str(HERE / "clients.mjs"), protocol, url, run_id, mode],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def new_run(url: str) -> str:
    def call(query: str, variables: dict | None = None) -> dict:
        body = httpx.post(url + "/graphql", json={"query": query, "variables": variables or {}}, timeout=30).json()
        assert not body.get("errors"), body
        return body["data"]

    eid = call('mutation { createExperiment(name: "js-clients") { id } }')["createExperiment"]["id"]
    return call("mutation($e: ID!) { createRun(experimentId: $e) { id } }", {"e": eid})["createRun"]["id"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_both_websocket_protocols_stream_and_2_53_plus_1_survives_json_parse(node, live_server, protocol):
    run_id = new_run(live_server.url)
    got = run_client(node, protocol, live_server.url, run_id)
    assert got.get("errors") is None and not got.get("timeout"), got
    assert got["batchId"].startswith("js-")  # MetricBatchEvent.batchId: the writer's own batch
    assert got["eventStepType"] == "string" and got["eventStepExact"] is True
    assert got["historyStepType"] == "string" and got["historyStepExact"] is True
    assert got["eventTimestamp"] > 1_700_000_000_000  # within 2^53: still a plain number


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_unknown_run_is_not_found_through_either_protocol(node, live_server, protocol):
    got = run_client(node, protocol, live_server.url, "no-such-run", mode="once")
    assert got["errors"][0]["message"].startswith("runIds: no run with id 'no-such-run'"), got
    assert got["errors"][0]["extensions"]["code"] == "NOT_FOUND"
