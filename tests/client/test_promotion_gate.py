"""`mltrail models promote` (the CI gate) and `mltrail models predict` (batch scoring) against a
real tracking server (SQLite, real port), with real scikit-learn models."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

import mltrail
from mltrail.cli import main
from mltrail.serving._batch import score_file

from .conftest import ServerProcess, started_server


@pytest.fixture(scope="module")
def gate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with started_server(tmp_path_factory, "gate") as process:
        yield process


@pytest.fixture
def tracking(
    gate_server: ServerProcess, spool_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    monkeypatch.setenv("MLTRAIL_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    mltrail.set_tracking_uri(gate_server.url)
    mltrail.set_experiment("gate")
    return gate_server.url


def _train(acc: float) -> str:
    """A run with a logged model and its metric ``acc``; returns the run id."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    y = (X["a"] > 0).astype(int)
    with mltrail.start_run() as run:
        run.log_model(LogisticRegression().fit(X, y), "model", input_example=X.head(2))
        run.log_metric("acc", acc)
    return run.id


def _csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(rows)
    pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)}).to_csv(path, index=False)
    return path


def _promote(url: str, name: str, run_id: str, *extra: str) -> tuple[int, dict]:
    args = ["models", "promote", name, "--tracking-uri", url, "--run", run_id, "--metric", "acc",
            "--mode", "max", "--min-delta", "0.01", "--comment", "ci", "--json", *extra]  # fmt: skip
    result = CliRunner().invoke(main, args)
    return result.exit_code, json.loads(result.output)


def test_gate_promotes_refuses_and_errors(tracking: str) -> None:
    first, better, marginal = _train(0.80), _train(0.85), _train(0.855)

    code, decision = _promote(tracking, "GateChurn", first, "--stage", "Production")
    assert (code, decision["decision"], decision["current"]) == (0, "promoted", None)
    code, decision = _promote(tracking, "GateChurn", better, "--stage", "Production")
    assert (code, decision["decision"]) == (0, "promoted")
    assert decision["current"]["value"] == pytest.approx(0.80)
    assert decision["improvement"] == pytest.approx(0.05)
    code, decision = _promote(tracking, "GateChurn", marginal, "--stage", "Production")
    assert (code, decision["decision"]) == (3, "not_better")  # +0.005 < --min-delta 0.01

    client = mltrail.get_client()
    production = client.get_latest_version("GateChurn", "Production")
    assert production.run_id == better
    stages = {v.run_id: v.stage for v in client.search_model_versions(name="GateChurn")}
    assert stages == {first: "ARCHIVED", better: "PRODUCTION", marginal: "NONE"}

    code, decision = _promote(tracking, "GateChurn", better, "--metric", "missing", "--stage", "Production")
    assert (code, decision["decision"]) == (2, "error") and "missing" in decision["error"]
    code, decision = _promote(tracking, "GateChurn", "no-such-run", "--stage", "Production")
    assert (code, decision["decision"]) == (2, "error")


def test_gate_opens_an_approval_request_on_a_protected_alias(tracking: str) -> None:
    client = mltrail.get_client()
    client.create_registered_model("GateGuarded", protected_aliases=["champion"])
    run_id = _train(0.9)
    code, decision = _promote(tracking, "GateGuarded", run_id, "--alias", "champion")
    assert (code, decision["decision"]) == (0, "requested") and decision["request_id"]
    [request] = client.get_transition_requests(name="GateGuarded")
    assert (request.alias, request.version, request.status) == ("champion", 1, "PENDING")
    assert client.get_registered_model("GateGuarded").aliases == {}  # not moved until approved


def test_batch_scoring_streams_a_file_larger_than_a_chunk(tracking: str, tmp_path: Path) -> None:
    run_id = _train(0.8)
    uri = f"runs:/{run_id}/model"
    score_file(uri, _csv(tmp_path / "warm.csv", 100), tmp_path / "warm-out.csv", tracking_uri=tracking)

    def peak_memory(rows: int) -> tuple[int, int]:
        source = _csv(tmp_path / f"in-{rows}.csv", rows)
        tracemalloc.start()
        written = score_file(
            uri, source, tmp_path / f"out-{rows}.csv", chunk_size=1_000, tracking_uri=tracking
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert written == rows == len(pd.read_csv(tmp_path / f"out-{rows}.csv"))
        return peak, source.stat().st_size

    small_peak, _ = peak_memory(5_000)
    big_peak, big_size = peak_memory(40_000)
    # Eight times the rows, 40 chunks: the peak stays that of a chunk, not of the file.
    assert big_peak < 1.5 * small_peak and big_peak < big_size / 2, (small_peak, big_peak, big_size)
    scored = pd.read_csv(tmp_path / "out-40000.csv")
    assert list(scored.columns) == ["a", "b", "prediction"]
    assert set(scored["prediction"]) <= {0, 1}

    rows = 40_000
    source = tmp_path / "in-40000.csv"
    lines = tmp_path / "in.jsonl"
    pd.read_csv(source).head(2_500).to_json(lines, orient="records", lines=True)
    assert score_file(uri, lines, tmp_path / "jsonl.csv", chunk_size=1_000, tracking_uri=tracking) == 2_500
    assert len(pd.read_csv(tmp_path / "jsonl.csv")) == 2_500

    # Parquet streams by record batches: 2,500 rows in chunks of 1,000.
    parquet = tmp_path / "in.parquet"
    pd.read_csv(source).head(2_500).to_parquet(parquet, row_group_size=500)
    assert score_file(uri, parquet, tmp_path / "pq.csv", chunk_size=1_000, tracking_uri=tracking) == 2_500
    from_parquet = pd.read_csv(tmp_path / "pq.csv")
    assert len(from_parquet) == 2_500 and list(from_parquet.columns) == ["a", "b", "prediction"]

    result = CliRunner().invoke(
        main,
        [
            "models",
            "predict",
            "-m",
            f"runs:/{run_id}/model",
            "-i",
            str(source),
            "-o",
            str(tmp_path / "cli.csv"),
            "--chunk-size",
            "5000",
            "--tracking-uri",
            tracking,
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "cli.csv")) == rows
