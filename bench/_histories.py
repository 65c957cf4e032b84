"""Metric histories: the full histories of 10 runs x 1,000 points in one ``metricHistories``
call (MLflow: one ``get_metric_history`` per run, alternating in rounds), and one
1,000,000-point series ingested in 10,000-point batches then read downsampled to 1,000 points
(mltrail only: feeding MLflow a million points takes minutes, and its
``get_metric_history`` has no downsampling).
"""

from __future__ import annotations

import time
from typing import Any

from _harness import MlflowSide, alternate, latency_summary, progress
from _mltrail_side import HISTORIES, LOG_BATCH, Side, metric_batches
from _workload import timed

HISTORY_RUNS = 10
HISTORY_POINTS = 1_000
BIG_SERIES = 1_000_000
BIG_BATCH = 10_000
DOWNSAMPLED_POINTS = 1_000


def setup(m: Side, runs: int, points: int) -> None:
    """Untimed: ``runs`` runs with ``points`` points of ``loss`` each."""
    for i in range(runs):
        run_id = m.new_run(m.exp_hist, f"hist-{i}")
        (batch,) = metric_batches(points, points, m.rng, keys=1)
        batch["keys"] = ["loss"] * points
        m.gql(LOG_BATCH, {"runId": run_id, "metrics": batch})
        m.hist_ids.append(run_id)
    m.hist_vars = {"runIds": m.hist_ids, "keys": ["loss"]}
    series = m.gql(HISTORIES, m.hist_vars)["metricHistories"]
    assert len(series) == runs and all(len(s["values"]) == points for s in series)


def histories(m: Side, repeat: int, warmup: int) -> list[float]:
    """All the histories in one ``metricHistories`` call."""
    return timed(lambda: m.gql(HISTORIES, m.hist_vars), repeat, warmup)


def million(m: Side) -> tuple[float, list[float], int]:
    """One 1,000,000-point series: ingest rate, then downsampled reads (samples, points)."""
    big = m.new_run(m.exp_hist, "million")
    payloads = [
        {"runId": big, "batchId": f"big-{n}", "metrics": {**batch, "keys": ["loss"] * len(batch["keys"])}}
        for n, batch in enumerate(metric_batches(BIG_SERIES, BIG_BATCH, m.rng, keys=1))
    ]
    start = time.perf_counter()
    for payload in payloads:
        m.gql(LOG_BATCH, payload)
    rate = BIG_SERIES / (time.perf_counter() - start)
    del payloads
    big_vars = {"runIds": [big], "keys": ["loss"], "maxPoints": DOWNSAMPLED_POINTS}
    (down,) = m.gql(HISTORIES, big_vars)["metricHistories"]
    assert (
        down["downsampled"]
        and down["totalPoints"] == BIG_SERIES
        and len(down["values"]) <= DOWNSAMPLED_POINTS  # at most maxPoints (store/series.downsample)
    ), (down["totalPoints"], len(down["values"]))
    return rate, timed(lambda: m.gql(HISTORIES, big_vars), repeat=10), len(down["values"])


def run_histories(m: Side, f: MlflowSide | None, mr: dict[str, Any], fr: dict[str, Any]) -> None:
    progress("histories" + (" (alternating with MLflow)" if f else ""))
    setup(m, HISTORY_RUNS, HISTORY_POINTS)
    if f:
        f.call("histories_setup", runs=HISTORY_RUNS, points=HISTORY_POINTS)
    alternate("histories", lambda n, w: histories(m, n, w), f, mr, fr, rounds=3, repeat=10, f_repeat=7)

    progress("1M-point series")
    rate, samples, points = million(m)
    mr["ingest_million"] = rate
    mr["downsample"] = {**latency_summary(samples), "points": points}
