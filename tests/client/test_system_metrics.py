"""System metrics against a real server with real psutil: keys, spacing, stopping, no GPU, offline.

The sampler runs at 0.2 s here (`MLTRAIL_SYSTEM_METRICS_INTERVAL`) so a test sees several
samples in about a second.
"""

from __future__ import annotations

import logging
import re
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

import mltrail
from mltrail import MltrailClient
from mltrail._system_metrics import THREAD_NAME, interval_from_env, key_prefix

from .conftest import ServerProcess
from .test_faults import run_sync

HOST_KEYS = {
    "system/cpu_percent",
    "system/memory_used_mb",
    "system/memory_percent",
    "system/disk_read_mb_s",
    "system/disk_write_mb_s",
    "system/net_sent_mb_s",
    "system/net_recv_mb_s",
    "system/process_cpu_percent",
    "system/process_rss_mb",
}
GPU_KEY = re.compile(r"^system/gpu\d+/(utilization|memory_used_mb|power_w)$")
INTERVAL_MS = 200


@pytest.fixture(autouse=True)
def fast_sampler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_SYSTEM_METRICS_INTERVAL", str(INTERVAL_MS / 1000))
    for name in ("MLTRAIL_LOG_SYSTEM_METRICS", "MLTRAIL_SYSTEM_METRICS_NODE_ID", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def system_series(client: MltrailClient, run_id: str) -> dict[str, mltrail.MetricSeries]:
    return {s.key: s for s in client.get_metric_histories([run_id]) if s.key.startswith("system/")}


def assert_one_sampler_series(series: dict[str, mltrail.MetricSeries], end_time: int | None) -> None:
    """Every key has the same steps 0..n-1 and the same timestamps (one per sample), all before
    the run's end, spaced by about the interval."""
    reference = series["system/cpu_percent"]
    count = len(reference.steps)
    assert count >= 3, count
    for key, s in series.items():
        assert list(s.steps) == list(range(count)), key
        assert list(s.timestamps) == list(reference.timestamps), key
    if end_time is not None:
        assert max(reference.timestamps) <= end_time
    gaps = [b - a for a, b in zip(reference.timestamps, reference.timestamps[1:], strict=False)]
    assert min(gaps) >= INTERVAL_MS - 10, gaps  # Event.wait never wakes early (ms rounding aside)
    assert statistics.median(gaps) < INTERVAL_MS * 2, gaps  # generous: 2 shared cores
    values = dict(zip(reference.steps, reference.values, strict=True))
    assert all(0.0 <= v <= 100.0 for v in values.values())
    assert 0 < series["system/memory_percent"].values[-1] <= 100
    assert series["system/process_rss_mb"].values[-1] > 10  # a Python process with httpx loaded


def test_a_sampled_run_has_every_host_series_at_the_interval_and_stops_with_the_run(
    client: MltrailClient, experiment_name: str
) -> None:
    run = client.start_run(experiment_name=experiment_name, log_system_metrics=True)
    assert len(sampler_threads()) == 1
    run.log_metric("loss", 1.0)
    time.sleep(1.3)
    assert run.end() is True
    assert sampler_threads() == []  # joined by end(): nothing samples an ended run

    stored = client.get_run(run.id)
    series = system_series(client, run.id)
    assert HOST_KEYS <= set(series), set(series)
    assert all(GPU_KEY.match(key) for key in set(series) - HOST_KEYS), set(series)
    assert_one_sampler_series(series, stored.end_time)
    assert stored.metrics["loss"] == 1.0  # training metrics are untouched beside them

    time.sleep(3 * INTERVAL_MS / 1000)  # nothing more arrives after the end
    assert {k: len(s.steps) for k, s in system_series(client, run.id).items()} == {
        k: len(s.steps) for k, s in series.items()
    }


def test_a_resumed_run_continues_the_steps_of_its_system_series(
    client: MltrailClient, experiment_name: str
) -> None:
    with client.start_run(experiment_name=experiment_name, log_system_metrics=True) as first:
        time.sleep(0.7)
    before = len(client.get_metric_history(first.id, "system/cpu_percent").steps)
    with client.start_run(run_id=first.id, log_system_metrics=True):
        time.sleep(0.7)
    series = client.get_metric_history(first.id, "system/cpu_percent")
    assert before >= 2 and len(series.steps) > before
    assert list(series.steps) == list(range(len(series.steps)))  # one point per step, no restart


def test_the_environment_variable_samples_top_level_runs_and_not_their_children(
    server: ServerProcess, spool_dir: Path, experiment_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_LOG_SYSTEM_METRICS", "1")
    monkeypatch.setenv("MLTRAIL_SYSTEM_METRICS_NODE_ID", "node-a")
    mltrail.set_tracking_uri(server.url)
    with mltrail.start_run(experiment_name=experiment_name) as parent:
        with mltrail.start_run(nested=True) as child:
            assert len(sampler_threads()) == 1  # the parent's only
            time.sleep(0.7)
    assert sampler_threads() == []
    client = mltrail.get_client()
    keys = set(system_series(client, parent.id))
    assert {key.replace("system/node-a/", "system/") for key in keys} >= HOST_KEYS
    assert all(key.startswith("system/node-a/") for key in keys)
    assert system_series(client, child.id) == {}


def test_key_layout_follows_node_id_and_distributed_launches(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    assert key_prefix({}) == "system/"
    assert key_prefix({"MLTRAIL_SYSTEM_METRICS_NODE_ID": "gpu-box/3"}) == "system/gpu-box_3/"
    assert key_prefix({"WORLD_SIZE": "1"}) == "system/"
    assert key_prefix({"WORLD_SIZE": "8", "LOCAL_RANK": "0"}) == f"system/{socket.gethostname()}/"
    assert key_prefix({"WORLD_SIZE": "8", "LOCAL_RANK": "3"}) is None  # local rank 0 samples this node
    assert (
        key_prefix({"WORLD_SIZE": "8", "LOCAL_RANK": "3", "MLTRAIL_SYSTEM_METRICS_NODE_ID": "r3"})
        == "system/r3/"
    )


def test_a_bad_interval_warns_and_means_ten_seconds() -> None:
    assert interval_from_env({"MLTRAIL_SYSTEM_METRICS_INTERVAL": "2.5"}) == 2.5
    for bad in ("0", "-1", "ten", "inf"):
        with pytest.warns(mltrail.MltrailWarning, match="MLTRAIL_SYSTEM_METRICS_INTERVAL"):
            assert interval_from_env({"MLTRAIL_SYSTEM_METRICS_INTERVAL": bad}) == 10.0


def test_without_psutil_asking_for_system_metrics_warns_once_and_the_run_goes_on(
    client: MltrailClient, experiment_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # `import psutil` now raises ImportError
    with pytest.warns(mltrail.MltrailWarning, match=r"mltrail\[system-metrics\]") as caught:
        with client.start_run(experiment_name=experiment_name, log_system_metrics=True) as run:
            assert sampler_threads() == []
            run.log_metric("loss", 0.5)
    assert len(caught) == 1
    assert client.get_run(run.id).metrics == {"loss": 0.5}


@pytest.mark.parametrize("gpu_library", ["absent", "installed"])
def test_without_a_gpu_there_is_no_gpu_series_and_no_warning(
    client: MltrailClient,
    experiment_name: str,
    gpu_library: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if gpu_library == "absent":
        monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` now raises ImportError
    else:
        import pynvml  # nvidia-ml-py, from the dev extra: present, but this machine may have no GPU

    caplog.set_level(logging.DEBUG, logger="mltrail")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with client.start_run(experiment_name=experiment_name, log_system_metrics=True) as run:
            time.sleep(1.0)
    assert [str(w.message) for w in caught] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    gpu_logs = [r for r in caplog.records if "GPU" in r.getMessage() or "NVML" in r.getMessage()]

    keys = set(system_series(client, run.id))
    gpu_keys = {key for key in keys if "/gpu" in key}
    if gpu_library == "installed" and _nvml_finds_gpus(pynvml):
        assert gpu_keys and all(GPU_KEY.match(key) for key in gpu_keys)  # a GPU machine: sampled
    else:
        assert gpu_keys == set()
        assert len(gpu_logs) == 1 and gpu_logs[0].levelno == logging.DEBUG  # said once, quietly
    assert HOST_KEYS <= keys


def _nvml_finds_gpus(pynvml: object) -> bool:
    try:
        pynvml.nvmlInit()  # type: ignore[attr-defined]
    except Exception:
        return False
    try:
        return pynvml.nvmlDeviceGetCount() > 0  # type: ignore[attr-defined]
    finally:
        pynvml.nvmlShutdown()  # type: ignore[attr-defined]


def test_system_metrics_go_to_the_spool_when_the_server_is_down_and_sync_delivers_them(
    own_server: ServerProcess, spool_dir: Path
) -> None:
    client = MltrailClient(
        own_server.url, spool_dir=spool_dir, capture_environment=False, retry_max_delay=0.5
    )
    with pytest.warns(mltrail.MltrailWarning, match="mltrail sync"):
        with client.start_run(experiment_name="offline-system", log_system_metrics=True) as run:
            time.sleep(1.0)
        assert sampler_threads() == []
        client.close()

    dry = run_sync(spool_dir, "--dry-run")
    assert dry["metric_points"] >= 3 * len(HOST_KEYS)  # at least three samples, all spooled
    own_server.start()
    assert run_sync(spool_dir)["rejected"] == []
    with MltrailClient(own_server.url) as reader:
        series = system_series(reader, run.id)
        assert HOST_KEYS <= set(series)
        assert sum(len(s.steps) for s in series.values()) == dry["metric_points"]  # exactly once
        assert_one_sampler_series(series, reader.get_run(run.id).end_time)
