"""System metrics: CPU, memory, disk, network and NVIDIA GPUs, sampled beside a run.

`start_run(log_system_metrics=True)` (or `MLTRAIL_LOG_SYSTEM_METRICS=1`) starts one daemon
thread per run that wakes every `MLTRAIL_SYSTEM_METRICS_INTERVAL` seconds (default 10) and
queues one point per key through the run's ordinary metric queue, so system metrics are
batched, spooled offline and delivered exactly once like any other metric. Every key of one
sample shares the same step (0, 1, 2, … per sampler) and the same wall-clock timestamp.

Keys (MB = 10⁶ bytes; rates are averages over the interval that ends at the sample):

    system/cpu_percent            all cores, 0 to 100
    system/memory_used_mb         system/memory_percent
    system/disk_read_mb_s         system/disk_write_mb_s
    system/net_sent_mb_s          system/net_recv_mb_s
    system/process_cpu_percent    this process; 100 = one full core, so it can exceed 100
    system/process_rss_mb         this process's resident memory
    system/gpu{i}/utilization     system/gpu{i}/memory_used_mb     system/gpu{i}/power_w

Key layout. On one machine the keys are exactly the names above, so the same chart means the
same thing for every run and runs from different machines can be overlaid. When a run spans
machines, each machine's series must stay apart: the node id is then inserted after
`system/` (`system/<node>/cpu_percent`). That happens when `MLTRAIL_SYSTEM_METRICS_NODE_ID`
is set, or when the process is one of a distributed launch (`WORLD_SIZE` > 1, as torchrun,
accelerate and DeepSpeed set it), where the node id defaults to the hostname. Every process
of a node would sample the same machine under the same keys, so in a distributed launch only
local rank 0 samples unless the node id is set explicitly (then each process names itself).

psutil (the `system-metrics` extra) is imported here, and this module only when a run asks
for system metrics: `import mltrail` stays light. GPUs are read through nvidia-ml-py
(`pynvml`) when it imports and NVML finds a GPU; otherwise they are skipped with one debug
log line, never a warning: most machines have no GPU and that is not a problem to report.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from mltrail._exceptions import MltrailWarning

logger = logging.getLogger("mltrail")

DEFAULT_INTERVAL = 10.0
THREAD_NAME = "mltrail-system-metrics"
_MB = 1_000_000

AddMetric = Callable[[str, str, float, int, int], None]


def interval_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """`MLTRAIL_SYSTEM_METRICS_INTERVAL` in seconds; a bad value warns once and means 10."""
    raw = environ.get("MLTRAIL_SYSTEM_METRICS_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        interval = float(raw)
    except ValueError:
        interval = -1.0
    if not interval > 0 or interval == float("inf"):
        warnings.warn(
            f"mltrail: MLTRAIL_SYSTEM_METRICS_INTERVAL must be a positive number of seconds, "
            f"got {raw!r}; using {DEFAULT_INTERVAL:g}",
            MltrailWarning,
            stacklevel=4,
        )
        return DEFAULT_INTERVAL
    return interval


def key_prefix(environ: Mapping[str, str] = os.environ) -> str | None:
    """`system/`, `system/<node>/` on multi-node runs, or None: this process should not sample
    (a distributed launch's local rank > 0, whose node local rank 0 already samples)."""
    node = environ.get("MLTRAIL_SYSTEM_METRICS_NODE_ID", "").strip()
    if node:
        return f"system/{_clean_node_id(node)}/"
    if _int_env(environ, "WORLD_SIZE") > 1:
        if _int_env(environ, "LOCAL_RANK") > 0:
            return None
        return f"system/{_clean_node_id(socket.gethostname())}/"
    return "system/"


def _clean_node_id(node: str) -> str:
    # A "/" inside the node id would read as one more level of the key's hierarchy.
    return node.replace("/", "_") or "node"


def _int_env(environ: Mapping[str, str], name: str) -> int:
    try:
        return int(environ.get(name, "0"))
    except ValueError:
        return 0


def start_sampler(
    add_metric: AddMetric, run_id: str, *, interval: float | None = None, first_step: int = 0
) -> SystemMetricsSampler | None:
    """A started sampler for this run, or None when psutil is missing or this process should
    not sample (see `key_prefix`)."""
    prefix = key_prefix()
    if prefix is None:
        logger.debug("mltrail: system metrics are sampled by local rank 0 of this node, not by this process")
        return None
    try:
        import psutil  # noqa: F401  (imported here so that `import mltrail` never pays for it)
    except ImportError:
        # The user asked for system metrics and gets none: that deserves one warning.
        warnings.warn(
            "mltrail: system metrics need psutil; install it with `pip install 'mltrail[system-metrics]'`",
            MltrailWarning,
            stacklevel=4,
        )
        return None
    sampler = SystemMetricsSampler(
        add_metric,
        run_id,
        prefix=prefix,
        interval=interval_from_env() if interval is None else interval,
        first_step=first_step,
    )
    sampler.start()
    return sampler


class SystemMetricsSampler:
    """One background thread that queues a sample of every key each `interval` seconds."""

    def __init__(
        self,
        add_metric: AddMetric,
        run_id: str,
        *,
        prefix: str = "system/",
        interval: float,
        first_step: int = 0,
    ) -> None:
        self._add_metric = add_metric
        self.run_id = run_id
        self.prefix = prefix
        self.interval = interval
        self.samples = 0
        # A resumed run continues its steps, so a series never has two points at one step.
        self.next_step = first_step
        # CPU time of this sampler's thread (bench/system_metrics.py): opening NVML and priming
        # the counters once, then the samples.
        self.startup_cpu_seconds = 0.0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)
        self._failed = False

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and join the thread: once this returns, no further point is queued."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        started = time.thread_time()
        try:
            readers = _open_readers()
            # Counters and CPU percentages are differences: read them once now, so the first
            # point (one interval from now) covers that interval rather than the time since boot.
            last = time.monotonic()
            for reader in readers:
                reader.prime()
        except Exception as error:  # pragma: no cover - psutil failing at start is unexpected
            logger.warning("mltrail: system metrics are off for run %s: %s", self.run_id, error)
            return
        finally:
            self.startup_cpu_seconds = time.thread_time() - started
        while not self._stop.wait(self.interval):
            started = time.thread_time()
            try:
                now = time.monotonic()
                elapsed, last = now - last, now
                self._sample(readers, elapsed)
            except Exception as error:
                if not self._failed:  # once: a broken counter must not flood the job's log
                    self._failed = True
                    logger.warning(
                        "mltrail: a system metrics sample failed (%s); later failures are not reported", error
                    )
            finally:
                self.cpu_seconds += time.thread_time() - started
        for reader in readers:
            reader.close()

    def _sample(self, readers: list[Any], elapsed: float) -> None:
        values: dict[str, float] = {}
        for reader in readers:
            reader.read(values, elapsed)
        # A stop that arrived while reading drops this sample: the run is ending. (That no
        # point follows the run's end is guaranteed by stop() joining this thread before the
        # end time is taken; this only spares a point stamped a hair before it.)
        if self._stop.is_set():
            return
        step = self.next_step
        timestamp = time.time_ns() // 1_000_000
        add, run_id, prefix = self._add_metric, self.run_id, self.prefix
        for key, value in values.items():
            add(run_id, prefix + key, value, step, timestamp)
        self.next_step = step + 1
        self.samples += 1


