"""Tracking server benchmark: ingest, search, histories, run creation, start time, memory.

    .venv/bin/python bench/tracking.py                       # SQLite
    .venv/bin/python bench/tracking.py --postgres            # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/tracking.py --vs-mlflow --mlflow-python /tmp/mlflow-venv/bin/python

Everything goes through a real ``mltrail server`` process over HTTP (GraphQL at /graphql),
with one kept-alive httpx connection and sequential requests unless stated otherwise. Payloads
are built before the clock starts; JSON encoding of the request and decoding of the answer
happen inside it, because that is what a client pays (with orjson, as mltrail's client does;
MLflow's side pays its own client's encoding).

Measured:

- ingest: 100,000 points through ``logBatch`` in batches of 1,000 and of 10,000 (10 metric
  keys, consecutive steps, a fresh run and a batchId per batch), best and median of 3; plus
  4 concurrent clients (one connection and one run each) sending 1,000-point batches;
- run creation with its params: ``createRun(params: 10 params)``, one request and one
  transaction, for the 1,000 runs that the search uses (and, for 100 runs, ``createRun`` then
  ``logBatch(params)``: two requests, as MLflow's client does it);
- search over those 1,000 runs: ``metrics.acc > 0.5 and params.lr = '0.01'`` ordered by
  ``metrics.acc DESC``, first 100, with params, tags and latest metrics of each run, as
  ``runTable`` (columns; the figure compared with MLflow) and as ``runs { nodes {...} }``
  (one object per run, plus totalCount); and all 1,000 runs in one page, both ways;
- the full histories of 10 runs x 1,000 points (one ``metricHistories`` call);
- one 1,000,000-point series downsampled to 1,000 points (``maxPoints: 1000``);
- server start (process spawn -> ``/readyz`` 200, fresh data directory, migrations included);
- server RSS after the benchmark (``/proc/PID/status`` VmRSS, summed over the process tree);
- small-request latency on a kept-alive connection (``GET /healthz`` and a one-field GraphQL
  query) with ``--workers 1`` and ``--workers 2``: Nagle's algorithm plus delayed ACKs would
  show as ~40 ms.

``--vs-mlflow`` runs the same workload against ``mlflow server --workers 1`` (its default of 4
workers leaves Nagle on, see above), in the interpreter given by ``--mlflow-python`` (a
separate venv: never install MLflow next to mltrail) through ``bench/_mlflow_side.py``, and
prints the ratios against the targets of the issue. Both servers run side by side and the
compared steps alternate between them in rounds (ingest: 3 rounds of 100,000 points each;
run creation: 10 blocks of 100 runs; search and histories: 3 rounds of samples), so that a
change in the host's speed during the run lands on both sides. The ingest and run-creation
ratios are the median of the round-by-round ratios, which the report lists. MLflow's ``log_batch`` takes at most
1,000 metrics per call, so its ingest uses 1,000-point batches; its histories take one
``get_metric_history`` call per run. The 1,000,000-point series is mltrail only (feeding
MLflow a million points takes minutes and it has no downsampling in ``get_metric_history``).

The workloads are modules of their own, each with its mltrail steps and its alternation
with MLflow: ``_ingest.py``, ``_search.py`` (run creation and search), ``_histories.py``,
``_startup.py`` (start, small requests, memory); ``_report.py`` prints the table. This file
starts the servers, runs the workloads in order (their order matters: the search reads the
runs run creation made, and the ingest before leaves the write-ahead log run creation meets,
as in a long-lived server), and holds the command line. Figures go in ``bench/README.md``
(Tracking server section).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _harness import MlflowSide, find_mlflow_python, mlflow_server, mltrail_server, running
from _histories import run_histories
from _ingest import run_ingest
from _mltrail_side import SEARCH_FILTER, SEARCH_ORDER, Side
from _report import report
from _search import run_creation, run_search
from _startup import MLFLOW_SMALL, MLTRAIL_SMALL, small_request_latency, two_workers


def run_workload(m: Side, f: MlflowSide | None, mr: dict[str, Any], fr: dict[str, Any]) -> None:
    """Every step of the workload; with MLflow, each compared step alternates between the two
    sides in rounds, and ratios are taken round by round (``mr["pairs"]``)."""
    mr["pairs"] = {}
    m.setup()
    if f:
        fr.update(f.call("setup", filter=SEARCH_FILTER, order_by=SEARCH_ORDER))
    run_ingest(m, f, mr, fr)
    run_creation(m, f, mr, fr)
    run_search(m, f, mr, fr)
    run_histories(m, f, mr, fr)


def run_both(
    workdir: Path, db_url: str | None, mlflow_python: str | None, mlflow_uri: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Both servers up side by side (each idle while the other works), the workload
    alternating between them; then mltrail alone with two workers."""
    mr: dict[str, Any] = {"load_before": f"{os.getloadavg()[0]:.2f}"}
    fr: dict[str, Any] = {}
    data_dir = str(workdir / "mltrail")
    with contextlib.ExitStack() as stack:
        print("starting mltrail ...", file=sys.stderr, flush=True)
        server = stack.enter_context(running(mltrail_server(data_dir, db_url=db_url)))
        mr["start_s"] = server.start_s
        mr["latency_w1_fresh"] = small_request_latency(server.url, MLTRAIL_SMALL)
        f = None
        if mlflow_python:
            print("starting MLflow ...", file=sys.stderr, flush=True)
            mlflow, env = mlflow_server(mlflow_python, workdir, mlflow_uri)
            stack.enter_context(running(mlflow))
            fr["start_s"] = mlflow.start_s
            f = MlflowSide(mlflow_python, mlflow.url, env)
            stack.callback(f.close)
        m = Side(server.url)
        stack.callback(m.close)
        run_workload(m, f, mr, fr)
        mr["latency_w1"] = small_request_latency(server.url, MLTRAIL_SMALL)
        mr["rss"] = server.rss()
        if f:
            fr["latency_w1"] = small_request_latency(mlflow.url, MLFLOW_SMALL)
            fr["rss"] = mlflow.rss()
    if db_url is None:
        mr["sqlite_mb"] = {p.name: p.stat().st_size / 1e6 for p in sorted(Path(data_dir).glob("mltrail.db*"))}
    two_workers(data_dir, db_url, mr)
    return mr, (fr if mlflow_python else None)


