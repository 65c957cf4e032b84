"""Limits and error shapes: every refusal has a code and a message, never a stack trace."""

from __future__ import annotations

from fixtures.documents import LOG_BATCH, new_experiment, new_run


async def test_too_deep_query_is_refused(gql):
    deep = "{ runs { nodes { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }"
    message = await gql.error(deep, code="RESOURCE_EXHAUSTED")
    assert "depth" in message


async def test_too_many_aliases_is_refused(gql):
    aliases = " ".join(f"a{i}: experiments {{ totalCount }}" for i in range(40))
    await gql.error("{ " + aliases + " }", code="RESOURCE_EXHAUSTED")


async def test_syntax_and_validation_errors_are_invalid_argument(gql):
    message = await gql.error("{ runs { nodes { id } ", code="INVALID_ARGUMENT")
    assert "Syntax Error" in message
    message = await gql.error("{ runs { nodes { nosuchfield } } }", code="INVALID_ARGUMENT")
    assert "nosuchfield" in message


async def test_request_body_over_the_limit_is_413(client, settings):
    payload = "x" * (settings.max_request_bytes + 10)
    response = await client.post("/graphql", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "RESOURCE_EXHAUSTED"


async def test_value_too_long_is_refused(gql, settings):
    rid = await new_run(gql, await new_experiment(gql))
    message = await gql.error(
        LOG_BATCH,
        {"runId": rid, "params": [{"key": "p", "value": "v" * (settings.max_param_value_length + 1)}]},
        code="INVALID_ARGUMENT",
    )
    assert str(settings.max_param_value_length) in message


async def test_non_numeric_metric_literal_in_document(gql):
    rid = await new_run(gql, await new_experiment(gql))
    query = """mutation($r: ID!) { logBatch(runId: $r, metrics: {keys: ["a"], values: [true], steps: [0],
                timestamps: [0]}) { metricsWritten } }"""
    await gql.error(query, {"r": rid}, code="INVALID_ARGUMENT")


async def test_internal_errors_are_masked(gql, app, monkeypatch):
    from mltrail_server.services import experiments

    async def broken(*args, **kwargs):
        raise RuntimeError("secret detail: password=hunter2")

    monkeypatch.setattr(experiments, "list_experiments", broken)
    body = await gql.raw("{ experiments { totalCount } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "hunter2" not in error["message"] and "secret" not in error["message"]
