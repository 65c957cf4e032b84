"""Tracking server benchmark: ingest, search, histories, run creation, start time, memory.

    .venv/bin/python bench/tracking.py                       # SQLite
    .venv/bin/python bench/tracking.py --postgres            # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/tracking.py --vs-mlflow --mlflow-python /tmp/mlflow-venv/bin/python

Everything goes through a real ``mltrail server`` process over HTTP (GraphQL at /graphql),
with one kept-alive httpx connection and sequential requests unless stated otherwise. Payloads
are built before the clock starts; JSON encoding of the request and decoding of the answer
happen inside it, because that is what a client pays.

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
prints the ratios against the targets of the issue. MLflow's ``log_batch`` takes at most
1,000 metrics per call, so its ingest uses 1,000-point batches; its histories take one
``get_metric_history`` call per run. The 1,000,000-point series is mltrail only (feeding
MLflow a million points takes minutes and it has no downsampling in ``get_metric_history``).

Figures go in ``bench/README.md`` (Tracking server section).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from _workload import N_PARAMS, param_values

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

INGEST_POINTS = 100_000
INGEST_KEYS = 10
INGEST_REPEATS = 3
N_RUNS = 1_000
HISTORY_RUNS = 10
HISTORY_POINTS = 1_000
BIG_SERIES = 1_000_000
LATENCY_REQUESTS = 200
SEARCH_FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
SEARCH_ORDER = "metrics.acc DESC"
NAGLE_SUSPECT_MS = 20.0

CREATE_EXPERIMENT = "mutation($name: String!) { createExperiment(name: $name) { id } }"
CREATE_RUN = """
mutation($experimentId: ID, $name: String, $params: [ParamInput!]) {
  createRun(experimentId: $experimentId, name: $name, params: $params) {
    id name experimentId status startTime artifactUri
  }
}"""
LOG_BATCH = """
mutation($runId: ID!, $batchId: String, $metrics: MetricBatchInput, $params: [ParamInput!], $tags: [TagInput!]) {
  logBatch(runId: $runId, batchId: $batchId, metrics: $metrics, params: $params, tags: $tags) {
    duplicate metricsWritten
  }
}"""
# What MLflow's search_runs returns too: run info, params, tags, latest metrics.
RUN_FIELDS = """
  id name experimentId status startTime endTime user artifactUri
  params { key value } tags { key value } latestMetrics { key value step timestamp }
