"""Training keeps going when the server does not: restarts, never-up servers, SIGKILL.

Every test checks the same promise: each point logged reaches the server exactly once
(batch ids make replays harmless), possibly later through `mltrail sync`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

import mltrail
from fixtures.live_server import subprocess_env
from mltrail import MltrailClient

from .conftest import ServerProcess

# How long a call may take is bounded by the timeout it must not wait out, never by a
# guess at the machine's speed (a loaded 2-core machine would make that flaky): speed is
# measured in bench/, not here. REQUEST_TIMEOUT is also what closing a client whose request
# hangs costs (close waits for that request), hence not larger.
FLUSH_TIMEOUT = 30.0
REQUEST_TIMEOUT = 5.0


def run_sync(spool_dir: Path, *args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "mltrail.cli", "sync", "--spool-dir", str(spool_dir), "--json", *args],
        capture_output=True, text=True, timeout=120, env=subprocess_env(dict(os.environ)),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return json.loads(completed.stdout)


def assert_exactly_once(client: MltrailClient, run_id: str, key: str, expected_steps: list[int]) -> None:
    series = client.get_metric_history(run_id, key)
    assert series.total_points == len(expected_steps)
    assert sorted(series.steps) == expected_steps
    assert series.values == [float(step) for step in series.steps]


@pytest.mark.parametrize("own_backend", ["sqlite", "postgres"])
def test_server_stops_mid_run_and_comes_back(own_server: ServerProcess, spool_dir: Path) -> None:
    own_server.start()
    client = MltrailClient(own_server.url, spool_dir=spool_dir, capture_environment=False, retry_max_delay=1.0)
    run = client.start_run(experiment_name="restart", run_name="r")
    run.log_param("lr", 0.1)
    for step in range(2_000):
        run.log_metric("x", float(step), step=step)
    assert client.flush(30)

    own_server.stop()
    for chunk in range(10):  # 10,000 points over ~1 s: many batches fail and go to the spool
        for step in range(2_000 + chunk * 1_000, 3_000 + chunk * 1_000):
            run.log_metric("x", float(step), step=step)
        time.sleep(0.1)
    started = time.monotonic()
    assert client.flush(FLUSH_TIMEOUT) is False  # offline: returns instead of hanging the job
    # Gives up after three failed attempts (about a second); the bound only has to tell that
    # from waiting out the timeout, with room for a loaded machine.
    assert time.monotonic() - started < FLUSH_TIMEOUT / 2
    assert client.batcher.pending > 0

    own_server.start()
    assert run.end() is True
    assert_exactly_once(client, run.id, "x", list(range(12_000)))
    stored = client.get_run(run.id)
    assert stored.status == "FINISHED" and stored.params == {"lr": "0.1"}
    client.close()
    assert list(spool_dir.iterdir()) == []


def test_server_never_up_then_sync_delivers_exactly_once(
    own_server: ServerProcess, spool_dir: Path, tmp_path: Path
) -> None:
    client = MltrailClient(own_server.url, spool_dir=spool_dir, capture_environment=True)
    with pytest.warns(mltrail.MltrailWarning, match="mltrail sync"):
        with client.start_run(
            experiment_name="offline", run_name="never-up", tags={"t": "1"}, params={"optimizer": "adam"}
        ) as run:
            run.log_params({"lr": 0.1, "layers": 3})
            run.set_tag("phase", "offline")
            run.log_input(mltrail.Dataset(name="train", digest="d1"))
            for step in range(10_000):
                run.log_metric("x", float(step), step=step)
            with client.start_run(experiment_name="offline", parent_run_id=run.id, params={"fold": 1}) as child:
                child.log_metric("y", 1.0)
        client.close()

    dry = run_sync(spool_dir, "--dry-run")
    assert dry["dry_run"] and dry["metric_points"] == 10_001 and dry["delivered"] == 0
    assert [s["tracking_uri"] for s in dry["sessions"]] == [own_server.url]
    copy = tmp_path / "spool-copy"
    shutil.copytree(spool_dir, copy)  # to replay the very same batches a second time

    own_server.start()
    synced = run_sync(spool_dir)
    assert synced["delivered"] == synced["operations"] > 0 and synced["rejected"] == []
    assert list(spool_dir.iterdir()) == []  # delivered sessions are removed
    assert run_sync(copy)["delivered"] == synced["operations"]  # a second delivery...

    with MltrailClient(own_server.url) as reader:
        assert_exactly_once(reader, run.id, "x", list(range(10_000)))  # ...is stored once
        stored = reader.get_run(run.id)
        assert stored.name == "never-up" and stored.status == "FINISHED"
        assert stored.params == {"optimizer": "adam", "lr": "0.1", "layers": "3"}
        assert stored.tags["phase"] == "offline"
        assert stored.tags["t"] == "1" and [d.name for d in stored.inputs] == ["train"]
        assert stored.environment and stored.environment["python"]["version"]
        assert reader.get_experiment(stored.experiment_id).name == "offline"
        nested = reader.get_run(child.id)
        assert nested.parent_id == run.id and nested.metrics == {"y": 1.0} and nested.status == "FINISHED"
        assert nested.params == {"fold": "1"}


def test_a_run_started_offline_reaches_the_server_with_its_params(
    own_server: ServerProcess, spool_dir: Path
) -> None:
    client = MltrailClient(own_server.url, spool_dir=spool_dir, capture_environment=False, retry_max_delay=0.5)
    run = client.start_run(experiment_name="offline-params", params={"lr": 0.1, "layers": 3})
    run.log_metric("x", 1.0)
    assert client.flush(5) is False  # nothing answers: it waits in the spool
    [journal] = spool_dir.glob("*/journal.jsonl")
    [create_run] = [line for line in journal.read_text().splitlines() if line.startswith("createRun\t")]
    assert json.loads(create_run.split("\t", 2)[2])["params"] == [
        {"key": "lr", "value": "0.1"}, {"key": "layers", "value": "3"},
    ]  # fmt: skip

    own_server.start()
    assert run.end() is True
    stored = client.get_run(run.id)
    assert stored.params == {"lr": "0.1", "layers": "3"} and stored.metrics == {"x": 1.0}
    assert stored.status == "FINISHED" and client.rejections == []
    client.close()


TRAINING_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import mltrail
    mltrail.set_tracking_uri(sys.argv[1])
    run = mltrail.start_run(name="killed")
    print(run.id, flush=True)
    step = 0
    for step in range(20_000):
        mltrail.log_metric("x", float(step), step=step)
    time.sleep(1.5)  # several flush intervals: all of it is journaled now
    print("LOGGED", step + 1, flush=True)
    while True:  # keep training until SIGKILL
        step += 1
        mltrail.log_metric("x", float(step), step=step)
        time.sleep(0.0005)
    """
)


