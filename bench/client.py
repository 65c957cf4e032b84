"""Client throughput: what `import mltrail` and `log_metric` cost the training job, and points/s
until flushed.

    .venv/bin/python bench/client.py                      # starts its own server (SQLite)
    .venv/bin/python bench/client.py --tracking-uri URL   # against a running server
    .venv/bin/python bench/client.py --vs-mlflow [--mlflow-python /tmp/mlflow-venv/bin/python]

Measured against a fresh `mltrail server` on SQLite (its own process):

0. `import mltrail` in a fresh interpreter, each time (default 7 samples; median, min, max):
   the import alone, not the interpreter's start. Its lightness (no server code, no gql/httpx
   at import) is asserted by tests/client/test_public_api.py; its duration is this figure;
1. calling thread, in this process: N `mltrail.log_metric(key, value, step=i)` calls (default
   1,000,000), timed on the caller's thread while the background sender runs (it shares the
   GIL, as in a real training job);
2. end to end: from the first of those calls until `mltrail.flush()` returns, i.e. every
   point stored by the server.

With `--vs-mlflow`, the same for MLflow against its own tracking server (SQLite, `--workers
1`): `mlflow.log_metric` per call (synchronous: one HTTP request each) and
`MlflowClient.log_batch` with 1,000 metrics per call (its limit), run by bench/_mlflow_side.py
in the interpreter that has mlflow (`--mlflow-python`, $MLFLOW_PYTHON, this one if mlflow is
importable here, or `mlflow`'s on PATH; a separate venv: mlflow's dependencies must not enter
the project's). Ratios are computed from this one run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import MlflowSide, find_mlflow_python, mlflow_server, mltrail_server, running

import mltrail

IMPORT_SCRIPT = """
import time
started = time.perf_counter()
import mltrail
print(time.perf_counter() - started)
"""


def import_ms(samples: int) -> list[float]:
    """Milliseconds of `import mltrail`, each in a fresh interpreter (nothing cached in memory;
    the OS's file cache is warm after the first, as on a machine that runs jobs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    out = []
    for _ in range(samples):
        completed = subprocess.run(
            [sys.executable, "-c", IMPORT_SCRIPT], capture_output=True, text=True, check=True, env=env
        )
        out.append(float(completed.stdout.strip()) * 1000)
    return out


def bench_mltrail(tracking_uri: str, calls: int, spool_dir: Path) -> dict[str, float]:
    os.environ["MLTRAIL_SPOOL_DIR"] = str(spool_dir)
    os.environ["MLTRAIL_CAPTURE_ENVIRONMENT"] = "0"
    mltrail.set_tracking_uri(tracking_uri)
    mltrail.set_experiment("bench-client")
    with mltrail.start_run(name=f"log_metric x {calls}") as run:
        log_metric = mltrail.log_metric
        started = time.perf_counter()
        for step in range(calls):
            log_metric("loss", step * 1e-6, step=step)
        calls_done = time.perf_counter()
        assert mltrail.flush(timeout=600), "not everything was delivered"
        flushed = time.perf_counter()
    stored = mltrail.get_run(run.id).latest_metrics["loss"].count
    assert stored == calls, f"server has {stored} points, expected {calls}"
    return {
        "calls": calls,
        "call_us": (calls_done - started) / calls * 1e6,
        "calls_per_s": calls / (calls_done - started),
        "end_to_end_s": flushed - started,
        "end_to_end_points_per_s": calls / (flushed - started),
        "spills": mltrail.get_client().batcher.spills,
    }


def bench_mlflow(python: str, per_call: int, batch_points: int, work_dir: Path) -> dict[str, float]:
    server, env = mlflow_server(python, work_dir)
    with running(server):
        side = MlflowSide(python, server.url, env)
        try:
            return side.call("logging", per_call=per_call, batch_points=batch_points)
        finally:
            side.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--import-samples", type=int, default=7, help="fresh interpreters timing the import")
    parser.add_argument("--tracking-uri", default=None, help="Use this server instead of starting one.")
    parser.add_argument("--vs-mlflow", action="store_true")
    parser.add_argument("--mlflow-python", default=None)
    parser.add_argument("--mlflow-calls", type=int, default=300)
    parser.add_argument("--mlflow-batch-points", type=int, default=50_000)
    args = parser.parse_args()

    mlflow_python = None
    if args.vs_mlflow:
        mlflow_python = find_mlflow_python(args.mlflow_python)
        if mlflow_python is None:
            sys.exit("--vs-mlflow: mlflow not found; pass --mlflow-python PATH (a venv with mlflow)")

    imports = import_ms(args.import_samples)
    print(f"mltrail  import mltrail, fresh interpreter: {statistics.median(imports):.1f} ms median "
          f"(min {min(imports):.1f}, max {max(imports):.1f}; {len(imports)} samples)")  # fmt: skip

    work_dir = Path(tempfile.mkdtemp(prefix="mltrail-bench-client-"))
    try:
        with contextlib.ExitStack() as stack:
            tracking_uri = args.tracking_uri
            if tracking_uri is None:
                tracking_uri = stack.enter_context(running(mltrail_server(str(work_dir / "mltrail")))).url
            ours = bench_mltrail(tracking_uri, args.calls, work_dir / "spool")
        print(f"mltrail  log_metric, calling thread: {ours['call_us']:.2f} µs/call "
              f"({ours['calls_per_s']:,.0f} calls/s, {ours['calls']:,} calls)")  # fmt: skip
        print(f"mltrail  end to end until flushed:   {ours['end_to_end_points_per_s']:,.0f} points/s "
              f"({ours['end_to_end_s']:.2f} s; queue spilled to disk {ours['spills']} time(s))")  # fmt: skip
        if mlflow_python:
            theirs = bench_mlflow(mlflow_python, args.mlflow_calls, args.mlflow_batch_points, work_dir)
            print(f"mlflow {theirs['mlflow_version']}  mlflow.log_metric:       "
                  f"{theirs['log_metric_ms']:.2f} ms/call ({theirs['log_metric_points_per_s']:,.0f} points/s)")  # fmt: skip
            print(f"mlflow {theirs['mlflow_version']}  MlflowClient.log_batch:  "
                  f"{theirs['log_batch_points_per_s']:,.0f} points/s (1,000 per call)")  # fmt: skip
            print(f"ratio  log_metric per call (mlflow / mltrail calling thread): "
                  f"{theirs['log_metric_ms'] * 1000 / ours['call_us']:,.0f}x")  # fmt: skip
            print(f"ratio  points/s, mltrail end to end / mlflow log_batch: "
                  f"{ours['end_to_end_points_per_s'] / theirs['log_batch_points_per_s']:,.1f}x")  # fmt: skip
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
