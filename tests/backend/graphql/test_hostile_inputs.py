"""Hostile inputs refused at the edge, the same way on SQLite and PostgreSQL (issue 10).

Each test reproduces one break from the attack on a real server: NUL characters (INTERNAL on
PostgreSQL), deeply nested JSON scalars (a RecursionError), bodies that are expensive to
parse, error messages echoing megabytes, unbounded descriptions, ``first: 0`` promising a
next page it cannot name, and media types that are not JSON read as JSON.
"""

from __future__ import annotations

import orjson
import pytest

from fixtures.documents import CREATE_EXPERIMENT, CREATE_RUN, LOG_BATCH, SEARCH, new_experiment, new_run

NUL = "\u0000"
RUN_FIELDS = "{ id name params { key value } tags { key value } }"


async def _no_nul_stored(gql, run_id: str) -> None:
    run = (await gql.ok(f"query($id: ID!) {{ run(id: $id) {RUN_FIELDS} }}", {"id": run_id}))["run"]
    assert all(NUL not in text for item in run["params"] + run["tags"] for text in item.values())


@pytest.mark.parametrize(
    ("document", "variables", "named"),
    [
        (LOG_BATCH, {"params": [{"key": "ok", "value": "1"}, {"key": "p", "value": f"a{NUL}b"}]}, "$params[1].value"),
        (LOG_BATCH, {"tags": [{"key": f"t{NUL}", "value": "v"}]}, "$tags[0].key"),
        (LOG_BATCH, {"batchId": f"b{NUL}"}, "$batchId"),
        (
            LOG_BATCH,
            {"metrics": {"keys": ["a", f"b{NUL}"], "values": [1.0, 2.0], "steps": [0, 1], "timestamps": [0, 0]}},
            "$metrics.keys[1]",
        ),
        (CREATE_EXPERIMENT, {"name": f"e{NUL}"}, "$name"),
        (CREATE_EXPERIMENT, {"name": "fine", "description": f"d{NUL}"}, "$description"),
        (CREATE_RUN, {"experimentName": "e", "name": f"r{NUL}"}, "$name"),
        (SEARCH, {"filter": f"params.p = 'x{NUL}'"}, "$filter"),
        ("query($n: String) { experiment(name: $n) { id } }", {"n": f"e{NUL}"}, "$n"),
        ("query($id: ID!) { run(id: $id) { id } }", {"id": f"{NUL}"}, "$id"),
        (
            "mutation($r: ID!, $d: [DatasetSpec!]!) { logInputs(runId: $r, datasets: $d) { id } }",
            {"d": [{"name": "train", "digest": "x", "schema": {"cols": [f"c{NUL}"]}}]},
            "$d[0].schema.cols[0]",
        ),
        ("mutation($u: String) { createRun(experimentName: \"e\", user: $u) { id } }", {"u": f"me{NUL}"}, "$u"),
    ],
)
async def test_nul_in_any_variable_is_invalid_argument_naming_it(gql, document, variables, named):
    run_id = await new_run(gql, await new_experiment(gql, "nul"))
    message = await gql.error(document, {"runId": run_id, "r": run_id, **variables}, code="INVALID_ARGUMENT")
    assert named in message and "NUL" in message
    await _no_nul_stored(gql, run_id)


async def test_nul_in_a_document_literal_is_invalid_argument(gql):
    message = await gql.error('{ experiment(name: "a\\u0000") { id } }', code="INVALID_ARGUMENT")
    assert "argument name" in message and "NUL" in message
    message = await gql.error('{ runs(filter: "params.p = \'\\u0000\'") { totalCount } }', code="INVALID_ARGUMENT")
    assert "argument filter" in message


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(gql):
    # The body holds the bytes \\u0000 (a backslash, then "u0000"): text, stored as such.
    name = "a\\u0000"
    data = await gql.ok(CREATE_EXPERIMENT, {"name": name})
    assert data["createExperiment"]["name"] == name


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


