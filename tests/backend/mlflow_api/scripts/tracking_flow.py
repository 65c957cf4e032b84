"""Unchanged MLflow tracking code, run by the real ``mlflow`` client against mltrail.

Run by the side venv's python (tests/backend/mlflow_api); prints one JSON report on stdout.
Argument: the tracking URI.
"""

import json
import math
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType

mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
report = {}

experiment_id = mlflow.set_experiment("churn").experiment_id
client.set_experiment_tag(experiment_id, "owner", "ana")
report["experiment"] = {
    "id": experiment_id,
    "by_name": client.get_experiment_by_name("churn").experiment_id,
    "tags": client.get_experiment(experiment_id).tags,
}

run_ids = {}
for model, depth, accs in (("rf", 3, [0.7, 0.8, 0.91]), ("lr", 1, [0.6, 0.75]), ("rf", 8, [0.5, 0.85])):
    with mlflow.start_run(run_name=f"{model}-{depth}") as run:
        mlflow.log_param("model", model)
        mlflow.log_params({"depth": depth, "lr": 0.1})
        for step, acc in enumerate(accs):
            mlflow.log_metric("acc", acc, step=step)
        mlflow.log_metrics({"loss": 1 - accs[-1], "nan_metric": float("nan")}, step=len(accs) - 1)
        mlflow.set_tags({"team": "vision", "stage": "dev"})
        run_ids[f"{model}-{depth}"] = run.info.run_id

# log-batch through the client, and a nested run.
parent = run_ids["rf-3"]
client.log_batch(
    parent,
    metrics=[Metric("batch_metric", float(i), 1_700_000_000_000 + i, i) for i in range(5)],
    params=[Param("batch_param", "x")],
    tags=[RunTag("batch_tag", "y")],
)
with mlflow.start_run(run_id=parent):
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("acc", 0.1)
run_ids["child"] = child.info.run_id

client.delete_tag(run_ids["lr-1"], "stage")
client.set_terminated(run_ids["lr-1"], status="FAILED")

got = client.get_run(parent)
report["run"] = {
    "id": got.info.run_id,
    "name": got.info.run_name,
    "status": got.info.status,
    "params": got.data.params,
    "metrics": {k: (None if math.isnan(v) else v) for k, v in got.data.metrics.items()},
    "tags": {k: v for k, v in got.data.tags.items() if not k.startswith("mlflow.source")},
    "artifact_uri": got.info.artifact_uri,
}
report["lr_run"] = {
    "status": client.get_run(run_ids["lr-1"]).info.status,
    "tags": sorted(client.get_run(run_ids["lr-1"]).data.tags),
}
report["child_parent"] = client.get_run(run_ids["child"]).data.tags.get("mlflow.parentRunId")
report["history"] = [(m.step, m.value) for m in client.get_metric_history(parent, "acc")]
report["batch_history"] = [
    (m.step, m.timestamp, m.value) for m in client.get_metric_history(parent, "batch_metric")
]

found = mlflow.search_runs(
    experiment_ids=[experiment_id],
    filter_string="metrics.acc > 0.8 and params.model = 'rf'",
    order_by=["metrics.acc DESC"],
)
report["search_frame"] = {
    "columns": sorted(c for c in found.columns if c.startswith(("params.", "metrics.acc", "tags.team"))),
    "run_ids": list(found["run_id"]),
    "acc": list(found["metrics.acc"]),
}
report["search_by_status"] = sorted(
    r.info.run_name for r in client.search_runs([experiment_id], "attributes.status = 'FAILED'")
)
# Paging: the client follows next_page_token.
page = client.search_runs([experiment_id], "", max_results=2, order_by=["attributes.start_time ASC"])
report["paging"] = {"first_page": len(page), "token": bool(page.token)}
rest = client.search_runs(
    [experiment_id], "", max_results=2, order_by=["attributes.start_time ASC"], page_token=page.token
)
report["paging"]["second_page"] = len(rest)

client.delete_run(run_ids["rf-8"])
report["after_delete"] = len(client.search_runs([experiment_id]))
report["deleted_only"] = [
    r.info.run_id for r in client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
]
client.restore_run(run_ids["rf-8"])
report["after_restore"] = len(client.search_runs([experiment_id]))

client.rename_experiment(experiment_id, "churn-v2")
other = client.create_experiment("scratch")
client.delete_experiment(other)
report["experiments_active"] = sorted(e.name for e in client.search_experiments())
client.restore_experiment(other)
report["experiments_after_restore"] = sorted(e.name for e in client.search_experiments())
# No experiment set: MLflow's client logs to experiment "0", its "Default".
mlflow.set_experiment(experiment_id="0")
with mlflow.start_run() as default_run:
    mlflow.log_metric("x", 1.0)
report["default_experiment"] = {
    "name": client.get_experiment("0").name,
    "runs": [r.info.run_id for r in client.search_runs(["0"])],
    "run_id": default_run.info.run_id,
}
report["run_ids"] = run_ids
print(json.dumps(report))
