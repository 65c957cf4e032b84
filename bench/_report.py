"""The tracking benchmark's report: one table, mltrail beside MLflow (when compared) and the
ratio, each checked against the issue's target ("ok" / "MISS"). The ingest and run-creation
ratios are the median of the round-by-round ratios in ``m["pairs"]``, which it lists too.
"""

from __future__ import annotations

import os
import statistics
import sys
from typing import Any

from _startup import NAGLE_SUSPECT_MS


def report(backend: str, m: dict[str, Any], f: dict[str, Any] | None) -> None:
    """Print the table of ``m`` (mltrail's figures) and ``f`` (MLflow's, or None) to stdout."""

    def row(label: str, ours: str, theirs: str = "", ratio: str = "", target: str = "") -> None:
        print(f"  {label:<52} {ours:>14} {theirs:>14} {ratio:>9}  {target}")

    def check(ok: bool, text: str) -> str:
        return f"{'ok  ' if ok else 'MISS'} {text}"

    print()
    print(f"Tracking server benchmark — {backend}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    row("", "mltrail", "MLflow" if f else "", "ratio" if f else "", "target")
    fr = f or {}

    i1, i10 = m["ingest_1000"], m["ingest_10000"]
    f_ing = fr.get("ingest_1000", {}).get("median")
    pairs = m.get("pairs", {})

    def paired(name: str) -> float | None:
        """The median of the round-by-round ratios (each round ran both sides back to back)."""
        return statistics.median(pairs[name]) if pairs.get(name) else None

    def spread(name: str) -> str:
        return "  rounds: " + ", ".join(f"{r:.1f}x" for r in pairs[name]) if pairs.get(name) else ""

    r1, r10 = paired("ingest_1000"), paired("ingest_10000")
    row(
        "ingest 100k pts, 1,000-pt batches (pts/s, median)",
        f"{i1['median']:,.0f}",
        f"{f_ing:,.0f}" if f_ing else "",
        f"{r1:.1f}x" if r1 else "",
        check(r1 >= 40, ">= 40x") if r1 else "",
    )
    row(
        "  best of 3",
        f"{i1['best']:,.0f}",
        f"{fr['ingest_1000']['best']:,.0f}" if f else "",
        "",
        spread("ingest_1000"),
    )
    row(
        "ingest 100k pts, 10,000-pt batches (pts/s, median)",
        f"{i10['median']:,.0f}",
        "(1,000 max)" if f else "",
        f"{r10:.1f}x" if r10 else "",
        check(r10 >= 40, ">= 40x") if r10 else "",
    )
    row("  best of 3", f"{i10['best']:,.0f}", "", "", spread("ingest_10000"))
    row("ingest, 4 concurrent clients, 1,000-pt batches (pts/s)", f"{m['ingest_concurrent']:,.0f}")
    row("ingest 1M-pt series, 10,000-pt batches (pts/s)", f"{m['ingest_million']:,.0f}")

    def ms_row(
        label: str, ours: float, theirs: float | None, target_x: float | None, ratio: float | None = None
    ) -> None:
        ratio = ratio or (theirs / ours if theirs else None)
        row(
            label,
            f"{ours:,.1f}",
            f"{theirs:,.1f}" if theirs else "",
            f"{ratio:.1f}x" if ratio else "",
            check(ratio >= target_x, f">= {target_x:g}x") if ratio and target_x else "",
        )

    ms_row(
        "run creation + 10 params, createRun(params:) (ms/run)",
        m["create_ms"],
        fr.get("create_ms"),
        10,
        paired("create"),
    )
    if pairs.get("create"):
        row("", "", "", "", spread("create"))
    ms_row(
        "  same, createRun + logBatch, 2 requests (ms/run)",
        m["create_two_requests_ms"],
        fr.get("create_ms"),
        None,
    )
    s, fs = m["search"], fr.get("search", {})
    total = m["search_total"]
    ms_row(f"search 1,000 runs -> first 100 of {total}, runTable, p50 (ms)", s["p50"], fs.get("p50"), 10)
    ms_row("  p95 (ms)", s["p95"], fs.get("p95"), None)
    so = m["search_objects"]
    ms_row("  same as runs { nodes {...} } + totalCount, p50 (ms)", so["p50"], fs.get("p50"), None)
    ms_row("  same, nodes { id latestMetrics } only, p50 (ms)", m["search_lean"]["p50"], None, None)
    a, fa = m["all_runs"], fr.get("all_runs", {})
    ms_row("all 1,000 runs, one page, runTable, p50 (ms)", a["p50"], fa.get("p50"), None)
    ms_row("  same as runs { nodes {...} }, p50 (ms)", m["all_runs_objects"]["p50"], fa.get("p50"), None)
    h, fh = m["histories"], fr.get("histories", {})
    label = "10 histories x 1,000 pts p50 (ms)" + (" [MLflow: 10 calls]" if f else "")
    ms_row(label, h["p50"], fh.get("p50"), 20)
    ms_row("  p95 (ms)", h["p95"], fh.get("p95"), None)
    d = m["downsample"]
    ms_row(f"1M-pt series -> {d['points']} pts p50 (ms)", d["p50"], None, None)
    ms_row("  p95 (ms)", d["p95"], None, None)

    fs_start = fr.get("start_s")
    row(
        "server start, fresh data dir (s)",
        f"{m['start_s']:.2f}",
        f"{fs_start:.2f}" if fs_start else "",
        f"{fs_start / m['start_s']:.1f}x" if fs_start else "",
        check(m["start_s"] < 2, "< 2 s"),
    )
    row("server start, --workers 2, existing data (s)", f"{m['start_w2_s']:.2f}")
    total, biggest, count = m["rss"]
    ftotal, _, fcount = fr.get("rss", (0, 0, 0))
    row(
        "server RSS after the benchmark (MB, all processes)",
        f"{total:.0f} ({count} proc)",
        f"{ftotal:.0f} ({fcount} proc)" if f else "",
        f"{ftotal / total:.1f}x" if f else "",
        check(biggest < 200, "< 200 MB per process"),
    )
    total2, biggest2, count2 = m["rss_w2"]
    row(
        "  --workers 2, after latency runs (MB)",
        f"{total2:.0f} ({count2} proc)",
        "",
        "",
        f"largest {biggest2:.0f} MB",
    )

    def latency_rows(title: str, ours: dict[str, Any], theirs: dict[str, Any] | None = None) -> None:
        theirs_list = list((theirs or {}).items())
        for n, (label, (p50, low)) in enumerate(ours.items()):
            other = theirs_list[n][1] if n < len(theirs_list) else None
            row(
                f"{title}: {label} p50 (min)",
                f"{p50:.2f} ({low:.2f})",
                f"{other[0]:.2f} ({other[1]:.2f})" if other else "",
                "",
                check(low < NAGLE_SUSPECT_MS, "no Nagle floor"),
            )

    print("  small requests, one kept-alive connection (ms):")
    latency_rows("  w1, fresh", m["latency_w1_fresh"])
    latency_rows("  w1, after", m["latency_w1"], fr.get("latency_w1"))
    latency_rows("  w2, conn A", m["latency_w2"])
    latency_rows("  w2, conn B", m["latency_w2_b"])
    if f:
        labels = ", ".join(fr.get("latency_w1", {}))
        print(f"  MLflow {f.get('version', '?')} (--workers 1) small requests: {labels}")
    if m.get("sqlite_mb"):
        sizes = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in m["sqlite_mb"].items())
        print(f"  SQLite files after the benchmark: {sizes}")
    print(f"  load average: {m['load_before']} before, {os.getloadavg()[0]:.2f} at the end")
    print()