def _open_readers() -> list[Any]:
    readers: list[Any] = [_HostReader()]
    gpus = _GpuReader.open()
    if gpus is not None:
        readers.append(gpus)
    return readers


class _HostReader:
    """CPU, memory, disk and network of the machine, CPU and RSS of this process (psutil)."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process()
        self._disk: Any = None
        self._net: Any = None

    def prime(self) -> None:
        psutil = self._psutil
        psutil.cpu_percent(interval=None)
        self._process.cpu_percent(interval=None)
        self._disk = _counters(psutil.disk_io_counters)
        self._net = _counters(psutil.net_io_counters)

    def read(self, values: dict[str, float], elapsed: float) -> None:
        psutil = self._psutil
        values["cpu_percent"] = psutil.cpu_percent(interval=None)
        memory = psutil.virtual_memory()
        values["memory_used_mb"] = memory.used / _MB
        values["memory_percent"] = memory.percent
        # Some containers expose no block devices: then there are simply no disk series.
        disk = _counters(psutil.disk_io_counters)
        if disk is not None and self._disk is not None and elapsed > 0:
            values["disk_read_mb_s"] = _rate(disk.read_bytes, self._disk.read_bytes, elapsed)
            values["disk_write_mb_s"] = _rate(disk.write_bytes, self._disk.write_bytes, elapsed)
        self._disk = disk
        net = _counters(psutil.net_io_counters)
        if net is not None and self._net is not None and elapsed > 0:
            values["net_sent_mb_s"] = _rate(net.bytes_sent, self._net.bytes_sent, elapsed)
            values["net_recv_mb_s"] = _rate(net.bytes_recv, self._net.bytes_recv, elapsed)
        self._net = net
        with self._process.oneshot():
            values["process_cpu_percent"] = self._process.cpu_percent(interval=None)
            values["process_rss_mb"] = self._process.memory_info().rss / _MB

    def close(self) -> None:
        pass


def _counters(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception:  # e.g. no /proc/diskstats in a sandbox
        return None


def _rate(now: int, before: int, elapsed: float) -> float:
    # Counters can wrap or reset (a NIC going away); a negative rate would be nonsense.
    return max(0, now - before) / _MB / elapsed


class _GpuReader:
    """Utilization, memory and power of each NVIDIA GPU, through NVML (nvidia-ml-py)."""

    @classmethod
    def open(cls) -> _GpuReader | None:
        try:
            import pynvml
        except ImportError:
            logger.debug("mltrail: nvidia-ml-py is not installed; no GPU system metrics")
            return None
        try:
            pynvml.nvmlInit()
        except Exception as error:  # NVMLError: no driver, no GPU
            logger.debug("mltrail: NVML unavailable (%s); no GPU system metrics", error)
            return None
        try:
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception as error:
            logger.debug("mltrail: cannot list GPUs (%s); no GPU system metrics", error)
            _shutdown(pynvml)
            return None
        if not handles:
            logger.debug("mltrail: NVML finds no GPU; no GPU system metrics")
            _shutdown(pynvml)
            return None
        return cls(pynvml, handles)

    def __init__(self, pynvml: Any, handles: list[Any]) -> None:
        self._nvml = pynvml
        self._handles = handles
        # Readings a GPU does not support (power on some boards) are dropped after their first
        # failure, with one debug line, instead of failing every sample.
        self._unsupported: set[tuple[int, str]] = set()

    def prime(self) -> None:
        pass

    def read(self, values: dict[str, float], elapsed: float) -> None:
        nvml = self._nvml
        for i, handle in enumerate(self._handles):
            self._read_one(
                values, i, "utilization", lambda h=handle: float(nvml.nvmlDeviceGetUtilizationRates(h).gpu)
            )
            self._read_one(
                values, i, "memory_used_mb", lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h).used / _MB
            )
            self._read_one(values, i, "power_w", lambda h=handle: nvml.nvmlDeviceGetPowerUsage(h) / 1000.0)

    def _read_one(self, values: dict[str, float], index: int, name: str, read: Callable[[], float]) -> None:
        if (index, name) in self._unsupported:
            return
        try:
            values[f"gpu{index}/{name}"] = read()
        except Exception as error:
            self._unsupported.add((index, name))
            logger.debug("mltrail: GPU %d cannot report %s (%s); not sampled", index, name, error)

    def close(self) -> None:
        _shutdown(self._nvml)


def _shutdown(pynvml: Any) -> None:
    try:
        pynvml.nvmlShutdown()
    except Exception:
        pass