@pytest.mark.parametrize("server_up", [False, True], ids=["server-down", "server-up"])
def test_sigkill_mid_run_loses_at_most_the_last_interval(
    own_server: ServerProcess, spool_dir: Path, tmp_path: Path, server_up: bool
) -> None:
    if server_up:
        own_server.start()
    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT)
    env = {**subprocess_env(dict(os.environ)), "MLTRAIL_SPOOL_DIR": str(spool_dir), "MLTRAIL_EXPERIMENT_NAME": "killed"}
    child = subprocess.Popen([sys.executable, str(script), own_server.url], env=env, stdout=subprocess.PIPE, text=True)
    try:
        run_id = child.stdout.readline().strip()  # type: ignore[union-attr]
        logged = child.stdout.readline().split()  # type: ignore[union-attr]
        assert logged[0] == "LOGGED", logged
        time.sleep(0.5)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    if not server_up:
        assert run_sync(spool_dir, "--dry-run")["metric_points"] >= 20_000  # the spool holds it all
        own_server.start()
    run_sync(spool_dir)
    with MltrailClient(own_server.url) as reader:
        steps = sorted(reader.get_metric_history(run_id, "x").steps)
        assert len(steps) >= 20_000
        assert steps == list(range(len(steps)))  # a prefix, every point exactly once
        assert reader.get_run(run_id).status == "RUNNING"  # it never ended


def test_a_full_queue_blocks_briefly_then_spills_to_disk(spool_dir: Path) -> None:
    # A server that accepts connections and never answers: the sender hangs in a request.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        # The journaler only wakes when asked (no size or time trigger) and callers do not
        # wait for it: a full queue is written to the spool by the calling thread.
        client = MltrailClient(url, spool_dir=spool_dir, capture_environment=False, timeout=REQUEST_TIMEOUT,
                               max_queue_points=1_000, block_seconds=0.0, flush_points=10**9,
                               flush_interval=60)  # fmt: skip
        run_id = "a" * 32
        client.log_metric(run_id, "x", 0.0, step=0)
        client.batcher._journal()
        time.sleep(0.5)  # the sender is now stuck waiting for an answer
        slowest = 0.0
        for step in range(1, 20_000):
            started = time.monotonic()
            client.log_metric(run_id, "x", float(step), step=step)
            slowest = max(slowest, time.monotonic() - started)
        assert client.batcher.spills >= 10
        # No call waited for the stuck request: that would take REQUEST_TIMEOUT at least, while
        # a call, even one that spills, takes milliseconds (bench/client.py measures the speed).
        assert slowest < REQUEST_TIMEOUT, slowest
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mltrail.MltrailWarning)
            assert client.close(timeout=1) is False
    finally:
        silent.close()
    assert run_sync(spool_dir, "--dry-run")["metric_points"] == 20_000  # nothing dropped
