"""MLflow's artifact calls (log_artifact, log_artifacts, list, download) against mltrail.

Run by the side venv's python; prints one JSON report. Arguments: tracking URI, a work dir.
"""

import json
import os
import sys
from pathlib import Path

import mlflow
from mlflow import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
work = Path(sys.argv[2])
(work / "out").mkdir(parents=True)
(work / "out" / "notes.txt").write_text("hello from mlflow\n")
(work / "out" / "plots").mkdir()
(work / "out" / "plots" / "curve.csv").write_bytes(b"step,acc\n0,0.5\n1,0.9\n")
(work / "blob.bin").write_bytes(os.urandom(300_000))

mlflow.set_experiment("artifacts")
with mlflow.start_run() as run:
    mlflow.log_artifact(str(work / "blob.bin"))
    mlflow.log_artifacts(str(work / "out"), artifact_path="report")
    mlflow.log_text("inline text", "texts/a.txt")
    mlflow.log_dict({"a": 1}, "config.json")

client = MlflowClient()
run_id = run.info.run_id
report = {
    "run_id": run_id,
    "root": sorted((f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)),
    "report": sorted((f.path, f.is_dir) for f in client.list_artifacts(run_id, "report")),
    "missing": [f.path for f in client.list_artifacts(run_id, "nothing-here")],
}
target = work / "downloaded"
target.mkdir()
local = client.download_artifacts(run_id, "report", str(target))
report["downloaded"] = sorted(str(p.relative_to(local)) for p in Path(local).rglob("*") if p.is_file())
report["curve"] = (Path(local) / "plots" / "curve.csv").read_text()
blob = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="blob.bin", dst_path=str(target))
report["blob_equal"] = Path(blob).read_bytes() == (work / "blob.bin").read_bytes()
report["text"] = mlflow.artifacts.load_text(f"runs:/{run_id}/texts/a.txt")
report["dict"] = mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json")
print(json.dumps(report))
