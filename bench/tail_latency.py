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
import statistics
import tempfile
import time
from pathlib import Path

from _harness import mltrail_server, pct, running
from _ingest import INGEST_POINTS, INGEST_REPEATS, ingest, ingest_concurrent
from _mltrail_side import CREATE_RUN, Side, run_params

CALLS = 300
BLOCK = 100


def measure(url: str) -> None:
    side = Side(url)
    side.setup()
    for rep in range(INGEST_REPEATS):
        ingest(side, INGEST_POINTS, rep)
    for rep in range(INGEST_REPEATS):
        ingest(side, INGEST_POINTS, rep, size=10_000)
    ingest_concurrent(side)
    params = [run_params(i) for i in range(CALLS)]
    latencies = []
    for i in range(CALLS):
        start = time.perf_counter()
        side.gql(CREATE_RUN, {"experimentId": side.exp_search, "name": f"run-{i}", "params": params[i]})
        latencies.append((time.perf_counter() - start) * 1000)
    side.close()
    print("createRun(params: 10) after the ingest, ms per call:")
    for first in range(0, CALLS, BLOCK):
        ms = latencies[first : first + BLOCK]
        slowest = max(range(BLOCK), key=ms.__getitem__)
        print(
            f"  calls {first:>3}-{first + BLOCK - 1}: mean {statistics.fmean(ms):5.2f}"
            f"  median {statistics.median(ms):5.2f}  p99 {pct(ms, 99):6.2f}"
            f"  slowest {ms[slowest]:6.1f} (call {first + slowest})"
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
        with running(mltrail_server(str(Path(workdir) / "data"))) as server:
            measure(server.url)


if __name__ == "__main__":
    main()
