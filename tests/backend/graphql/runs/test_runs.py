"""Runs: lifecycle, nesting, idempotent creation, tags, datasets, source and environment."""

from __future__ import annotations

import uuid

from fixtures.documents import CREATE_RUN, LOG_BATCH, new_experiment, new_run

RUN = """query($id: ID!) { run(id: $id) {
  id name status startTime endTime duration user parentId deleted
  parent { id } children { id }
  tags { key value } params { key value }
  source { entryPoint gitCommit gitBranch gitDirty gitRemote } environment
  inputs { name digest source sourceType schema profile context }
  experiment { id name }
} }"""


async def test_create_update_finish(gql):
    eid = await new_experiment(gql)
    created = (await gql.ok(CREATE_RUN, {"experimentId": eid, "name": "r1", "startTime": 1000}))["createRun"]
    assert created["status"] == "RUNNING" and created["startTime"] == 1000
    assert created["artifactUri"].endswith(f"/{eid}/{created['id']}/artifacts")
    await gql.ok(
        'mutation($id: ID!){ updateRun(id: $id, status: FINISHED, endTime: 5000, name: "renamed") { id } }',
        {"id": created["id"]},
    )
    run = (await gql.ok(RUN, {"id": created["id"]}))["run"]
    assert run["status"] == "FINISHED" and run["endTime"] == 5000 and run["duration"] == 4000
    assert run["name"] == "renamed" and run["experiment"] == {"id": eid, "name": "exp"}


async def test_terminal_status_sets_end_time(gql):
    rid = await new_run(gql, await new_experiment(gql))
    got = await gql.ok(
        "mutation($id: ID!){ updateRun(id: $id, status: FAILED) { status endTime } }", {"id": rid}
    )
    assert got["updateRun"]["status"] == "FAILED" and got["updateRun"]["endTime"] is not None


async def test_end_before_start_is_invalid(gql):
    rid = await new_run(gql, await new_experiment(gql), startTime=10_000)
    await gql.error(
        "mutation($id: ID!){ updateRun(id: $id, endTime: 5) { id } }", {"id": rid}, code="INVALID_ARGUMENT"
    )


async def test_nested_runs(gql):
    eid = await new_experiment(gql)
    parent = await new_run(gql, eid, name="parent")
    kids = [await new_run(gql, eid, parentRunId=parent, name=f"kid{i}") for i in range(2)]
    run = (await gql.ok(RUN, {"id": parent}))["run"]
    assert [c["id"] for c in run["children"]] == kids
    child = (await gql.ok(RUN, {"id": kids[0]}))["run"]
    assert child["parent"] == {"id": parent} and child["parentId"] == parent


async def test_unknown_parent_and_experiment_are_not_found(gql):
    eid = await new_experiment(gql)
    await gql.error(CREATE_RUN, {"experimentId": eid, "parentRunId": "0" * 32}, code="NOT_FOUND")
    await gql.error(CREATE_RUN, {"experimentId": "4242"}, code="NOT_FOUND")
    await gql.error(RUN, {"id": "f" * 32}, code="NOT_FOUND")


async def test_client_chosen_run_id_is_idempotent_and_experiment_name_gets_or_creates(gql):
    run_id = uuid.uuid4().hex
    first = (await gql.ok(CREATE_RUN, {"experimentName": "offline", "runId": run_id, "name": "a"}))[
        "createRun"
    ]
    again = (await gql.ok(CREATE_RUN, {"experimentName": "offline", "runId": run_id, "name": "a"}))[
        "createRun"
    ]
    assert first["id"] == again["id"] == run_id and first["experimentId"] == again["experimentId"]
    runs = await gql.ok("{ runs { totalCount } }")
    assert runs["runs"]["totalCount"] == 1
    await gql.error(CREATE_RUN, {"experimentName": "offline", "runId": "not-hex"}, code="INVALID_ARGUMENT")
    other = await new_experiment(gql, "other")
    await gql.error(CREATE_RUN, {"experimentId": other, "runId": run_id}, code="CONFLICT")


async def test_delete_restore_and_logging_to_deleted_run(gql):
    rid = await new_run(gql, await new_experiment(gql))
    await gql.ok("mutation($id: ID!){ deleteRun(id: $id) { deleted } }", {"id": rid})
    assert (await gql.ok("{ runs { totalCount } }"))["runs"]["totalCount"] == 0
    deleted = await gql.ok("{ runs(viewType: DELETED) { nodes { id } } }")
    assert deleted["runs"]["nodes"] == [{"id": rid}]
    message = await gql.error(
        LOG_BATCH, {"runId": rid, "params": [{"key": "a", "value": "1"}]}, code="INVALID_ARGUMENT"
    )
    assert rid in message and "deleted" in message
    await gql.ok("mutation($id: ID!){ restoreRun(id: $id) { deleted } }", {"id": rid})
    await gql.ok(LOG_BATCH, {"runId": rid, "params": [{"key": "a", "value": "1"}]})


async def test_logging_to_run_of_deleted_experiment_is_refused(gql):
    eid = await new_experiment(gql)
    rid = await new_run(gql, eid)
    await gql.ok("mutation($id: ID!){ deleteExperiment(id: $id) { id } }", {"id": eid})
    await gql.error(LOG_BATCH, {"runId": rid, "tags": [{"key": "a", "value": "1"}]}, code="INVALID_ARGUMENT")
    await gql.error(CREATE_RUN, {"experimentId": eid}, code="INVALID_ARGUMENT")


