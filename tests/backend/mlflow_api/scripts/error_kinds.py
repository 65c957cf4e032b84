"""Each error kind the MLflow client can meet, and the error_code it raises with.

Run by the side venv's python; prints ``{case: error_code or "no error"}`` as JSON.
"""

import json
import sys

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
experiment_id = client.create_experiment("errors")
run_id = client.create_run(experiment_id).info.run_id
client.log_param(run_id, "lr", "0.1")
deleted_run = client.create_run(experiment_id).info.run_id
client.delete_run(deleted_run)

cases = {
    "unknown_run": lambda: client.get_run("0" * 32),
    "unknown_experiment": lambda: client.get_experiment("987654"),
    "duplicate_experiment": lambda: client.create_experiment("errors"),
    "changed_param": lambda: client.log_param(run_id, "lr", "0.2"),
    "bad_filter": lambda: client.search_runs([experiment_id], "metrics.acc >"),
    "log_to_deleted_run": lambda: client.log_metric(deleted_run, "acc", 1.0),
    "unknown_history": lambda: client.get_metric_history("f" * 32, "acc"),
    "empty_experiment_name": lambda: client.create_experiment(""),
}
# MLflow's client turns RESOURCE_DOES_NOT_EXIST from get-by-name into None: it must get that code.
out = {"unknown_experiment_name_is_none": client.get_experiment_by_name("nope") is None}
for name, call in cases.items():
    try:
        call()
        out[name] = "no error"
    except MlflowException as exc:
        out[name] = exc.error_code
        out[name + ".message"] = exc.message
print(json.dumps(out))