async def test_deeply_nested_json_scalar_is_invalid_argument(client, gql):
    experiment_id = await new_experiment(gql, "deep")
    document = "mutation($e: ID, $env: JSON) { createRun(experimentId: $e, environment: $env) { id } }"
    # 40 levels: under the body's nesting bound (64), over the JSON scalar's (32).
    body = f'{{"query": {orjson.dumps(document).decode()}, "variables": {{"e": "{experiment_id}", "env": {_nested(40)}}}}}'
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert "deeper than 32 levels" in error["message"] and "MLTRAIL_MAX_JSON_DEPTH" in error["message"]
    # As a literal in the document, too (no variables involved).
    literal = f'mutation {{ createRun(experimentId: "{experiment_id}", environment: {_nested(40)}) {{ id }} }}'
    assert "deeper than 32" in await gql.error(literal, code="INVALID_ARGUMENT")
    # A dataset schema is a JSON scalar as well; nesting within the bound is stored as sent.
    run_id = await new_run(gql, experiment_id)
    schema = orjson.loads(_nested(20))
    data = await gql.ok(
        "mutation($r: ID!, $d: [DatasetSpec!]!) { logInputs(runId: $r, datasets: $d) { inputs { schema } } }",
        {"r": run_id, "d": [{"name": "t", "digest": "x", "schema": schema}]},
    )
    assert data["logInputs"]["inputs"][0]["schema"] == schema


