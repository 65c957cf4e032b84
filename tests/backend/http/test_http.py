"""Plain HTTP: health, readiness, Prometheus metrics and the SPA fallback."""

from __future__ import annotations

import httpx
import pytest

from fixtures.documents import LOG_BATCH, metrics, new_experiment, new_run
from mltrail_server.app import create_app


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_prometheus_counts_requests_and_ingest(client, gql):
    rid = await new_run(gql, await new_experiment(gql))
    await gql.ok(LOG_BATCH, {"runId": rid, "batchId": "x", "metrics": metrics("a", [1.0] * 7)})
    await gql.ok(LOG_BATCH, {"runId": rid, "batchId": "x", "metrics": metrics("a", [1.0] * 7)})
    text = (await client.get("/metrics")).text
    assert "mltrail_ingest_points_total 7.0" in text
    assert 'mltrail_ingest_batches_total{outcome="duplicate"} 1.0' in text
    assert 'mltrail_http_requests_total{method="POST",route="/graphql",status="200"}' in text


async def test_graphiql_is_served(client):
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


@pytest.fixture
async def spa_client(settings, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root>spa</div>")
    (dist / "assets" / "app-123.js").write_text("console.log(1)")
    app = create_app(settings.__class__(**{**settings.__dict__, "static_dir": str(dist)}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as http:
            yield http


async def test_spa_fallback_leaves_api_routes_alone(spa_client):
    assert "spa" in (await spa_client.get("/")).text
    assert "spa" in (await spa_client.get("/experiments/3/runs?filter=x")).text  # client-side route
    asset = await spa_client.get("/assets/app-123.js")
    assert asset.text == "console.log(1)" and "immutable" in asset.headers["cache-control"]
    assert (await spa_client.get("/api/nothing-here")).status_code == 404
    assert (await spa_client.get("/../../etc/passwd")).status_code in (200, 404)
    assert "root:" not in (await spa_client.get("/..%2f..%2fetc/passwd")).text
    assert (await spa_client.get("/healthz")).json() == {"status": "ok"}
