"""The README's quickstart (examples/quickstart.py) runs as written against a live server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mltrail

from .conftest import ServerProcess

REPO = Path(__file__).resolve().parents[2]


def test_quickstart_trains_registers_promotes_loads_and_predicts(own_server: ServerProcess, tmp_path: Path) -> None:
    own_server.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")},
        "MLTRAIL_TRACKING_URI": own_server.url,
        "MLTRAIL_USER": "quickstart-user",
        "MLTRAIL_MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "MLTRAIL_SPOOL_DIR": str(tmp_path / "spool"),
    }
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "registered quickstart-churn version 1" in result.stdout
    assert "models:/quickstart-churn/Production -> version 1; predictions: [" in result.stdout
    with mltrail.MltrailClient(own_server.url, spool_dir=tmp_path / "spool2") as client:
        version = client.get_latest_version("quickstart-churn", "Production")
        assert version.version == 1 and version.created_by == "quickstart-user"
        history = client.get_model_history("quickstart-churn", 1)
        assert [(c.to_stage, c.comment) for c in history] == [
            ("NONE", None),
            ("STAGING", "offline eval passed"),
            ("PRODUCTION", "promoted after review"),
        ]
        run = client.get_run(version.run_id)  # type: ignore[arg-type]
        assert run.status == "FINISHED" and "test_accuracy" in run.latest_metrics
