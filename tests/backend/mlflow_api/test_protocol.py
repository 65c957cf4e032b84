"""MLflow's wire protocol at the HTTP level: prefixes, error shapes, limits, number forms.

What the real client (test_mlflow_client.py) never sends, checked in process through
``httpx.ASGITransport``: malformed bodies, endpoints mltrail does not serve, oversize bodies,
int64 fields as strings and doubles as ``"NaN"``.
"""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"])

API = "/api/2.0/mlflow"


async def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert "Traceback" not in body["message"]
    return body["message"]


async def test_both_prefixes_serve_the_same_store(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/experiments/create", json={"name": "web"})
    assert created.status_code == 200, created.text
    experiment_id = created.json()["experiment_id"]
    got = await client.get("/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id})
    assert got.json()["experiment"]["name"] == "web"
    assert got.json()["experiment"]["lifecycle_stage"] == "active"


async def test_numbers_in_their_proto_json_forms(client: httpx.AsyncClient) -> None:
    experiment_id = (await client.post(f"{API}/experiments/create", json={"name": "n"})).json()[
        "experiment_id"
    ]
    run = (
        await client.post(f"{API}/runs/create", json={"experiment_id": experiment_id, "start_time": "1000"})
    ).json()
    run_id = run["run"]["info"]["run_id"]
    assert run["run"]["info"]["start_time"] == 1000
    logged = await client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": "m", "value": "NaN", "timestamp": "5", "step": "0"},
                {"key": "m", "value": "-Infinity", "timestamp": 6, "step": 1},
                {"key": "m", "value": 2.5, "timestamp": 7, "step": 2},
            ],
        },
    )
    assert logged.status_code == 200, logged.text
    history = (
        await client.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    ).json()
    assert history["metrics"] == [
        {"key": "m", "value": "NaN", "timestamp": 5, "step": 0},
        {"key": "m", "value": "-Infinity", "timestamp": 6, "step": 1},
        {"key": "m", "value": 2.5, "timestamp": 7, "step": 2},
    ]


async def test_errors_in_mlflow_shape(client: httpx.AsyncClient) -> None:
    await _error(
        await client.post(f"{API}/experiments/create", content=b"{not json"), 400, "INVALID_PARAMETER_VALUE"
    )
    message = await _error(
        await client.post(f"{API}/experiments/create", json={}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "name" in message
    await _error(
        await client.post(f"{API}/runs/log-metric", json={"run_id": "a" * 32, "key": "k", "value": "high"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    # Not served: MLflow's own "no such endpoint", never the SPA's fallback.
    await _error(await client.post(f"{API}/runs/outputs", json={}), 404, "ENDPOINT_NOT_FOUND")
    await _error(await client.delete(f"{API}/runs/get"), 404, "ENDPOINT_NOT_FOUND")
    await _error(await client.get("/api/2.0/mlflow-artifacts/mpu/create"), 404, "ENDPOINT_NOT_FOUND")


async def test_oversize_body_is_refused_without_a_retryable_status(
    client: httpx.AsyncClient, app: object
) -> None:
    limit = app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    response = await client.post(f"{API}/runs/log-batch", content=b"x" * (limit + 1))
    # 400, not 429: MLflow's client retries 429 with backoff, and this will not get smaller.
    await _error(response, 400, "RESOURCE_EXHAUSTED")


async def test_a_bad_max_results_is_the_callers_error_not_a_retryable_one(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/registered-models/search", params={"max_results": "many"})
    message = await _error(response, 400, "INVALID_PARAMETER_VALUE")
    assert "max_results" in message and "many" in message
