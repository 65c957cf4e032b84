"""MLflow's half of bench/tracking.py (the same workload through MlflowClient, one step at a
time) and of bench/client.py (``logging``: what ``mlflow.log_metric`` and ``log_batch`` cost).

Runs in the interpreter that has mlflow installed (a separate venv), against an ``mlflow
server`` that the script started (``_harness.mlflow_server``), driven by ``_harness.MlflowSide``. It reads one JSON command per line on stdin and
answers each with one JSON line on stdout, so that tracking.py can alternate the two sides
step by step (mltrail's ingest, then MLflow's, then mltrail's again...): a drift in the host's
speed then lands on both sides of a ratio instead of on one.

Payloads (Metric and Param objects) are built before the clock starts; the client's encoding
counts, as it does for mltrail. MLflow's log_batch takes at most 1,000 metrics per call.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

import mlflow
from _workload import param_values, timed
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

KEYS = 10
MAX_BATCH_METRICS = 1_000  # MLflow's limit per log_batch call


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


class Side:
    """The workload's steps; each returns what tracking.py records (milliseconds, points/s)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = MlflowClient(tracking_uri=url)
        self.rng = random.Random(42)
        self.run_ids: list[str] = []
        self.hist_ids: list[str] = []
        self.exp_ingest = self.exp_search = self.exp_hist = ""

    def setup(self, filter: str, order_by: str) -> dict[str, Any]:
        self.filter, self.order_by = filter, order_by
        c = self.client
        self.exp_ingest = c.create_experiment("ingest")
        self.exp_search = c.create_experiment("search")
        self.exp_hist = c.create_experiment("histories")
        warm = c.create_run(self.exp_ingest, run_name="warmup").info.run_id
        c.log_batch(warm, metrics=metric_batches(1_000, 1_000, self.rng)[0])
        exp_warm = c.create_experiment("warmup")
        for i in range(20):  # and run creation with params, in an experiment of its own
            run_id = c.create_run(exp_warm, run_name=f"w{i}").info.run_id
            c.log_batch(run_id, params=[Param(k, v) for k, v in param_values(i).items()], synchronous=True)
        return {"version": mlflow.__version__}

    def ingest(self, points: int, rep: int) -> dict[str, Any]:
        """One repetition: `points` points in 1,000-point batches (MLflow's maximum)."""
        run_id = self.client.create_run(self.exp_ingest, run_name=f"ingest-{rep}").info.run_id
        batches = metric_batches(points, MAX_BATCH_METRICS, self.rng)
        start = time.perf_counter()
        for batch in batches:
            self.client.log_batch(run_id, metrics=batch, synchronous=True)
        return {"rate": points / (time.perf_counter() - start)}

    def create(self, first: int, count: int) -> dict[str, Any]:
        """Runs first..first+count-1 of the search experiment: create_run + log_batch(params)."""
        params = [[Param(k, v) for k, v in param_values(i).items()] for i in range(first, first + count)]
        start = time.perf_counter()
        for n, i in enumerate(range(first, first + count)):
            run_id = self.client.create_run(self.exp_search, run_name=f"run-{i}").info.run_id
            self.client.log_batch(run_id, params=params[n], synchronous=True)
            self.run_ids.append(run_id)
        return {"ms": (time.perf_counter() - start) * 1000 / count}

    def search_metrics(self) -> dict[str, Any]:
        """Untimed: acc and loss, 5 steps each, on every run the search reads."""
        ts = 1_700_000_000_000
        for run_id in self.run_ids:
            accs = [self.rng.random() for _ in range(5)]
            metrics = [Metric("acc", a, ts + s, s) for s, a in enumerate(accs)]
            metrics += [Metric("loss", 1 - a, ts + s, s) for s, a in enumerate(accs)]
            self.client.log_batch(run_id, metrics=metrics, synchronous=True)
        page = self.client.search_runs(
            [self.exp_search], filter_string=self.filter, order_by=[self.order_by], max_results=100
        )
        assert len(page) == 100, len(page)
        assert len(self.client.search_runs([self.exp_search], max_results=len(self.run_ids))) == len(
            self.run_ids
        )
        return {}

    def search(self, repeat: int, warmup: int) -> dict[str, Any]:
        def search() -> list:
            return self.client.search_runs(
                [self.exp_search], filter_string=self.filter, order_by=[self.order_by], max_results=100
            )

        return {"samples": timed(search, repeat, warmup)}

    def all_runs(self, repeat: int, warmup: int) -> dict[str, Any]:
        n = len(self.run_ids)
        return {
            "samples": timed(
                lambda: self.client.search_runs([self.exp_search], max_results=n), repeat, warmup
            )
        }

    def histories_setup(self, runs: int, points: int) -> dict[str, Any]:
        for i in range(runs):
            run_id = self.client.create_run(self.exp_hist, run_name=f"hist-{i}").info.run_id
            (batch,) = metric_batches(points, points, self.rng, keys=1)
            self.client.log_batch(
                run_id, metrics=[Metric("loss", m.value, m.timestamp, m.step) for m in batch]
            )
            self.hist_ids.append(run_id)
        assert all(len(h) == points for h in self._histories())
        return {}

    def _histories(self) -> list:
        # One get_metric_history call per run: MLflow has no call for several runs at once.
        return [self.client.get_metric_history(run_id, "loss") for run_id in self.hist_ids]

    def histories(self, repeat: int, warmup: int) -> dict[str, Any]:
        return {"samples": timed(self._histories, repeat, warmup)}

    def logging(self, per_call: int, batch_points: int) -> dict[str, Any]:
        """bench/client.py's figures: ``per_call`` ``mlflow.log_metric`` calls (one synchronous
        request each), then ``batch_points`` points through ``log_batch``, 1,000 per call."""
        mlflow.set_tracking_uri(self.url)
        mlflow.set_experiment("bench-client")
        with mlflow.start_run() as run:
            mlflow.log_metric("warmup", 0.0, step=0)
            started = time.perf_counter()
            for step in range(per_call):
                mlflow.log_metric("loss", step * 1e-6, step=step)
            per_call_s = time.perf_counter() - started

            timestamp = int(time.time() * 1000)
            started = time.perf_counter()
            for start in range(0, batch_points, MAX_BATCH_METRICS):
                stop = min(start + MAX_BATCH_METRICS, batch_points)
                metrics = [Metric("batched", i * 1e-6, timestamp, i) for i in range(start, stop)]
                self.client.log_batch(run.info.run_id, metrics=metrics)
            batch_s = time.perf_counter() - started
        return {
            "mlflow_version": mlflow.__version__,
            "log_metric_calls": per_call,
            "log_metric_ms": per_call_s / per_call * 1e3,
            "log_metric_points_per_s": per_call / per_call_s,
            "log_batch_points": batch_points,
            "log_batch_points_per_s": batch_points / batch_s,
        }


def main() -> None:
    # The answers get stdout to themselves: MLflow prints to stdout too (the fluent API's
    # "View run ..." line at the end of a run), and one such line would break the protocol.
    # Everything else written to file descriptor 1 now goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    side = Side(sys.argv[sys.argv.index("--url") + 1])
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        print(json.dumps(getattr(side, op)(**command)), file=answers, flush=True)


if __name__ == "__main__":
    main()
