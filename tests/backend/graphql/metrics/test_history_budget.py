"""metricHistories cannot be amplified: one request, one budget of points (issue 10, break 4).

The attack: a 272-byte query listing one 1M-point key twenty times answered 336 MB; thirty
aliases of it took 3.7 GB. Here the series is real (a million points, logged in batches) and
the request budget is made small through Settings, so the test stays lean.
"""

from __future__ import annotations

import dataclasses

import pytest

from fixtures.documents import HISTORIES, LOG_BATCH, new_experiment, new_run

POINTS = 1_000_000
BUDGET = 300_000


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, max_request_points=BUDGET)


async def log_long_series(gql) -> str:
    run_id = await new_run(gql, await new_experiment(gql, "long"))
    batch = 100_000
    for start in range(0, POINTS, batch):
        steps = list(range(start, start + batch))
        await gql.ok(
            LOG_BATCH,
            {"runId": run_id, "metrics": {"keys": ["x"] * batch, "values": [float(s) for s in steps],
                                          "steps": steps, "timestamps": steps}},
        )  # fmt: skip
    return run_id


def points_in(body: dict) -> int:
    return sum(len(series["steps"]) for field in (body.get("data") or {}).values() for series in field or [])


async def test_duplicated_keys_and_aliases_cannot_amplify_a_request(gql):
    run_id = await log_long_series(gql)

    # One key listed twenty times (and the run three times) is one series.
    series = (await gql.ok(HISTORIES, {"runIds": [run_id] * 3, "keys": ["x"] * 20, "maxPoints": 50_000}))[
        "metricHistories"
    ]
    assert len(series) == 1
    assert series[0]["totalPoints"] == POINTS and len(series[0]["steps"]) <= 50_000

    # Thirty aliases share the request's budget, charged before any chunk is read.
    aliases = " ".join(
        f'a{i}: metricHistories(runIds: $r, keys: ["x"], maxPoints: 100000) {{ steps }}' for i in range(30)
    )
    body = await gql.raw(f"query($r: [ID!]!) {{ {aliases} }}", {"r": [run_id]})
    errors = body.get("errors") or []
    assert errors and {e["extensions"]["code"] for e in errors} == {"RESOURCE_EXHAUSTED"}
    assert "MLTRAIL_MAX_REQUEST_POINTS" in errors[0]["message"]
    assert points_in(body) <= BUDGET  # the root field is non-null: the error nulls the answer

    # Without maxPoints the whole series counts: over the budget, refused before reading.
    message = await gql.error(HISTORIES, {"runIds": [run_id], "keys": ["x"]}, code="RESOURCE_EXHAUSTED")
    assert f"{POINTS:,} metric points" in message

    # The budget is the request's: the next request starts afresh, and what fits is answered.
    fits = 'query($r: [ID!]!) { a: metricHistories(runIds: $r, maxPoints: 150000) { steps } ' \
           'b: metricHistories(runIds: $r, maxPoints: 150000) { steps } }'  # fmt: skip
    body = await gql.raw(fits, {"r": [run_id]})
    assert "errors" not in body and 0 < points_in(body) <= BUDGET


async def test_reading_is_budgeted_too(gql):
    """Downsampled aliases return little but each reads the whole series: the read budget
    refuses what the output budget lets through."""
    run_id = await log_long_series(gql)
    # Each alias returns at most 100 points (3,000 in all, far under BUDGET) but reads 1M.
    aliases = " ".join(
        f'a{i}: metricHistories(runIds: $r, keys: ["x"], maxPoints: 100) {{ steps }}' for i in range(30)
    )
    body = await gql.raw(f"query($r: [ID!]!) {{ {aliases} }}", {"r": [run_id]})
    errors = body.get("errors") or []
    assert errors and {e["extensions"]["code"] for e in errors} == {"RESOURCE_EXHAUSTED"}
    assert "MLTRAIL_MAX_REQUEST_READ_POINTS" in errors[0]["message"]
    # Within the read budget (default 20M: twenty such series) the same request is answered.
    few = " ".join(
        f'a{i}: metricHistories(runIds: $r, keys: ["x"], maxPoints: 100) {{ steps }}' for i in range(3)
    )
    answered = await gql.ok(f"query($r: [ID!]!) {{ {few} }}", {"r": [run_id]})
    assert all(len(series[0]["steps"]) <= 100 for series in answered.values())
