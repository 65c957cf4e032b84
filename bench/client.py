"""Client throughput: what `log_metric` costs the training thread, and points/s until flushed.

    .venv/bin/python bench/client.py                      # starts its own server (SQLite)
    .venv/bin/python bench/client.py --tracking-uri URL   # against a running server
    .venv/bin/python bench/client.py --vs-mlflow [--mlflow-python /tmp/mlflow-venv/bin/python]

Measured, in one process, against a fresh `mltrail server` on SQLite:

1. calling thread: N `mltrail.log_metric(key, value, step=i)` calls (default 1,000,000),
   timed on the caller's thread while the background sender runs (it shares the GIL, as in
   a real training job);
2. end to end: from the first of those calls until `mltrail.flush()` returns, i.e. every
   point stored by the server.

With `--vs-mlflow`, the same for MLflow against its own tracking server (SQLite, `--workers
1`): `mlflow.log_metric` per call (synchronous: one HTTP request each) and
`MlflowClient.log_batch` with 1,000 metrics per call (its limit). mlflow is used from this
interpreter when importable, else from `--mlflow-python` (a separate venv: mlflow's
dependencies must not enter the project's). Ratios are computed from this one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with status {process.returncode}")
        try:  # urllib, not httpx: this also runs in mlflow's venv
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not become ready")


def start_mltrail_server(data_dir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mltrail.cli", "server", "--host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data_dir), "--log-level", "warning"],
        env={k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/readyz", process)
    return url, process


def bench_mltrail(tracking_uri: str, calls: int, spool_dir: Path) -> dict[str, float]:
    os.environ["MLTRAIL_SPOOL_DIR"] = str(spool_dir)
    os.environ["MLTRAIL_CAPTURE_ENVIRONMENT"] = "0"
    import mltrail

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


def bench_mlflow_here(per_call: int, batch_points: int, work_dir: Path) -> dict[str, float]:
    """Runs inside an interpreter that has mlflow."""
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{work_dir / 'mlflow.db'}",
         "--default-artifact-root", str(work_dir / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/health", server)
        mlflow.set_tracking_uri(url)
        mlflow.set_experiment("bench-client")
        with mlflow.start_run() as run:
            mlflow.log_metric("warmup", 0.0, step=0)
            started = time.perf_counter()
            for step in range(per_call):
                mlflow.log_metric("loss", step * 1e-6, step=step)
            per_call_s = time.perf_counter() - started

            client = MlflowClient(url)
            timestamp = int(time.time() * 1000)
            started = time.perf_counter()
            for start in range(0, batch_points, 1000):
                metrics = [Metric("batched", i * 1e-6, timestamp, i) for i in range(start, min(start + 1000, batch_points))]
                client.log_batch(run.info.run_id, metrics=metrics)
            batch_s = time.perf_counter() - started
        return {
            "mlflow_version": mlflow.__version__,
            "log_metric_calls": per_call,
            "log_metric_ms": per_call_s / per_call * 1e3,
            "log_metric_points_per_s": per_call / per_call_s,
            "log_batch_points": batch_points,
            "log_batch_points_per_s": batch_points / batch_s,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def bench_mlflow(args: argparse.Namespace, work_dir: Path) -> dict[str, float] | None:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        python = args.mlflow_python or os.environ.get("MLFLOW_PYTHON")
        if not python:
            print("--vs-mlflow: mlflow is not importable here; pass --mlflow-python PATH (a venv with mlflow)")
            return None
        completed = subprocess.run(
            [python, __file__, "--mlflow-worker", "--mlflow-calls", str(args.mlflow_calls),
             "--mlflow-batch-points", str(args.mlflow_batch_points), "--work-dir", str(work_dir)],
            capture_output=True, text=True,
        )  # fmt: skip
        if completed.returncode != 0:
            raise SystemExit(f"the mlflow benchmark failed:\n{completed.stderr[-3000:]}") from None
        return json.loads(completed.stdout.strip().splitlines()[-1])
    return bench_mlflow_here(args.mlflow_calls, args.mlflow_batch_points, work_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--tracking-uri", default=None, help="Use this server instead of starting one.")
    parser.add_argument("--vs-mlflow", action="store_true")
    parser.add_argument("--mlflow-python", default=None)
    parser.add_argument("--mlflow-calls", type=int, default=300)
    parser.add_argument("--mlflow-batch-points", type=int, default=50_000)
    parser.add_argument("--mlflow-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.mlflow_worker:
        print(json.dumps(bench_mlflow_here(args.mlflow_calls, args.mlflow_batch_points, Path(args.work_dir))))
        return

    work_dir = Path(tempfile.mkdtemp(prefix="mltrail-bench-client-"))
    server = None
    try:
        tracking_uri = args.tracking_uri
        if tracking_uri is None:
            tracking_uri, server = start_mltrail_server(work_dir / "mltrail")
        ours = bench_mltrail(tracking_uri, args.calls, work_dir / "spool")
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
            server = None
        print(f"mltrail  log_metric, calling thread: {ours['call_us']:.2f} µs/call "
              f"({ours['calls_per_s']:,.0f} calls/s, {ours['calls']:,} calls)")  # fmt: skip
        print(f"mltrail  end to end until flushed:   {ours['end_to_end_points_per_s']:,.0f} points/s "
              f"({ours['end_to_end_s']:.2f} s; queue spilled to disk {ours['spills']} time(s))")  # fmt: skip
        if args.vs_mlflow:
            theirs = bench_mlflow(args, work_dir / "mlflow")
            if theirs is not None:
                print(f"mlflow {theirs['mlflow_version']}  mlflow.log_metric:       "
                      f"{theirs['log_metric_ms']:.2f} ms/call ({theirs['log_metric_points_per_s']:,.0f} points/s)")  # fmt: skip
                print(f"mlflow {theirs['mlflow_version']}  MlflowClient.log_batch:  "
                      f"{theirs['log_batch_points_per_s']:,.0f} points/s (1,000 per call)")  # fmt: skip
                print(f"ratio  log_metric per call (mlflow / mltrail calling thread): "
                      f"{theirs['log_metric_ms'] * 1000 / ours['call_us']:,.0f}x")  # fmt: skip
                print(f"ratio  points/s, mltrail end to end / mlflow log_batch: "
                      f"{ours['end_to_end_points_per_s'] / theirs['log_batch_points_per_s']:,.1f}x")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