@contextlib.contextmanager
def postgres_database(base: str, name: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server at ``base``, dropped on the way out."""
    import asyncpg  # only with --postgres: a SQLite run needs no PostgreSQL driver

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432", help="server, no database"
    )
    parser.add_argument("--vs-mlflow", action="store_true", help="same workload against mlflow server")
    parser.add_argument("--mlflow-python", help="interpreter with mlflow installed (default: mlflow on PATH)")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()

    mlflow_python = None
    if args.vs_mlflow:
        mlflow_python = find_mlflow_python(args.mlflow_python)
        if mlflow_python is None:
            sys.exit("--vs-mlflow: mlflow not found; pass --mlflow-python /path/to/venv/bin/python")

    workdir = Path(tempfile.mkdtemp(prefix="mltrail-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            db_url = None
            mlflow_uri = None
            if args.postgres:
                name = f"mltrail_bench_{os.getpid()}"
                plain = stack.enter_context(postgres_database(args.postgres_url, name))
                db_url = plain.replace("postgresql://", "postgresql+asyncpg://", 1)
                if mlflow_python:
                    has_driver = subprocess.run([mlflow_python, "-c", "import psycopg2"], capture_output=True)
                    if has_driver.returncode == 0:
                        mlflow_uri = stack.enter_context(
                            postgres_database(args.postgres_url, name + "_mlflow")
                        )
                    else:
                        print("MLflow: psycopg2 missing in its venv, MLflow runs on SQLite", file=sys.stderr)
            m, f = run_both(workdir, db_url, mlflow_python, mlflow_uri)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        if f is not None and args.postgres and mlflow_uri is None:
            backend += " (MLflow on SQLite)"
        report(backend, m, f)
        if args.json:
            Path(args.json).write_text(json.dumps({"mltrail": m, "mlflow": f}, indent=2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
