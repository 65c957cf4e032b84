"""One run logged by unchanged MLflow code, for the dashboard's live subscription to see.

Arguments: tracking URI, experiment name.
"""

import sys

import mlflow

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment(sys.argv[2])
with mlflow.start_run(run_name="from-mlflow"):
    mlflow.log_param("lr", "0.1")
    mlflow.log_metric("acc", 0.5)
