"""Tail latency of small writes after a long ingest: where a stall inside a COMMIT shows.

    .venv/bin/python bench/tail_latency.py                 # a fresh SQLite server
    .venv/bin/python bench/tail_latency.py --url URL       # a running server

Replays the order of ``bench/tracking.py``: 100,000 points three times in 1,000-point
batches, three times in 10,000-point batches, 100,000 from 4 concurrent clients (about 40 MB
of SQLite write-ahead log), then 300 ``createRun(params:)`` calls, one at a time. Prints each
block of 100 calls' mean, median, p99 and slowest call. A checkpoint of the log inside a
request's COMMIT shows as one call of tens of milliseconds in the first block.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import tracking as t


def measure(url: str) -> None:
    side = t.MltrailSide(url)
    side.setup()
    for rep in range(t.INGEST_REPEATS):
        side.ingest(t.INGEST_POINTS, rep)
    for rep in range(t.INGEST_REPEATS):
        side.ingest(t.INGEST_POINTS, rep, size=10_000)
    side.ingest_concurrent()
    params = [t.run_params(i) for i in range(300)]
    latencies = []
    for i in range(300):
        start = time.perf_counter()
        side.gql(t.CREATE_RUN, {"experimentId": side.exp_search, "name": f"run-{i}", "params": params[i]})
        latencies.append((time.perf_counter() - start) * 1000)
    side.close()
    print("createRun(params: 10) after the ingest, ms per call:")
    for block in range(3):
        ms = latencies[block * 100 : (block + 1) * 100]
        slowest = max(range(100), key=ms.__getitem__)
        print(
            f"  calls {block * 100:>3}-{block * 100 + 99}: mean {statistics.fmean(ms):5.2f}"
            f"  median {statistics.median(ms):5.2f}  p99 {t.pct(ms, 99):6.2f}"
            f"  slowest {ms[slowest]:6.1f} (call {block * 100 + slowest})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running mltrail server (default: start one on SQLite)")
    args = parser.parse_args()
    if args.url:
        measure(args.url)
        return
    with tempfile.TemporaryDirectory(prefix="mltrail-bench-tail-") as workdir:
        port = t.free_port()
        server = t.Server(
            "mltrail", t.mltrail_command(port, str(Path(workdir) / "data"), 1, None), "/readyz", port
        )
        with contextlib.ExitStack() as stack:
            stack.enter_context(t.running(server))
            measure(server.url)


if __name__ == "__main__":
    main()
