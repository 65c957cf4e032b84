"""The store contract, run on the local store and on a real S3 server alike."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator

import pytest

from mltrail_server.artifacts.base import ArtifactStore
from mltrail_server.errors import NotFound, ResourceExhausted

MiB = 1024 * 1024


def make_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


async def read_all(store: ArtifactStore, run_root: str, path: str, **kwargs: object) -> bytes:
    out = bytearray()
    async for chunk in store.read_range(run_root, path, **kwargs):  # type: ignore[arg-type]
        out += chunk
    return bytes(out)


async def test_empty_file_round_trip(store_case) -> None:
    entry = await store_case.store.put_stream(store_case.run_root, "empty.txt", chunked(b""), max_bytes=10)
    assert entry.size == 0
    assert await read_all(store_case.store, store_case.run_root, "empty.txt") == b""
    stat = await store_case.store.stat(store_case.run_root, "empty.txt")
    assert (stat.size, stat.is_dir, stat.content_type) == (0, False, "text/plain")


async def test_binary_round_trip_and_overwrite(store_case) -> None:
    store, root = store_case.store, store_case.run_root
    data = bytes(range(256)) * 1000
    await store.put_stream(root, "bin/data.bin", chunked(data, 1000), max_bytes=10 * MiB)
    assert await read_all(store, root, "bin/data.bin") == data
    first = await store.stat(root, "bin/data.bin")
    await store.put_stream(root, "bin/data.bin", chunked(b"replaced"), max_bytes=10 * MiB)
    assert await read_all(store, root, "bin/data.bin") == b"replaced"
    assert (await store.stat(root, "bin/data.bin")).etag != first.etag


async def test_multipart_sized_round_trip(store_case) -> None:
    # 12 MiB: three parts on S3 with the fixture's 5 MiB parts, several chunks locally.
    store, root = store_case.store, store_case.run_root
    data = make_bytes(12 * MiB + 123)
    entry = await store.put_stream(root, "big/blob.bin", chunked(data, 256 * 1024), max_bytes=100 * MiB)
    assert entry.size == len(data)
    assert await read_all(store, root, "big/blob.bin") == data


async def test_ranges(store_case) -> None:
    store, root = store_case.store, store_case.run_root
    data = make_bytes(3 * MiB)
    await store.put_stream(root, "r.bin", chunked(data), max_bytes=10 * MiB)
    assert await read_all(store, root, "r.bin", start=10, stop=20) == data[10:20]
    middle = await read_all(store, root, "r.bin", start=MiB - 1, stop=2 * MiB + 1)
    assert middle == data[MiB - 1 : 2 * MiB + 1]
    assert await read_all(store, root, "r.bin", start=len(data) - 5) == data[-5:]
    assert await read_all(store, root, "r.bin", start=7, stop=7) == b""


async def test_listing(store_case) -> None:
    store, root = store_case.store, store_case.run_root
    assert await store.list(root, "") == []  # a run without artifacts
    for path in ["model/MLmodel", "model/data/weights.bin", "plots/loss.png", "notes.md"]:
        await store.put_stream(root, path, chunked(path.encode()), max_bytes=MiB)
    top = await store.list(root, "")
    assert [(e.path, e.is_dir) for e in top] == [
        ("model", True),
        ("plots", True),
        ("notes.md", False),
    ]
    notes = top[-1]
    assert notes.size == len(b"notes.md")
    assert notes.content_type == "text/markdown"
    assert notes.modified_at is not None and notes.modified_at > 1_600_000_000_000
    model = await store.list(root, "model")
    assert [(e.path, e.is_dir) for e in model] == [("model/data", True), ("model/MLmodel", False)]
    assert await store.list(root, "missing") == []
    assert await store.list(root, "notes.md") == []
    assert (await store.stat(root, "model")).is_dir
    assert (await store.stat(root, "")).is_dir
    with pytest.raises(NotFound):
        await store.stat(root, "model/nope")


async def test_size_limit_leaves_nothing(store_case) -> None:
    store, root = store_case.store, store_case.run_root
    with pytest.raises(ResourceExhausted):
        await store.put_stream(root, "deep/dir/too-big.bin", chunked(make_bytes(3 * MiB)), max_bytes=MiB)
    with pytest.raises(ResourceExhausted):  # multipart on S3 (aborted), several chunks locally
        await store.put_stream(root, "huge.bin", chunked(make_bytes(12 * MiB)), max_bytes=11 * MiB)
    assert await store.list(root, "") == []
    if store_case.local_dir is not None:
        # Not even the run's directories: the failed uploads created them, and removed them.
        assert not store_case.local_dir.parent.exists()


async def test_failed_stream_leaves_nothing(store_case) -> None:
    store, root = store_case.store, store_case.run_root

    async def broken() -> AsyncIterator[bytes]:
        yield make_bytes(6 * MiB)
        yield make_bytes(MiB)
        raise ConnectionResetError("client went away")

    await store.put_stream(root, "keep.txt", chunked(b"old"), max_bytes=MiB)
    with pytest.raises(ConnectionResetError):
        await store.put_stream(root, "keep.txt", broken(), max_bytes=100 * MiB)
    with pytest.raises(ConnectionResetError):
        await store.put_stream(root, "new/partial.bin", broken(), max_bytes=100 * MiB)
    assert [e.path for e in await store.list(root, "")] == ["keep.txt"]
    assert await read_all(store, root, "keep.txt") == b"old"  # the old version is intact
    if store_case.local_dir is not None:
        assert sorted(os.listdir(store_case.local_dir)) == ["keep.txt"]
    if store_case.kind == "s3":
        from mltrail_server.artifacts.s3 import split_s3_uri

        bucket, _ = split_s3_uri(root)
        uploads = await store._client.list_multipart_uploads(Bucket=bucket)  # type: ignore[attr-defined]
        assert uploads.get("Uploads", []) == []  # aborted, not left to accrue storage costs
