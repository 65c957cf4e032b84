"""The real ``mlflow`` client (3.17.2) against a real mltrail server, through MLflow's REST API.

The client lives in its own venv (``make mlflow-client`` builds ``.venv-mlflow/``; its pins
are not mltrail's) and runs the scripts in ``scripts/`` as subprocesses, exactly as users'
unchanged code would, against ``mltrail server`` on a real port. Each script prints a JSON
report that the tests check, and the data is then read back through GraphQL: it is an
ordinary mltrail run, not a copy in a second store.

The adapter sits above the services, so the whole tracking flow runs on both databases and
the error kinds on SQLite only.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.live_server import LiveServer, subprocess_env

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = Path(__file__).parent / "scripts"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def mlflow_python() -> str:
    """The side venv's python with ``mlflow-skinny`` (``MLTRAIL_MLFLOW_PYTHON`` overrides)."""
    python = os.environ.get("MLTRAIL_MLFLOW_PYTHON") or str(REPO / ".venv-mlflow" / "bin" / "python")
    if not Path(python).exists():
        message = f"no MLflow client at {python}: run `make mlflow-client` (make test does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return python


def run_script(python: str, name: str, server: LiveServer, *args: Path) -> dict[str, Any]:
    env = subprocess_env({k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")})
    # No telemetry or other calls out of the sandbox from the client.
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    done = subprocess.run(
        [python, str(SCRIPTS / name), server.url, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, (
        f"{name} failed:\n{done.stderr[-4000:]}\nserver log:\n{server.log_path.read_text()[-3000:]}"
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tracking_flow_of_unchanged_mlflow_code(mlflow_python: str, live_server: LiveServer) -> None:
    report = run_script(mlflow_python, "tracking_flow.py", live_server)

    experiment = report["experiment"]
    assert experiment["by_name"] == experiment["id"]
    assert experiment["tags"] == {"owner": "ana"}

    run = report["run"]
    ids = report["run_ids"]
    assert len(run["id"]) == 32 and int(run["id"], 16) >= 0  # MLflow's run id format
    assert run["name"] == "rf-3"
    assert run["status"] == "FINISHED"
    assert run["params"] == {"model": "rf", "depth": "3", "lr": "0.1", "batch_param": "x"}
    assert run["metrics"] == {
        "acc": 0.91,
        "loss": pytest.approx(0.09),
        "nan_metric": None,
        "batch_metric": 4.0,
    }
    assert run["tags"]["team"] == "vision" and run["tags"]["batch_tag"] == "y"
    assert run["tags"]["mlflow.runName"] == "rf-3"
    assert run["artifact_uri"] == f"mlflow-artifacts:/{run['id']}"
    assert report["lr_run"]["status"] == "FAILED"
    assert "stage" not in report["lr_run"]["tags"] and "team" in report["lr_run"]["tags"]
    assert report["child_parent"] == ids["rf-3"]

    assert report["history"] == [[0, 0.7], [1, 0.8], [2, 0.91]]
    assert report["batch_history"] == [[i, 1_700_000_000_000 + i, float(i)] for i in range(5)]

    frame = report["search_frame"]
    assert frame["run_ids"] == [ids["rf-3"], ids["rf-8"]]  # acc 0.91 then 0.85; lr and the child excluded
    assert frame["acc"] == [0.91, 0.85]
    assert {"params.model", "params.depth", "metrics.acc", "tags.team"} <= set(frame["columns"])
    assert report["search_by_status"] == ["lr-1"]
    assert report["paging"] == {"first_page": 2, "token": True, "second_page": 2}

    assert report["after_delete"] == 3
    assert report["deleted_only"] == [ids["rf-8"]]
    assert report["after_restore"] == 4
    assert report["experiments_active"] == ["churn-v2"]
    assert report["experiments_after_restore"] == ["churn-v2", "scratch"]

    default = report["default_experiment"]
    assert default["name"] == "Default" and default["runs"] == [default["run_id"]]

    # The same data through mltrail's own API: one store, not a copy.
    query = """query($id: ID!) { run(id: $id) { name status experiment { name }
        params { key value } latestMetrics { key value } parent { id } } }"""
    body = httpx.post(
        f"{live_server.url}/graphql", json={"query": query, "variables": {"id": ids["child"]}}, timeout=10
    ).json()
    child = body["data"]["run"]
    assert child["name"] == "child" and child["experiment"]["name"] == "churn-v2"
    assert child["parent"] == {"id": ids["rf-3"]}
    assert child["latestMetrics"] == [{"key": "acc", "value": 0.1}]


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_each_error_kind_raises_mlflow_exception_with_its_code(
    mlflow_python: str, live_server: LiveServer
) -> None:
    report = run_script(mlflow_python, "error_kinds.py", live_server)
    assert report["unknown_experiment_name_is_none"] is True
    expected = {
        "unknown_run": "RESOURCE_DOES_NOT_EXIST",
        "unknown_experiment": "RESOURCE_DOES_NOT_EXIST",
        "unknown_history": "RESOURCE_DOES_NOT_EXIST",
        "duplicate_experiment": "RESOURCE_ALREADY_EXISTS",
        "changed_param": "INVALID_PARAMETER_VALUE",
        "bad_filter": "INVALID_PARAMETER_VALUE",
        "log_to_deleted_run": "INVALID_PARAMETER_VALUE",
        "empty_experiment_name": "INVALID_PARAMETER_VALUE",
    }
    assert {case: report[case] for case in expected} == expected
    assert "errors" in report["duplicate_experiment.message"]  # names the value
    assert "column" in report["bad_filter.message"]  # says where the filter broke


@pytest.mark.parametrize("db_backend", ["sqlite"])
def test_artifacts_through_mlflow_artifacts_land_in_the_runs_root(
    mlflow_python: str, live_server: LiveServer, tmp_path: Path
) -> None:
    report = run_script(mlflow_python, "artifacts_flow.py", live_server, tmp_path / "client")
    assert report["root"] == [
        ["blob.bin", False, 300_000],
        ["config.json", False, 12],  # log_dict indents: {\n  "a": 1\n}
        ["report", True, None],
        ["texts", True, None],
    ]
    assert report["report"] == [["report/notes.txt", False], ["report/plots", True]]
    assert report["missing"] == []
    assert report["downloaded"] == ["notes.txt", "plots/curve.csv"]
    assert report["curve"] == "step,acc\n0,0.5\n1,0.9\n"
    assert report["blob_equal"] is True
    assert report["text"] == "inline text"
    assert report["dict"] == {"a": 1}

    # The same bytes through mltrail's own artifact API: one store.
    got = httpx.get(f"{live_server.url}/api/artifacts/{report['run_id']}/report/notes.txt", timeout=10)
    assert got.status_code == 200 and got.text == "hello from mlflow\n"
    # Paths stay confined to the run's root.
    escape = httpx.put(
        f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/{report['run_id']}/..%2F..%2Fevil.txt",
        content=b"x",
        timeout=10,
    )
    assert escape.status_code == 400 and escape.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_registry_flow_stages_aliases_and_load_by_models_uri(
    mlflow_python: str, live_server: LiveServer, tmp_path: Path
) -> None:
    report = run_script(mlflow_python, "registry_flow.py", live_server, tmp_path / "client")
    run_id = report["run_id"]
    assert report["versions"] == ["1", "2"]
    assert report["source"] == f"runs:/{run_id}/model"
    assert report["stages"] == {"1": "Archived", "2": "Production"}  # archive_existing_versions
    assert report["latest_production"] == ["2"]
    assert report["by_alias"] == "1"
    assert report["download_uri"] == f"mlflow-artifacts:/{run_id}/model"
    assert report["model"] == {
        "description": "churn model",
        "tags": {"team": "risk"},
        "aliases": {"champion": "1"},
    }
    assert report["v1"] == {
        "tags": {"validated": "yes"},
        "description": "first",
        "aliases": ["champion"],
        "run_id": run_id,
    }
    assert report["search_versions"] == ["1", "2"] and report["search_by_run"] == ["1", "2"]
    assert report["search_models"] == ["Churn"]
    # The pyfunc MLflow saved, read back through get-latest-versions / alias + mlflow-artifacts.
    assert report["predict_production"] == [2, 4]
    assert report["predict_alias"] == [6]
    assert report["errors"] == {
        "duplicate_model": "RESOURCE_ALREADY_EXISTS",
        "unknown_model": "RESOURCE_DOES_NOT_EXIST",
        "unknown_version": "RESOURCE_DOES_NOT_EXIST",
        "bad_stage": "INVALID_PARAMETER_VALUE",
        "unknown_alias": "RESOURCE_DOES_NOT_EXIST",
    }
    assert report["after_delete"] == ["2"]

    assert report["models_after_delete"] == ["Churn"]  # "Scratch" created, then deleted

    # Every change is in mltrail's audit trail, read through its own API: one registry.
    query = (
        """{ modelVersion(name: "Churn", version: 2) { stage history { kind fromStage toStage user } } }"""
    )
    body = httpx.post(f"{live_server.url}/graphql", json={"query": query}, timeout=10).json()
    version = body["data"]["modelVersion"]
    assert version["stage"] == "PRODUCTION"
    moves = [(h["kind"], h["fromStage"], h["toStage"], h["user"]) for h in version["history"]]
    assert moves[0][0] == "VERSION_CREATED"
    assert ("STAGE_CHANGED", "NONE", "PRODUCTION", "anonymous") in moves, moves


@pytest.mark.parametrize("db_backend", ["sqlite"])
async def test_a_run_logged_by_mlflow_shows_live_in_the_dashboard(
    mlflow_python: str, live_server: LiveServer
) -> None:
    """The dashboard's own subscription (runChanged) sees the run MLflow's client creates and ends."""
    from backend.graphql.metrics.test_subscriptions import (
        RUNS,
        is_run_probe,
        next_event,
        run_probe,
        subscription,
    )

    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        created = await http.post("/api/2.0/mlflow/experiments/create", json={"name": "live"})
        experiment_id = created.json()["experiment_id"]
        probe = run_probe(http, experiment_id)
        async with subscription(live_server.url, RUNS, {"e": experiment_id}, probe, is_run_probe) as events:
            env = subprocess_env({k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")})
            env["MLFLOW_DISABLE_TELEMETRY"] = "true"
            process = await asyncio.create_subprocess_exec(
                mlflow_python, str(SCRIPTS / "live_run.py"), live_server.url, "live", env=env
            )
            assert await asyncio.wait_for(process.wait(), 120) == 0
            seen = []
            while not seen or seen[-1]["status"] != "FINISHED":
                seen.append((await next_event(events))["runChanged"])
    assert {run["name"] for run in seen} == {"from-mlflow"}
    assert seen[0]["status"] == "RUNNING"
    assert seen[-1]["params"] == [{"key": "lr", "value": "0.1"}]
