"""MLflow's half of bench/registry.py: the registry workload through MlflowClient, step by step.

Runs in the interpreter that has mlflow installed, against the ``mlflow server`` that
bench/registry.py started; one JSON command per line on stdin, one JSON answer per line on
stdout, so the two sides alternate in rounds (see bench/tracking.py for why).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any

import mlflow
from _workload import timed
from mlflow.tracking import MlflowClient

warnings.filterwarnings("ignore")  # stages are deprecated in MLflow 3; they still work


class Side:
    def __init__(self, url: str) -> None:
        self.client = MlflowClient(tracking_uri=url, registry_uri=url)
        self.run_id = ""

    def setup(self) -> dict[str, Any]:
        experiment = self.client.create_experiment("registry")
        self.run_id = self.client.create_run(experiment).info.run_id
        # A model directory to register (mltrail's MLflow API checks that the source holds an
        # MLmodel file; MLflow's server does not look). Untimed.
        self.client.log_text(self.run_id, "flavors: {}\n", "model/MLmodel")
        self.client.create_registered_model("warmup")
        self.client.create_model_version("warmup", f"runs:/{self.run_id}/model", run_id=self.run_id)
        return {"version": mlflow.__version__}

    def create(self, name: str, count: int) -> dict[str, Any]:
        """`count` versions of `name` (the model created first, untimed if new)."""
        if not self.client.search_registered_models(filter_string=f"name = '{name}'"):
            self.client.create_registered_model(name)
        source = f"runs:/{self.run_id}/model"
        start = time.perf_counter()
        for _ in range(count):
            self.client.create_model_version(name, source, run_id=self.run_id)
        return {"rate": count / (time.perf_counter() - start)}

    def transitions(self, name: str, count: int, versions: int) -> dict[str, Any]:
        stages = ("Staging", "Production")
        start = time.perf_counter()
        for i in range(count):
            self.client.transition_model_version_stage(name, str(i % versions + 1), stages[i % 2])
        return {"rate": count / (time.perf_counter() - start)}

    def aliases(self, name: str, count: int, versions: int) -> dict[str, Any]:
        start = time.perf_counter()
        for i in range(count):
            self.client.set_registered_model_alias(name, "champion", str(i % versions + 1))
        return {"rate": count / (time.perf_counter() - start)}

    def search(self, name: str, expected: int, repeat: int, warmup: int) -> dict[str, Any]:
        def search() -> None:
            found = self.client.search_model_versions(f"name = '{name}'", max_results=expected)
            assert len(found) == expected, len(found)

        return {"samples": timed(search, repeat, warmup)}


def main() -> None:
    side = Side(sys.argv[sys.argv.index("--url") + 1])
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        print(json.dumps(getattr(side, op)(**command)), flush=True)


if __name__ == "__main__":
    main()