async def test_tags_are_mutable_and_deletable(gql):
    rid = await new_run(gql, await new_experiment(gql), tags=[{"key": "a", "value": "1"}])
    await gql.ok('mutation($id: ID){ setTag(runId: $id, key: "a", value: "2") { value } }', {"id": rid})
    await gql.ok('mutation($id: ID){ setTag(runId: $id, key: "b", value: "3") { value } }', {"id": rid})
    await gql.ok('mutation($id: ID){ deleteTag(runId: $id, key: "b") }', {"id": rid})
    run = (await gql.ok(RUN, {"id": rid}))["run"]
    assert run["tags"] == [{"key": "a", "value": "2"}]
    await gql.error('mutation($id: ID){ deleteTag(runId: $id, key: "zz") }', {"id": rid}, code="NOT_FOUND")
    await gql.error('mutation{ setTag(key: "a", value: "b") { key } }', code="INVALID_ARGUMENT")


async def test_source_environment_and_datasets(gql):
    eid = await new_experiment(gql)
    created = await gql.ok(
        """mutation($eid: ID!, $env: JSON) { createRun(experimentId: $eid, user: "ada",
             source: {entryPoint: "train.py", gitCommit: "abc123", gitBranch: "main", gitDirty: true,
                      gitRemote: "git@example.com:x.git"}, environment: $env) { id user } }""",
        {"eid": eid, "env": {"python": "3.11.7", "packages": ["numpy==2.0"]}},
    )
    rid = created["createRun"]["id"]
    assert created["createRun"]["user"] == "ada"
    datasets = [
        {
            "name": "train",
            "digest": "d1",
            "source": "s3://b/train.csv",
            "sourceType": "s3",
            "schema": {"cols": ["a", "b"]},
            "context": "train",
        },
        {"name": "eval", "digest": "d2", "context": "eval"},
    ]
    for _ in range(2):  # logging the same datasets twice keeps one copy
        await gql.ok(
            "mutation($id: ID!, $d: [DatasetSpec!]!){ logInputs(runId: $id, datasets: $d) { id } }",
            {"id": rid, "d": datasets},
        )
    run = (await gql.ok(RUN, {"id": rid}))["run"]
    assert run["source"] == {
        "entryPoint": "train.py",
        "gitCommit": "abc123",
        "gitBranch": "main",
        "gitDirty": True,
        "gitRemote": "git@example.com:x.git",
    }
    assert run["environment"] == {"python": "3.11.7", "packages": ["numpy==2.0"]}
    assert [d["name"] for d in run["inputs"]] == ["train", "eval"]
    assert run["inputs"][0]["schema"] == {"cols": ["a", "b"]} and run["inputs"][1]["source"] is None


async def test_create_run_with_params_in_one_call(gql):
    eid = await new_experiment(gql)
    run_id = uuid.uuid4().hex
    params = [{"key": "lr", "value": "0.01"}, {"key": "layers", "value": "4"}]
    await gql.ok(CREATE_RUN, {"experimentId": eid, "runId": run_id, "params": params})
    run = (await gql.ok(RUN, {"id": run_id}))["run"]
    assert run["params"] == [{"key": "layers", "value": "4"}, {"key": "lr", "value": "0.01"}]
    keys = await gql.ok("query($id: ID){ experiment(id: $id) { paramKeys } }", {"id": eid})
    assert keys["experiment"]["paramKeys"] == ["layers", "lr"]
    # A replay (what an offline client sends again) is a no-op; new keys are added.
    await gql.ok(
        CREATE_RUN, {"experimentId": eid, "runId": run_id, "params": [*params, {"key": "bs", "value": "8"}]}
    )
    run = (await gql.ok(RUN, {"id": run_id}))["run"]
    assert [p["key"] for p in run["params"]] == ["bs", "layers", "lr"]
    # Params stay immutable, as with logBatch; the error names key, old and new value.
    message = await gql.error(
        CREATE_RUN,
        {"experimentId": eid, "runId": run_id, "params": [{"key": "lr", "value": "0.1"}]},
        code="CONFLICT",
    )
    assert "'lr'" in message and "'0.01'" in message and "'0.1'" in message


async def test_create_run_with_bad_params_creates_nothing(gql):
    eid = await new_experiment(gql)
    run_id = uuid.uuid4().hex
    await gql.error(
        CREATE_RUN,
        {
            "experimentId": eid,
            "runId": run_id,
            "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}],
        },
        code="CONFLICT",
    )
    message = await gql.error(
        CREATE_RUN,
        {"experimentId": eid, "runId": run_id, "params": [{"key": "", "value": "1"}]},
        code="INVALID_ARGUMENT",
    )
    assert "params[0]" in message
    too_many = [{"key": f"k{i}", "value": "1"} for i in range(2000)]
    await gql.error(CREATE_RUN, {"experimentId": eid, "params": too_many}, code="INVALID_ARGUMENT")
    await gql.error(RUN, {"id": run_id}, code="NOT_FOUND")
    assert (await gql.ok("{ runs { totalCount } }"))["runs"]["totalCount"] == 0
