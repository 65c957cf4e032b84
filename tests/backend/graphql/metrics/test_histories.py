"""metricHistories: many runs and keys in one call, columnar, downsampled on request."""

from __future__ import annotations

import math

from fixtures.documents import HISTORIES, LOG_BATCH, new_experiment, new_run


async def test_many_runs_and_keys_in_one_call(gql):
    eid = await new_experiment(gql)
    runs = [await new_run(gql, eid) for _ in range(3)]
    for i, rid in enumerate(runs):
        await gql.ok(
            LOG_BATCH,
            {
                "runId": rid,
                "metrics": {
                    "keys": ["a"] * 5 + ["b"] * 5,
                    "values": [float(i * 10 + j) for j in range(10)],
                    "steps": list(range(5)) * 2,
                    "timestamps": list(range(10)),
                },
            },
        )
    series = (await gql.ok(HISTORIES, {"runIds": runs, "keys": ["b"]}))["metricHistories"]
    assert [(s["runId"], s["key"]) for s in series] == [(r, "b") for r in runs]
    assert series[2]["values"] == [25.0, 26.0, 27.0, 28.0, 29.0] and series[2]["steps"] == [0, 1, 2, 3, 4]
    assert all(not s["downsampled"] and s["totalPoints"] == 5 for s in series)
    everything = (await gql.ok(HISTORIES, {"runIds": runs[:1]}))["metricHistories"]
    assert [s["key"] for s in everything] == ["a", "b"]


async def test_unknown_run_is_not_found(gql):
    await gql.error(HISTORIES, {"runIds": ["0" * 32]}, code="NOT_FOUND")


async def test_downsampling_keeps_edges_and_extremes(gql):
    rid = await new_run(gql, await new_experiment(gql))
    n = 5000
    values = [math.sin(i / 50.0) for i in range(n)]
    values[1234] = 50.0  # a one-step spike a chart must not lose
    values[4321] = -50.0
    await gql.ok(
        LOG_BATCH,
        {
            "runId": rid,
            "metrics": {
                "keys": ["s"] * n,
                "values": values,
                "steps": list(range(n)),
                "timestamps": list(range(n)),
            },
        },
    )
    series = (await gql.ok(HISTORIES, {"runIds": [rid], "maxPoints": 200}))["metricHistories"][0]
    assert series["downsampled"] is True and series["totalPoints"] == n
    assert len(series["steps"]) <= 200
    assert series["steps"][0] == 0 and series["steps"][-1] == n - 1
    assert series["steps"] == sorted(series["steps"])
    assert 50.0 in series["values"] and -50.0 in series["values"]
    assert series["steps"][series["values"].index(50.0)] == 1234


async def test_step_range_zooms_in(gql):
    rid = await new_run(gql, await new_experiment(gql))
    n = 1000
    await gql.ok(
        LOG_BATCH,
        {
            "runId": rid,
            "metrics": {
                "keys": ["z"] * n,
                "values": [float(i) for i in range(n)],
                "steps": list(range(n)),
                "timestamps": list(range(n)),
            },
        },
    )
    zoom = (await gql.ok(HISTORIES, {"runIds": [rid], "minStep": 100, "maxStep": 149, "maxPoints": 100}))[
        "metricHistories"
    ][0]
    assert (
        zoom["downsampled"] is False and zoom["steps"] == list(range(100, 150)) and zoom["totalPoints"] == 50
    )
    coarse = (await gql.ok(HISTORIES, {"runIds": [rid], "minStep": 100, "maxStep": 899, "maxPoints": 50}))[
        "metricHistories"
    ][0]
    assert coarse["downsampled"] and coarse["steps"][0] == 100 and coarse["steps"][-1] == 899


async def test_too_small_max_points_is_invalid(gql):
    rid = await new_run(gql, await new_experiment(gql))
    await gql.error(HISTORIES, {"runIds": [rid], "maxPoints": 1}, code="INVALID_ARGUMENT")


async def test_downsampled_series_never_exceeds_max_points(gql):
    rid = await new_run(gql, await new_experiment(gql))
    n = 3000
    # Scrambled values: the first and last points are not their buckets' extremes, so nothing
    # coincides and every bucket contributes two points beside the two edges.
    values = [((i * 7919) % 1000) / 1000 for i in range(n)]
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": {
        "keys": ["r"] * n, "values": values, "steps": list(range(n)), "timestamps": list(range(n))}})
    for max_points in (100, 101, 1000):
        series = (await gql.ok(HISTORIES, {"runIds": [rid], "maxPoints": max_points}))["metricHistories"][0]
        assert max_points - 4 <= len(series["steps"]) <= max_points


async def test_points_come_back_by_step_with_ties_in_logged_order(gql):
    """Steps out of order within a batch and a resumed run logging steps again."""
    rid = await new_run(gql, await new_experiment(gql))
    first = {"keys": ["m", "x", "m", "m"], "values": [2.0, 9.0, 0.0, 1.0], "steps": [2, 0, 0, 1], "timestamps": [1, 1, 1, 1]}
    resumed = {"keys": ["m", "m"], "values": [10.0, 20.0], "steps": [1, 2], "timestamps": [2, 2]}
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": first})
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": resumed})
    (m,) = (await gql.ok(HISTORIES, {"runIds": [rid], "keys": ["m"]}))["metricHistories"]
    assert m["steps"] == [0, 1, 1, 2, 2] and m["values"] == [0.0, 1.0, 10.0, 2.0, 20.0]
    assert m["timestamps"] == [1, 1, 2, 1, 2] and m["totalPoints"] == 5
    zoom = (await gql.ok(HISTORIES, {"runIds": [rid], "keys": ["m"], "minStep": 1, "maxStep": 1}))["metricHistories"]
    assert zoom[0]["values"] == [1.0, 10.0] and zoom[0]["totalPoints"] == 2
    latest = await gql.ok("query($r: ID!) { run(id: $r) { latestMetrics { key value step } } }", {"r": rid})
    assert {"key": "m", "value": 20.0, "step": 2} in latest["run"]["latestMetrics"]
