"""`mltrail experiments …` and `mltrail runs …` against a real server: tables and --json."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mltrail import MltrailClient
from mltrail.cli import main

from .conftest import ServerProcess


@pytest.fixture
def cli(server: ServerProcess):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(main, [*args], env={"MLTRAIL_TRACKING_URI": server.url}, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return invoke


def test_experiments_create_and_list(cli, experiment_name: str) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(cli("experiments", "create", experiment_name, "--description", "d", "--tag", "team=a", "--json"))
    assert created["name"] == experiment_name and created["tags"] == {"team": "a"}
    listed = json.loads(cli("experiments", "list", "--json"))
    assert created["id"] in [e["id"] for e in listed]
    assert experiment_name in cli("experiments", "list")  # the table
    assert "CONFLICT" in cli("experiments", "create", experiment_name, ok=False)
    assert "KEY=VALUE" in cli("experiments", "create", "x", "--tag", "novalue", ok=False)


def test_runs_list_show_delete(cli, client: MltrailClient, experiment_name: str) -> None:  # type: ignore[no-untyped-def]
    ids = []
    for i, acc in enumerate([0.7, 0.95, 0.9]):
        with client.start_run(experiment_name=experiment_name, run_name=f"r{i}") as run:
            run.log_param("model", "rf" if i else "svm")
            run.log_metric("acc", acc)
        ids.append(run.id)

    found = json.loads(cli("runs", "list", "--experiment", experiment_name, "--filter", "params.model = 'rf'",
                           "--order-by", "metrics.acc DESC", "--json"))  # fmt: skip
    assert [r["name"] for r in found] == ["r1", "r2"]
    assert found[0]["metrics"] == {"acc": 0.95} and found[0]["params"] == {"model": "rf"}
    table = cli("runs", "list", "--experiment", experiment_name)
    assert all(run_id in table for run_id in ids) and "acc=0.95" in table

    shown = json.loads(cli("runs", "show", ids[1], "--json"))
    assert shown["id"] == ids[1] and shown["status"] == "FINISHED" and shown["latest_metrics"]["acc"]["value"] == 0.95
    assert "FINISHED" in cli("runs", "show", ids[1]) and "model" in cli("runs", "show", ids[1])

    assert "line 1" in cli("runs", "list", "--filter", "metrics.acc >", ok=False)  # where the filter broke
    assert "NOT_FOUND" in cli("runs", "show", "0" * 32, ok=False)

    assert ids[0] in cli("runs", "delete", ids[0])
    remaining = json.loads(cli("runs", "list", "--experiment", experiment_name, "--json"))
    assert ids[0] not in [r["id"] for r in remaining]
    deleted = json.loads(cli("runs", "list", "--experiment", experiment_name, "--view", "deleted", "--json"))
    assert [r["id"] for r in deleted] == [ids[0]]


def test_an_unreachable_server_is_one_line_not_a_traceback() -> None:
    from fixtures.live_server import free_port

    result = CliRunner().invoke(main, ["runs", "list", "--tracking-uri", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 1
    assert "cannot reach the tracking server" in result.output and "Traceback" not in result.output


def test_sync_with_an_empty_spool(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["sync", "--spool-dir", str(tmp_path)])
    assert result.exit_code == 0 and "nothing to sync" in result.output


def test_sync_skips_a_session_whose_process_is_alive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mltrail._spool import Spool, make_record

    live = Spool.create(tmp_path, tracking_uri="http://127.0.0.1:9")  # locked, like a running job
    live.append(make_record("updateRun", {"id": "a" * 32, "status": "RUNNING"}))
    try:
        result = CliRunner().invoke(main, ["sync", "--spool-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert "still running" in result.output and live.directory.name in result.output
        assert live.peek() is not None  # untouched
    finally:
        live.close()
