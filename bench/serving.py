"""Model serving benchmark: ``/invocations`` throughput and latency against ``mlflow models serve``,
and requests during registry swaps.

    .venv/bin/python bench/serving.py                                   # both sides + the swap
    .venv/bin/python bench/serving.py --mlflow-python /tmp/mlflow-venv/bin/python --seconds 3

- The model: a scikit-learn ``LogisticRegression`` on 4 numeric columns, saved once with
  ``mltrail.models.save_model`` (MLflow's layout, so MLflow's loader serves the same directory).
- mltrail: ``mltrail models serve DIR --workers 1``; MLflow 3.17.2: ``mlflow models serve -m DIR
  --env-manager local`` (one worker, its default). Both on loopback, both up for the whole run.
- Load: ``dataframe_split`` bodies of 1 and 100 rows at concurrency 1 and 16, from an asyncio
  client with kept-alive raw HTTP/1.1 connections in this process (cheap enough that the servers,
  not the client, are measured; it shares the machine with them, the same for both sides). Each
  cell runs ``--seconds`` per side, the sides alternating, ``--rounds`` times; req/s is the
  median over rounds, p50/p99 over all the cell's requests.
- The swap: a tracking server, two registered versions, the model server following
  ``models:/…/Production``; 16 connections send 1-row requests while the Production version
  is flipped between the two every 0.5 s (``archiveExisting``), until at least 10,000 requests
  have been answered. Counted: non-200 answers and connection errors, and the swaps the server
  reports in ``/metrics``.

Figures go in ``bench/README.md`` (Model serving section).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from _harness import Server, find_mlflow_python, free_port, mltrail_command, pct, running

ROWS = (1, 100)
CONCURRENCY = (1, 16)
COLUMNS = ["f0", "f1", "f2", "f3"]


def train_and_save(path: Path, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mltrail.models

    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(500, 4)), columns=COLUMNS)
    y = (X["f0"] + X["f1"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    mltrail.models.save_model(model, str(path), input_example=X.head(5))
    return model, X


def body(rows: int) -> bytes:
    import numpy as np

    data = np.random.default_rng(rows).normal(size=(rows, 4)).round(6).tolist()
    return orjson.dumps({"dataframe_split": {"columns": COLUMNS, "data": data}})


def request_bytes(port: int, payload: bytes) -> bytes:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _one_connection(
    port: int,
    request: bytes,
    until: float,
    min_total: list[int] | None,
    latencies: list[float],
    errors: list[str],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until or (
            min_total is not None and len(latencies) + len(errors) < min_total[0]
        ):
            started = time.perf_counter()
            try:
                writer.write(request)
                status = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                answer = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError) as error:
                errors.append(repr(error))
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if not status.startswith(b"HTTP/1.1 200"):
                errors.append(
                    status.decode(errors="replace").strip() + " " + answer[:200].decode(errors="replace")
                )
            else:
                latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


def load(
    port: int, payload: bytes, concurrency: int, seconds: float, min_requests: int | None = None
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    request = request_bytes(port, payload)

    async def main() -> float:
        started = time.perf_counter()
        until = started + seconds
        target = [min_requests] if min_requests else None
        await asyncio.gather(
            *(_one_connection(port, request, until, target, latencies, errors) for _ in range(concurrency))
        )
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "latencies": latencies,
    }


def mltrail_model_server(model: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    args = [sys.executable, "-m", "mltrail.cli", "models", "serve", model, "--port", str(port),
            "--log-level", "warning"]  # fmt: skip
    return Server("mltrail-serve", args, "/health", port, env=env)


def mlflow_model_server(python: str, model: str) -> Server:
    port = free_port()
    args = [str(Path(python).parent / "mlflow"), "models", "serve", "-m", model, "--env-manager", "local", "-h", "127.0.0.1",
            "-p", str(port)]  # fmt: skip
    # MLflow execs `uvicorn` from PATH: its own venv's bin first.
    path = f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return Server("mlflow-serve", args, "/ping", port, env={**os.environ, "PATH": path})


def compare(
    mlflow_python: str | None, seconds: float, rounds: int, workdir: Path
) -> dict[tuple[int, int], dict]:
    model_dir = workdir / "model"
    train_and_save(model_dir)
    sides = {"mltrail": mltrail_model_server(str(model_dir))}
    if mlflow_python:
        sides["mlflow"] = mlflow_model_server(mlflow_python, str(model_dir))
    results: dict[tuple[int, int], dict[str, dict[str, list]]] = {}
    with contextlib_exit_stack() as stack:
        for server in sides.values():
            stack.enter_context(running(server))
        for name, server in sides.items():  # warm-up: imports, first predictions
            load(server.port, body(100), 4, 1.0)
            print(f"  {name} up in {server.start_s:.1f}s", flush=True)
        for round_number in range(rounds):
            order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
            for rows in ROWS:
                for concurrency in CONCURRENCY:
                    cell = results.setdefault(
                        (rows, concurrency), {s: {"rps": [], "lat": [], "err": []} for s in sides}
                    )
                    for name in order:
                        measured = load(sides[name].port, body(rows), concurrency, seconds)
                        cell[name]["rps"].append(measured["rps"])
                        cell[name]["lat"].extend(measured["latencies"])
                        cell[name]["err"].extend(measured["errors"])
            print(f"  round {round_number + 1}/{rounds} done", flush=True)
        metrics = httpx.get(f"{sides['mltrail'].url}/metrics").text
        batched = [
            line for line in metrics.splitlines() if line.startswith("mltrail_serving_batched_requests_total")
        ]
        print(f"  mltrail requests answered by a shared predict call: {batched}", flush=True)
    return results


def contextlib_exit_stack() -> Any:
    import contextlib

    return contextlib.ExitStack()


def swap_test(workdir: Path, min_requests: int) -> dict[str, Any]:
    import mltrail

    port = free_port()
    tracking = Server(
        "mltrail-tracking", mltrail_command(port, str(workdir / "tracking"), 1, None), "/readyz", port
    )
    with running(tracking):
        client = mltrail.MltrailClient(tracking.url, spool_dir=workdir / "spool", capture_environment=False)
        experiment = client.get_or_create_experiment("bench-serving")
        for seed in (1, 2):
            model, X = train_and_save(workdir / f"v{seed}", seed)
            run = client.start_run(experiment_id=experiment.id, run_name=f"v{seed}")
            run.log_model(model, "model", input_example=X.head(5))
            run.end()
            client.register_model(f"runs:/{run.id}/model", "BenchServe")
        client.transition_model_version_stage("BenchServe", 1, "Production", archive_existing=True)
        env = {
            **os.environ,
            "MLTRAIL_TRACKING_URI": tracking.url,
            "MLTRAIL_MODEL_CACHE_DIR": str(workdir / "cache"),
        }
        server = mltrail_model_server("models:/BenchServe/Production", env)
        with running(server):
            stop = threading.Event()
            flips = [0]

            def flip() -> None:
                version = 1
                while not stop.wait(0.5):
                    version = 3 - version
                    client.transition_model_version_stage(
                        "BenchServe", version, "Production", archive_existing=True
                    )
                    flips[0] += 1

            flipper = threading.Thread(target=flip)
            flipper.start()
            try:
                measured = load(server.port, body(1), 16, 5.0, min_requests=min_requests)
            finally:
                stop.set()
                flipper.join()
            metrics = httpx.get(f"{server.url}/metrics").text
            swaps = next(
                (
                    float(line.split()[-1])
                    for line in metrics.splitlines()
                    if line.startswith("mltrail_serving_model_swaps_total")
                ),
                0.0,
            )
        client.close()
    return {"requests": measured["requests"], "errors": measured["errors"], "flips": flips[0], "swaps": int(swaps),
            "p99_ms": pct(measured["latencies"], 99) * 1000}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mlflow-python", default=None, help="MLflow's interpreter (default: /tmp/mlflow-venv)."
    )
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--swap-requests", type=int, default=10_000)
    args = parser.parse_args()
    mlflow_python = None
    if not args.no_mlflow:
        mlflow_python = find_mlflow_python(args.mlflow_python) or (
            "/tmp/mlflow-venv/bin/python" if Path("/tmp/mlflow-venv/bin/python").exists() else None
        )
    print(f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"({os.cpu_count()} CPUs)", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workdir = Path(tmp)
        results = compare(mlflow_python, args.seconds, args.rounds, workdir)
        print("\n| rows | concurrency | side | req/s (median of rounds) | p50 ms | p99 ms | errors |")
        print("|---:|---:|---|---:|---:|---:|---:|")
        for (rows, concurrency), cell in results.items():
            for side, figures in cell.items():
                print(f"| {rows} | {concurrency} | {side} | {statistics.median(figures['rps']):,.0f} | "
                      f"{pct(figures['lat'], 50) * 1000:.2f} | {pct(figures['lat'], 99) * 1000:.2f} | "
                      f"{len(figures['err'])} |")  # fmt: skip
            if "mlflow" in cell:
                m, f = cell["mltrail"], cell["mlflow"]
                ratio = statistics.median(m["rps"]) / statistics.median(f["rps"])
                print(f"|  |  | **ratio** | **{ratio:.1f}x** | mltrail p99 {pct(m['lat'], 99) * 1000:.2f} vs "
                      f"MLflow p50 {pct(f['lat'], 50) * 1000:.2f} |  |  |")  # fmt: skip
        swap = swap_test(workdir, args.swap_requests)
        print(f"\nswap: {swap['requests']:,} requests answered at concurrency 16 while Production flipped "
              f"{swap['flips']} times ({swap['swaps']} swaps served); failed: {len(swap['errors'])}; "
              f"p99 {swap['p99_ms']:.2f} ms")  # fmt: skip
        for error in swap["errors"][:5]:
            print("  ", error)
    print(f"load average at end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
