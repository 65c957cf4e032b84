"""Experiments: create, rename, describe, tag, soft-delete, restore, list and keys."""

from __future__ import annotations

from fixtures.documents import CREATE_EXPERIMENT, LOG_BATCH, metrics, new_experiment, new_run


async def test_create_and_fetch_by_id_and_name(gql):
    created = (
        await gql.ok(
            CREATE_EXPERIMENT, {"name": "churn", "description": "d", "tags": [{"key": "team", "value": "a"}]}
        )
    )["createExperiment"]
    assert created["name"] == "churn" and created["description"] == "d"
    assert created["artifactLocation"].endswith(f"/{created['id']}")
    by_id = await gql.ok(
        "query($id: ID){ experiment(id: $id) { name tags { key value } runCount } }", {"id": created["id"]}
    )
    assert by_id["experiment"] == {"name": "churn", "tags": [{"key": "team", "value": "a"}], "runCount": 0}
    by_name = await gql.ok('{ experiment(name: "churn") { id } }')
    assert by_name["experiment"]["id"] == created["id"]


async def test_duplicate_name_is_conflict(gql):
    await new_experiment(gql, "dup")
    message = await gql.error(CREATE_EXPERIMENT, {"name": "dup"}, code="CONFLICT")
    assert "'dup'" in message


async def test_unknown_experiment_is_not_found(gql):
    message = await gql.error('{ experiment(id: "999") { id } }', code="NOT_FOUND")
    assert "999" in message
    await gql.error('{ experiment(id: "abc") { id } }', code="NOT_FOUND")
    await gql.error('{ experiment(name: "nope") { id } }', code="NOT_FOUND")


async def test_empty_name_is_invalid(gql):
    await gql.error(CREATE_EXPERIMENT, {"name": "  "}, code="INVALID_ARGUMENT")


async def test_rename_describe_tag_delete_restore(gql):
    eid = await new_experiment(gql, "old")
    await gql.ok(
        'mutation($id: ID!){ updateExperiment(id: $id, name: "new", description: "why") { id } }', {"id": eid}
    )
    await gql.ok('mutation($id: ID!){ setTag(experimentId: $id, key: "k", value: "v") { key } }', {"id": eid})
    got = await gql.ok(
        "query($id: ID){ experiment(id: $id) { name description tags { key value } } }", {"id": eid}
    )
    assert got["experiment"] == {"name": "new", "description": "why", "tags": [{"key": "k", "value": "v"}]}

    await gql.ok("mutation($id: ID!){ deleteExperiment(id: $id) { deleted } }", {"id": eid})
    listed = await gql.ok("{ experiments { nodes { id } totalCount } }")
    assert eid not in [n["id"] for n in listed["experiments"]["nodes"]]
    with_deleted = await gql.ok("{ experiments(includeDeleted: true) { nodes { id deleted } } }")
    assert {"id": eid, "deleted": True} in with_deleted["experiments"]["nodes"]

    await gql.ok("mutation($id: ID!){ restoreExperiment(id: $id) { deleted } }", {"id": eid})
    listed = await gql.ok("{ experiments { nodes { id } } }")
    assert eid in [n["id"] for n in listed["experiments"]["nodes"]]


async def test_rename_to_taken_name_is_conflict(gql):
    await new_experiment(gql, "a")
    b = await new_experiment(gql, "b")
    await gql.error(
        'mutation($id: ID!){ updateExperiment(id: $id, name: "a") { id } }', {"id": b}, code="CONFLICT"
    )


async def test_list_pagination_and_filter(gql):
    ids = [await new_experiment(gql, f"e{i}") for i in range(5)]
    first = await gql.ok(
        "{ experiments(first: 2) { nodes { id } pageInfo { endCursor hasNextPage } totalCount } }"
    )
    page = first["experiments"]
    assert [n["id"] for n in page["nodes"]] == ids[::-1][:2]
    assert page["pageInfo"]["hasNextPage"] and page["totalCount"] == 5
    second = await gql.ok(
        "query($a: String){ experiments(first: 10, after: $a) { nodes { id } pageInfo { hasNextPage } } }",
        {"a": page["pageInfo"]["endCursor"]},
    )
    assert [n["id"] for n in second["experiments"]["nodes"]] == ids[::-1][2:]
    assert second["experiments"]["pageInfo"]["hasNextPage"] is False
    filtered = await gql.ok(
        """{ experiments(filter: "name LIKE 'e1%' or name = 'e3'") { nodes { name } } }"""
    )
    assert sorted(n["name"] for n in filtered["experiments"]["nodes"]) == ["e1", "e3"]


async def test_keys_for_the_column_chooser_and_run_count(gql):
    eid = await new_experiment(gql)
    r1 = await new_run(gql, eid)
    r2 = await new_run(gql, eid)
    await gql.ok(
        LOG_BATCH,
        {"runId": r1, "metrics": metrics("loss", [1.0, 0.5]), "params": [{"key": "lr", "value": "0.1"}]},
    )
    await gql.ok(
        LOG_BATCH, {"runId": r2, "metrics": metrics("acc", [0.9]), "tags": [{"key": "team", "value": "x"}]}
    )
    got = await gql.ok(
        "query($id: ID){ experiment(id: $id) { runCount lastActivity paramKeys metricKeys tagKeys } }",
        {"id": eid},
    )
    exp = got["experiment"]
    assert exp["runCount"] == 2 and exp["lastActivity"] > 0
    assert exp["paramKeys"] == ["lr"]
    assert exp["metricKeys"] == ["acc", "loss"]
    assert exp["tagKeys"] == ["team"]


async def test_mutation_result_with_several_loaders_at_once(gql):
    # Sibling fields resolve concurrently; they share one session, which allows one operation
    # at a time (this failed on PostgreSQL before the request's reads were serialised).
    data = await gql.ok(
        """mutation { createExperiment(name: "many", tags: [{key: "a", value: "b"}]) {
             id tags { key } runCount lastActivity paramKeys metricKeys tagKeys } }"""
    )
    assert data["createExperiment"]["tags"] == [{"key": "a"}] and data["createExperiment"]["runCount"] == 0
    assert data["createExperiment"]["tagKeys"] == []
