"""The model registry through GraphQL, on SQLite and PostgreSQL: versions, stages, aliases,
the append-only history, versionAt, approvals, lineage and bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text

from fixtures.documents import new_experiment

MLMODEL = b"artifact_path: model\nflavors:\n  python_function:\n    loader_module: mltrail.models\n"


class Actor:
    """GraphQL calls made as one user (the X-Mltrail-User header)."""

    def __init__(self, http: Any, user: str | None) -> None:
        self.http = http
        self.headers = {"X-Mltrail-User": user} if user else {}

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        return response.json()

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None, *, code: str) -> str:
        body = await self.raw(query, variables)
        assert body.get("errors"), f"expected {code}, got {body}"
        assert body["errors"][0]["extensions"]["code"] == code, body["errors"]
        return body["errors"][0]["message"]


CREATE_RUN = """mutation($e: ID!, $c: String) {
  createRun(experimentId: $e, source: {gitCommit: $c}) { id } }"""
LOG_INPUTS = "mutation($r: ID!, $d: [DatasetSpec!]!) { logInputs(runId: $r, datasets: $d) { id } }"
CREATE_VERSION = """mutation($n: String!, $s: String!, $r: ID, $t: [TagInput!], $d: String) {
  createModelVersion(name: $n, source: $s, runId: $r, tags: $t, description: $d) {
    name version stage source runId gitCommit createdBy datasets { name digest context } } }"""
TRANSITION = """mutation($n: String!, $v: Int!, $s: Stage!, $c: String, $a: Boolean!) {
  transitionModelVersionStage(name: $n, version: $v, stage: $s, comment: $c, archiveExisting: $a) {
    version stage } }"""
SET_ALIAS = """mutation($n: String!, $a: String!, $v: Int!, $c: String) {
  setModelVersionAlias(name: $n, alias: $a, version: $v, comment: $c) { version aliases } }"""
MODEL = """query($n: String!) { registeredModel(name: $n) {
  name createdBy aliases { alias version } versions { version stage aliases }
  latestVersions { version stage }
  history { kind version fromStage toStage alias fromVersion toVersion user comment timestamp } } }"""
VERSION_AT = """query($n: String!, $t: Long!, $s: Stage, $a: String) {
  registeredModel(name: $n) { versionAt(time: $t, stage: $s, alias: $a) { version } } }"""


async def make_run(actor: Actor, http: Any, *, commit: str = "c0ffee", with_model: bool = True) -> str:
    eid = await new_experiment(actor, f"e-{commit}")
    rid = (await actor.ok(CREATE_RUN, {"e": eid, "c": commit}))["createRun"]["id"]
    if with_model:
        response = await http.put(f"/api/artifacts/{rid}/model/MLmodel", content=MLMODEL)
        assert response.status_code in (200, 201), response.text
    return rid


async def version_at(actor: Actor, time: int, **target: Any) -> int | None:
    variables = {"n": "Churn", "t": time, "s": target.get("stage"), "a": target.get("alias")}
    found = (await actor.ok(VERSION_AT, variables))["registeredModel"]["versionAt"]
    return found["version"] if found else None


async def tick() -> None:
    await asyncio.sleep(0.005)  # distinct millisecond timestamps between changes


async def test_lifecycle_history_and_version_at(client):
    alice = Actor(client, "alice")
    r1 = await make_run(alice, client, commit="aaa111")
    await alice.ok(LOG_INPUTS, {"r": r1, "d": [{"name": "train", "digest": "d1", "context": "train"}]})
    r2 = await make_run(alice, client, commit="bbb222")

    v1 = (await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"runs:/{r1}/model", "t": [{"key": "k", "value": "1"}]}))
    v1 = v1["createModelVersion"]
    assert v1 == {
        "name": "Churn", "version": 1, "stage": "NONE", "source": f"runs:/{r1}/model", "runId": r1,
        "gitCommit": "aaa111", "createdBy": "alice",
        "datasets": [{"name": "train", "digest": "d1", "context": "train"}],
    }  # fmt: skip
    await tick()
    root = (await alice.ok("query($r: ID!) { run(id: $r) { artifactUri } }", {"r": r2}))["run"]["artifactUri"]
    v2 = (await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"{root}/model", "r": r2}))["createModelVersion"]
    assert v2["version"] == 2 and v2["source"] == f"{root}/model" and v2["runId"] == r2  # an artifact URI works too
    # Lineage is a copy: datasets logged later do not change version 1.
    await alice.ok(LOG_INPUTS, {"r": r1, "d": [{"name": "late", "digest": "d2"}]})

    await tick()
    await alice.ok(TRANSITION, {"n": "Churn", "v": 1, "s": "STAGING", "c": "looks good", "a": False})
    await tick()
    await alice.ok(TRANSITION, {"n": "Churn", "v": 1, "s": "PRODUCTION", "c": "ship it", "a": True})
    await tick()
    await alice.ok(SET_ALIAS, {"n": "Churn", "a": "champion", "v": 1, "c": "first champion"})
    await tick()
    await alice.ok(TRANSITION, {"n": "Churn", "v": 2, "s": "PRODUCTION", "c": "v2 better", "a": True})
    moved = (await alice.ok(SET_ALIAS, {"n": "Churn", "a": "champion", "v": 2}))["setModelVersionAlias"]
    assert moved == {"version": 2, "aliases": ["champion"]}
    await tick()
    # Rollback: the older version back to Production, archiving version 2.
    bob = Actor(client, "bob")
    await bob.ok(TRANSITION, {"n": "Churn", "v": 1, "s": "PRODUCTION", "c": "rollback: v2 drifts", "a": True})

    model = (await alice.ok(MODEL, {"n": "Churn"}))["registeredModel"]
    assert model["createdBy"] == "alice" and model["aliases"] == [{"alias": "champion", "version": 2}]
    assert model["versions"] == [
        {"version": 2, "stage": "ARCHIVED", "aliases": ["champion"]},
        {"version": 1, "stage": "PRODUCTION", "aliases": []},
    ]
    history = model["history"]
    summary = [(h["kind"], h["version"], h["fromStage"], h["toStage"], h["alias"], h["user"], h["comment"]) for h in history]
    assert summary == [
        ("MODEL_CREATED", None, None, None, None, "alice", None),
        ("VERSION_CREATED", 1, None, "NONE", None, "alice", None),
        ("VERSION_CREATED", 2, None, "NONE", None, "alice", None),
        ("STAGE_CHANGED", 1, "NONE", "STAGING", None, "alice", "looks good"),
        ("STAGE_CHANGED", 1, "STAGING", "PRODUCTION", None, "alice", "ship it"),
        ("ALIAS_SET", 1, None, None, "champion", "alice", "first champion"),
        ("STAGE_CHANGED", 1, "PRODUCTION", "ARCHIVED", None, "alice", "archived: version 2 moved to PRODUCTION (v2 better)"),
        ("STAGE_CHANGED", 2, "NONE", "PRODUCTION", None, "alice", "v2 better"),
        ("ALIAS_MOVED", 2, None, None, "champion", "alice", None),
        ("STAGE_CHANGED", 2, "PRODUCTION", "ARCHIVED", None, "bob", "archived: version 1 moved to PRODUCTION (rollback: v2 drifts)"),
        ("STAGE_CHANGED", 1, "ARCHIVED", "PRODUCTION", None, "bob", "rollback: v2 drifts"),
    ]  # fmt: skip
    assert history[8]["fromVersion"] == 1 and history[8]["toVersion"] == 2
    times = [h["timestamp"] for h in history]
    assert times == sorted(times)

    # versionAt replays the log: before anything, after each step, and now.
    at = {kind_index: times[kind_index] for kind_index in range(len(times))}
    assert await version_at(alice, times[0] - 1, stage="PRODUCTION") is None
    assert await version_at(alice, at[3], stage="STAGING") == 1
    assert await version_at(alice, at[3], stage="PRODUCTION") is None
    assert await version_at(alice, at[5], stage="PRODUCTION") == 1
    assert await version_at(alice, at[8], stage="PRODUCTION") == 2
    assert await version_at(alice, at[10], stage="PRODUCTION") == 1
    assert await version_at(alice, at[10], stage="ARCHIVED") == 2
    assert await version_at(alice, at[4], alias="champion") is None
    assert await version_at(alice, at[5], alias="champion") == 1
    assert await version_at(alice, at[10], alias="champion") == 2

    # Lineage both ways, and the version's own history (the alias moving away from v1 included).
    lineage = await alice.ok(
        """query($r: ID!) { run(id: $r) { modelVersions { name version datasets { name } run { id } } } }""",
        {"r": r1},
    )
    assert lineage["run"]["modelVersions"] == [{"name": "Churn", "version": 1, "datasets": [{"name": "train"}], "run": {"id": r1}}]
    v1_history = await alice.ok(
        'query { modelVersion(name: "Churn", version: 1) { tags { key value } history { kind } } }'
    )
    kinds = [h["kind"] for h in v1_history["modelVersion"]["history"]]
    assert kinds.count("ALIAS_MOVED") == 1 and kinds[0] == "VERSION_CREATED" and "ALIAS_SET" in kinds
    assert v1_history["modelVersion"]["tags"] == [{"key": "k", "value": "1"}]

    # Resolution as load_model uses it.
    for args, expected in (("stage: PRODUCTION", 1), ('alias: "champion"', 2), ("", 2), ("version: 1", 1)):
        found = await alice.ok(f'query {{ modelVersion(name: "Churn" {", " + args if args else ""}) {{ version }} }}')
        assert found["modelVersion"]["version"] == expected, args

    # Search versions by run, stage, alias and tag.
    search = "{ q: modelVersions(%s) { totalCount nodes { version } } }"
    for args, expected in (
        (f'runId: "{r2}"', [2]),
        ("stage: PRODUCTION", [1]),
        ('alias: "champion"', [2]),
        ('tags: [{key: "k", value: "1"}]', [1]),
        ('name: "Churn"', [2, 1]),
    ):
        found = (await alice.ok(search % args))["q"]
        assert [n["version"] for n in found["nodes"]] == expected and found["totalCount"] == len(expected), args

    # Delete the alias, then version 2: both recorded, versionAt still answers for the past.
    await alice.ok('mutation { deleteModelVersionAlias(name: "Churn", alias: "champion", comment: "retired") }')
    await alice.ok('mutation { deleteModelVersion(name: "Churn", version: 2) }')
    model = (await alice.ok(MODEL, {"n": "Churn"}))["registeredModel"]
    assert [h["kind"] for h in model["history"][-2:]] == ["ALIAS_DELETED", "VERSION_DELETED"]
    assert model["aliases"] == [] and [v["version"] for v in model["versions"]] == [1]
    assert await version_at(alice, at[10], alias="champion") == 2
    assert await version_at(alice, model["history"][-1]["timestamp"], alias="champion") is None
    # Numbers are never reused.
    v3 = await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"runs:/{r2}/model"})
    assert v3["createModelVersion"]["version"] == 3


async def test_registered_models_filter_and_pages(client):
    alice = Actor(client, None)
    rid = await make_run(alice, client)
    for name in ("churn-a", "churn-b", "fraud"):
        await alice.ok(CREATE_VERSION, {"n": name, "s": f"runs:/{rid}/model"})
    await alice.ok('mutation { setRegisteredModelTag(name: "fraud", key: "team", value: "risk") { key } }')
    page = 'query($f: String, $a: String) { registeredModels(filter: $f, first: 2, after: $a) { totalCount pageInfo { endCursor hasNextPage } nodes { name createdBy } } }'
    first = (await alice.ok(page, {}))["registeredModels"]
    assert [n["name"] for n in first["nodes"]] == ["churn-a", "churn-b"] and first["pageInfo"]["hasNextPage"]
    assert first["nodes"][0]["createdBy"] == "anonymous" and first["totalCount"] == 3
    rest = (await alice.ok(page, {"a": first["pageInfo"]["endCursor"]}))["registeredModels"]
    assert [n["name"] for n in rest["nodes"]] == ["fraud"] and not rest["pageInfo"]["hasNextPage"]
    liked = (await alice.ok(page, {"f": "name LIKE 'churn%'"}))["registeredModels"]
    assert liked["totalCount"] == 2
    tagged = (await alice.ok(page, {"f": "tags.team = 'risk'"}))["registeredModels"]
    assert [n["name"] for n in tagged["nodes"]] == ["fraud"]
    message = await alice.error(page, {"f": "params.x = 'y'"}, code="INVALID_ARGUMENT")
    assert "registered models can be filtered by tags and attributes only" in message


APPROVALS = """query($n: String!, $u: String) {
  transitionRequests(name: $n) { id version stage requestedBy status }
  mine: transitionRequests(requestedBy: $u) { id name }
  registeredModel(name: $n) { pendingRequests { id } history { kind user comment requestId } } }"""


async def test_approvals(client):
    alice, bob = Actor(client, "alice"), Actor(client, "bob")
    rid = await make_run(alice, client)
    await alice.ok(
        'mutation { createRegisteredModel(name: "Churn", protectedStages: [PRODUCTION], protectedAliases: ["champion"]) { name protectedStages protectedAliases } }'
    )
    await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"runs:/{rid}/model"})
    message = await alice.error(TRANSITION, {"n": "Churn", "v": 1, "s": "PRODUCTION", "a": False}, code="PERMISSION_DENIED")
    assert "stage: 'PRODUCTION' is protected" in message and "requestTransition" in message
    await alice.error(SET_ALIAS, {"n": "Churn", "a": "champion", "v": 1}, code="PERMISSION_DENIED")
    message = await alice.error(
        'mutation { deleteModelVersionAlias(name: "Churn", alias: "champion") }', code="PERMISSION_DENIED"
    )
    assert "no longer protected" in message
    # Staging is not protected.
    await alice.ok(TRANSITION, {"n": "Churn", "v": 1, "s": "STAGING", "a": False})

    request = 'mutation($s: Stage, $a: String) { requestTransition(name: "Churn", version: 1, stage: $s, alias: $a, comment: "please") { id status requestedBy } }'
    asked = (await alice.ok(request, {"s": "PRODUCTION"}))["requestTransition"]
    assert asked["status"] == "PENDING" and asked["requestedBy"] == "alice"
    await alice.error(request, {"s": "PRODUCTION"}, code="CONFLICT")  # one pending request per target
    alias_request = (await alice.ok(request, {"a": "champion"}))["requestTransition"]

    listed = await bob.ok(APPROVALS, {"n": "Churn", "u": "alice"})
    assert [(r["stage"], r["requestedBy"], r["status"]) for r in listed["transitionRequests"]] == [
        ("PRODUCTION", "alice", "PENDING"), (None, "alice", "PENDING")
    ]  # fmt: skip
    assert [r["name"] for r in listed["mine"]] == ["Churn", "Churn"]
    assert len(listed["registeredModel"]["pendingRequests"]) == 2

    approve = 'mutation($id: ID!, $c: String) { approveTransition(id: $id, comment: $c) { status decidedBy decisionComment } }'
    reject = 'mutation($id: ID!, $c: String) { rejectTransition(id: $id, comment: $c) { status decidedBy } }'
    message = await alice.error(approve, {"id": asked["id"]}, code="PERMISSION_DENIED")
    assert "'alice' opened transition request" in message and "cannot approve" in message
    stage = 'query { modelVersion(name: "Churn", version: 1) { stage aliases } }'
    assert (await bob.ok(stage))["modelVersion"] == {"stage": "STAGING", "aliases": []}

    decided = (await bob.ok(approve, {"id": asked["id"], "c": "approved after review"}))["approveTransition"]
    assert decided == {"status": "APPROVED", "decidedBy": "bob", "decisionComment": "approved after review"}
    await bob.error(approve, {"id": asked["id"]}, code="CONFLICT")  # decided once
    rejected = (await bob.ok(reject, {"id": alias_request["id"], "c": "not yet"}))["rejectTransition"]
    assert rejected == {"status": "REJECTED", "decidedBy": "bob"}
    assert (await bob.ok(stage))["modelVersion"] == {"stage": "PRODUCTION", "aliases": []}

    after = await bob.ok(APPROVALS, {"n": "Churn", "u": "alice"})
    assert after["transitionRequests"] == [] and after["registeredModel"]["pendingRequests"] == []
    tail = [(h["kind"], h["user"]) for h in after["registeredModel"]["history"]][-5:]
    assert tail == [
        ("TRANSITION_REQUESTED", "alice"), ("TRANSITION_REQUESTED", "alice"), ("TRANSITION_APPROVED", "bob"),
        ("STAGE_CHANGED", "bob"), ("TRANSITION_REJECTED", "bob"),
    ]  # fmt: skip
    moved = [h for h in after["registeredModel"]["history"] if h["kind"] == "STAGE_CHANGED"][-1]
    assert moved["requestId"] == asked["id"] and "approved request" in moved["comment"]


async def test_bad_input_names_field_and_value(client):
    alice = Actor(client, "alice")
    rid = await make_run(alice, client)
    empty = await make_run(alice, client, commit="e", with_model=False)
    await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"runs:/{rid}/model"})

    async def error(query: str, code: str, *needles: str, variables: dict | None = None) -> None:
        message = await alice.error(query, variables, code=code)
        for needle in needles:
            assert needle in message, message

    await error('{ registeredModel(name: "Nope") { name } }', "NOT_FOUND", "name", "'Nope'")
    await error('{ modelVersion(name: "Churn", version: 9) { version } }', "NOT_FOUND", "version", "9")
    await error('{ modelVersion(name: "Churn", alias: "ghost") { version } }', "NOT_FOUND", "alias", "'ghost'")
    await error('{ modelVersion(name: "Churn", stage: PRODUCTION) { version } }', "NOT_FOUND", "PRODUCTION")
    await error('mutation { transitionModelVersionStage(name: "Churn", version: 9, stage: STAGING) { version } }',
                "NOT_FOUND", "version", "9")  # fmt: skip
    # An invalid stage is refused by GraphQL's own enum validation, naming the value.
    body = await alice.raw('mutation { transitionModelVersionStage(name: "Churn", version: 1, stage: LIVE) { version } }')
    assert "LIVE" in body["errors"][0]["message"] and "Stage" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    await error(SET_ALIAS, "NOT_FOUND", "version", "7", variables={"n": "Churn", "a": "champion", "v": 7})
    await error(SET_ALIAS, "INVALID_ARGUMENT", "alias", "'v3'", variables={"n": "Churn", "a": "v3", "v": 1})
    await error(SET_ALIAS, "INVALID_ARGUMENT", "alias", "'latest'", variables={"n": "Churn", "a": "latest", "v": 1})
    for bad in ("bad/name", "a@b", "", " lead", "x:y"):
        await error(CREATE_VERSION, "INVALID_ARGUMENT", "name", repr(bad), variables={"n": bad, "s": f"runs:/{rid}/model"})
    await error(CREATE_VERSION, "INVALID_ARGUMENT", "source", "no MLmodel", variables={"n": "Churn", "s": f"runs:/{empty}/model"})
    await error(CREATE_VERSION, "INVALID_ARGUMENT", "source", "no MLmodel", variables={"n": "Churn", "s": f"runs:/{rid}/elsewhere"})
    for source in ("models:/Churn/1", "runs:/nothex/model", "s3://bucket/x", "runs:/" + "a" * 32 + "/../../etc"):
        await error(CREATE_VERSION, "INVALID_ARGUMENT", "source", variables={"n": "Churn", "s": source})
    await error(CREATE_VERSION, "NOT_FOUND", "runId", variables={"n": "Churn", "s": "runs:/" + "a" * 32 + "/model"})
    await error('{ registeredModel(name: "Churn") { versionAt(time: 1) { version } } }', "INVALID_ARGUMENT", "stage", "alias")
    await error('mutation { createRegisteredModel(name: "Churn") { name } }', "CONFLICT", "name", "'Churn'")
    await error('{ modelVersion(name: "Churn", version: 1, stage: NONE) { version } }', "INVALID_ARGUMENT", "at most one")
    # A failed registration writes nothing: no version, no number used.
    found = await alice.ok('{ registeredModel(name: "Churn") { versions { version } history { kind } } }')
    assert [v["version"] for v in found["registeredModel"]["versions"]] == [1]
    assert [h["kind"] for h in found["registeredModel"]["history"]] == ["MODEL_CREATED", "VERSION_CREATED"]


async def test_changes_cannot_be_updated_or_deleted(app, client):
    alice = Actor(client, "alice")
    rid = await make_run(alice, client)
    await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"runs:/{rid}/model"})
    db = app.state.resources.db
    for statement in ("UPDATE registry_changes SET \"user\" = 'mallory'", "DELETE FROM registry_changes"):
        with pytest.raises(Exception, match="append-only"):
            async with db.write_engine.begin() as conn:
                await conn.execute(text(statement))
    async with db.read_engine.connect() as conn:
        users = (await conn.execute(text('SELECT "user" FROM registry_changes'))).scalars().all()
    assert users == ["alice", "alice"]


VERSIONS_PAGE = """{ modelVersions(first: 100) { nodes { name version aliases tags { key } history { kind }
  run { id modelVersions { version } } } } registeredModels { nodes { name aliases { alias } tags { key }
  versions { version } latestVersions { version } history { kind } pendingRequests { id } } } }"""


async def test_registry_pages_cost_a_fixed_number_of_statements(app, client):
    alice = Actor(client, "alice")
    engine = app.state.resources.db.read_engine.sync_engine

    async def count() -> int:
        statements: list[str] = []

        def remember(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", remember)
        try:
            data = await alice.ok(VERSIONS_PAGE)
        finally:
            event.remove(engine, "before_cursor_execute", remember)
        assert data["modelVersions"]["nodes"]
        return len(statements)

    rid = await make_run(alice, client)
    await alice.ok(CREATE_VERSION, {"n": "m0", "s": f"runs:/{rid}/model"})
    small = await count()
    for i in range(1, 12):
        run = await make_run(alice, client, commit=f"c{i}")
        await alice.ok(CREATE_VERSION, {"n": f"m{i % 4}", "s": f"runs:/{run}/model", "t": [{"key": "k", "value": "v"}]})
        await alice.ok(SET_ALIAS, {"n": f"m{i % 4}", "a": f"a{i}", "v": 1})
    assert await count() == small


TABLE = """query($n: String, $a: String, $first: Int, $after: String) {
  modelVersionTable(name: $n, alias: $a, first: $first, after: $after) {
    names versions stages sources runIds gitCommits createdBys aliases tags pageInfo { endCursor hasNextPage } } }"""


async def test_version_table_is_the_search_as_columns(client):
    alice = Actor(client, "alice")
    rid = await make_run(alice, client, commit="abc")
    for _ in range(3):
        await alice.ok(CREATE_VERSION, {"n": "Churn", "s": f"runs:/{rid}/model", "t": [{"key": "k", "value": "v"}]})
    await alice.ok(CREATE_VERSION, {"n": "Other", "s": f"runs:/{rid}/model"})
    await alice.ok(SET_ALIAS, {"n": "Churn", "a": "champion", "v": 2})
    await alice.ok(SET_ALIAS, {"n": "Churn", "a": "backup", "v": 2})
    page = (await alice.ok(TABLE, {"n": "Churn", "first": 2}))["modelVersionTable"]
    assert page["versions"] == [3, 2] and page["names"] == ["Churn", "Churn"] and page["pageInfo"]["hasNextPage"]
    assert page["aliases"] == [[], ["backup", "champion"]] and page["tags"] == [{"k": "v"}, {"k": "v"}]
    assert page["runIds"] == [rid, rid] and page["gitCommits"] == ["abc", "abc"] and page["createdBys"] == ["alice"] * 2
    rest = (await alice.ok(TABLE, {"n": "Churn", "first": 2, "after": page["pageInfo"]["endCursor"]}))["modelVersionTable"]
    assert rest["versions"] == [1] and rest["aliases"] == [[]] and not rest["pageInfo"]["hasNextPage"]
    everything = (await alice.ok(TABLE, {}))["modelVersionTable"]
    assert list(zip(everything["names"], everything["versions"], strict=True)) == [
        ("Other", 1), ("Churn", 3), ("Churn", 2), ("Churn", 1)
    ]  # fmt: skip
    assert everything["tags"][0] == {} and everything["aliases"][0] == []
    by_alias = (await alice.ok(TABLE, {"a": "champion"}))["modelVersionTable"]
    assert by_alias["versions"] == [2]