async def test_oversized_json_scalar_is_invalid_argument(gql, settings):
    experiment_id = await new_experiment(gql, "big-env")
    environment = {"packages": ["x" * 1000] * (settings.max_json_bytes // 1000 + 10)}
    message = await gql.error(
        "mutation($e: ID, $env: JSON) { createRun(experimentId: $e, environment: $env) { id } }",
        {"e": experiment_id, "env": environment},
        code="INVALID_ARGUMENT",
    )
    assert "MLTRAIL_MAX_JSON_BYTES" in message


async def test_body_with_millions_of_containers_is_refused_before_parsing(client):
    # The attack's shape: millions of empty arrays, seconds of parsing for orjson and the GC.
    body = b'{"query": "{ experiments { totalCount } }", "variables": {"x": [' + b",".join([b"[]"] * 1_000_000) + b"]}}"
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "RESOURCE_EXHAUSTED" and "MLTRAIL_MAX_REQUEST_CONTAINERS" in error["message"]


async def test_body_nesting_and_element_bounds(client, gql):
    nested = f'{{"query": "{{ experiments {{ totalCount }} }}", "variables": {{"x": {_nested(200)}}}}}'
    response = await client.post("/graphql", content=nested, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "MLTRAIL_MAX_REQUEST_DEPTH" in response.text
    many = b'{"query": "{ experiments { totalCount } }", "variables": {"x": [' + b",".join([b"0"] * 1_200_000) + b"]}}"
    response = await client.post("/graphql", content=many, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "MLTRAIL_MAX_REQUEST_ELEMENTS" in response.text
    # Brackets and commas inside strings are text, not structure: never a reason to refuse.
    run_id = await new_run(gql, await new_experiment(gql, "text"))
    value = "[{," * 1900
    params = [{"key": f"p{i}", "value": value} for i in range(200)]  # 1.1M brackets, in strings
    data = await gql.ok(LOG_BATCH, {"runId": run_id, "params": params})
    assert data["logBatch"]["paramsWritten"] == 200


async def test_long_generic_lists_are_refused_before_coercion(gql, settings):
    message = await gql.error(
        "query($r: [ID!]!) { metricHistories(runIds: $r) { key } }",
        {"r": ["0" * 32] * (settings.max_list_items + 1)},
        code="RESOURCE_EXHAUSTED",
    )
    assert "$r" in message and "MLTRAIL_MAX_LIST_ITEMS" in message


async def test_invalid_json_body_is_a_graphql_error_with_a_code(client):
    response = await client.post("/graphql", content=b'{"query": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("media_type", ["application/json-evil", "text/plain", "application/jsonx; charset=utf-8"])
async def test_only_application_json_is_read_as_json(client, media_type):
    body = orjson.dumps({"query": "mutation { createExperiment(name: \"csrf\") { id } }"})
    response = await client.post("/graphql", content=body, headers={"content-type": media_type})
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    check = await client.post("/graphql", json={"query": '{ experiments(filter: "name = \'csrf\'") { totalCount } }'})
    assert check.json()["data"]["experiments"]["totalCount"] == 0
    fine = await client.post(
        "/graphql", content=b'{"query": "{ experiments { totalCount } }"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )  # fmt: skip
    assert fine.status_code == 200 and "errors" not in fine.json()


async def test_error_messages_cut_echoed_values(gql):
    huge = "x" * 10_000_000
    message = await gql.error("query($id: ID!) { run(id: $id) { id } }", {"id": huge}, code="NOT_FOUND")
    assert len(message) < 1_000 and "10,000,000 characters" in message
    message = await gql.error(CREATE_RUN, {"experimentId": "1", "runId": "y" * 100_000}, code="INVALID_ARGUMENT")
    assert len(message) < 1_000


async def test_experiment_description_has_a_length_limit(gql, settings):
    limit = settings.max_description_length
    message = await gql.error(CREATE_EXPERIMENT, {"name": "d", "description": "x" * (limit + 1)}, code="INVALID_ARGUMENT")
    assert "description" in message and "MLTRAIL_MAX_DESCRIPTION_LENGTH" in message
    experiment_id = await new_experiment(gql, "d2")
    message = await gql.error(
        "mutation($id: ID!, $d: String) { updateExperiment(id: $id, description: $d) { id } }",
        {"id": experiment_id, "d": "x" * (limit + 1)},
        code="INVALID_ARGUMENT",
    )
    assert "description" in message
    data = await gql.ok(CREATE_EXPERIMENT, {"name": "d3", "description": "x" * limit})
    assert len(data["createExperiment"]["description"]) == limit


async def test_first_zero_promises_no_page_it_cannot_name(gql):
    experiment_id = await new_experiment(gql, "page")
    for _ in range(2):
        await new_run(gql, experiment_id)
    page = (await gql.ok(SEARCH, {"experimentIds": [experiment_id], "first": 0}))["runs"]
    assert page["nodes"] == [] and page["totalCount"] == 2
    assert page["pageInfo"] == {"endCursor": None, "hasNextPage": False}
    table = await gql.ok(
        "query($e: [ID!]) { runTable(experimentIds: $e, first: 0) { pageInfo { endCursor hasNextPage } } }",
        {"e": [experiment_id]},
    )
    assert table["runTable"]["pageInfo"] == {"endCursor": None, "hasNextPage": False}
    experiments = await gql.ok("{ experiments(first: 0) { pageInfo { endCursor hasNextPage } } }")
    assert experiments["experiments"]["pageInfo"]["hasNextPage"] is False


def test_structure_inside_strings_is_not_counted_even_with_escapes():
    from mltrail_server.config import Settings
    from mltrail_server.http.request_bounds import BodyRefused, measure_body

    settings = Settings(max_request_containers=3, max_request_elements=8, max_request_depth=2)
    # Escaped quotes and backslashes must not flip what counts as "inside a string".
    tricky = rb'{"a": "x[\"]{[", "b": [1, 2, "\\"], "c": "{,}\\\"[[[", "d": "\u0000"}'
    shape = measure_body(tricky, settings)
    assert (shape.containers, shape.elements, shape.may_contain_nul) == (2, 7, True)
    with pytest.raises(BodyRefused, match="nests 3 levels"):
        measure_body(b'{"a": [[1], "]]]"], "b": "[[["}', Settings(max_request_depth=2, max_request_containers=3))
