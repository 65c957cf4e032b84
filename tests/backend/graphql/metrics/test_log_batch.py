"""logBatch: columnar, idempotent, exact for NaN/±Infinity and 64-bit steps, whole or nothing."""

from __future__ import annotations

from fixtures.documents import HISTORIES, LOG_BATCH, metrics, new_experiment, new_run

LATEST = "query($id: ID!) { run(id: $id) { params { key value } tags { key value } latestMetrics { key value step timestamp min max count } } }"


async def test_points_params_tags_round_trip(gql):
    rid = await new_run(gql, await new_experiment(gql))
    result = await gql.ok(
        LOG_BATCH,
        {
            "runId": rid,
            "batchId": "b1",
            "metrics": metrics("loss", [3.0, 1.0, 2.0]),
            "params": [{"key": "lr", "value": "0.01"}],
            "tags": [{"key": "t", "value": "v"}],
        },
    )
    assert result["logBatch"] == {
        "runId": rid,
        "batchId": "b1",
        "duplicate": False,
        "metricsWritten": 3,
        "paramsWritten": 1,
        "tagsWritten": 1,
    }
    run = (await gql.ok(LATEST, {"id": rid}))["run"]
    assert run["params"] == [{"key": "lr", "value": "0.01"}] and run["tags"] == [{"key": "t", "value": "v"}]
    assert run["latestMetrics"] == [
        {
            "key": "loss",
            "value": 2.0,
            "step": 2,
            "timestamp": 1_700_000_000_002,
            "min": 1.0,
            "max": 3.0,
            "count": 3,
        }
    ]


async def test_same_batch_id_is_stored_once(gql):
    rid = await new_run(gql, await new_experiment(gql))
    body = {"runId": rid, "batchId": "same", "metrics": metrics("x", [1.0, 2.0])}
    first = await gql.ok(LOG_BATCH, body)
    second = await gql.ok(LOG_BATCH, body)
    assert first["logBatch"]["duplicate"] is False and second["logBatch"]["duplicate"] is True
    assert second["logBatch"]["metricsWritten"] == 2
    series = (await gql.ok(HISTORIES, {"runIds": [rid]}))["metricHistories"]
    assert series[0]["steps"] == [0, 1] and series[0]["totalPoints"] == 2
    latest = (await gql.ok(LATEST, {"id": rid}))["run"]["latestMetrics"][0]
    assert latest["count"] == 2


async def test_nan_and_infinities_round_trip_exactly(gql):
    rid = await new_run(gql, await new_experiment(gql))
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("v", [1.5, "NaN", "Infinity", "-Infinity", 0])})
    series = (await gql.ok(HISTORIES, {"runIds": [rid]}))["metricHistories"][0]
    assert series["values"] == [1.5, "NaN", "Infinity", "-Infinity", 0.0]
    latest = (await gql.ok(LATEST, {"id": rid}))["run"]["latestMetrics"][0]
    assert latest["value"] == 0.0 and latest["min"] == "-Infinity" and latest["max"] == "Infinity"
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("v", ["NaN"], start_step=10)})
    latest = (await gql.ok(LATEST, {"id": rid}))["run"]["latestMetrics"][0]
    assert latest["value"] == "NaN" and latest["step"] == 10


async def test_64_bit_steps_and_timestamps(gql):
    rid = await new_run(gql, await new_experiment(gql))
    big_step, big_ts = 2**40 + 3, 2**62 + 7
    await gql.ok(
        LOG_BATCH,
        {
            "runId": rid,
            "metrics": {
                "keys": ["k", "k"],
                "values": [1, 2],
                "steps": [2**31 + 1, big_step],
                "timestamps": [big_ts - 1, big_ts],
            },
        },
    )
    series = (await gql.ok(HISTORIES, {"runIds": [rid]}))["metricHistories"][0]
    # Within ±(2^53 - 1) a Long is a JSON number; beyond, a decimal string (JSON.parse-safe).
    assert series["steps"] == [2**31 + 1, big_step]
    assert series["timestamps"] == [str(big_ts - 1), str(big_ts)]
    # Either form is accepted as input, and a string beyond 64 bits or not a number is refused.
    edge = 2**53 + 1
    await gql.ok(
        LOG_BATCH,
        {"runId": rid, "metrics": {"keys": ["e"], "values": [1], "steps": [str(edge)], "timestamps": [5]}},
    )
    latest = {m["key"]: m for m in (await gql.ok(LATEST, {"id": rid}))["run"]["latestMetrics"]}
    assert latest["e"]["step"] == str(edge) and latest["e"]["timestamp"] == 5
    for bad in ("9223372036854775808", "1e3", "12a", ""):
        message = await gql.error(
            LOG_BATCH,
            {"runId": rid, "metrics": {"keys": ["e"], "values": [1], "steps": [bad], "timestamps": [5]}},
            code="INVALID_ARGUMENT",
        )
        assert "64-bit integer" in message
    await gql.error(
        LOG_BATCH,
        {"runId": rid, "metrics": {"keys": ["k"], "values": [1], "steps": [2**63], "timestamps": [0]}},
        code="INVALID_ARGUMENT",
    )


