"""MLflow's registry flow against mltrail: register, stages, aliases, tags, load by models:/ URI.

The model is a pyfunc saved by MLflow itself and logged as the run's artifacts (its MLmodel
and pickled python_model), so ``mlflow.pyfunc.load_model("models:/Churn/Production")``
reads back exactly what mltrail stores. Run by the side venv's python; prints a JSON report.
Arguments: tracking URI, a work dir.
"""

import json
import sys
from pathlib import Path

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * x for x in model_input]


mlflow.set_tracking_uri(sys.argv[1])
work = Path(sys.argv[2])
client = MlflowClient()
mlflow.set_experiment("registry")
with mlflow.start_run() as run:
    mlflow.pyfunc.save_model(str(work / "model"), python_model=Doubler())
    mlflow.log_artifacts(str(work / "model"), artifact_path="model")
    mlflow.log_metric("acc", 0.9)

report = {"run_id": run.info.run_id}
first = mlflow.register_model(f"runs:/{run.info.run_id}/model", "Churn")
second = mlflow.register_model(f"runs:/{run.info.run_id}/model", "Churn")
report["versions"] = [first.version, second.version]
report["source"] = first.source
client.update_registered_model("Churn", description="churn model")
client.set_registered_model_tag("Churn", "team", "risk")
client.set_model_version_tag("Churn", "1", "validated", "yes")
client.update_model_version("Churn", "1", description="first")

client.transition_model_version_stage("Churn", "1", "Staging")
client.transition_model_version_stage("Churn", "1", "Production")
client.transition_model_version_stage("Churn", "2", "Production", archive_existing_versions=True)
report["stages"] = {v: client.get_model_version("Churn", v).current_stage for v in ("1", "2")}
report["latest_production"] = [v.version for v in client.get_latest_versions("Churn", stages=["Production"])]

client.set_registered_model_alias("Churn", "champion", "1")
report["by_alias"] = client.get_model_version_by_alias("Churn", "champion").version
report["download_uri"] = client.get_model_version_download_uri("Churn", "2")

model = client.get_registered_model("Churn")
report["model"] = {
    "description": model.description,
    "tags": model.tags,
    "aliases": model.aliases,
}
v1 = client.get_model_version("Churn", "1")
report["v1"] = {
    "tags": v1.tags,
    "description": v1.description,
    "aliases": list(v1.aliases),
    "run_id": v1.run_id,
}
report["search_versions"] = sorted(v.version for v in client.search_model_versions("name = 'Churn'"))
report["search_by_run"] = sorted(
    v.version for v in client.search_model_versions(f"run_id = '{run.info.run_id}'")
)
report["search_models"] = [m.name for m in client.search_registered_models("name LIKE 'Ch%'")]

report["predict_production"] = list(mlflow.pyfunc.load_model("models:/Churn/Production").predict([1, 2]))
report["predict_alias"] = list(mlflow.pyfunc.load_model("models:/Churn@champion").predict([3]))

errors = {}
for name, call in {
    "duplicate_model": lambda: client.create_registered_model("Churn"),
    "unknown_model": lambda: client.get_registered_model("Nope"),
    "unknown_version": lambda: client.get_model_version("Churn", "99"),
    "bad_stage": lambda: client.transition_model_version_stage("Churn", "1", "Live"),
    "unknown_alias": lambda: client.get_model_version_by_alias("Churn", "nobody"),
}.items():
    try:
        call()
        errors[name] = "no error"
    except MlflowException as exc:
        errors[name] = exc.error_code
report["errors"] = errors

client.delete_registered_model_alias("Churn", "champion")
client.delete_model_version_tag("Churn", "1", "validated")
client.delete_registered_model_tag("Churn", "team")
client.delete_model_version("Churn", "1")
report["after_delete"] = sorted(v.version for v in client.search_model_versions("name = 'Churn'"))
client.create_registered_model("Scratch")
client.delete_registered_model("Scratch")
report["models_after_delete"] = [m.name for m in client.search_registered_models()]
print(json.dumps(report, default=list))
