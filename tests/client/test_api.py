"""Every client call against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import mltrail
from mltrail import MltrailClient

from .conftest import ServerProcess


def test_experiments_create_get_search_delete(client: MltrailClient, experiment_name: str) -> None:
    created = client.create_experiment(experiment_name, description="d", tags={"team": "vision"})
    assert created.id and created.name == experiment_name and created.tags == {"team": "vision"}
    assert client.get_experiment(created.id) == created
    assert client.get_experiment_by_name(experiment_name) == created
    assert client.get_experiment_by_name(experiment_name + "-missing") is None
    assert client.get_or_create_experiment(experiment_name).id == created.id
    with pytest.raises(mltrail.Conflict) as conflict:
        client.create_experiment(experiment_name)
    assert conflict.value.code == "CONFLICT" and experiment_name in str(conflict.value)
    assert experiment_name in [e.name for e in client.search_experiments()]

    client.delete_experiment(created.id)
    assert experiment_name not in [e.name for e in client.search_experiments()]
    assert experiment_name in [e.name for e in client.search_experiments(include_deleted=True)]
    client.restore_experiment(created.id)
    assert experiment_name in [e.name for e in client.search_experiments()]


def test_server_errors_become_typed_exceptions(client: MltrailClient) -> None:
    with pytest.raises(mltrail.NotFound) as missing:
        client.get_run("0" * 32)
    assert missing.value.code == "NOT_FOUND" and "0" * 32 in str(missing.value)
    with pytest.raises(mltrail.NotFound):
        client.get_experiment("999999")
    with pytest.raises(mltrail.InvalidArgument) as bad_filter:
        client.search_runs(filter="metrics.acc >")
    assert "column" in str(bad_filter.value)  # the server says where the filter broke


def test_an_unreachable_server_raises_server_unavailable(spool_dir: Path) -> None:
    from fixtures.live_server import free_port

    with MltrailClient(f"http://127.0.0.1:{free_port()}", spool_dir=spool_dir) as offline:
        with pytest.raises(mltrail.ServerUnavailable):
            offline.get_run("0" * 32)


def test_a_run_logs_params_metrics_tags_and_datasets(client: MltrailClient, experiment_name: str) -> None:
    with client.start_run(experiment_name=experiment_name, run_name="rf-100", tags={"team": "a"}) as run:
        run.log_param("n_estimators", 100)
        run.log_params({"max_depth": 5, "criterion": "gini"})
        for step in range(50):
            run.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step)
        run.log_metrics({"acc": 0.9, "f1": 0.8}, step=49)
        run.log_metric("weird", math.nan, step=0)
        run.log_metric("weird", math.inf, step=1)
        run.log_metric("weird", -math.inf, step=2)
        run.log_metric("big_step", 1.0, step=2**62, timestamp=2**61)
        run.set_tag("stage", "dev")
        run.set_tags({"stage": "prod", "owner": "me"})
        run.log_input(mltrail.Dataset(name="train", digest="abc123", source="s3://b/train.csv"), context="train")
        run.log_inputs([{"name": "eval", "digest": "def456", "source_type": "local"}], context="eval")

    stored = client.get_run(run.id)
    assert stored.name == "rf-100" and stored.status == "FINISHED" and stored.end_time is not None
    assert stored.params == {"n_estimators": "100", "max_depth": "5", "criterion": "gini"}
    assert stored.tags["stage"] == "prod" and stored.tags["owner"] == "me" and stored.tags["team"] == "a"
    assert stored.metrics["loss"] == pytest.approx(1 / 50)
    assert stored.latest_metrics["loss"].count == 50 and stored.latest_metrics["loss"].step == 49
    assert stored.metrics["acc"] == 0.9
    assert stored.latest_metrics["big_step"].step == 2**62
    assert {(d.name, d.digest, d.context) for d in stored.inputs} == {
        ("train", "abc123", "train"), ("eval", "def456", "eval"),
    }  # fmt: skip

    loss = client.get_metric_history(run.id, "loss")
    assert loss.steps == list(range(50))
    assert loss.timestamps == [1_700_000_000_000 + s for s in range(50)]
    assert loss.values == [1.0 / (s + 1) for s in range(50)]
    weird = client.get_metric_history(run.id, "weird")
    assert math.isnan(weird.values[0]) and weird.values[1:] == [math.inf, -math.inf]
    assert client.get_metric_history(run.id, "absent").values == []


def test_start_run_stores_params_with_the_run(client: MltrailClient, experiment_name: str) -> None:
    run = client.start_run(experiment_name=experiment_name, params={"lr": 0.1, "layers": 3, "model": "rf"})
    # Read back before any flush: the params came with createRun, not through the queue.
    assert client.get_run(run.id).params == {"lr": "0.1", "layers": "3", "model": "rf"}
    run.log_param("lr", 0.1)  # the same value again is no conflict
    assert run.end() is True
    assert client.get_run(run.id).params == {"lr": "0.1", "layers": "3", "model": "rf"}
    assert client.rejections == []

    many = {f"p{i}": i for i in range(1_500)}  # more than the server takes in one request
    with client.start_run(experiment_name=experiment_name, params=many) as big:
        pass
    assert client.get_run(big.id).params == {key: str(value) for key, value in many.items()}

    with client.start_run(run_id=run.id, params={"epochs": 10}) as attached:  # queued, as log_params
        pass
    assert client.get_run(attached.id).params["epochs"] == "10"


@pytest.mark.parametrize("params", [{"": 1}, {1: "x"}])
def test_start_run_refuses_the_params_log_params_refuses(
    client: MltrailClient, experiment_name: str, params: dict
) -> None:
    with client.start_run(experiment_name=experiment_name) as run:
        with pytest.raises(mltrail.InvalidArgument) as logged:
            run.log_params(params)
    with pytest.raises(mltrail.InvalidArgument) as started:
        client.start_run(experiment_name=experiment_name, params=params)
    assert str(started.value) == str(logged.value)
    assert [r.id for r in client.search_runs(experiment_names=[experiment_name])] == [run.id]  # none created


def test_a_create_run_replayed_with_another_param_value_is_a_conflict(
    client: MltrailClient, experiment_name: str
) -> None:
    from mltrail._documents import CREATE_RUN

    run = client.start_run(experiment_name=experiment_name, params={"lr": 0.1})
    replay = {"runId": run.id, "experimentName": experiment_name, "params": [{"key": "lr", "value": "0.1"}]}
    assert client._execute(CREATE_RUN, replay)["createRun"]["id"] == run.id  # same values: a no-op
    replay["params"] = [{"key": "lr", "value": "0.2"}]
    with pytest.raises(mltrail.Conflict) as conflict:
        client._execute(CREATE_RUN, replay)
    assert conflict.value.code == "CONFLICT" and "lr" in str(conflict.value) and "0.2" in str(conflict.value)

    # The same replay from the queue (a spooled createRun) is reported, not raised.
    with pytest.warns(mltrail.MltrailWarning, match="CONFLICT"):
        client.batcher.submit("createRun", replay)
        assert client.flush(30)
    [rejection] = client.rejections
    assert (rejection.operation, rejection.code, rejection.params) == ("createRun", "CONFLICT", 1)
    assert run.end() is True
    assert client.get_run(run.id).params == {"lr": "0.1"}


def test_steps_default_to_a_per_key_counter_and_timestamps_to_now(client: MltrailClient, experiment_name: str) -> None:
    before = time.time_ns() // 1_000_000
    with client.start_run(experiment_name=experiment_name) as run:
        for value in (3.0, 2.0, 1.0):
            run.log_metric("a", value)
        run.log_metric("b", 7)
    series = client.get_metric_history(run.id, "a")
    assert series.steps == [0, 1, 2] and series.values == [3.0, 2.0, 1.0]
    assert all(before <= t <= time.time_ns() // 1_000_000 for t in series.timestamps)
    assert client.get_metric_history(run.id, "b").steps == [0]


def test_bad_arguments_are_refused_at_the_call(client: MltrailClient, experiment_name: str) -> None:
    with client.start_run(experiment_name=experiment_name) as run:
        with pytest.raises(mltrail.InvalidArgument):
            run.log_metric("loss", "not a number")  # type: ignore[arg-type]
        with pytest.raises(mltrail.InvalidArgument):
            run.log_metric("loss", 1.0, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(mltrail.InvalidArgument):
            run.log_metric("loss", 1.0, step=2**64)
        with pytest.raises(mltrail.InvalidArgument):
            run.log_metric("", 1.0)
        run.log_metric("loss", 1.0, step=3)  # the queue is still consistent
    assert client.get_metric_history(run.id, "loss").steps == [3]


@pytest.mark.parametrize(("error", "status"), [(None, "FINISHED"), (ValueError, "FAILED"), (KeyboardInterrupt, "KILLED")])
def test_the_context_manager_sets_the_final_status(
    client: MltrailClient, experiment_name: str, error: type[BaseException] | None, status: str
) -> None:
    run_id = None
    try:
        with client.start_run(experiment_name=experiment_name) as run:
            run_id = run.id
            run.log_metric("x", 1.0)
            if error is not None:
                raise error()
    except (ValueError, KeyboardInterrupt):
        pass
    assert client.get_run(run_id).status == status  # type: ignore[arg-type]


def test_search_runs_with_filter_and_order(client: MltrailClient, experiment_name: str) -> None:
    for i, model in enumerate(["rf", "rf", "svm", "rf"]):
        with client.start_run(experiment_name=experiment_name, run_name=f"r{i}") as run:
            run.log_param("model", model)
            run.log_metric("acc", 0.5 + i / 10)
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment is not None

    found = client.search_runs([experiment.id], "params.model = 'rf' and metrics.acc > 0.55", "metrics.acc DESC")
    assert [r.name for r in found] == ["r3", "r1"]
    assert all(isinstance(r, mltrail.Run) and r.environment is None for r in found)
    by_name = client.search_runs(experiment_names=[experiment_name], order_by=["metrics.acc"], max_results=2)
    assert [r.name for r in by_name] == ["r0", "r1"]
    # Pagination: more results than one page would hold still come back in order.
    assert [r.name for r in client.search_runs([experiment.id], order_by="attributes.start_time")] == [
        "r0", "r1", "r2", "r3",
    ]  # fmt: skip


def test_delete_and_restore_a_run(client: MltrailClient, experiment_name: str) -> None:
    with client.start_run(experiment_name=experiment_name) as run:
        pass
    experiment = client.get_experiment_by_name(experiment_name)
    client.delete_run(run.id)
    assert client.get_run(run.id).deleted
    assert client.search_runs([experiment.id]) == []  # type: ignore[union-attr]
    assert [r.id for r in client.search_runs([experiment.id], view_type="DELETED")] == [run.id]  # type: ignore[union-attr]
    client.restore_run(run.id)
    assert not client.get_run(run.id).deleted


def test_a_rejected_batch_is_reported_once_and_later_batches_still_arrive(
    client: MltrailClient, experiment_name: str
) -> None:
    run = client.start_run(experiment_name=experiment_name)
    run.log_param("lr", 0.1)
    assert client.flush(30)
    with pytest.warns(mltrail.MltrailWarning) as caught:
        # One batch: a conflicting param, a key the server refuses, and good data around them.
        run.log_param("lr", 0.2)
        run.log_param("epochs", 10)
        run.set_tag("note", "kept")
        for step in range(100):
            run.log_metric("loss", float(step), step=step)
        run.log_metric("k" * 1000, 1.0)  # longer than the server's key limit
        assert client.flush(30)
        run.log_param("lr", 0.3)  # the same kind of rejection again: no second warning for it
        run.log_metric("later", 1.0)
        assert run.end() is True
    stored = client.get_run(run.id)
    assert stored.params == {"lr": "0.1", "epochs": "10"}
    assert stored.tags["note"] == "kept"
    assert client.get_metric_history(run.id, "loss").steps == list(range(100))
    assert stored.metrics["later"] == 1.0 and stored.status == "FINISHED"
    codes = sorted(r.code for r in client.rejections)
    assert codes.count("CONFLICT") == 2 and len(codes) == 3
    assert sum(r.metric_points for r in client.rejections) == 1
    messages = [str(w.message) for w in caught if issubclass(w.category, mltrail.MltrailWarning)]
    assert len([m for m in messages if "CONFLICT" in m and "'0.2'" in m]) == 1
    assert len([m for m in messages if "INVALID_ARGUMENT" in m and "limit is 250" in m]) == 1


def test_the_fluent_api_with_nested_runs(server: ServerProcess, spool_dir: Path, experiment_name: str) -> None:
    mltrail.set_tracking_uri(server.url)
    assert mltrail.get_tracking_uri() == server.url
    experiment = mltrail.set_experiment(experiment_name)
    assert experiment.id is not None and experiment.name == experiment_name
    assert mltrail.active_run() is None
    with mltrail.start_run(name="parent", tags={"kind": "sweep"}, params={"sweep": "grid"}) as parent:
        assert mltrail.active_run() is parent
        mltrail.log_params({"grid": "small"})
        with pytest.raises(mltrail.MltrailError, match="nested=True"):
            mltrail.start_run()
        with mltrail.start_run(name="child", nested=True) as child:
            assert mltrail.active_run() is child
            mltrail.log_param("lr", 0.01)
            mltrail.log_metric("loss", 0.5, step=1)
            mltrail.log_metrics({"acc": 0.7})
            mltrail.set_tag("fold", 1)
            mltrail.set_tags({"seed": 42})
            mltrail.log_input(mltrail.Dataset(name="d", digest="1"))
        assert mltrail.active_run() is parent
        mltrail.log_metric("best", 0.5)
    assert mltrail.active_run() is None
    assert mltrail.flush() is True

    stored_child = mltrail.get_run(child.id)
    assert stored_child.parent_id == parent.id and stored_child.experiment_id == experiment.id
    assert stored_child.params == {"lr": "0.01"} and stored_child.tags["fold"] == "1"
    assert stored_child.tags["seed"] == "42" and stored_child.metrics == {"loss": 0.5, "acc": 0.7}
    assert mltrail.get_metric_history(child.id, "loss").steps == [1]
    runs = mltrail.search_runs(order_by="attributes.start_time")
    assert [r.name for r in runs] == ["parent", "child"]
    assert mltrail.get_run(parent.id).status == "FINISHED"
    assert mltrail.get_run(parent.id).params == {"sweep": "grid", "grid": "small"}

    mltrail.log_metric("implicit", 1.0)  # no active run: one is started, as MLflow does
    implicit = mltrail.active_run()
    assert implicit is not None
    mltrail.end_run()
    assert mltrail.active_run() is None and mltrail.get_run(implicit.id).metrics == {"implicit": 1.0}


def test_environment_variables_configure_the_client(
    server: ServerProcess, spool_dir: Path, experiment_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mltrail.get_tracking_uri() == "http://127.0.0.1:5000"  # the default
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", server.url)
    monkeypatch.setenv("MLTRAIL_EXPERIMENT_NAME", experiment_name)
    monkeypatch.setenv("MLTRAIL_USER", "alice")
    assert mltrail.get_tracking_uri() == server.url
    with mltrail.start_run(name="launched") as run:
        pass
    stored = mltrail.get_run(run.id)
    assert stored.user == "alice"
    assert mltrail.get_client().get_experiment(stored.experiment_id).name == experiment_name

    # A launcher created the run; the script attaches to it through MLTRAIL_RUN_ID.
    monkeypatch.setenv("MLTRAIL_RUN_ID", run.id)
    with mltrail.start_run() as attached:
        assert attached.id == run.id
        mltrail.log_metric("from_script", 2.0)
    again = mltrail.get_run(run.id)
    assert again.metrics == {"from_script": 2.0} and again.status == "FINISHED"


def test_attaching_to_a_missing_run_raises(client: MltrailClient) -> None:
    with pytest.raises(mltrail.NotFound):
        client.start_run(run_id="f" * 32)


def test_run_start_captures_git_and_environment(server: ServerProcess, spool_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://user:secret@example.com/team/repo.git"], check=True)
    script = repo / "train.py"
    script.write_text(
        "import mltrail\n"
        f"mltrail.set_tracking_uri({server.url!r})\n"
        "with mltrail.start_run(experiment_name='env-capture') as run:\n"
        "    print(run.id)\n"
    )
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    script.write_text(script.read_text() + "# uncommitted change\n")

    env = {**os.environ, "MLTRAIL_SPOOL_DIR": str(spool_dir)}
    out = subprocess.run([sys.executable, str(script), "--epochs", "3"], capture_output=True, text=True,
                         env=env, check=True, cwd=tmp_path)  # fmt: skip
    run = MltrailClient(server.url).get_run(out.stdout.strip())
    assert run.source is not None
    assert run.source.git_commit == commit and run.source.git_branch == "main" and run.source.git_dirty is True
    assert run.source.git_remote == "https://example.com/team/repo.git"  # credentials stripped
    assert run.source.entry_point == "train.py"
    environment = run.environment or {}
    assert environment["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert environment["hostname"] and environment["platform"]
    assert environment["command"].endswith("train.py --epochs 3")
    assert any(p.lower().startswith("gql==") for p in environment["packages"])


def test_nothing_is_left_in_the_spool_after_a_clean_run(client: MltrailClient, spool_dir: Path, experiment_name: str) -> None:
    with client.start_run(experiment_name=experiment_name) as run:
        for i in range(2000):
            run.log_metric("x", i)
    client.close()
    assert list(spool_dir.glob("*")) == []


def test_warnings_are_not_emitted_for_healthy_runs(client: MltrailClient, experiment_name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", mltrail.MltrailWarning)
        with client.start_run(experiment_name=experiment_name) as run:
            run.log_metric("x", 1.0)
    assert client.rejections == []


def test_a_forked_child_logs_through_its_own_queue(client: MltrailClient, experiment_name: str) -> None:
    import multiprocessing

    run = client.start_run(experiment_name=experiment_name)
    for step in range(1_000):
        run.log_metric("parent", float(step), step=step)

    def child() -> None:
        run.log_metric("child", 1.0, step=0)
        os._exit(0 if client.flush(30) else 1)  # multiprocessing children skip atexit

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    for step in range(1_000, 2_000):
        run.log_metric("parent", float(step), step=step)
    process.join(60)
    assert process.exitcode == 0
    assert run.end() is True
    assert client.get_metric_history(run.id, "child").values == [1.0]
    assert client.get_metric_history(run.id, "parent").steps == list(range(2_000))


def test_a_spool_that_cannot_be_written_falls_back_to_memory(
    client: MltrailClient, experiment_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail import _spool

    run = client.start_run(experiment_name=experiment_name)
    run.log_metric("x", 0.0, step=0)
    assert client.flush(30)

    def disk_full(self: object, record: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_spool.Spool, "append", disk_full)
    with pytest.warns(mltrail.MltrailWarning, match="No space left on device"):
        for step in range(1, 5_000):
            run.log_metric("x", float(step), step=step)
        assert client.flush(30)
    assert run.end() is True
    assert client.get_metric_history(run.id, "x").steps == list(range(5_000))


def test_watch_metrics_streams_points_as_they_are_stored(client: MltrailClient, experiment_name: str) -> None:
    import threading

    run = client.start_run(experiment_name=experiment_name)
    received: list[mltrail.MetricBatch] = []
    subscribed = threading.Event()

    def watch() -> None:
        events = client.watch_metrics([run.id])
        subscribed.set()
        for batch in events:
            received.append(batch)
            if sum(len(b) for b in received) >= 300:
                break

    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            watch()
        except BaseException as error:
            errors.append(error)
            subscribed.set()

    watcher = threading.Thread(target=guarded, daemon=True)
    watcher.start()
    subscribed.wait(10)
    deadline = time.monotonic() + 30
    step = 0
    while watcher.is_alive() and time.monotonic() < deadline:  # until the subscription is live
        for _ in range(100):
            run.log_metric("live", float(step), step=step)
            step += 1
        client.flush(10)
        time.sleep(0.2)
    watcher.join(5)
    run.end()
    if errors:
        raise errors[0]
    assert not watcher.is_alive()
    steps = [s for batch in received for s in batch.steps]
    assert len(steps) >= 300 and steps == sorted(steps)  # in order, no duplicates
    assert all(batch.run_id == run.id and set(batch.keys) == {"live"} for batch in received)
    assert all(v == float(s) for batch in received for s, v in zip(batch.steps, batch.values, strict=True))


@pytest.mark.parametrize(("ending", "status"), [("pass", "FINISHED"), ("raise SystemExit(0)", "FINISHED"),
                                                ("raise ValueError('boom')", "FAILED")])  # fmt: skip
def test_interpreter_exit_ends_the_active_run_and_flushes(
    server: ServerProcess, spool_dir: Path, tmp_path: Path, ending: str, status: str
) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import mltrail\n"
        f"mltrail.set_tracking_uri({server.url!r})\n"
        "run = mltrail.start_run(experiment_name='atexit')\n"
        "print(run.id, flush=True)\n"
        "for step in range(5_000):\n"
        "    mltrail.log_metric('x', float(step), step=step)\n"
        f"{ending}\n"
    )
    env = {**os.environ, "MLTRAIL_SPOOL_DIR": str(spool_dir), "MLTRAIL_CAPTURE_ENVIRONMENT": "0"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    run_id = out.stdout.split()[0]
    with MltrailClient(server.url) as reader:
        assert reader.get_run(run_id).status == status
        assert reader.get_metric_history(run_id, "x").steps == list(range(5_000))
    assert list(spool_dir.iterdir()) == []


def test_reads_see_the_clients_own_queued_writes(server: ServerProcess, spool_dir: Path, experiment_name: str) -> None:
    # A long flush interval: without the flush-before-read the writes would still be queued.
    with MltrailClient(server.url, spool_dir=spool_dir, capture_environment=False, flush_interval=30) as client:
        run = client.start_run(experiment_name=experiment_name)
        client.set_tag(run.id, "stage", "dev")
        client.log_param(run.id, "lr", 0.1)
        client.log_metric(run.id, "loss", 0.5, step=3)
        stored = client.get_run(run.id)
        assert stored.tags["stage"] == "dev" and stored.params["lr"] == "0.1"
        assert stored.latest_metrics["loss"].step == 3
        client.set_tag(run.id, "stage", "prod")
        found = client.search_runs(filter="tags.stage = 'prod'", experiment_names=[experiment_name])
        assert [r.id for r in found] == [run.id]
        client.log_metric(run.id, "loss", 0.25, step=4)
        assert client.get_metric_history(run.id, "loss").steps == [3, 4]
        run.end()


def test_64_bit_steps_round_trip_exactly(client: MltrailClient, experiment_name: str) -> None:
    # Beyond ±(2^53 - 1) the server sends a Long as a decimal string; the client reads both forms.
    big = 2**53 + 1
    with client.start_run(experiment_name=experiment_name) as run:
        run.log_metric("far", 1.0, step=big, timestamp=big + 2)
        run.log_metric("near", 1.0, step=7, timestamp=1_700_000_000_000)
    stored = client.get_run(run.id)
    assert stored.latest_metrics["far"].step == big and stored.latest_metrics["far"].timestamp == big + 2
    assert type(stored.latest_metrics["far"].step) is int and stored.latest_metrics["near"].step == 7
    history = client.get_metric_history(run.id, "far")
    assert history.steps == [big] and history.timestamps == [big + 2]
    table = client.search_runs_table(experiment_names=[experiment_name])
    assert table.columns["start_time"] == [stored.start_time]
