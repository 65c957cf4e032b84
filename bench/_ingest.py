"""Ingest: 100,000 points through ``logBatch`` in batches of 1,000 and of 10,000 (10 metric
keys, consecutive steps, a fresh run and a batchId per batch), and from 4 concurrent clients.

With MLflow, the 1,000-point repetitions alternate with MLflow's ``log_batch`` (1,000 metrics
per call, its limit, hence also the reference for the 10,000-point ratio), and the ratios are
taken round by round.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from _harness import Gql, MlflowSide, progress
from _mltrail_side import LOG_BATCH, SMALL_QUERY, Side, metric_batches

INGEST_POINTS = 100_000
INGEST_REPEATS = 3
CONCURRENT_CLIENTS = 4


def ingest(m: Side, points: int, rep: int, size: int = 1_000) -> float:
    """One repetition, sequential over one connection: points/s."""
    run_id = m.new_run(m.exp_ingest, f"ingest-{size}-{rep}")
    payloads = [
        {"runId": run_id, "batchId": f"b{size}-{rep}-{n}", "metrics": batch}
        for n, batch in enumerate(metric_batches(points, size, m.rng))
    ]
    start = time.perf_counter()
    for payload in payloads:
        written = m.gql(LOG_BATCH, payload)["logBatch"]["metricsWritten"]
        assert written == size, written
    return points / (time.perf_counter() - start)


def ingest_concurrent(m: Side, clients: int = CONCURRENT_CLIENTS) -> float:
    """`clients` threads, one connection and one run each, 1,000-point batches: points/s."""
    plans = []
    for c in range(clients):
        run_id = m.new_run(m.exp_ingest, f"concurrent-{c}")
        batches = metric_batches(INGEST_POINTS // clients, 1_000, m.rng)
        plans.append([{"runId": run_id, "batchId": f"c{c}-{n}", "metrics": b} for n, b in enumerate(batches)])
    conns = [Gql(m.url) for _ in range(clients)]
    for conn in conns:
        conn(SMALL_QUERY)  # connected before the clock starts
    barrier = threading.Barrier(clients + 1)

    def worker(conn: Gql, plan: list[dict[str, Any]]) -> None:
        barrier.wait()
        for payload in plan:
            conn(LOG_BATCH, payload)

    threads = [threading.Thread(target=worker, args=pair) for pair in zip(conns, plans, strict=True)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    rate = INGEST_POINTS / (time.perf_counter() - start)
    for conn in conns:
        conn.close()
    return rate


def run_ingest(m: Side, f: MlflowSide | None, mr: dict[str, Any], fr: dict[str, Any]) -> None:
    """The ingest figures into ``mr`` / ``fr``, the round-by-round ratios into ``mr["pairs"]``."""
    pairs = mr["pairs"]
    both = " (alternating with MLflow)" if f else ""
    progress("ingest, 1,000-point batches" + both)
    ours, theirs = [], []
    for rep in range(INGEST_REPEATS):
        ours.append(ingest(m, INGEST_POINTS, rep))
        if f:
            theirs.append(f.call("ingest", points=INGEST_POINTS, rep=rep)["rate"])
    mr["ingest_1000"] = {"median": statistics.median(ours), "best": max(ours), "all": ours}
    if f:
        fr["ingest_1000"] = {"median": statistics.median(theirs), "best": max(theirs), "all": theirs}
        pairs["ingest_1000"] = [a / b for a, b in zip(ours, theirs, strict=True)]
        # MLflow takes 1,000 metrics per call at most: its 1,000-point rate is its best.
        pairs["ingest_10000"] = []

    progress(f"ingest, 10,000-point batches; {CONCURRENT_CLIENTS} concurrent clients")
    rates = [ingest(m, INGEST_POINTS, rep, size=10_000) for rep in range(INGEST_REPEATS)]
    mr["ingest_10000"] = {"median": statistics.median(rates), "best": max(rates), "all": rates}
    if f:
        pairs["ingest_10000"] = [a / b for a, b in zip(rates, theirs, strict=True)]
    mr["ingest_concurrent"] = ingest_concurrent(m)
