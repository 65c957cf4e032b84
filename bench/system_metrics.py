"""What the system metrics sampler costs: CPU of its thread and of the whole process, per interval.

    .venv/bin/python bench/system_metrics.py                          # 10 s and 1 s intervals
    .venv/bin/python bench/system_metrics.py --intervals 10 1 0.2 --seconds 120

Against a fresh `mltrail server` (SQLite, its own process, so its CPU is not counted), one
idle run per configuration, each for `--seconds` of wall time (at least 12 intervals):

1. **sampler thread**: the CPU time the sampler's own thread used (`time.thread_time()`
   around its start-up and each sample, summed by the sampler), as a percentage of one core
   over the wall time; and separately per sample and for the start-up (opening NVML,
   priming the counters), which is paid once per run;
2. **whole process**: `time.process_time()` over the run with the sampler, minus the same
   over a run without it (the baseline: the client's sender threads wake every 200 ms
   anyway). This adds what the sampler's points cost the queue, encoder and sender. It is
   a difference of two measurements, so it is noisier than (1), and can come out slightly
   negative at long intervals.

The bar (issue 14): under 1% of one core at the default 10 s interval.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

# bench/client.py, importable because a script's own directory is first on sys.path.
from _harness import mltrail_server


def idle_run(tracking_uri: str, seconds: float, interval: float | None) -> dict[str, float]:
    """One run that does nothing for `seconds`, sampled every `interval` (None: no sampler)."""
    import mltrail

    if interval is not None:
        os.environ["MLTRAIL_SYSTEM_METRICS_INTERVAL"] = str(interval)
    mltrail.set_tracking_uri(tracking_uri)
    mltrail.set_experiment("bench-system-metrics")
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    with mltrail.start_run(log_system_metrics=interval is not None) as run:
        time.sleep(seconds)
        sampler = run._system_metrics
        thread_cpu = sampler.cpu_seconds if sampler is not None else 0.0
        startup_cpu = sampler.startup_cpu_seconds if sampler is not None else 0.0
        samples = sampler.samples if sampler is not None else 0
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    points = sum(len(s.steps) for s in mltrail.get_client().get_metric_histories([run.id]))
    return {
        "wall": wall,
        "cpu": cpu,
        "thread_cpu": thread_cpu,
        "startup_cpu": startup_cpu,
        "samples": samples,
        "points": points,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--intervals", type=float, nargs="+", default=[10.0, 1.0])
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="wall time per run (at least 12 intervals)"
    )
    args = parser.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="mltrail-bench-sysmetrics-"))
    os.environ["MLTRAIL_SPOOL_DIR"] = str(work_dir / "spool")
    os.environ["MLTRAIL_CAPTURE_ENVIRONMENT"] = "0"
    server = mltrail_server(str(work_dir / "data")).start()
    url = server.url
    try:
        import psutil

        print(f"psutil {psutil.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        seconds = {interval: max(args.seconds, 12 * interval) for interval in args.intervals}
        baseline = idle_run(url, max(seconds.values()), None)
        base_rate = baseline["cpu"] / baseline["wall"]
        print(
            f"baseline (no sampler, {baseline['wall']:.0f} s): process CPU {base_rate * 100:.3f}% of one core"
        )
        print()
        print("| interval | wall | samples | points | sampler thread, % of a core | per sample | start-up | "
              "whole process, % of a core (minus baseline) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for interval in args.intervals:
            r = idle_run(url, seconds[interval], interval)
            thread_pct = (r["thread_cpu"] + r["startup_cpu"]) / r["wall"] * 100
            per_sample_ms = r["thread_cpu"] / max(1, r["samples"]) * 1000
            process_pct = (r["cpu"] / r["wall"] - base_rate) * 100
            print(f"| {interval:g} s | {r['wall']:.0f} s | {r['samples']:.0f} | {r['points']:.0f} | "
                  f"{thread_pct:.4f}% | {per_sample_ms:.2f} ms | {r['startup_cpu'] * 1000:.1f} ms | "
                  f"{process_pct:+.3f}% |")  # fmt: skip
    finally:
        server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
