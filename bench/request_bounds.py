"""What the request bounds cost on ordinary bodies, and what they save on hostile ones.

Measures, in-process and single-threaded (no server: the figures are the checks themselves):

- ``measure_body`` (byte scans before parsing) on the bodies the client sends: columnar
  ``logBatch`` bodies of 1,000 and 100,000 points, and 1,000 params;
- ``orjson.loads`` of the same bodies, for scale;
- the 30 MB hostile body of the attack (five million empty arrays): the time to refuse it,
  against the time parsing it would have held the event loop.

    .venv/bin/python bench/request_bounds.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import orjson

from mltrail_server.config import Settings
from mltrail_server.http.request_bounds import BodyRefused, measure_body

LOG_BATCH = "mutation($r: ID!, $m: MetricBatchInput, $p: [ParamInput!]) { logBatch(runId: $r, metrics: $m, params: $p) { runId } }"


def metric_body(points: int) -> bytes:
    steps = list(range(points))
    metrics = {"keys": ["loss"] * points, "values": [0.5 + i * 1e-6 for i in steps], "steps": steps,
               "timestamps": [1_700_000_000_000 + i for i in steps]}  # fmt: skip
    return orjson.dumps({"query": LOG_BATCH, "variables": {"r": "a" * 32, "m": metrics}})


def params_body(n: int) -> bytes:
    params = [{"key": f"param_{i}", "value": f"value [{i}], {{x}}"} for i in range(n)]
    return orjson.dumps({"query": LOG_BATCH, "variables": {"r": "a" * 32, "p": params}})


def best_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    settings = Settings()
    print(f"{'body':<34} {'bytes':>12} {'measure ms (min/med)':>22} {'orjson.loads ms':>18}")
    for name, body in (
        ("logBatch, 1,000 points", metric_body(1_000)),
        ("logBatch, 100,000 points", metric_body(100_000)),
        ("logBatch, 1,000 params", params_body(1_000)),
    ):
        low, median = best_ms(lambda body=body: measure_body(body, settings), 50)
        parse_low, _ = best_ms(lambda body=body: orjson.loads(body), 10)
        print(f"{name:<34} {len(body):>12,} {low:>10.3f} / {median:<9.3f} {parse_low:>18.3f}")

    hostile = b'{"query": "{ experiments { totalCount } }", "variables": {"x": [' + b" , ".join(
        [b"[ ]"] * 5_000_000
    ) + b"]}}"

    def refuse() -> None:
        try:
            measure_body(hostile, settings)
        except BodyRefused:
            return
        raise AssertionError("the hostile body was not refused")

    low, _ = best_ms(refuse, 3)
    parse_low, _ = best_ms(lambda: orjson.loads(hostile), 1)
    print(f"{'hostile: 5M empty arrays':<34} {len(hostile):>12,} {low:>10.3f} (refused) {parse_low:>18.3f}")


if __name__ == "__main__":
    main()
