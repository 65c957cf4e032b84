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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from _workload import N_PARAMS, param_values, timed

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

INGEST_POINTS = 100_000
INGEST_KEYS = 10
INGEST_REPEATS = 3
N_RUNS = 1_000
HISTORY_RUNS = 10
HISTORY_POINTS = 1_000
CREATE_BLOCK = 100
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
    """GraphQL over one kept-alive connection; encoding and decoding count as the caller's time.

    Bodies are encoded with orjson, as the mltrail client encodes them (``mltrail._spool``)."""

    def __init__(self, url: str):
        self.client = httpx.Client(base_url=url, timeout=600.0)

    def __call__(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = orjson.dumps({"query": document, "variables": variables or {}})
        response = self.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        result = orjson.loads(response.content)
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


class MltrailSide:
    """The workload's steps against mltrail; the same step names as ``_mlflow_side.Side``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.gql = Gql(url)
        self.rng = random.Random(42)
        self.run_ids: list[str] = []
        self.hist_ids: list[str] = []

    def _experiment(self, name: str) -> str:
        return self.gql(CREATE_EXPERIMENT, {"name": name})["createExperiment"]["id"]

    def _new_run(self, experiment_id: str, name: str) -> str:
        return self.gql(CREATE_RUN, {"experimentId": experiment_id, "name": name})["createRun"]["id"]

    def setup(self) -> None:
        self.exp_ingest = self._experiment("ingest")
        self.exp_search = self._experiment("search")
        self.exp_hist = self._experiment("histories")
        self.exp_warm = self._experiment("warmup")
        # Warm-up: one batch of each size on a throwaway run (first-request costs are not ingest).
        warm = self._new_run(self.exp_ingest, "warmup")
        batches = metric_batches(11_000, 1_000, self.rng)[:1] + metric_batches(10_000, 10_000, self.rng)
        for n, batch in enumerate(batches):
            self.gql(LOG_BATCH, {"runId": warm, "batchId": f"warm-{n}", "metrics": batch})
        for i in range(20):  # and run creation with params, in an experiment of its own
            self.gql(CREATE_RUN, {"experimentId": self.exp_warm, "name": f"w{i}", "params": run_params(i)})

    def ingest(self, points: int, rep: int, size: int = 1_000) -> float:
        """One repetition, sequential over one connection: points/s."""
        run_id = self._new_run(self.exp_ingest, f"ingest-{size}-{rep}")
        payloads = [
            {"runId": run_id, "batchId": f"b{size}-{rep}-{n}", "metrics": batch}
            for n, batch in enumerate(metric_batches(points, size, self.rng))
        ]
        start = time.perf_counter()
        for payload in payloads:
            written = self.gql(LOG_BATCH, payload)["logBatch"]["metricsWritten"]
            assert written == size, written
        return points / (time.perf_counter() - start)

    def ingest_concurrent(self, clients: int = 4) -> float:
        """`clients` threads, one connection and one run each, 1,000-point batches: points/s."""
        plans = []
        for c in range(clients):
            run_id = self._new_run(self.exp_ingest, f"concurrent-{c}")
            batches = metric_batches(INGEST_POINTS // clients, 1_000, self.rng)
            plans.append(
                [{"runId": run_id, "batchId": f"c{c}-{n}", "metrics": b} for n, b in enumerate(batches)]
            )
        conns = [Gql(self.url) for _ in range(clients)]
        for conn in conns:
            conn(SMALL_QUERY)
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

    def create(self, first: int, count: int) -> float:
        """Runs first..first+count-1 of the search experiment, each ``createRun(params:)`` (one
        request, one transaction): ms per run."""
        params = [run_params(i) for i in range(first, first + count)]
        start = time.perf_counter()
        for n, i in enumerate(range(first, first + count)):
            created = self.gql(
                CREATE_RUN, {"experimentId": self.exp_search, "name": f"run-{i}", "params": params[n]}
            )
            self.run_ids.append(created["createRun"]["id"])
        return (time.perf_counter() - start) * 1000 / count

    def create_two_requests(self, count: int) -> float:
        """createRun, then logBatch(params): two requests, as MLflow's client does it."""
        exp = self._experiment("create-two-requests")
        params = [run_params(i) for i in range(count)]
        start = time.perf_counter()
        for i in range(count):
            run_id = self.gql(CREATE_RUN, {"experimentId": exp, "name": f"r{i}"})["createRun"]["id"]
            self.gql(LOG_BATCH, {"runId": run_id, "params": params[i]})
        return (time.perf_counter() - start) * 1000 / count

    def search_metrics(self) -> None:
        """Untimed: acc and loss, 5 steps each, on every run the search reads; then check the
        search returns what it should, both ways."""
        for run_id in self.run_ids:
            accs = [self.rng.random() for _ in range(5)]
            metrics = {
                "keys": ["acc"] * 5 + ["loss"] * 5,
                "values": accs + [1 - a for a in accs],
                "steps": list(range(5)) * 2,
                "timestamps": [1_700_000_000_000 + s for s in range(5)] * 2,
            }
            self.gql(LOG_BATCH, {"runId": run_id, "metrics": metrics})
        self.search_vars = {
            "experimentIds": [self.exp_search],
            "filter": SEARCH_FILTER,
            "orderBy": [SEARCH_ORDER],
            "first": 100,
        }
        page = self.gql(SEARCH, self.search_vars)["runs"]
        assert len(page["nodes"]) == 100 and page["totalCount"] > 100, page["totalCount"]
        self.search_total = page["totalCount"]
        table = self.gql(TABLE_SEARCH, self.search_vars)["runTable"]
        assert table["runIds"] == [n["id"] for n in page["nodes"]]
        assert len(table["params"]) == N_PARAMS and {c["key"] for c in table["metrics"]} == {"acc", "loss"}
        self.all_vars = {"experimentIds": [self.exp_search], "first": len(self.run_ids)}
        assert len(self.gql(TABLE_SEARCH, self.all_vars)["runTable"]["runIds"]) == len(self.run_ids)
        assert len(self.gql(SEARCH, self.all_vars)["runs"]["nodes"]) == len(self.run_ids)

    def search(self, repeat: int, warmup: int) -> list[float]:
        """The filtered search as ``runTable`` (columns): the figure compared with MLflow."""
        return timed(lambda: self.gql(TABLE_SEARCH, self.search_vars), repeat, warmup)

    def search_objects(self, repeat: int) -> list[float]:
        return timed(lambda: self.gql(SEARCH, self.search_vars), repeat)

    def search_lean(self, repeat: int) -> list[float]:
        """Only ids and the sort metric: filter and sort without returning 100 runs field by field."""
        lean = SEARCH.replace("nodes {" + RUN_FIELDS + "}", "nodes { id latestMetrics { key value } }")
        return timed(lambda: self.gql(lean, self.search_vars), repeat)

    def all_runs(self, repeat: int, warmup: int) -> list[float]:
        return timed(lambda: self.gql(TABLE_SEARCH, self.all_vars), repeat, warmup)

    def all_runs_objects(self, repeat: int) -> list[float]:
        return timed(lambda: self.gql(SEARCH, self.all_vars), repeat)

    def histories_setup(self, runs: int, points: int) -> None:
        for i in range(runs):
            run_id = self._new_run(self.exp_hist, f"hist-{i}")
            (batch,) = metric_batches(points, points, self.rng, keys=1)
            batch["keys"] = ["loss"] * points
            self.gql(LOG_BATCH, {"runId": run_id, "metrics": batch})
            self.hist_ids.append(run_id)
        self.hist_vars = {"runIds": self.hist_ids, "keys": ["loss"]}
        series = self.gql(HISTORIES, self.hist_vars)["metricHistories"]
        assert len(series) == runs and all(len(s["values"]) == points for s in series)

    def histories(self, repeat: int, warmup: int) -> list[float]:
        """All the histories in one ``metricHistories`` call."""
        return timed(lambda: self.gql(HISTORIES, self.hist_vars), repeat, warmup)

    def million(self) -> tuple[float, list[float], int]:
        """One 1,000,000-point series: ingest rate, then downsampled reads (samples, points)."""
        big = self._new_run(self.exp_hist, "million")
        payloads = [
            {"runId": big, "batchId": f"big-{n}", "metrics": {**batch, "keys": ["loss"] * len(batch["keys"])}}
            for n, batch in enumerate(metric_batches(BIG_SERIES, 10_000, self.rng, keys=1))
        ]
        start = time.perf_counter()
        for payload in payloads:
            self.gql(LOG_BATCH, payload)
        rate = BIG_SERIES / (time.perf_counter() - start)
        del payloads
        big_vars = {"runIds": [big], "keys": ["loss"], "maxPoints": 1_000}
        (down,) = self.gql(HISTORIES, big_vars)["metricHistories"]
        assert down["downsampled"] and down["totalPoints"] == BIG_SERIES and len(down["values"]) <= 1_010, (
            down["totalPoints"],
            len(down["values"]),
        )
        return rate, timed(lambda: self.gql(HISTORIES, big_vars), repeat=10), len(down["values"])

    def close(self) -> None:
        self.gql.close()


# ----------------------------------------------------------------------------- MLflow side


class MlflowSide:
    """``bench/_mlflow_side.py`` in MLflow's interpreter, driven one step at a time over pipes."""

    def __init__(self, python: str, url: str, env: dict[str, str]) -> None:
        self.stderr = tempfile.NamedTemporaryFile(prefix="bench-mlflow-side-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [python, str(HERE / "_mlflow_side.py"), "--url", url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env,
        )  # fmt: skip

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.stderr.flush()
            tail = Path(self.stderr.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"MLflow helper failed in {op}:\n{tail}")
        return json.loads(line)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        with contextlib.suppress(OSError):
            os.unlink(self.stderr.name)


# ----------------------------------------------------------------------------- the workload


def latency_summary(samples: list[float]) -> dict[str, float]:
    return {"p50": pct(samples, 50), "p95": pct(samples, 95)}


def run_workload(m: MltrailSide, f: MlflowSide | None, mr: dict[str, Any], fr: dict[str, Any]) -> None:
    """Every step of the workload; with MLflow, each compared step alternates between the two
    sides in rounds, and ratios are taken round by round (see ``pairs``)."""
    pairs: dict[str, list[float]] = {}
    mr["pairs"] = pairs
    m.setup()
    if f:
        fr.update(f.call("setup", filter=SEARCH_FILTER, order_by=SEARCH_ORDER))
    both = " (alternating with MLflow)" if f else ""

    progress("ingest, 1,000-point batches" + both)
    ours, theirs = [], []
    for rep in range(INGEST_REPEATS):
        ours.append(m.ingest(INGEST_POINTS, rep))
        if f:
            theirs.append(f.call("ingest", points=INGEST_POINTS, rep=rep)["rate"])
    mr["ingest_1000"] = {"median": statistics.median(ours), "best": max(ours), "all": ours}
    if f:
        fr["ingest_1000"] = {"median": statistics.median(theirs), "best": max(theirs), "all": theirs}
        pairs["ingest_1000"] = [a / b for a, b in zip(ours, theirs, strict=True)]
        # MLflow takes 1,000 metrics per call at most: its 1,000-point rate is its best.
        pairs["ingest_10000"] = []

    progress("ingest, 10,000-point batches; 4 concurrent clients")
    rates = [m.ingest(INGEST_POINTS, rep, size=10_000) for rep in range(INGEST_REPEATS)]
    mr["ingest_10000"] = {"median": statistics.median(rates), "best": max(rates), "all": rates}
    if f:
        pairs["ingest_10000"] = [a / b for a, b in zip(rates, theirs, strict=True)]
    mr["ingest_concurrent"] = m.ingest_concurrent()

    progress(f"run creation, {N_RUNS} runs in blocks of {CREATE_BLOCK}" + both)
    ours, theirs = [], []
    for first in range(0, N_RUNS, CREATE_BLOCK):
        ours.append(m.create(first, CREATE_BLOCK))
        if f:
            theirs.append(f.call("create", first=first, count=CREATE_BLOCK)["ms"])
    mr["create_ms"], mr["create_rounds"] = statistics.fmean(ours), ours
    if f:
        fr["create_ms"], fr["create_rounds"] = statistics.fmean(theirs), theirs
        pairs["create"] = [b / a for a, b in zip(ours, theirs, strict=True)]
    mr["create_two_requests_ms"] = m.create_two_requests(100)

    progress("search" + both)
    m.search_metrics()
    mr["search_total"] = m.search_total
    if f:
        f.call("search_metrics")

    def alternate(name: str, rounds: int, repeat: int, f_repeat: int) -> None:
        ours, theirs = [], []
        for r in range(rounds):
            warmup = 2 if r == 0 else 1
            ours += getattr(m, name)(repeat, warmup)
            if f:
                theirs += f.call(name, repeat=f_repeat, warmup=warmup)["samples"]
        mr[name] = latency_summary(ours)
        if f:
            fr[name] = latency_summary(theirs)

    alternate("search", rounds=3, repeat=10, f_repeat=10)
    mr["search_objects"] = latency_summary(m.search_objects(30))
    mr["search_lean"] = latency_summary(m.search_lean(30))
    alternate("all_runs", rounds=2, repeat=5, f_repeat=5)
    mr["all_runs_objects"] = latency_summary(m.all_runs_objects(10))

    progress("histories" + both)
    m.histories_setup(HISTORY_RUNS, HISTORY_POINTS)
    if f:
        f.call("histories_setup", runs=HISTORY_RUNS, points=HISTORY_POINTS)
    alternate("histories", rounds=3, repeat=10, f_repeat=7)

    progress("1M-point series")
    rate, samples, points = m.million()
    mr["ingest_million"] = rate
    mr["downsample"] = {**latency_summary(samples), "points": points}


MLTRAIL_SMALL = [
    ("GET /healthz", "/healthz", None),
    ("GraphQL experiments(first:1)", "/graphql", json.dumps({"query": SMALL_QUERY}).encode()),
]
MLFLOW_SMALL = [
    ("GET /health", "/health", None),
    (
        "POST experiments/search",
        "/api/2.0/mlflow/experiments/search",
        json.dumps({"max_results": 1}).encode(),
    ),
]


def mltrail_command(port: int, data_dir: str, workers: int, db_url: str | None) -> list[str]:
    exe = ROOT / ".venv" / "bin" / "mltrail"
    cmd = [str(exe) if exe.exists() else (shutil.which("mltrail") or "mltrail"), "server"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--data-dir", data_dir, "--workers", str(workers)]
    if db_url:
        cmd += ["--backend-store-uri", db_url]
    return cmd


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


def mlflow_server(python: str, workdir: Path, store_uri: str | None) -> tuple[Server, dict[str, str]]:
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
    return Server("mlflow", cmd, "/health", port, env=env), env


def run_both(
    workdir: Path, db_url: str | None, mlflow_python: str | None, mlflow_uri: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Both servers up side by side (each idle while the other works), the workload
    alternating between them; then mltrail alone with two workers."""
    mr: dict[str, Any] = {"load_before": f"{os.getloadavg()[0]:.2f}"}
    fr: dict[str, Any] = {}
    data_dir = str(workdir / "mltrail")
    port = free_port()
    with contextlib.ExitStack() as stack:
        print("starting mltrail ...", file=sys.stderr, flush=True)
        server = stack.enter_context(
            running(Server("mltrail", mltrail_command(port, data_dir, 1, db_url), "/readyz", port))
        )
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
        m = MltrailSide(server.url)
        stack.callback(m.close)
        run_workload(m, f, mr, fr)
        mr["latency_w1"] = small_request_latency(server.url, MLTRAIL_SMALL)
        mr["rss"] = server.rss()
        if f:
            fr["latency_w1"] = small_request_latency(mlflow.url, MLFLOW_SMALL)
            fr["rss"] = mlflow.rss()
    if db_url is None:
        mr["sqlite_mb"] = {p.name: p.stat().st_size / 1e6 for p in sorted(Path(data_dir).glob("mltrail.db*"))}
    port = free_port()
    with running(Server("mltrail-w2", mltrail_command(port, data_dir, 2, db_url), "/readyz", port)) as server:
        mr["start_w2_s"] = server.start_s
        # Several connections: each lands on whichever worker accepts it.
        mr["latency_w2"] = small_request_latency(server.url, MLTRAIL_SMALL)
        mr["latency_w2_b"] = small_request_latency(server.url, MLTRAIL_SMALL)
        mr["rss_w2"] = server.rss()
    return mr, (fr if mlflow_python else None)


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
    pairs = m.get("pairs", {})

    def paired(name: str) -> float | None:
        """The median of the round-by-round ratios (each round ran both sides back to back)."""
        return statistics.median(pairs[name]) if pairs.get(name) else None

    def spread(name: str) -> str:
        return "  rounds: " + ", ".join(f"{r:.1f}x" for r in pairs[name]) if pairs.get(name) else ""

    r1, r10 = paired("ingest_1000"), paired("ingest_10000")
    row(
        "ingest 100k pts, 1,000-pt batches (pts/s, median)",
        f"{i1['median']:,.0f}",
        f"{f_ing:,.0f}" if f_ing else "",
        f"{r1:.1f}x" if r1 else "",
        check(r1 >= 40, ">= 40x") if r1 else "",
    )
    row(
        "  best of 3",
        f"{i1['best']:,.0f}",
        f"{fr['ingest_1000']['best']:,.0f}" if f else "",
        "",
        spread("ingest_1000"),
    )
    row(
        "ingest 100k pts, 10,000-pt batches (pts/s, median)",
        f"{i10['median']:,.0f}",
        "(1,000 max)" if f else "",
        f"{r10:.1f}x" if r10 else "",
        check(r10 >= 40, ">= 40x") if r10 else "",
    )
    row("  best of 3", f"{i10['best']:,.0f}", "", "", spread("ingest_10000"))
    row("ingest, 4 concurrent clients, 1,000-pt batches (pts/s)", f"{m['ingest_concurrent']:,.0f}")
    row("ingest 1M-pt series, 10,000-pt batches (pts/s)", f"{m['ingest_million']:,.0f}")

    def ms_row(
        label: str, ours: float, theirs: float | None, target_x: float | None, ratio: float | None = None
    ) -> None:
        ratio = ratio or (theirs / ours if theirs else None)
        row(
            label,
            f"{ours:,.1f}",
            f"{theirs:,.1f}" if theirs else "",
            f"{ratio:.1f}x" if ratio else "",
            check(ratio >= target_x, f">= {target_x:g}x") if ratio and target_x else "",
        )

    ms_row(
        "run creation + 10 params, createRun(params:) (ms/run)",
        m["create_ms"],
        fr.get("create_ms"),
        10,
        paired("create"),
    )
    if pairs.get("create"):
        row("", "", "", "", spread("create"))
    ms_row(
        "  same, createRun + logBatch, 2 requests (ms/run)",
        m["create_two_requests_ms"],
        fr.get("create_ms"),
        None,
    )
    s, fs = m["search"], fr.get("search", {})
    total = m["search_total"]
    ms_row(f"search 1,000 runs -> first 100 of {total}, runTable, p50 (ms)", s["p50"], fs.get("p50"), 10)
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
