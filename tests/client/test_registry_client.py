"""The registry from the client and the CLI, with a real scikit-learn model, against a real
server on SQLite and PostgreSQL: log, register, promote, alias, history, versionAt, rollback,
load by every URI form, predict; approvals between two users; concurrent registrations."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail import _registry_documents
from mltrail.cli import main
from mltrail.models import ModelInputError, load_model

from .conftest import ServerProcess


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """Unique per test on the shared server; model names allow [A-Za-z0-9_.-] only."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:60] + f"-{time.time_ns() % 10**9}"


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"tenure": rng.normal(size=200), "charges": rng.normal(size=200)})
    y = (X["tenure"] + 0.5 * X["charges"] > 0).astype(int).to_numpy()
    return X, y


def _pause() -> None:
    time.sleep(0.01)  # distinct millisecond timestamps between changes


def test_lifecycle_with_a_real_sklearn_model(server: ServerProcess, spool_dir, model_name: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MLTRAIL_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    X, y = _data()
    alice = mltrail.MltrailClient(server.url, user="alice", spool_dir=spool_dir, capture_environment=False)
    bob = mltrail.MltrailClient(server.url, user="bob", spool_dir=spool_dir, capture_environment=False)
    try:
        runs = []
        for c in (0.1, 10.0):
            with alice.start_run(experiment_name=model_name, params={"C": c}) as run:
                model = LogisticRegression(C=c).fit(X, y)
                run.log_model(model, "model", input_example=X.head(5))
            runs.append(run.id)

        v1 = alice.register_model(f"runs:/{runs[0]}/model", model_name, description="baseline")
        _pause()
        v2 = alice.register_model(f"runs:/{runs[1]}/model", model_name)
        assert (v1.version, v2.version) == (1, 2) and v1.run_id == runs[0] and v1.created_by == "alice"
        assert v1.source == f"runs:/{runs[0]}/model" and v1.stage == "NONE"

        _pause()
        alice.transition_model_version_stage(model_name, 1, "Staging", comment="validation passed")
        _pause()
        alice.transition_model_version_stage(model_name, 1, "production", comment="beats the rules engine")
        _pause()
        alice.set_registered_model_alias(model_name, "champion", 1, comment="first champion")
        _pause()
        bob.transition_model_version_stage(model_name, 2, "Production", comment="v2 wins", archive_existing=True)
        bob.set_registered_model_alias(model_name, "champion", 2)
        _pause()
        rolled = alice.transition_model_version_stage(
            model_name, 1, "Production", comment="rollback: v2 drifts", archive_existing=True
        )
        assert rolled.stage == "PRODUCTION"

        history = alice.get_model_history(model_name)
        assert [(c.kind, c.version, c.to_stage, c.alias, c.user, c.comment) for c in history] == [
            ("MODEL_CREATED", None, None, None, "alice", None),
            ("VERSION_CREATED", 1, "NONE", None, "alice", "baseline"),
            ("VERSION_CREATED", 2, "NONE", None, "alice", None),
            ("STAGE_CHANGED", 1, "STAGING", None, "alice", "validation passed"),
            ("STAGE_CHANGED", 1, "PRODUCTION", None, "alice", "beats the rules engine"),
            ("ALIAS_SET", 1, None, "champion", "alice", "first champion"),
            ("STAGE_CHANGED", 1, "ARCHIVED", None, "bob", "archived: version 2 moved to PRODUCTION (v2 wins)"),
            ("STAGE_CHANGED", 2, "PRODUCTION", None, "bob", "v2 wins"),
            ("ALIAS_MOVED", 2, None, "champion", "bob", None),
            ("STAGE_CHANGED", 2, "ARCHIVED", None, "alice", "archived: version 1 moved to PRODUCTION (rollback: v2 drifts)"),
            ("STAGE_CHANGED", 1, "PRODUCTION", None, "alice", "rollback: v2 drifts"),
        ]  # fmt: skip
        t = [c.timestamp for c in history]
        assert t == sorted(t)
        at = alice.get_version_at
        assert at(model_name, t[0] - 1, stage="Production") is None
        assert at(model_name, t[3], stage="Staging").version == 1  # type: ignore[union-attr]
        assert at(model_name, t[4], stage="Production").version == 1  # type: ignore[union-attr]
        assert at(model_name, t[8], stage="Production").version == 2  # type: ignore[union-attr]
        assert at(model_name, t[10], stage="Production").version == 1  # type: ignore[union-attr]
        assert at(model_name, t[5], alias="champion").version == 1  # type: ignore[union-attr]
        assert at(model_name, t[10], alias="champion").version == 2  # type: ignore[union-attr]

        # Lineage: the version knows its run, the run's versions are searchable.
        assert [v.version for v in alice.search_model_versions(run_id=runs[1])] == [2]
        assert [v.version for v in alice.search_model_versions(name=model_name, stage="Production")] == [1]
        assert alice.get_model_version_by_alias(model_name, "champion").version == 2

        # Load by every URI form, without the training code, and predict.
        expected = {1: LogisticRegression(C=0.1).fit(X, y), 2: LogisticRegression(C=10.0).fit(X, y)}
        for uri, version in (
            (f"runs:/{runs[0]}/model", 1),
            (f"models:/{model_name}/2", 2),
            (f"models:/{model_name}/Production", 1),
            (f"models:/{model_name}@champion", 2),
            (f"models:/{model_name}/latest", 2),
        ):
            loaded = load_model(uri, tracking_uri=server.url)
            np.testing.assert_array_equal(loaded.predict(X.head(20)), expected[version].predict(X.head(20)))
        with pytest.raises(ModelInputError, match="tenure"):
            loaded.predict(X.drop(columns=["tenure"]).head(3))

        # Bad input names the argument and the value.
        for bad in ("models:/", "models:/x/y/z", "s3:/x", f"runs:/{runs[0]}"):
            with pytest.raises(mltrail.InvalidArgument, match="model_uri"):
                alice.register_model(bad, model_name)
        with pytest.raises(mltrail.InvalidArgument, match=r"source.*no MLmodel"):
            alice.register_model(f"runs:/{runs[0]}/not-a-model", model_name)
        with pytest.raises(mltrail.InvalidArgument, match="not a valid model name"):
            alice.register_model(f"runs:/{runs[0]}/model", "bad/name")
        with pytest.raises(mltrail.NotFound, match="version"):
            alice.get_model_version(model_name, 99)
        with pytest.raises(mltrail.InvalidArgument, match="stage"):
            alice.transition_model_version_stage(model_name, 1, "Live")
    finally:
        alice.close()
        bob.close()


def test_approvals_between_two_users(server: ServerProcess, spool_dir, model_name: str) -> None:  # type: ignore[no-untyped-def]
    alice = mltrail.MltrailClient(server.url, user="alice", spool_dir=spool_dir, capture_environment=False)
    bob = mltrail.MltrailClient(server.url, user="bob", spool_dir=spool_dir, capture_environment=False)
    try:
        X, y = _data()
        with alice.start_run(experiment_name=model_name) as run:
            run.log_model(LogisticRegression().fit(X, y), "model")
        alice.create_registered_model(model_name, protected_stages=["Production"], protected_aliases=["champion"])
        alice.register_model(f"runs:/{run.id}/model", model_name)
        with pytest.raises(mltrail.PermissionDenied, match="protected"):
            alice.transition_model_version_stage(model_name, 1, "Production")
        request = alice.request_transition(model_name, 1, stage="Production", comment="ready")
        rejected_later = alice.request_transition(model_name, 1, alias="champion", comment="crown it")
        assert [r.id for r in bob.get_transition_requests(name=model_name)] == [request.id, rejected_later.id]
        assert [r.id for r in bob.get_transition_requests(requested_by="alice", status="PENDING")][-2:] == [
            request.id,
            rejected_later.id,
        ]
        with pytest.raises(mltrail.PermissionDenied, match="cannot approve"):
            alice.approve_transition(request.id)
        assert alice.get_model_version(model_name, 1).stage == "NONE"
        approved = bob.approve_transition(request.id, comment="reviewed the eval report")
        assert approved.status == "APPROVED" and approved.decided_by == "bob"
        assert bob.reject_transition(rejected_later.id, comment="not yet").status == "REJECTED"
        version = alice.get_model_version(model_name, 1)
        assert version.stage == "PRODUCTION" and version.aliases == []
        kinds = [(c.kind, c.user) for c in alice.get_model_history(model_name)]
        assert kinds[-5:] == [
            ("TRANSITION_REQUESTED", "alice"),
            ("TRANSITION_REQUESTED", "alice"),
            ("TRANSITION_APPROVED", "bob"),
            ("STAGE_CHANGED", "bob"),
            ("TRANSITION_REJECTED", "bob"),
        ]
        assert bob.get_transition_requests(name=model_name) == []
    finally:
        alice.close()
        bob.close()


def test_eight_concurrent_register_model_calls(server: ServerProcess, spool_dir, model_name: str) -> None:  # type: ignore[no-untyped-def]
    with mltrail.MltrailClient(server.url, spool_dir=spool_dir, capture_environment=False) as client:
        X, y = _data()
        with client.start_run(experiment_name=model_name) as run:
            run.log_model(LogisticRegression().fit(X, y), "model")
    clients = [mltrail.MltrailClient(server.url, spool_dir=spool_dir, capture_environment=False) for _ in range(8)]
    try:
        with ThreadPoolExecutor(8) as pool:
            versions = list(pool.map(lambda c: c.register_model(f"runs:/{run.id}/model", model_name), clients))
        assert sorted(v.version for v in versions) == list(range(1, 9))
    finally:
        for c in clients:
            c.close()


def test_cli_models_commands(server: ServerProcess, client: mltrail.MltrailClient, model_name: str) -> None:
    runner = CliRunner()

    def cli(*args: str, ok: bool = True, user: str = "carol") -> str:
        env = {"MLTRAIL_TRACKING_URI": server.url, "MLTRAIL_USER": user}
        result = runner.invoke(main, ["models", *args], env=env, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    X, y = _data()
    with client.start_run(experiment_name=model_name) as run:
        run.log_model(LogisticRegression().fit(X, y), "model")
    assert "version 1" in cli("register", f"runs:/{run.id}/model", model_name)
    assert "version 2" in cli("register", f"runs:/{run.id}/model", model_name)
    assert "PRODUCTION" in cli("transition", model_name, "1", "Production", "-m", "go live")
    assert "-> version 1" in cli("alias", model_name, "champion", "1")
    assert "-> version 2" in cli("alias", model_name, "champion", "2", "-m", "promote")
    assert model_name in cli("list")
    listed = json.loads(cli("list", "--filter", f"name = '{model_name}'", "--json"))
    assert [m["name"] for m in listed] == [model_name] and listed[0]["aliases"] == {"champion": 2}
    shown = json.loads(cli("show", model_name, "--json"))
    assert shown["created_by"] == "carol" and shown["pending_requests"] == []
    assert "@champion -> version 2" in cli("show", model_name)
    versions = json.loads(cli("versions", model_name, "--json"))
    assert [(v["version"], v["stage"]) for v in versions] == [(2, "NONE"), (1, "PRODUCTION")]
    history = json.loads(cli("history", model_name, "--json"))
    assert [h["kind"] for h in history] == [
        "MODEL_CREATED", "VERSION_CREATED", "VERSION_CREATED", "STAGE_CHANGED", "ALIAS_SET", "ALIAS_MOVED",
    ]  # fmt: skip
    assert all(h["user"] == "carol" for h in history) and history[3]["comment"] == "go live"
    table = cli("history", model_name)
    assert "STAGE_CHANGED" in table and "go live" in table and "@champion: 1 -> 2" in table
    at = history[4]["timestamp"]
    assert json.loads(cli("at", model_name, str(at), "--alias", "champion", "--json"))["version"] == 1
    assert "version 1" in cli("at", model_name, "2999-01-01T00:00", "--stage", "Production")
    assert "removed @champion" in cli("alias", model_name, "champion", "--delete")
    assert "NOT_FOUND" in cli("show", "no-such-model", ok=False)
    assert "INVALID_ARGUMENT" in cli("transition", model_name, "1", "Live", ok=False)
    # Approvals from the command line.
    client.update_registered_model(model_name, protected_stages=["Staging"])
    assert "PERMISSION_DENIED" in cli("transition", model_name, "2", "Staging", ok=False)
    asked = cli("transition", model_name, "2", "Staging", "--request", "-m", "please")
    request_id = re.search(r"request (\d+)", asked).group(1)  # type: ignore[union-attr]
    assert request_id in cli("requests", "--name", model_name)
    assert "PERMISSION_DENIED" in cli("approve", request_id, ok=False)
    assert "approved" in cli("approve", request_id, "-m", "ok", user="dave")
    assert client.get_model_version(model_name, 2).stage == "STAGING"


@pytest.mark.parametrize("index", range(len(_registry_documents.DOCUMENTS)))
def test_registry_documents_are_valid_against_the_checked_in_schema(index: int) -> None:
    from pathlib import Path

    from graphql import build_schema, parse, validate

    schema = build_schema((Path(__file__).resolve().parents[2] / "schema.graphql").read_text())
    assert not validate(schema, parse(_registry_documents.DOCUMENTS[index]))
