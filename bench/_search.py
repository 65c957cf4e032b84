"""Run creation and search.

- Run creation with its params: ``createRun(params: 10 params)``, one request and one
  transaction, for the 1,000 runs the search reads, in blocks of 100 (MLflow: ``create_run`` +
  ``log_batch(params)``); and, for 100 runs, ``createRun`` then ``logBatch(params)``: two
  requests, as MLflow's client does it.
- Search over those runs: ``metrics.acc > 0.5 and params.lr = '0.01'`` ordered by
  ``metrics.acc DESC``, first 100, with params, tags and latest metrics of each run, as
  ``runTable`` (columns; the figure compared with MLflow) and as ``runs { nodes {...} }`` (one
  object per run, plus totalCount); and all 1,000 runs in one page, both ways.

With MLflow, creation blocks and search rounds alternate between the two sides.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from _harness import MlflowSide, alternate, latency_summary, progress
from _mltrail_side import (
    CREATE_RUN,
    LOG_BATCH,
    RUN_FIELDS,
    SEARCH,
    SEARCH_FILTER,
    SEARCH_ORDER,
    TABLE_SEARCH,
    TIMESTAMP_ORIGIN_MS,
    Side,
    run_params,
)
from _workload import N_PARAMS, timed

N_RUNS = 1_000
CREATE_BLOCK = 100
TWO_REQUEST_RUNS = 100
PAGE = 100
METRIC_STEPS = 5


def create(m: Side, first: int, count: int) -> float:
    """Runs first..first+count-1 of the search experiment, each ``createRun(params:)`` (one
    request, one transaction): ms per run."""
    params = [run_params(i) for i in range(first, first + count)]
    start = time.perf_counter()
    for n, i in enumerate(range(first, first + count)):
        created = m.gql(CREATE_RUN, {"experimentId": m.exp_search, "name": f"run-{i}", "params": params[n]})
        m.run_ids.append(created["createRun"]["id"])
    return (time.perf_counter() - start) * 1000 / count


def create_two_requests(m: Side, count: int) -> float:
    """createRun, then logBatch(params): two requests, as MLflow's client does it."""
    exp = m.experiment("create-two-requests")
    params = [run_params(i) for i in range(count)]
    start = time.perf_counter()
    for i in range(count):
        run_id = m.gql(CREATE_RUN, {"experimentId": exp, "name": f"r{i}"})["createRun"]["id"]
        m.gql(LOG_BATCH, {"runId": run_id, "params": params[i]})
    return (time.perf_counter() - start) * 1000 / count


def search_metrics(m: Side) -> None:
    """Untimed: acc and loss, 5 steps each, on every run the search reads; then check the
    search returns what it should, both ways."""
    steps = list(range(METRIC_STEPS))
    for run_id in m.run_ids:
        accs = [m.rng.random() for _ in steps]
        metrics = {
            "keys": ["acc"] * METRIC_STEPS + ["loss"] * METRIC_STEPS,
            "values": accs + [1 - a for a in accs],
            "steps": steps * 2,
            "timestamps": [TIMESTAMP_ORIGIN_MS + s for s in steps] * 2,
        }
        m.gql(LOG_BATCH, {"runId": run_id, "metrics": metrics})
    m.search_vars = {
        "experimentIds": [m.exp_search],
        "filter": SEARCH_FILTER,
        "orderBy": [SEARCH_ORDER],
        "first": PAGE,
    }
    page = m.gql(SEARCH, m.search_vars)["runs"]
    assert len(page["nodes"]) == PAGE and page["totalCount"] > PAGE, page["totalCount"]
    m.search_total = page["totalCount"]
    table = m.gql(TABLE_SEARCH, m.search_vars)["runTable"]
    assert table["runIds"] == [n["id"] for n in page["nodes"]]
    assert len(table["params"]) == N_PARAMS and {c["key"] for c in table["metrics"]} == {"acc", "loss"}
    m.all_vars = {"experimentIds": [m.exp_search], "first": len(m.run_ids)}
    assert len(m.gql(TABLE_SEARCH, m.all_vars)["runTable"]["runIds"]) == len(m.run_ids)
    assert len(m.gql(SEARCH, m.all_vars)["runs"]["nodes"]) == len(m.run_ids)


def search(m: Side, repeat: int, warmup: int) -> list[float]:
    """The filtered search as ``runTable`` (columns): the figure compared with MLflow."""
    return timed(lambda: m.gql(TABLE_SEARCH, m.search_vars), repeat, warmup)


def search_objects(m: Side, repeat: int) -> list[float]:
    return timed(lambda: m.gql(SEARCH, m.search_vars), repeat)


def search_lean(m: Side, repeat: int) -> list[float]:
    """Only ids and the sort metric: filter and sort without returning 100 runs field by field."""
    lean = SEARCH.replace("nodes {" + RUN_FIELDS + "}", "nodes { id latestMetrics { key value } }")
    return timed(lambda: m.gql(lean, m.search_vars), repeat)


def all_runs(m: Side, repeat: int, warmup: int) -> list[float]:
    return timed(lambda: m.gql(TABLE_SEARCH, m.all_vars), repeat, warmup)


def all_runs_objects(m: Side, repeat: int) -> list[float]:
    return timed(lambda: m.gql(SEARCH, m.all_vars), repeat)


def run_creation(m: Side, f: MlflowSide | None, mr: dict[str, Any], fr: dict[str, Any]) -> None:
    pairs = mr["pairs"]
    both = " (alternating with MLflow)" if f else ""
    progress(f"run creation, {N_RUNS} runs in blocks of {CREATE_BLOCK}" + both)
    ours, theirs = [], []
    for first in range(0, N_RUNS, CREATE_BLOCK):
        ours.append(create(m, first, CREATE_BLOCK))
        if f:
            theirs.append(f.call("create", first=first, count=CREATE_BLOCK)["ms"])
    mr["create_ms"], mr["create_rounds"] = statistics.fmean(ours), ours
    if f:
        fr["create_ms"], fr["create_rounds"] = statistics.fmean(theirs), theirs
        pairs["create"] = [b / a for a, b in zip(ours, theirs, strict=True)]
    mr["create_two_requests_ms"] = create_two_requests(m, TWO_REQUEST_RUNS)


def run_search(m: Side, f: MlflowSide | None, mr: dict[str, Any], fr: dict[str, Any]) -> None:
    progress("search" + (" (alternating with MLflow)" if f else ""))
    search_metrics(m)
    mr["search_total"] = m.search_total
    if f:
        f.call("search_metrics")
    alternate("search", lambda n, w: search(m, n, w), f, mr, fr, rounds=3, repeat=10, f_repeat=10)
    mr["search_objects"] = latency_summary(search_objects(m, 30))
    mr["search_lean"] = latency_summary(search_lean(m, 30))
    alternate("all_runs", lambda n, w: all_runs(m, n, w), f, mr, fr, rounds=2, repeat=5, f_repeat=5)
    mr["all_runs_objects"] = latency_summary(all_runs_objects(m, 10))
