"""Model registry benchmark: version creation, stage transitions, alias moves, version search,
and loading a cached model.

    .venv/bin/python bench/registry.py                                        # mltrail alone
    .venv/bin/python bench/registry.py --vs-mlflow --mlflow-python /tmp/mlflow-venv/bin/python

Everything goes through real server processes over HTTP: mltrail's GraphQL with one kept-alive
connection (bench/tracking.py's ``Gql``), MLflow's REST API through ``MlflowClient`` in its own
venv (bench/_mlflow_registry_side.py), both ``--workers 1`` on SQLite, side by side. The compared
steps alternate between the two servers in rounds, and each ratio is the median of the
round-by-round ratios (the host's speed drifts; see bench/tracking.py):

- version creations/s: 50 ``createModelVersion`` per round on one model (mltrail checks the
  source holds an ``MLmodel`` file; MLflow does not look);
- stage transitions/s: 100 per round over the first 50 versions, Staging/Production in turn,
  each with a recorded history entry on mltrail's side;
- alias moves/s: 100 ``champion`` moves per round over those versions;
- search: all 1,000 versions of one model in one call, with what MLflow returns per version
  (name, version, stage, source, run, description, times, user, aliases, tags). mltrail:
  ``modelVersionTable`` (columns; the figure compared, as bench/tracking.py compares runTable)
  and, for the record, ``modelVersions { nodes {…} }`` (one object per version); MLflow:
  ``search_model_versions("name = '…'", max_results=1000)``;
- ``load_model("models:/…/1")`` of a version already in the local cache (mltrail only): the
  budget is 50 ms.

Figures go in ``bench/README.md`` (Model registry section).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import (
    Gql,
    MlflowSide,
    Server,
    find_mlflow_python,
    free_port,
    mlflow_server,
    mltrail_command,
    pct,
    running,
)
from _workload import timed

ROUNDS = 3
CREATE = 50
TRANSITIONS = 100
ALIAS_MOVES = 100
SEARCH_VERSIONS = 1_000
TARGET = 10.0
MODEL = "bench-model"
BIG = "bench-search"

CREATE_VERSION = (
    """mutation($n: String!, $s: String!) { createModelVersion(name: $n, source: $s) { version } }"""
)
TRANSITION = """mutation($n: String!, $v: Int!, $s: Stage!) {
  transitionModelVersionStage(name: $n, version: $v, stage: $s) { stage } }"""
SET_ALIAS = """mutation($n: String!, $v: Int!) { setModelVersionAlias(name: $n, alias: "champion", version: $v) { version } }"""
# What MLflow's search returns per version too: name, version, stage, source, run, description,
# times, user, aliases, tags.
SEARCH = """query($n: String!, $first: Int) { modelVersionTable(name: $n, first: $first) {
  names versions stages sources runIds descriptions createdAts updatedAts createdBys aliases tags } }"""
SEARCH_OBJECTS = """query($n: String!, $first: Int) { modelVersions(name: $n, first: $first) { nodes {
  name version stage source runId description createdAt updatedAt createdBy aliases tags { key value } } } }"""


def progress(text: str) -> None:
    print(f"  {text} ...", file=sys.stderr, flush=True)


class MltrailSide:
    def __init__(self, url: str) -> None:
        self.url = url
        self.gql = Gql(url)
        self.gql.client.headers["X-Mltrail-User"] = "bench"
        self.source = ""

    def setup(self) -> None:
        run = self.gql('mutation { createRun(experimentName: "registry") { id } }')["createRun"]["id"]
        response = self.gql.client.put(f"/api/artifacts/{run}/model/MLmodel", content=b"flavors: {}\n")
        response.raise_for_status()
        self.source = f"runs:/{run}/model"
        self.gql(CREATE_VERSION, {"n": "warmup", "s": self.source})

    def create(self, name: str, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            self.gql(CREATE_VERSION, {"n": name, "s": self.source})
        return count / (time.perf_counter() - start)

    def transitions(self, name: str, count: int, versions: int) -> float:
        stages = ("STAGING", "PRODUCTION")
        start = time.perf_counter()
        for i in range(count):
            self.gql(TRANSITION, {"n": name, "v": i % versions + 1, "s": stages[i % 2]})
        return count / (time.perf_counter() - start)

    def aliases(self, name: str, count: int, versions: int) -> float:
        start = time.perf_counter()
        for i in range(count):
            self.gql(SET_ALIAS, {"n": name, "v": i % versions + 1})
        return count / (time.perf_counter() - start)

    def search(self, name: str, expected: int, repeat: int, warmup: int) -> list[float]:
        def search() -> None:
            found = self.gql(SEARCH, {"n": name, "first": expected})["modelVersionTable"]["versions"]
            assert len(found) == expected, len(found)

        return timed(search, repeat, warmup)

    def search_objects(self, name: str, expected: int, repeat: int) -> list[float]:
        def search() -> None:
            found = self.gql(SEARCH_OBJECTS, {"n": name, "first": expected})["modelVersions"]["nodes"]
            assert len(found) == expected, len(found)

        return timed(search, repeat, 1)

    def cached_load(self, workdir: Path, repeat: int = 30) -> dict[str, float]:
        """A real scikit-learn model, logged, registered, loaded once; then loads from the cache."""
        script = f"""
