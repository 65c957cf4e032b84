"""Check-then-write rules under real concurrency: eight writers at once, exactly one wins.

On PostgreSQL each mutation runs on its own pooled connection, so the writers below really
overlap inside the database; on SQLite they queue behind one writer. Both must give the same
answers: one writer is told "stored", every other one gets CONFLICT naming what is stored.
A race shows in some rounds only, hence the rounds.
"""

from __future__ import annotations

import asyncio
import re

from fixtures.documents import CREATE_EXPERIMENT, CREATE_RUN, LOG_BATCH, new_experiment, new_run

WRITERS, ROUNDS = 8, 6

UPDATE_EXPERIMENT = """mutation($id: ID!, $name: String) { updateExperiment(id: $id, name: $name) { id name } }"""
PARAMS = "query($r: ID!) { run(id: $r) { params { key value } } }"


def outcomes(bodies: list[dict]) -> tuple[list[dict], list[str]]:
    """The answers that succeeded, and the messages of the CONFLICTs; anything else fails."""
    won, conflicts = [], []
    for body in bodies:
        if not body.get("errors"):
            won.append(body["data"])
            continue
        error = body["errors"][0]
        assert error["extensions"]["code"] == "CONFLICT", body
        conflicts.append(error["message"])
    return won, conflicts


async def test_one_of_eight_writers_sets_a_param(gql):
    """logBatch and createRun replays race to give ``lr`` its first value."""
    eid = await new_experiment(gql)
    for round_ in range(ROUNDS):
        rid = await new_run(gql, eid, runId=f"{round_:032x}")

        def write(run_id: str, i: int):
            params = [{"key": "lr", "value": f"0.{i}"}]
            if i % 2:
                return gql.raw(CREATE_RUN, {"experimentId": eid, "runId": run_id, "params": params})
            return gql.raw(LOG_BATCH, {"runId": run_id, "params": params})

        won, conflicts = outcomes(await asyncio.gather(*(write(rid, i) for i in range(WRITERS))))
        stored = (await gql.ok(PARAMS, {"r": rid}))["run"]["params"]
        assert len(stored) == 1 and len(won) == 1 and len(conflicts) == WRITERS - 1, (won, stored)
        value = stored[0]["value"]
        assert all(f"already '{value}'" in message for message in conflicts), (value, conflicts)


async def test_one_of_eight_writers_takes_an_experiment_name(gql):
    """createExperiment and renames race for one name."""
    for round_ in range(ROUNDS):
        name = f"taken-{round_}"
        others = [await new_experiment(gql, f"r{round_}-{i}") for i in range(WRITERS // 2)]
        writes = [gql.raw(CREATE_EXPERIMENT, {"name": name}) for _ in range(WRITERS // 2)]
        writes += [gql.raw(UPDATE_EXPERIMENT, {"id": e, "name": name}) for e in others]
        won, conflicts = outcomes(await asyncio.gather(*writes))
        assert len(won) == 1 and len(conflicts) == WRITERS - 1, (won, conflicts)
        assert all(re.search(f"name: an experiment named '{name}' already exists", c) for c in conflicts)


async def test_eight_create_runs_by_a_new_experiment_name_share_one_experiment(gql):
    """get-or-create: whoever creates the experiment, every run lands in that one."""
    for round_ in range(ROUNDS // 2):
        runs = await asyncio.gather(
            *(gql.ok(CREATE_RUN, {"experimentName": f"fresh-{round_}"}) for _ in range(WRITERS))
        )
        assert len({r["createRun"]["experimentId"] for r in runs}) == 1
