"""Artifact transfer benchmark: upload and download through a real server, local store and S3.

    .venv/bin/python bench/artifacts.py                 # 1 GiB, local store and moto S3
    .venv/bin/python bench/artifacts.py --size-mib 256 --stores local

For each store this starts ``mltrail server`` (in its own process, so that its RSS is its
own) and, for S3, moto's standalone S3 server on loopback. It then uploads a file with
the client (``mltrail._artifacts.upload_file``: streamed PUT) and downloads it again
(``download``: streamed GET), checking the SHA-256, and reports MB/s and the server's RSS:
at start, the peak while transferring (sampled every 20 ms), and the kernel's high-water
mark (VmHWM). A small file is transferred first so that the reported peak can be compared:
if memory followed file size, the 1 GiB peak would dwarf the small one.

Figures go in ``bench/README.md`` (Artifacts section). The S3 figures are bounded by moto,
a pure-Python server that keeps objects in memory; they measure our code path, not S3.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from _harness import RssSampler, Server, free_port, mltrail_server, rss_kib, running, server_env

from mltrail._artifacts import download, upload_file

MiB = 1024 * 1024
S3_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
# Room for files up to 8 GiB (--size-mib); the server's default refuses uploads above 5 GiB.
MAX_UPLOAD_BYTES = 8 * 1024**3


def make_file(path: Path, size: int) -> str:
    """A file of ``size`` bytes that no layer can compress; returns its SHA-256."""
    digest = hashlib.sha256()
    block = os.urandom(MiB)
    with path.open("wb") as out:
        written = 0
        while written < size:
            piece = block[: min(MiB, size - written)]
            # Vary every block so that nothing can deduplicate it either.
            piece = written.to_bytes(8, "little") + piece[8:] if len(piece) >= 8 else piece
            out.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def create_run(tracking_uri: str) -> str:
    response = httpx.post(
        f"{tracking_uri}/graphql",
        json={"query": 'mutation { createRun(experimentName: "bench-artifacts") { id } }'},
        timeout=30,
    )
    payload = response.json()
    if "errors" in payload:
        raise RuntimeError(payload["errors"])
    return payload["data"]["createRun"]["id"]


def transfer(tracking_uri: str, pid: int, source: Path, expected: str, workdir: Path) -> dict[str, float]:
    run_id = create_run(tracking_uri)
    size = source.stat().st_size
    with RssSampler(pid) as up_rss:
        start = time.perf_counter()
        upload_file(tracking_uri, run_id, source, "bench")
        upload_seconds = time.perf_counter() - start
    target = workdir / f"downloaded-{uuid.uuid4().hex[:8]}.bin"
    with RssSampler(pid) as down_rss:
        start = time.perf_counter()
        download(tracking_uri, run_id, f"bench/{source.name}", target)
        download_seconds = time.perf_counter() - start
    if sha256_of(target) != expected:
        raise RuntimeError("downloaded bytes differ from the uploaded ones")
    target.unlink()
    return {
        "upload_mb_s": size / MiB / upload_seconds,
        "download_mb_s": size / MiB / download_seconds,
        "upload_peak_rss_mib": up_rss.peak / 1024,
        "download_peak_rss_mib": down_rss.peak / 1024,
    }


def bench_store(kind: str, sizes: list[int], workdir: Path, files: dict[int, tuple[Path, str]]) -> list[dict]:
    env = server_env(MLTRAIL_MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES))
    with contextlib.ExitStack() as stack:
        if kind == "s3":
            env.update(S3_ENV)
            s3_port = free_port()
            moto_args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
            # moto has no health route: any HTTP answer means it listens.
            moto = stack.enter_context(
                running(Server("moto", moto_args, "/", s3_port, env=env, ready_status=None))
            )
            httpx.put(f"{moto.url}/bench", timeout=30).raise_for_status()  # create the bucket
            env.update(MLTRAIL_ARTIFACT_ROOT="s3://bench/mltrail", MLTRAIL_S3_ENDPOINT_URL=moto.url)
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
        server = stack.enter_context(running(mltrail_server(str(workdir / f"data-{kind}"), env=env)))
        results = []
        start_rss = rss_kib(server.pid) / 1024
        for size in sizes:
            source, digest = files[size]
            row = transfer(server.url, server.pid, source, digest, workdir)
            row.update(
                store=kind,
                size_mib=size / MiB,
                start_rss_mib=start_rss,
                hwm_mib=rss_kib(server.pid, "VmHWM") / 1024,
            )
            results.append(row)
            print(json.dumps(row), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="the large file (default 1024 = 1 GiB)")
    parser.add_argument("--small-mib", type=int, default=64, help="the comparison file")
    parser.add_argument("--stores", default="local,s3")
    parser.add_argument("--workdir", default=None, help="where to put files (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        sizes = [args.small_mib * MiB, args.size_mib * MiB]
        files = {}
        for size in sizes:
            path = workdir / f"file-{size // MiB}MiB.bin"
            files[size] = (path, make_file(path, size))
        rows = []
        for kind in args.stores.split(","):
            rows += bench_store(kind.strip(), sizes, workdir, files)

    print()
    print(
        "| store | file | upload MB/s | download MB/s | server RSS at start | peak RSS upload | peak RSS download | VmHWM after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['store']} | {r['size_mib']:.0f} MiB | {r['upload_mb_s']:.0f} | {r['download_mb_s']:.0f} | "
            f"{r['start_rss_mib']:.0f} MiB | {r['upload_peak_rss_mib']:.0f} MiB | "
            f"{r['download_peak_rss_mib']:.0f} MiB | {r['hwm_mib']:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