"""
SEARCH = (
    "query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int) {"
    " runs(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first) {"
    " totalCount nodes {" + RUN_FIELDS + "} } }"
)
# The same search as columns (runTable): what a table or a data frame reads. No totalCount:
# MLflow's search_runs does not count the matches either (its page has a next-page token).
TABLE_SEARCH = (
    "query($experimentIds: [ID!], $filter: String, $orderBy: [String!], $first: Int) {"
    " runTable(experimentIds: $experimentIds, filter: $filter, orderBy: $orderBy, first: $first) {"
    " pageInfo { endCursor hasNextPage }"
    " runIds experimentIds names statuses users startTimes endTimes artifactUris"
    " params { key values } tags { key values } metrics { key values steps timestamps } } }"
)
HISTORIES = """
query($runIds: [ID!]!, $keys: [String!], $maxPoints: Int) {
  metricHistories(runIds: $runIds, keys: $keys, maxPoints: $maxPoints) {
    runId key steps timestamps values downsampled totalPoints
  }
}"""
SMALL_QUERY = "{ experiments(first: 1) { totalCount } }"


# ----------------------------------------------------------------------------- utilities


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss(pid: int) -> tuple[float, float, int]:
    """(total MB, largest single process MB, process count) over the process tree."""
    sizes = [rss_mb(p) for p in process_tree(pid)]
    sizes = [s for s in sizes if s > 0]
    return sum(sizes), max(sizes, default=0.0), len(sizes)


class Server:
    """A server process in its own session; start time is spawn -> ready URL answers 200."""

    def __init__(
        self, name: str, args: list[str], ready_path: str, port: int, env: dict[str, str] | None = None
    ):
        self.name, self.args, self.ready_path, self.port = name, args, ready_path, port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_s = 0.0

    def start(self, timeout: float = 120.0) -> Server:
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=self.log, env=self.env, start_new_session=True
        )
        deadline = start + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.url + self.ready_path).status_code == 200:
                        self.start_s = time.perf_counter() - start
                        return self
                time.sleep(0.01)
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{self.tail()}")

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def rss(self) -> tuple[float, float, int]:
        assert self.proc is not None
        return tree_rss(self.proc.pid)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server.start()
    finally:
        server.stop()
        with contextlib.suppress(OSError):
            os.unlink(server.log.name)


class Gql:
    """GraphQL over one kept-alive connection; encoding and decoding count as the caller's time."""

    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=600.0)

    def __call__(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": document, "variables": variables or {}}, separators=(",", ":"))
        response = self.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        result = json.loads(response.content)
        if result.get("errors"):
            raise RuntimeError(f"GraphQL errors: {result['errors'][:2]}")
        return result["data"]

    def close(self) -> None:
        self.client.close()


def small_request_latency(
    url: str, paths: list[tuple[str, str, bytes | None]]
) -> dict[str, tuple[float, float]]:
    """(p50, min) ms per (label, path, body) on one kept-alive connection; GET when body is None."""
    out = {}
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for label, path, body in paths:

            def call(path: str = path, body: bytes | None = body) -> None:
                if body is None:
                    response = client.get(path)
                else:
                    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
                response.raise_for_status()

            samples = timed(call, LATENCY_REQUESTS, warmup=5)
            out[label] = (statistics.median(samples), min(samples))
    return out


# ----------------------------------------------------------------------------- workload data


def metric_batches(
    total: int, size: int, rng: random.Random, keys: int = INGEST_KEYS
) -> list[dict[str, Any]]:
    """Columnar batches: `keys` metrics side by side, consecutive steps."""
    batches = []
    per_key = size // keys
    ts = 1_700_000_000_000
    for b in range(total // size):
        step0 = b * per_key
        batch_keys, values, steps, stamps = [], [], [], []
        for step in range(step0, step0 + per_key):
            for k in range(keys):
                batch_keys.append(f"m{k}")
                values.append(rng.random())
                steps.append(step)
                stamps.append(ts + step)
        batches.append({"keys": batch_keys, "values": values, "steps": steps, "timestamps": stamps})
    return batches


def run_params(i: int) -> list[dict[str, str]]:
    params = param_values(i)
    assert len(params) == N_PARAMS
    return [{"key": k, "value": v} for k, v in params.items()]


# ----------------------------------------------------------------------------- mltrail side


def progress(text: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def bench_mltrail(url: str, results: dict[str, Any]) -> None:
    gql = Gql(url)
    rng = random.Random(42)
    exp_ingest = gql(CREATE_EXPERIMENT, {"name": "ingest"})["createExperiment"]["id"]

    def new_run(experiment_id: str, name: str) -> str:
        return gql(CREATE_RUN, {"experimentId": experiment_id, "name": name})["createRun"]["id"]

    # Warm-up: one batch of each size on a throwaway run (first-request costs are not ingest).
    warm = new_run(exp_ingest, "warmup")
    for n, batch in enumerate(metric_batches(11_000, 1_000, rng)[:1] + metric_batches(10_000, 10_000, rng)):
        gql(LOG_BATCH, {"runId": warm, "batchId": f"warm-{n}", "metrics": batch})

    progress("ingest")
    # --- ingest, sequential over one connection
    for size in (1_000, 10_000):
        rates = []
        for rep in range(INGEST_REPEATS):
            run_id = new_run(exp_ingest, f"ingest-{size}-{rep}")
            payloads = [
                {"runId": run_id, "batchId": f"b{size}-{rep}-{n}", "metrics": batch}
                for n, batch in enumerate(metric_batches(INGEST_POINTS, size, rng))
            ]
            start = time.perf_counter()
            for payload in payloads:
                written = gql(LOG_BATCH, payload)["logBatch"]["metricsWritten"]
                assert written == size, written
            rates.append(INGEST_POINTS / (time.perf_counter() - start))
        results[f"ingest_{size}"] = {"median": statistics.median(rates), "best": max(rates), "all": rates}

    # --- ingest, 4 concurrent clients x 1,000-point batches (one connection and one run each)
    clients = 4
    plans = []
    for c in range(clients):
        run_id = new_run(exp_ingest, f"concurrent-{c}")
        plans.append(
            [
                {"runId": run_id, "batchId": f"c{c}-{n}", "metrics": batch}
                for n, batch in enumerate(metric_batches(INGEST_POINTS // clients, 1_000, rng))
            ]
        )
    conns = [Gql(url) for _ in range(clients)]
    for conn in conns:
        conn(SMALL_QUERY)
    barrier = threading.Barrier(clients + 1)

    def worker(conn: Gql, plan: list[dict[str, Any]]) -> None:
        barrier.wait()
        for payload in plan:
            conn(LOG_BATCH, payload)

    threads = [
        threading.Thread(target=worker, args=(conn, plan)) for conn, plan in zip(conns, plans, strict=True)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    results["ingest_concurrent"] = INGEST_POINTS / (time.perf_counter() - start)
    for conn in conns:
        conn.close()

    progress("run creation")
    # --- run creation with params (these are the 1,000 runs the search uses): one request,
    # createRun(params:), the run and its params in one transaction.
    exp_search = gql(CREATE_EXPERIMENT, {"name": "search"})["createExperiment"]["id"]
    params = [run_params(i) for i in range(N_RUNS)]
    run_ids = []
    start = time.perf_counter()
    for i in range(N_RUNS):
        created = gql(CREATE_RUN, {"experimentId": exp_search, "name": f"run-{i}", "params": params[i]})
        run_ids.append(created["createRun"]["id"])
    results["create_ms"] = (time.perf_counter() - start) * 1000 / N_RUNS

    # The same as two requests (createRun, then logBatch(params)): what MLflow's client does.
    exp_two = gql(CREATE_EXPERIMENT, {"name": "create-two-requests"})["createExperiment"]["id"]
    start = time.perf_counter()
    for i in range(100):
        run_id = gql(CREATE_RUN, {"experimentId": exp_two, "name": f"r{i}"})["createRun"]["id"]
        gql(LOG_BATCH, {"runId": run_id, "params": params[i]})
    results["create_two_requests_ms"] = (time.perf_counter() - start) * 1000 / 100

    # Metrics for the search (untimed): acc and loss, 5 steps each.
    for run_id in run_ids:
        accs = [rng.random() for _ in range(5)]
        gql(
            LOG_BATCH,
            {
                "runId": run_id,
                "metrics": {
                    "keys": ["acc"] * 5 + ["loss"] * 5,
                    "values": accs + [1 - a for a in accs],
                    "steps": list(range(5)) * 2,
                    "timestamps": [1_700_000_000_000 + s for s in range(5)] * 2,
                },
            },
        )

    progress("search")
    # --- search
    search_vars = {
        "experimentIds": [exp_search],
        "filter": SEARCH_FILTER,
        "orderBy": [SEARCH_ORDER],
        "first": 100,
    }
    page = gql(SEARCH, search_vars)["runs"]
    assert len(page["nodes"]) == 100 and page["totalCount"] > 100, page["totalCount"]
    samples = timed(lambda: gql(SEARCH, search_vars), repeat=30)
    results["search_objects"] = {"p50": pct(samples, 50), "p95": pct(samples, 95), "total": page["totalCount"]}
    table = gql(TABLE_SEARCH, search_vars)["runTable"]
    assert table["runIds"] == [n["id"] for n in page["nodes"]]
    assert len(table["params"]) == N_PARAMS and {c["key"] for c in table["metrics"]} == {"acc", "loss"}
    samples = timed(lambda: gql(TABLE_SEARCH, search_vars), repeat=30)
    results["search"] = {"p50": pct(samples, 50), "p95": pct(samples, 95), "total": page["totalCount"]}
    # The same search asking only for ids and the sort metric: filter and sort without the
    # cost of returning 100 runs field by field.
    lean = SEARCH.replace("nodes {" + RUN_FIELDS + "}", "nodes { id latestMetrics { key value } }")
    samples = timed(lambda: gql(lean, search_vars), repeat=30)
    results["search_lean"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}
    all_vars = {"experimentIds": [exp_search], "first": N_RUNS}
    assert len(gql(TABLE_SEARCH, all_vars)["runTable"]["runIds"]) == N_RUNS
    samples = timed(lambda: gql(TABLE_SEARCH, all_vars), repeat=10)
    results["all_runs"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}
    assert len(gql(SEARCH, all_vars)["runs"]["nodes"]) == N_RUNS
    samples = timed(lambda: gql(SEARCH, all_vars), repeat=10)
    results["all_runs_objects"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}

    progress("histories")
    # --- 10 histories x 1,000 points
    exp_hist = gql(CREATE_EXPERIMENT, {"name": "histories"})["createExperiment"]["id"]
    hist_ids = []
    for i in range(HISTORY_RUNS):
        run_id = new_run(exp_hist, f"hist-{i}")
        (batch,) = metric_batches(HISTORY_POINTS, HISTORY_POINTS, rng, keys=1)
        batch["keys"] = ["loss"] * HISTORY_POINTS
        gql(LOG_BATCH, {"runId": run_id, "metrics": batch})
        hist_ids.append(run_id)
    hist_vars = {"runIds": hist_ids, "keys": ["loss"]}
    series = gql(HISTORIES, hist_vars)["metricHistories"]
    assert len(series) == HISTORY_RUNS and all(len(s["values"]) == HISTORY_POINTS for s in series)
    samples = timed(lambda: gql(HISTORIES, hist_vars), repeat=30)
    results["histories"] = {"p50": pct(samples, 50), "p95": pct(samples, 95)}

    progress("1M-point series")
    # --- one 1,000,000-point series, downsampled to 1,000
    big = new_run(exp_hist, "million")
    payloads = [
        {"runId": big, "batchId": f"big-{n}", "metrics": {**batch, "keys": ["loss"] * len(batch["keys"])}}
        for n, batch in enumerate(metric_batches(BIG_SERIES, 10_000, rng, keys=1))
    ]
    start = time.perf_counter()
    for payload in payloads:
        gql(LOG_BATCH, payload)
    results["ingest_million"] = BIG_SERIES / (time.perf_counter() - start)
    del payloads
    big_vars = {"runIds": [big], "keys": ["loss"], "maxPoints": 1_000}
    (down,) = gql(HISTORIES, big_vars)["metricHistories"]
    assert down["downsampled"] and down["totalPoints"] == BIG_SERIES and len(down["values"]) <= 1_010, (
        down["totalPoints"],
        len(down["values"]),
    )
    samples = timed(lambda: gql(HISTORIES, big_vars), repeat=10)
    results["downsample"] = {"p50": pct(samples, 50), "p95": pct(samples, 95), "points": len(down["values"])}
    gql.close()


MLTRAIL_SMALL = [
    ("GET /healthz", "/healthz", None),
    ("GraphQL experiments(first:1)", "/graphql", json.dumps({"query": SMALL_QUERY}).encode()),
]


def mltrail_command(port: int, data_dir: str, workers: int, db_url: str | None) -> list[str]:
    exe = ROOT / ".venv" / "bin" / "mltrail"
    cmd = [str(exe) if exe.exists() else (shutil.which("mltrail") or "mltrail"), "server"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", data_dir, "--workers", str(workers)]
    if db_url:
        cmd += ["--backend-store-uri", db_url]
    return cmd


def run_mltrail(args: argparse.Namespace, workdir: Path, db_url: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {"load_before": f"{os.getloadavg()[0]:.2f}"}
    data_dir = str(workdir / "mltrail")
    port = free_port()
    server = Server("mltrail", mltrail_command(port, data_dir, 1, db_url), "/readyz", port)
    with running(server):
        results["start_s"] = server.start_s
        results["latency_w1_fresh"] = small_request_latency(server.url, MLTRAIL_SMALL)
        bench_mltrail(server.url, results)
        results["latency_w1"] = small_request_latency(server.url, MLTRAIL_SMALL)
        results["rss"] = server.rss()
    if db_url is None:
        results["sqlite_mb"] = {
            p.name: p.stat().st_size / 1e6 for p in sorted(Path(data_dir).glob("mltrail.db*"))
        }
    port = free_port()
    server = Server("mltrail-w2", mltrail_command(port, data_dir, 2, db_url), "/readyz", port)
    with running(server):
        results["start_w2_s"] = server.start_s
        # Several connections: each lands on whichever worker accepts it.
        results["latency_w2"] = small_request_latency(server.url, MLTRAIL_SMALL)
        results["latency_w2_b"] = small_request_latency(server.url, MLTRAIL_SMALL)
        results["rss_w2"] = server.rss()
    return results


# ----------------------------------------------------------------------------- MLflow side


def mlflow_command(python: str) -> list[str]:
    sibling = Path(python).parent / "mlflow"
    return [str(sibling)] if sibling.exists() else [python, "-m", "mlflow"]


def find_mlflow_python(given: str | None) -> str | None:
    if given:
        return given
    exe = shutil.which("mlflow")
    if exe is None:
        return None
    first = Path(exe).read_text(errors="replace").splitlines()[0]
    return first[2:].strip() if first.startswith("#!") else None


def run_mlflow(python: str, workdir: Path, store_uri: str | None) -> dict[str, Any]:
    data_dir = workdir / "mlflow"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uri = store_uri or f"sqlite:///{data_dir / 'mlflow.db'}"
    cmd = [
        *mlflow_command(python),
        "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", uri, "--artifacts-destination", str(data_dir / "artifacts"),
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_TRACKING_URI": "", "PYTHONWARNINGS": "ignore"}
    server = Server("mlflow", cmd, "/health", port, env=env)
    with running(server):
        out: dict[str, Any] = {"start_s": server.start_s}
        helper = subprocess.run(
            [python, str(HERE / "_mlflow_side.py"), "--url", server.url, "--runs", str(N_RUNS),
             "--ingest-points", str(INGEST_POINTS), "--history-runs", str(HISTORY_RUNS),
             "--history-points", str(HISTORY_POINTS), "--filter", SEARCH_FILTER, "--order-by", SEARCH_ORDER],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        if helper.returncode != 0:
            raise RuntimeError(f"MLflow helper failed:\n{helper.stderr[-3000:]}")
        out.update(json.loads(helper.stdout.strip().splitlines()[-1]))
        search_body = json.dumps({"max_results": 1}).encode()
        out["latency_w1"] = small_request_latency(
            server.url,
            [
                ("GET /health", "/health", None),
                ("POST experiments/search", "/api/2.0/mlflow/experiments/search", search_body),
            ],
        )
        out["rss"] = server.rss()
    return out


# ----------------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def postgres_database(base: str, name: str) -> Iterator[str]:
    import asyncio

    import asyncpg

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


# ----------------------------------------------------------------------------- report


def report(backend: str, m: dict[str, Any], f: dict[str, Any] | None) -> None:
    def row(label: str, ours: str, theirs: str = "", ratio: str = "", target: str = "") -> None:
        print(f"  {label:<52} {ours:>14} {theirs:>14} {ratio:>9}  {target}")

    def check(ok: bool, text: str) -> str:
        return f"{'ok  ' if ok else 'MISS'} {text}"

    print()
    print(f"Tracking server benchmark — {backend}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    row("", "mltrail", "MLflow" if f else "", "ratio" if f else "", "target")
    fr = f or {}

    i1, i10 = m["ingest_1000"], m["ingest_10000"]
    f_ing = fr.get("ingest_1000", {}).get("median")
    r1 = i1["median"] / f_ing if f_ing else None
    r10 = i10["median"] / f_ing if f_ing else None
    row(
        "ingest 100k pts, 1,000-pt batches (pts/s, median)",
        f"{i1['median']:,.0f}",
        f"{f_ing:,.0f}" if f_ing else "",
        f"{r1:.1f}x" if r1 else "",
        check(r1 >= 40, ">= 40x") if r1 else "",
    )
    row("  best of 3", f"{i1['best']:,.0f}", f"{fr['ingest_1000']['best']:,.0f}" if f else "")
    row(
        "ingest 100k pts, 10,000-pt batches (pts/s, median)",
        f"{i10['median']:,.0f}",
        "(1,000 max)" if f else "",
        f"{r10:.1f}x" if r10 else "",
        check(r10 >= 40, ">= 40x") if r10 else "",
    )
    row("  best of 3", f"{i10['best']:,.0f}")
    row("ingest, 4 concurrent clients, 1,000-pt batches (pts/s)", f"{m['ingest_concurrent']:,.0f}")
    row("ingest 1M-pt series, 10,000-pt batches (pts/s)", f"{m['ingest_million']:,.0f}")

    def ms_row(label: str, ours: float, theirs: float | None, target_x: float | None) -> None:
        ratio = theirs / ours if theirs else None
        row(
            label,
            f"{ours:,.1f}",
            f"{theirs:,.1f}" if theirs else "",
            f"{ratio:.1f}x" if ratio else "",
            check(ratio >= target_x, f">= {target_x:g}x") if ratio and target_x else "",
        )

    ms_row("run creation + 10 params, createRun(params:) (ms/run)", m["create_ms"], fr.get("create_ms"), 10)
    ms_row(
        "  same, createRun + logBatch, 2 requests (ms/run)",
        m["create_two_requests_ms"],
        fr.get("create_ms"),
        None,
    )
    s, fs = m["search"], fr.get("search", {})
    ms_row(f"search 1,000 runs -> first 100 of {s['total']}, runTable, p50 (ms)", s["p50"], fs.get("p50"), 10)
    ms_row("  p95 (ms)", s["p95"], fs.get("p95"), None)
    so = m["search_objects"]
    ms_row("  same as runs { nodes {...} } + totalCount, p50 (ms)", so["p50"], fs.get("p50"), None)
    ms_row("  same, nodes { id latestMetrics } only, p50 (ms)", m["search_lean"]["p50"], None, None)
    a, fa = m["all_runs"], fr.get("all_runs", {})
    ms_row("all 1,000 runs, one page, runTable, p50 (ms)", a["p50"], fa.get("p50"), None)
    ms_row("  same as runs { nodes {...} }, p50 (ms)", m["all_runs_objects"]["p50"], fa.get("p50"), None)
    h, fh = m["histories"], fr.get("histories", {})
    label = "10 histories x 1,000 pts p50 (ms)" + (" [MLflow: 10 calls]" if f else "")
    ms_row(label, h["p50"], fh.get("p50"), 20)
    ms_row("  p95 (ms)", h["p95"], fh.get("p95"), None)
    d = m["downsample"]
    ms_row(f"1M-pt series -> {d['points']} pts p50 (ms)", d["p50"], None, None)
    ms_row("  p95 (ms)", d["p95"], None, None)

    fs_start = fr.get("start_s")
    row(
        "server start, fresh data dir (s)",
        f"{m['start_s']:.2f}",
        f"{fs_start:.2f}" if fs_start else "",
        f"{fs_start / m['start_s']:.1f}x" if fs_start else "",
        check(m["start_s"] < 2, "< 2 s"),
    )
    row("server start, --workers 2, existing data (s)", f"{m['start_w2_s']:.2f}")
    total, biggest, count = m["rss"]
    ftotal, _, fcount = fr.get("rss", (0, 0, 0))
    row(
        "server RSS after the benchmark (MB, all processes)",
        f"{total:.0f} ({count} proc)",
        f"{ftotal:.0f} ({fcount} proc)" if f else "",
        f"{ftotal / total:.1f}x" if f else "",
        check(biggest < 200, "< 200 MB per process"),
    )
    total2, biggest2, count2 = m["rss_w2"]
    row(
        "  --workers 2, after latency runs (MB)",
        f"{total2:.0f} ({count2} proc)",
        "",
        "",
        f"largest {biggest2:.0f} MB",
    )

    def latency_rows(title: str, ours: dict[str, Any], theirs: dict[str, Any] | None = None) -> None:
        theirs_list = list((theirs or {}).items())
        for n, (label, (p50, low)) in enumerate(ours.items()):
            other = theirs_list[n][1] if n < len(theirs_list) else None
            row(
                f"{title}: {label} p50 (min)",
                f"{p50:.2f} ({low:.2f})",
                f"{other[0]:.2f} ({other[1]:.2f})" if other else "",
                "",
                check(low < NAGLE_SUSPECT_MS, "no Nagle floor"),
            )

    print("  small requests, one kept-alive connection (ms):")
    latency_rows("  w1, fresh", m["latency_w1_fresh"])
    latency_rows("  w1, after", m["latency_w1"], fr.get("latency_w1"))
    latency_rows("  w2, conn A", m["latency_w2"])
    latency_rows("  w2, conn B", m["latency_w2_b"])
    if f:
        labels = ", ".join(fr.get("latency_w1", {}))
        print(f"  MLflow {f.get('version', '?')} (--workers 1) small requests: {labels}")
    if m.get("sqlite_mb"):
        sizes = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in m["sqlite_mb"].items())
        print(f"  SQLite files after the benchmark: {sizes}")
    print(f"  load average: {m['load_before']} before, {os.getloadavg()[0]:.2f} at the end")
    print()


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
            print("mltrail ...", file=sys.stderr, flush=True)
            m = run_mltrail(args, workdir, db_url)
            f = None
            if mlflow_python:
                print("MLflow ...", file=sys.stderr, flush=True)
                f = run_mlflow(mlflow_python, workdir, mlflow_uri)
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
