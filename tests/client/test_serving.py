"""`mltrail models serve` against a real tracking server (SQLite, real port) as a real subprocess.

One module-scoped tracking server and one model server following ``models:/Churn/Production``:
the payload tests and the swap test share them (the swap test runs last and leaves version 1
in Production, as it found it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mltrail
from fixtures.live_server import free_port, subprocess_env

from .conftest import ServerProcess, server_process, started_server

MODEL = "ServeChurn"
COLUMNS = ["age", "income", "plan"]


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype("int64"),
            "income": rng.normal(50_000, 10_000, n),
            "plan": rng.integers(0, 3, n).astype("int64"),
        }
    )
    return frame, (frame["income"] > 50_000).to_numpy().astype(int)


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with started_server(tmp_path_factory, "serving-tracking") as process:
        yield process


@pytest.fixture(scope="module")
def two_versions(tracking_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> list[int]:
    """Versions 1 and 2 of MODEL, two different models; version 1 in Production."""
    spool = tmp_path_factory.mktemp("spool")
    client = mltrail.MltrailClient(tracking_server.url, spool_dir=spool, capture_environment=False)
    experiment = client.get_or_create_experiment("serving")
    versions = []
    for seed in (1, 2):
        X, y = _frame(200, seed)
        model = LogisticRegression(max_iter=500, C=1.0 if seed == 1 else 0.001).fit(X, y)
        run = client.start_run(experiment_id=experiment.id, run_name=f"v{seed}")
        run.log_model(model, "model", input_example=X.head(3))
        run.end()
        versions.append(client.register_model(f"runs:/{run.id}/model", MODEL).version)
    client.transition_model_version_stage(MODEL, versions[0], "Production", comment="first")
    client.close()
    return versions


@pytest.fixture(scope="module")
def model_server(
    tracking_server: ServerProcess, two_versions: list[int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    tmp = tmp_path_factory.mktemp("model-server")
    env = subprocess_env({k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")})
    env.update(MLTRAIL_TRACKING_URI=tracking_server.url, MLTRAIL_MODEL_CACHE_DIR=str(tmp / "cache"))
    log = (tmp / "serve.log").open("wb")
    args = [sys.executable, "-m", "mltrail.cli", "models", "serve", f"models:/{MODEL}/Production",
            "--port", str(port), "--max-body-mb", "1", "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, tmp / "serve.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"model server exited:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"model server not ready:\n{log.read_text()[-4000:]}")


def test_every_payload_format_predicts_the_same(model_server: str) -> None:
    X, _ = _frame(5, 9)
    records = X.to_dict(orient="records")
    bodies = {
        "dataframe_split": {
            "json": {"dataframe_split": {"columns": COLUMNS, "data": X.astype(object).values.tolist()}}
        },
        "dataframe_records": {"json": {"dataframe_records": records}},
        "instances": {"json": {"instances": records}},
        "inputs (columns)": {"json": {"inputs": {c: X[c].tolist() for c in COLUMNS}}},
        "inputs (rows)": {"json": {"inputs": X.values.tolist()}},
        "csv": {"content": X.to_csv(index=False), "headers": {"content-type": "text/csv"}},
    }
    answers = {}
    for kind, body in bodies.items():
        response = httpx.post(f"{model_server}/invocations", **body)
        assert response.status_code == 200, (kind, response.text)
        answers[kind] = response.json()["predictions"]
    assert len({tuple(a) for a in answers.values()}) == 1, answers
    assert len(answers["csv"]) == 5


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        ({"json": {"dataframe_split": {"columns": ["age", "income"], "data": [[30, 1.0]]}}}, 400, "plan"),
        ({"json": {"dataframe_records": [{"age": "old", "income": 1.0, "plan": 1}]}}, 400, "age"),
        ({"json": {"dataframe_split": {"columns": COLUMNS, "data": [[30, 1.0]]}}}, 400, "row 0"),
        ({"json": {"inputs": [[1, 2]]}}, 400, "3 columns"),
        ({"json": {"rows": [[1, 2, 3]]}}, 400, "exactly one of"),
        ({"json": [1, 2]}, 400, "got a JSON list"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"age,income\n1,2\n", "headers": {"content-type": "text/csv"}}, 400, "plan"),
        ({"content": b"x", "headers": {"content-type": "application/xml"}}, 415, "application/xml"),
        ({"content": b"0" * (2 * 1024 * 1024), "headers": {"content-type": "text/csv"}}, 413, "limit"),
    ],
    ids=[
        "missing-column",
        "wrong-type",
        "short-row",
        "wrong-shape",
        "no-format-key",
        "not-object",
        "bad-json",
        "csv-missing-column",
        "content-type",
        "too-large",
    ],
)
def test_bad_payloads_are_4xx_json_naming_the_problem(
    model_server: str, body: dict, status: int, names: str
) -> None:
    response = httpx.post(f"{model_server}/invocations", **body)
    assert response.status_code == status, response.text
    error = response.json()
    assert names in error["message"], error
    assert "Traceback" not in response.text
    if names in COLUMNS:
        assert error["column"] == names


def test_version_health_and_metrics(model_server: str, two_versions: list[int]) -> None:
    version = httpx.get(f"{model_server}/version").json()
    assert (version["name"], version["stage"], version["following"]) == (MODEL, "PRODUCTION", True)
    assert version["version"] == two_versions[0] and version["run_id"] and version["loaded_at"]
    assert httpx.get(f"{model_server}/health").json()["status"] == "ok"
    metrics = httpx.get(f"{model_server}/metrics").text
    for series in ("mltrail_serving_requests_total", "mltrail_serving_request_seconds_bucket",
                   "mltrail_serving_errors_total", "mltrail_serving_model_swaps_total"):  # fmt: skip
        assert series in metrics


def _wait_for_version(url: str, version: int, timeout: float = 10) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if httpx.get(f"{url}/version").json()["version"] == version:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"/version did not show version {version} within {timeout}s")


def test_promotion_and_rollback_swap_with_zero_failed_requests(
    model_server: str, tracking_server: ServerProcess, two_versions: list[int]
) -> None:
    v1, v2 = two_versions
    X, _ = _frame(20, 5)
    body = {"dataframe_split": {"columns": COLUMNS, "data": X.astype(object).values.tolist()}}
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def predict_continuously() -> None:
        nonlocal answered
        with httpx.Client(timeout=10) as http:
            while not stop.is_set():
                try:
                    response = http.post(f"{model_server}/invocations", json=body)
                    if response.status_code != 200 or len(response.json()["predictions"]) != 20:
                        failures.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as error:
                    failures.append(repr(error))
                answered += 1

    thread = threading.Thread(target=predict_continuously)
    thread.start()
    client = mltrail.MltrailClient(tracking_server.url, capture_environment=False)
    try:
        time.sleep(0.5)
        client.transition_model_version_stage(MODEL, v2, "Production", comment="v2", archive_existing=True)
        promoted_after = _wait_for_version(model_server, v2)
        time.sleep(0.5)
        client.transition_model_version_stage(
            MODEL, v1, "Production", comment="rollback", archive_existing=True
        )
        rolled_back_after = _wait_for_version(model_server, v1)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
        client.close()
    assert failures == []
    assert answered > 20
    assert promoted_after < 5 and rolled_back_after < 5
    swaps = [line for line in httpx.get(f"{model_server}/metrics").text.splitlines()
             if line.startswith("mltrail_serving_model_swaps_total")]  # fmt: skip
    assert swaps == ["mltrail_serving_model_swaps_total 2.0"]


def test_dockerfile_context_is_complete_and_its_command_serves(
    tracking_server: ServerProcess, two_versions: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Docker engine here: check the build context, then run the image's CMD from the same
    files (the model directory the Dockerfile copies) with this interpreter."""
    import json
    import re

    from packaging.requirements import Requirement

    from mltrail.serving._dockerfile import MODEL_DIR_IN_IMAGE, write_docker_context

    monkeypatch.setenv("MLTRAIL_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    context = tmp_path / "ctx"
    dockerfile = write_docker_context(f"models:/{MODEL}/1", context, tracking_uri=tracking_server.url)
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    assert (
        "COPY requirements.txt" in text and f"COPY --chown=model:model model/ {MODEL_DIR_IN_IMAGE}/" in text
    )
    assert "USER model" in text and "EXPOSE 5001" in text
    requirements = [Requirement(line) for line in (context / "requirements.txt").read_text().splitlines()]
    assert {r.name for r in requirements} >= {"mltrail", "scikit-learn", "cloudpickle"}
    assert "serving" in next(r for r in requirements if r.name == "mltrail").extras
    for name in ("MLmodel", "model.pkl", "requirements.txt", "serving_input_example.json"):
        assert (context / "model" / name).is_file(), name
    assert (context / ".dockerignore").read_text().startswith("*\n")

    command = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    assert command[:3] == ["mltrail", "models", "serve"]
    port = free_port()
    args = [sys.executable, "-m", "mltrail.cli", *command[1:]]
    args = [str(context / "model") if a == MODEL_DIR_IN_IMAGE else a for a in args]
    args[args.index("--host") + 1], args[args.index("--port") + 1] = "127.0.0.1", str(port)
    # No tracking server in the container: the image serves the files it holds.
    env = subprocess_env({k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")})
    process = subprocess.Popen(args, env=env, stdout=(tmp_path / "log").open("wb"), stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, tmp_path / "log")
        example = (context / "model" / "serving_input_example.json").read_bytes()
        response = httpx.post(
            f"{url}/invocations", content=example, headers={"content-type": "application/json"}
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 3
        assert httpx.get(f"{url}/version").json()["following"] is False
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_concurrent_requests_each_get_their_own_answer(model_server: str) -> None:
    """Requests ready together are predicted in one call: each must still get exactly its own
    predictions, and a bad one among them its own 400."""
    from concurrent.futures import ThreadPoolExecutor

    X, _ = _frame(64, 11)
    bodies = []
    for i in range(48):
        rows = X.iloc[i : i + 1 + i % 5]
        columns = COLUMNS if i % 7 else COLUMNS[:2]  # every 7th lacks a column
        bodies.append(
            {"dataframe_split": {"columns": columns, "data": rows[columns].astype(object).values.tolist()}}
        )
    with httpx.Client() as http:
        alone = [http.post(f"{model_server}/invocations", json=b) for b in bodies]
    with ThreadPoolExecutor(16) as pool, httpx.Client(limits=httpx.Limits(max_connections=16)) as http:
        together = list(pool.map(lambda b: http.post(f"{model_server}/invocations", json=b), bodies))
    for i, (one, many) in enumerate(zip(alone, together, strict=True)):
        assert (one.status_code, one.json()) == (many.status_code, many.json()), i
        assert one.status_code == (200 if i % 7 else 400)


def test_keeps_serving_while_the_tracking_server_is_down_and_catches_up_after(tmp_path: Path) -> None:
    """The registry's server goes away: predictions go on; it comes back and a transition made
    meanwhile-or-after is picked up (reconnect, then the poll) without a restart."""
    tracking = server_process(tmp_path / "data")
    tracking.start()
    client = mltrail.MltrailClient(tracking.url, spool_dir=tmp_path / "spool", capture_environment=False)
    experiment = client.get_or_create_experiment("outage")
    for seed in (1, 2):
        X, y = _frame(100, seed)
        run = client.start_run(experiment_id=experiment.id, run_name=f"v{seed}")
        run.log_model(LogisticRegression(max_iter=300).fit(X, y), "model", input_example=X.head(3))
        run.end()
        client.register_model(f"runs:/{run.id}/model", "Outage")
    client.set_registered_model_alias("Outage", "champion", 1)

    port = free_port()
    env = subprocess_env({k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")})
    env.update(MLTRAIL_TRACKING_URI=tracking.url, MLTRAIL_MODEL_CACHE_DIR=str(tmp_path / "cache"))
    args = [sys.executable, "-m", "mltrail.cli", "models", "serve", "models:/Outage@champion", "--port", str(port),
            "--poll-interval", "0.5", "--log-level", "warning"]  # fmt: skip
    log = tmp_path / "serve.log"
    process = subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    body = {"dataframe_records": _frame(3, 4)[0].to_dict(orient="records")}
    try:
        _wait_ready(url, process, log)
        assert httpx.get(f"{url}/version").json()["aliases"] == ["champion"]
        tracking.stop()
        for _ in range(5):
            assert httpx.post(f"{url}/invocations", json=body).status_code == 200
            time.sleep(0.2)
        tracking.start()
        client.set_registered_model_alias("Outage", "champion", 2, comment="moved after the outage")
        assert _wait_for_version(url, 2) < 8
    finally:
        process.terminate()
        process.wait(timeout=15)
        client.close()
        tracking.stop()
