"""The same MLflow client workload against ``mlflow server`` and against mltrail's MLflow API.

    .venv/bin/python bench/mlflow_compat.py --mlflow-python /tmp/mlflow-venv/bin/python
    .venv/bin/python bench/mlflow_compat.py --mlflow-python .venv-mlflow/bin/python --quick

Only the server differs: both sides are the unchanged ``MlflowClient`` driven by the same
helper scripts as tracking.py and registry.py (``_mlflow_side.py``, ``_mlflow_registry_side.py``),
one process per server, in the interpreter given by ``--mlflow-python``. The servers run side
by side on SQLite with one worker each, and every compared step alternates between them in
rounds, so that a change in the host's speed lands on both sides of a ratio.

Measured, each as MLflow's / mltrail's (the ratio is mltrail's speed-up):

- ``log_batch`` ingest: points/s, 1,000-metric batches (MLflow's maximum) into a fresh run;
- run creation: ``create_run`` + ``log_batch(params)`` per run, ms per run (1,000 runs);
- ``search_runs``: ``metrics.acc > 0.5 and params.lr = '0.01'`` ordered by ``metrics.acc DESC``,
  first 100 of the created runs, p50 ms;
- metric histories: ``get_metric_history`` of 10 runs x 1,000 points, p50 ms;
- registry: version creation, stage transitions and alias moves, per second.

Target (issue 20): mltrail faster on every row, at least 5x on ingest and search.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _harness import (
    MlflowSide,
    find_mlflow_python,
    latency_summary,
    mlflow_server,
    mltrail_server,
    progress,
    running,
)

FILTER = "metrics.acc > 0.5 and params.lr = '0.01'"
ORDER_BY = "metrics.acc DESC"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mlflow-python", help="interpreter with mlflow (a separate venv)")
    parser.add_argument("--quick", action="store_true", help="a smaller workload, for a smoke run")
    args = parser.parse_args()
    python = find_mlflow_python(args.mlflow_python)
    if python is None:
        sys.exit(
            "no MLflow interpreter: pass --mlflow-python (e.g. .venv-mlflow/bin/python after make mlflow-client)"
        )
    rounds = 2 if args.quick else 3
    points = 20_000 if args.quick else 100_000
    # search_metrics expects 100 matches of the filter: the 1,000 runs tracking.py searches.
    runs_per_block, blocks = 100, 10
    registry_count = 20 if args.quick else 50

    with tempfile.TemporaryDirectory(prefix="bench-mlflow-compat-") as tmp:
        work = Path(tmp)
        server, env = mlflow_server(python, work)
        ours_server = mltrail_server(str(work / "mltrail"))
        with running(server), running(ours_server):
            sides = {
                "mlflow": MlflowSide(python, server.url, env),
                "mltrail": MlflowSide(python, ours_server.url, env),
            }
            registries = {
                name: MlflowSide(python, url, env, script="_mlflow_registry_side.py")
                for name, url in (("mlflow", server.url), ("mltrail", ours_server.url))
            }
            try:
                results = workload(sides, registries, rounds, points, runs_per_block, blocks, registry_count)
            finally:
                for side in (*sides.values(), *registries.values()):
                    side.close()
    report(results)


def workload(
    sides: dict[str, MlflowSide],
    registries: dict[str, MlflowSide],
    rounds: int,
    points: int,
    runs_per_block: int,
    blocks: int,
    registry_count: int,
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {name: {} for name in sides}
    for name, side in sides.items():
        out[name]["version"] = side.call("setup", filter=FILTER, order_by=ORDER_BY)["version"]

    progress(f"ingest: {rounds} rounds x {points:,} points")
    for r in range(rounds):
        for name, side in sides.items():
            out[name].setdefault("ingest", []).append(side.call("ingest", points=points, rep=r)["rate"])
    progress(f"run creation: {blocks} blocks x {runs_per_block} runs")
    for b in range(blocks):
        for name, side in sides.items():
            out[name].setdefault("create", []).append(
                side.call("create", first=b * runs_per_block, count=runs_per_block)["ms"]
            )
    for side in sides.values():
        side.call("search_metrics")
    progress("search_runs")
    for r in range(rounds):
        for name, side in sides.items():
            out[name].setdefault("search", []).extend(
                side.call("search", repeat=5, warmup=2 if r == 0 else 1)["samples"]
            )
    progress("metric histories")
    for side in sides.values():
        side.call("histories_setup", runs=10, points=1_000)
    for r in range(rounds):
        for name, side in sides.items():
            out[name].setdefault("histories", []).extend(
                side.call("histories", repeat=3, warmup=1 if r == 0 else 0)["samples"]
            )
    progress("registry")
    for side in registries.values():
        side.call("setup")
    for step, extra in (
        ("create", {}),
        ("transitions", {"versions": registry_count}),
        ("aliases", {"versions": registry_count}),
    ):
        for _ in range(rounds):
            for name, side in registries.items():
                out[name].setdefault(f"registry_{step}", []).append(
                    side.call(step, name="Bench", count=registry_count, **extra)["rate"]
                )
    return out


def report(results: dict[str, dict[str, Any]]) -> None:
    f, m = results["mlflow"], results["mltrail"]
    print(f"\nMLflow {f['version']} client; mlflow server vs mltrail's MLflow API (SQLite, 1 worker each)\n")
    print(f"{'workload':<34}{'mlflow server':>16}{'mltrail':>16}{'mltrail speed-up':>18}")
    rows = [
        ("log_batch ingest (pts/s, median)", "ingest", True, statistics.median),
        ("run creation + params (ms/run)", "create", False, statistics.median),
        ("search_runs first 100 (ms, p50)", "search", False, lambda s: latency_summary(s)["p50"]),
        ("10 metric histories (ms, p50)", "histories", False, lambda s: latency_summary(s)["p50"]),
        ("model versions created (/s)", "registry_create", True, statistics.median),
        ("stage transitions (/s)", "registry_transitions", True, statistics.median),
        ("alias moves (/s)", "registry_aliases", True, statistics.median),
    ]
    for label, key, higher_is_better, summary in rows:
        theirs, ours = summary(f[key]), summary(m[key])
        ratio = ours / theirs if higher_is_better else theirs / ours
        print(f"{label:<34}{theirs:>16,.1f}{ours:>16,.1f}{ratio:>17.1f}x")


if __name__ == "__main__":
    main()