import json, os, time, numpy as np, mltrail
from sklearn.linear_model import LogisticRegression
from mltrail.models import load_model
X = np.random.default_rng(0).normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
with mltrail.start_run(experiment_name="registry-load") as run:
    run.log_model(LogisticRegression().fit(X, y), "model", input_example=X[:5])
mltrail.register_model(f"runs:/{{run.id}}/model", "bench-load")
first = time.perf_counter(); load_model("models:/bench-load/1"); first = (time.perf_counter() - first) * 1000
samples = []
for _ in range({repeat}):
    t = time.perf_counter(); m = load_model("models:/bench-load/1"); samples.append((time.perf_counter() - t) * 1000)
m.predict(X[:3])
print(json.dumps({{"first_ms": first, "samples": samples}}))
"""
        env = {
            **os.environ,
            "MLTRAIL_TRACKING_URI": self.url,
            "MLTRAIL_MODEL_CACHE_DIR": str(workdir / "model-cache"),
            "MLTRAIL_SPOOL_DIR": str(workdir / "spool"),
        }
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        samples = result["samples"]
        return {"first_ms": result["first_ms"], "p50": pct(samples, 50), "p95": pct(samples, 95)}

    def close(self) -> None:
        self.gql.close()


def workload(m: MltrailSide, f: MlflowSide | None, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"ours": {}, "theirs": {}, "ratios": {}}
    m.setup()
    if f:
        out["mlflow_version"] = f.call("setup")["version"]

    def rounds(step: str, **args: Any) -> None:
        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours.append(getattr(m, step)(**args))
            if f:
                theirs.append(f.call(step, **args)["rate"])
        out["ours"][step] = ours
        if f:
            out["theirs"][step] = theirs
            out["ratios"][step] = [a / b for a, b in zip(ours, theirs, strict=True)]

    progress(f"version creation, {ROUNDS} x {CREATE}")
    rounds("create", name=MODEL, count=CREATE)
    progress(f"stage transitions, {ROUNDS} x {TRANSITIONS}")
    rounds("transitions", name=MODEL, count=TRANSITIONS, versions=CREATE)
    progress(f"alias moves, {ROUNDS} x {ALIAS_MOVES}")
    rounds("aliases", name=MODEL, count=ALIAS_MOVES, versions=CREATE)

    progress(f"search: {SEARCH_VERSIONS} versions of one model (setup untimed)")
    m.create(BIG, SEARCH_VERSIONS)
    if f:
        f.call("create", name=BIG, count=SEARCH_VERSIONS)
    ours, theirs = [], []
    for r in range(ROUNDS):
        ours += m.search(BIG, SEARCH_VERSIONS, repeat=5, warmup=2 if r == 0 else 0)
        if f:
            theirs += f.call(
                "search", name=BIG, expected=SEARCH_VERSIONS, repeat=5, warmup=2 if r == 0 else 0
            )["samples"]
    out["ours"]["search_ms"] = ours
    out["ours"]["search_objects_ms"] = m.search_objects(BIG, SEARCH_VERSIONS, repeat=5)
    if f:
        out["theirs"]["search_ms"] = theirs
        out["ratios"]["search"] = [statistics.median(theirs) / statistics.median(ours)]

    progress("load_model of a cached version")
    out["ours"]["cached_load"] = m.cached_load(workdir)
    return out


def report(out: dict[str, Any]) -> None:
    ours, theirs, ratios = out["ours"], out["theirs"], out["ratios"]
    vs = f"MLflow {out['mlflow_version']}" if "mlflow_version" in out else None
    print(f"\nModel registry, SQLite, --workers 1{' vs ' + vs if vs else ''}")
    print(f"{'':34}{'mltrail':>12}{'MLflow':>12}{'ratio':>10}   target")

    def row(label: str, key: str, unit: str) -> None:
        a = statistics.median(ours[key])
        b = statistics.median(theirs[key]) if key in theirs else None
        r = statistics.median(ratios[key]) if key in ratios else None
        ok = "" if r is None else ("ok" if r >= TARGET else "MISSED")
        print(
            f"{label:34}{a:>10.1f}{unit}{(f'{b:>10.1f}' + unit) if b else '':>12}"
            f"{f'{r:>9.1f}x' if r else '':>10}   {'>= 10x ' + ok if r else ''}"
        )
        if key in ratios:
            print(f"{'':34}rounds: " + ", ".join(f"{x:.1f}x" for x in ratios[key]))

    row("version creations/s (50/round)", "create", "/s")
    row("stage transitions/s (100/round)", "transitions", "/s")
    row("alias moves/s (100/round)", "aliases", "/s")
    s_ours = statistics.median(ours["search_ms"])
    line = f"{'search 1,000 versions (ms, p50)':34}{s_ours:>10.1f}ms"
    if "search_ms" in theirs:
        s_theirs = statistics.median(theirs["search_ms"])
        r = s_theirs / s_ours
        line += f"{s_theirs:>10.1f}ms{r:>9.1f}x   >= 10x {'ok' if r >= TARGET else 'MISSED'}"
    print(line)
    print(f"{'  ... as objects (modelVersions)':34}{statistics.median(ours['search_objects_ms']):>10.1f}ms")
    load = ours["cached_load"]
    print(
        f"{'load_model, cached version (ms)':34}{load['p50']:>10.1f}ms   p95 {load['p95']:.1f} ms, "
        f"first (download) {load['first_ms']:.0f} ms   budget < 50 ms {'ok' if load['p50'] < 50 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vs-mlflow", action="store_true", help="the same workload against mlflow server")
    parser.add_argument("--mlflow-python", default=None, help="the interpreter of MLflow's venv")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    args = parser.parse_args()
    mlflow_python = find_mlflow_python(args.mlflow_python) if args.vs_mlflow else None
    if args.vs_mlflow and not mlflow_python:
        parser.error("--vs-mlflow: MLflow not found; give --mlflow-python /path/to/venv/bin/python")
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        port = free_port()
        cmd = mltrail_command(port, str(workdir / "mltrail"), 1, None)
        server = stack.enter_context(running(Server("mltrail", cmd, "/readyz", port)))
        f = None
        if mlflow_python:
            mlflow, env = mlflow_server(mlflow_python, workdir, None)
            stack.enter_context(running(mlflow))
            f = MlflowSide(mlflow_python, mlflow.url, env, script="_mlflow_registry_side.py")
            stack.callback(f.close)
        m = MltrailSide(server.url)
        stack.callback(m.close)
        out = workload(m, f, workdir)
    report(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