async def test_latest_is_by_step_then_timestamp_across_batches(gql):
    rid = await new_run(gql, await new_experiment(gql))
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("m", [5.0], start_step=10)})
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("m", [7.0], start_step=3)})  # older step
    latest = (await gql.ok(LATEST, {"id": rid}))["run"]["latestMetrics"][0]
    assert latest["value"] == 5.0 and latest["step"] == 10 and latest["min"] == 5.0 and latest["max"] == 7.0


async def test_param_conflict_names_key_old_and_new_and_writes_nothing(gql):
    rid = await new_run(gql, await new_experiment(gql))
    await gql.ok(LOG_BATCH, {"runId": rid, "params": [{"key": "lr", "value": "0.1"}]})
    await gql.ok(LOG_BATCH, {"runId": rid, "params": [{"key": "lr", "value": "0.1"}]})  # same value: fine
    message = await gql.error(
        LOG_BATCH,
        {"runId": rid, "metrics": metrics("loss", [1.0]), "params": [{"key": "lr", "value": "0.2"}]},
        code="CONFLICT",
    )
    assert "lr" in message and "0.1" in message and "0.2" in message
    run = (await gql.ok(LATEST, {"id": rid}))["run"]
    assert run["latestMetrics"] == []  # whole or nothing: the metric of the refused batch is absent


async def test_bad_input_is_rejected_with_the_element_named(gql):
    rid = await new_run(gql, await new_experiment(gql))
    message = await gql.error(
        LOG_BATCH,
        {
            "runId": rid,
            "metrics": {"keys": ["a", "a"], "values": [1.0, "oops"], "steps": [0, 1], "timestamps": [0, 1]},
        },
        code="INVALID_ARGUMENT",
    )
    assert "element 1" in message and "oops" in message
    message = await gql.error(
        LOG_BATCH,
        {
            "runId": rid,
            "metrics": {"keys": ["a", "a"], "values": [1.0], "steps": [0, 1], "timestamps": [0, 1]},
        },
        code="INVALID_ARGUMENT",
    )
    assert "metrics.values" in message
    await gql.error(LOG_BATCH, {"runId": rid, "params": [{"key": "", "value": "1"}]}, code="INVALID_ARGUMENT")
    message = await gql.error(
        LOG_BATCH, {"runId": rid, "params": [{"key": "k" * 300, "value": "1"}]}, code="INVALID_ARGUMENT"
    )
    assert "300" in message and "250" in message
    await gql.error(LOG_BATCH, {"runId": rid, "metrics": metrics("", [1.0])}, code="INVALID_ARGUMENT")
    await gql.error(LOG_BATCH, {"runId": "0" * 32, "metrics": metrics("a", [1.0])}, code="NOT_FOUND")


async def test_batch_over_the_limit_is_refused(gql, settings):
    rid = await new_run(gql, await new_experiment(gql))
    n = settings.max_batch_points + 1
    message = await gql.error(
        LOG_BATCH, {"runId": rid, "metrics": metrics("a", [0.0] * n)}, code="INVALID_ARGUMENT"
    )
    assert str(settings.max_batch_points) in message


async def test_many_keys_in_one_batch(gql):
    rid = await new_run(gql, await new_experiment(gql))
    keys = [f"k{i % 7}" for i in range(700)]
    await gql.ok(
        LOG_BATCH,
        {
            "runId": rid,
            "metrics": {
                "keys": keys,
                "values": [float(i) for i in range(700)],
                "steps": [i // 7 for i in range(700)],
                "timestamps": [i for i in range(700)],
            },
        },
    )
    series = (await gql.ok(HISTORIES, {"runIds": [rid]}))["metricHistories"]
    assert [s["key"] for s in series] == [f"k{i}" for i in range(7)]
    assert all(s["totalPoints"] == 100 for s in series)
    assert series[3]["values"][:2] == [3.0, 10.0]
