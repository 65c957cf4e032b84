"""MLflow's half of bench/tracking.py: the same workload through MlflowClient.

Runs in the interpreter that has mlflow installed (a separate venv), against an ``mlflow
server`` that bench/tracking.py started; prints one JSON line of figures. Payloads (Metric and
Param objects) are built before the clock starts; the client's encoding counts, as it does for
mltrail. MLflow's log_batch takes at most 1,000 metrics per call.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import mlflow
from _workload import param_values
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

KEYS = 10


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def timed(fn, repeat: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def metric_batches(total: int, size: int, rng: random.Random, keys: int = KEYS) -> list[list[Metric]]:
    per_key = size // keys
    ts = 1_700_000_000_000
    batches = []
    for b in range(total // size):
        step0 = b * per_key
        batches.append(
            [
                Metric(f"m{k}", rng.random(), ts + step, step)
                for step in range(step0, step0 + per_key)
                for k in range(keys)
            ]
        )
    return batches


def run_params(i: int) -> list[Param]:
    params = param_values(i)
    return [Param(k, v) for k, v in params.items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--ingest-points", type=int, default=100_000)
    parser.add_argument("--history-runs", type=int, default=10)
    parser.add_argument("--history-points", type=int, default=1000)
    parser.add_argument("--filter", required=True)
    parser.add_argument("--order-by", required=True)
    args = parser.parse_args()

    client = MlflowClient(tracking_uri=args.url)
    rng = random.Random(42)
    out: dict = {"version": mlflow.__version__}

    exp_ingest = client.create_experiment("ingest")
    warm = client.create_run(exp_ingest, run_name="warmup").info.run_id
    client.log_batch(warm, metrics=metric_batches(1_000, 1_000, rng)[0])

    # --- ingest: 1,000-point batches (MLflow's maximum), best and median of 3
    rates = []
    for rep in range(3):
        run_id = client.create_run(exp_ingest, run_name=f"ingest-{rep}").info.run_id
        batches = metric_batches(args.ingest_points, 1_000, rng)
        start = time.perf_counter()
        for batch in batches:
            client.log_batch(run_id, metrics=batch, synchronous=True)
        rates.append(args.ingest_points / (time.perf_counter() - start))
    out["ingest_1000"] = {"median": statistics.median(rates), "best": max(rates), "all": rates}

    # --- run creation with params: create_run + log_batch(params)
    exp_search = client.create_experiment("search")
    params = [run_params(i) for i in range(args.runs)]
    run_ids = []
    start = time.perf_counter()
    for i in range(args.runs):
        run_id = client.create_run(exp_search, run_name=f"run-{i}").info.run_id
        client.log_batch(run_id, params=params[i], synchronous=True)
        run_ids.append(run_id)
    out["create_ms"] = (time.perf_counter() - start) * 1000 / args.runs

    for run_id in run_ids:
        accs = [rng.random() for _ in range(5)]
        ts = 1_700_000_000_000
        metrics = [Metric("acc", a, ts + s, s) for s, a in enumerate(accs)]
        metrics += [Metric("loss", 1 - a, ts + s, s) for s, a in enumerate(accs)]
        client.log_batch(run_id, metrics=metrics, synchronous=True)

    # --- search
    def search() -> list:
        return client.search_runs(
            [exp_search], filter_string=args.filter, order_by=[args.order_by], max_results=100
        )

    assert len(search()) == 100
    samples = timed(search, repeat=30)
    out["search"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}

    def all_runs() -> list:
        return client.search_runs([exp_search], max_results=args.runs)

    assert len(all_runs()) == args.runs
    samples = timed(all_runs, repeat=10, warmup=1)
    out["all_runs"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}

    # --- histories: one get_metric_history call per run
    exp_hist = client.create_experiment("histories")
    hist_ids = []
    for i in range(args.history_runs):
        run_id = client.create_run(exp_hist, run_name=f"hist-{i}").info.run_id
        (batch,) = metric_batches(args.history_points, args.history_points, rng, keys=1)
        client.log_batch(run_id, metrics=[Metric("loss", m.value, m.timestamp, m.step) for m in batch])
        hist_ids.append(run_id)

    def histories() -> list:
        return [client.get_metric_history(run_id, "loss") for run_id in hist_ids]

    assert all(len(h) == args.history_points for h in histories())
    samples = timed(histories, repeat=20)
    out["histories"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}

    print(json.dumps(out))


if __name__ == "__main__":
    main()
