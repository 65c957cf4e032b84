"""``PUT``/``GET``/``HEAD /api/artifacts/{run_id}/{path}`` and ``Run.artifacts``, through the real app.

Every test runs on the local store and on a real S3 server (moto, on loopback).
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

MiB = 1024 * 1024

LIST_QUERY = """
query($id: ID!, $path: String) {
  run(id: $id) { artifactUri artifacts(path: $path) { path isDir size modifiedAt contentType } }
}
"""


def url(server: Any, path: str, run_id: str | None = None) -> str:
    return f"/api/artifacts/{run_id or server.run_id}/{urllib.parse.quote(path, safe='/')}"


async def listing(server: Any, path: str | None = None) -> list[dict[str, Any]]:
    payload = await server.graphql(LIST_QUERY, id=server.run_id, path=path)
    assert "errors" not in payload, payload
    return payload["data"]["run"]["artifacts"]


async def all_paths(server: Any, path: str | None = None) -> list[str]:
    out: list[str] = []
    for entry in await listing(server, path):
        out.append(entry["path"] + ("/" if entry["isDir"] else ""))
        if entry["isDir"]:
            out.extend(await all_paths(server, entry["path"]))
    return out


async def raw_asgi(
    app: Any,
    method: str,
    raw_path: str,
    body: Iterable[bytes] = (),
    *,
    headers: dict[str, str] | None = None,
    disconnect: bool = False,
) -> tuple[int, dict[str, str], bytes]:
    """One request straight into the ASGI app, with the URL path exactly as a server decodes it.

    ``raw_path`` is sent as is (no client-side normalisation of dots or escapes); ``disconnect``
    makes the client vanish after the given body chunks, as a dropped connection does.
    """
    chunks = list(body)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    else:
        messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    header_list = [(b"host", b"127.0.0.1")]
    header_list += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": header_list,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    assert start is not None, sent
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], response_headers, content


def files_under(directory: Path | None) -> list[str]:
    if directory is None or not directory.exists():
        return []
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if not p.is_dir())


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("empty.txt", b""),
        ("binary.bin", bytes(range(256)) * 257),
        ("nested/deeper/still/file.json", b'{"a": 1}'),
        ("with space & ümlaut/%41 100%.txt", b"odd names are fine"),
    ],
)
async def test_put_then_get(artifact_server: Any, path: str, data: bytes) -> None:
    put = await artifact_server.http.put(url(artifact_server, path), content=data)
    assert put.status_code == 201, put.text
    assert put.json()["size"] == len(data)
    got = await artifact_server.http.get(url(artifact_server, path))
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["accept-ranges"] == "bytes"
    assert got.headers["etag"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]


async def test_50_mib_streamed_both_ways(artifact_server: Any, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for i in range(50):
            block = hashlib.sha256(str(i).encode()).digest() * (MiB // 32)
            digest.update(block)
            out.write(block)

    async def body() -> AsyncIterator[bytes]:
        with source.open("rb") as handle:
            while chunk := handle.read(256 * 1024):
                yield chunk

    put = await artifact_server.http.put(
        url(artifact_server, "models/big.bin"), content=body(), headers={"Content-Length": str(50 * MiB)}
    )
    assert put.status_code == 201, put.text
    received = hashlib.sha256()
    size = 0
    async with artifact_server.http.stream("GET", url(artifact_server, "models/big.bin")) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(50 * MiB)
        async for chunk in response.aiter_bytes():
            received.update(chunk)
            size += len(chunk)
    assert size == 50 * MiB
    assert received.hexdigest() == digest.hexdigest()


async def test_content_types_and_head(artifact_server: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    await artifact_server.http.put(url(artifact_server, "plots/loss.png"), content=png)
    await artifact_server.http.put(url(artifact_server, "notes.md"), content=b"# hi")
    head = await artifact_server.http.head(url(artifact_server, "plots/loss.png"))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "image/png"
    assert head.headers["content-length"] == str(len(png))
    got = await artifact_server.http.get(url(artifact_server, "notes.md"))
    assert got.headers["content-type"].startswith("text/markdown")


async def test_overwrite_changes_etag_and_conditional_get(artifact_server: Any) -> None:
    target = url(artifact_server, "cfg.yaml")
    first = await artifact_server.http.put(target, content=b"a: 1\n")
    etag = (await artifact_server.http.get(target)).headers["etag"]
    not_modified = await artifact_server.http.get(target, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    await artifact_server.http.put(target, content=b"a: 2\n")
    again = await artifact_server.http.get(target, headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (200, b"a: 2\n")
    assert again.headers["etag"] != etag
    assert first.status_code == 201


# -- ranges ------------------------------------------------------------------------------------


async def test_range_requests(artifact_server: Any) -> None:
    data = os.urandom(3 * MiB + 17)
    target = url(artifact_server, "logs/train.log")
    await artifact_server.http.put(target, content=data)
    size = len(data)

    async def get(range_header: str, **headers: str) -> httpx.Response:
        return await artifact_server.http.get(target, headers={"Range": range_header, **headers})

    head = await get("bytes=0-1023")  # the dashboard's preview of a large text file
    assert head.status_code == 206
    assert head.content == data[:1024]
    assert head.headers["content-range"] == f"bytes 0-1023/{size}"
    assert head.headers["content-length"] == "1024"

    middle = await get(f"bytes={MiB - 3}-{2 * MiB + 4}")
    assert (middle.status_code, middle.content) == (206, data[MiB - 3 : 2 * MiB + 5])

    tail = await get("bytes=-100")
    assert (tail.status_code, tail.content) == (206, data[-100:])
    assert tail.headers["content-range"] == f"bytes {size - 100}-{size - 1}/{size}"

    open_ended = await get(f"bytes={size - 10}-")
    assert (open_ended.status_code, open_ended.content) == (206, data[-10:])

    past_end = await get(f"bytes={size - 5}-{size + 1000}")
    assert (past_end.status_code, past_end.content) == (206, data[-5:])

    unsatisfiable = await get(f"bytes={size}-")
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"

    ignored = await get("bytes=0-1,5-6")  # multiple ranges: the whole file is a valid answer
    assert (ignored.status_code, len(ignored.content)) == (200, size)

    etag = head.headers["etag"]
    assert (await get("bytes=0-9", **{"If-Range": etag})).status_code == 206
    stale = await get("bytes=0-9", **{"If-Range": '"stale"'})
    assert (stale.status_code, len(stale.content)) == (200, size)


async def test_range_on_empty_file(artifact_server: Any) -> None:
    target = url(artifact_server, "empty.bin")
    await artifact_server.http.put(target, content=b"")
    # A preview asks every file for its first bytes: an empty one answers 200, not 416.
    response = await artifact_server.http.get(target, headers={"Range": "bytes=0-10"})
    assert (response.status_code, response.content) == (200, b"")


# -- listing ------------------------------------------------------------------------------------


async def test_listing_through_graphql(artifact_server: Any) -> None:
    assert await listing(artifact_server) == []
    for path, body in [
        ("model/MLmodel", b"flavor: sklearn\n"),
        ("model/data/model.pkl", b"\x80\x04pickle"),
        ("plots/loss.png", b"\x89PNG"),
        ("metrics.json", b"{}"),
    ]:
        assert (await artifact_server.http.put(url(artifact_server, path), content=body)).status_code == 201
    payload = await artifact_server.graphql(LIST_QUERY, id=artifact_server.run_id, path=None)
    assert payload["data"]["run"]["artifactUri"] == artifact_server.artifact_uri
    top = payload["data"]["run"]["artifacts"]
    assert [(e["path"], e["isDir"]) for e in top] == [
        ("model", True),
        ("plots", True),
        ("metrics.json", False),
    ]
    metrics = top[-1]
    assert (metrics["size"], metrics["contentType"]) == (2, "application/json")
    assert isinstance(metrics["modifiedAt"], int)
    assert top[0]["size"] is None and top[0]["contentType"] is None
    assert await all_paths(artifact_server) == [
        "model/",
        "model/data/",
        "model/data/model.pkl",
        "model/MLmodel",
        "plots/",
        "plots/loss.png",
        "metrics.json",
    ]
    assert [e["path"] for e in await listing(artifact_server, "model/")] == ["model/data", "model/MLmodel"]
    assert await listing(artifact_server, "metrics.json") == []
    assert await listing(artifact_server, "nowhere") == []


async def test_listing_refuses_bad_paths(artifact_server: Any) -> None:
    for bad in ["../x", "/etc", "a\\b", "a\x00b", "%2e%2e/x", "model/../.."]:
        payload = await artifact_server.graphql(LIST_QUERY, id=artifact_server.run_id, path=bad)
        assert payload["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT", (bad, payload)


# -- refusals -------------------------------------------------------------------------------------

TRAVERSALS = [
    "../escape.txt",
    "a/../../escape.txt",
    "..",
    "%2e%2e/escape.txt",  # decoded once by the server: '../escape.txt'
    "%2E%2E%2Fescape.txt",
    "%252e%252e/escape.txt",  # double-encoded: '%2e%2e/...' after the server's decoding
    "a/%252e%252e/%252e%252e/escape.txt",
    "..%5cescape.txt",  # backslash
    "a%5c..%5c..%5cescape.txt",
    "a\\b.txt",
    "%00.txt",
    "a%00/b.txt",
    "/etc/passwd",
    "//etc/passwd",
    "C:/Windows/win.ini",
    ".mltrail-upload-123",  # the local store's in-flight names are reserved
]


async def test_traversal_refused_and_nothing_written(artifact_server: Any, tmp_path: Path) -> None:
    # One app for every attempt: building one per path would dominate the suite's time.
    before = files_under(tmp_path)
    for raw in TRAVERSALS:
        encoded = raw.replace("\\", "%5C")
        raw_path = f"/api/artifacts/{artifact_server.run_id}/{encoded}"
        status, headers, body = await raw_asgi(artifact_server.app, "PUT", raw_path, [b"evil"])
        assert status == 400, (raw, status, body)
        assert headers["content-type"] == "application/json"
        assert b'"INVALID_ARGUMENT"' in body, raw
        status, _, body = await raw_asgi(artifact_server.app, "GET", raw_path)
        assert status == 400, (raw, status, body)
        status, _, body = await raw_asgi(artifact_server.app, "HEAD", raw_path)
        assert status == 400, (raw, status, body)
    assert files_under(tmp_path) == before
    assert await listing(artifact_server) == []


@pytest.mark.parametrize("store_kind", ["local"])  # S3 has no symlinks
async def test_symlinks_pointing_outside_are_refused(artifact_server: Any, tmp_path: Path) -> None:
    run_dir = artifact_server.local_run_dir()
    assert run_dir is not None
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "linkdir").symlink_to(outside, target_is_directory=True)
    (run_dir / "linkfile").symlink_to(outside / "secret.txt")
    (run_dir / "inside.txt").write_text("fine")
    (run_dir / "innerlink").symlink_to(run_dir / "inside.txt")

    for path in ["linkdir/secret.txt", "linkdir/new.txt", "linkdir/sub/new.txt", "linkfile"]:
        put = await artifact_server.http.put(url(artifact_server, path), content=b"evil")
        assert put.status_code == 400, (path, put.text)
        assert put.json()["error"]["code"] == "INVALID_ARGUMENT"
    for path in ["linkdir/secret.txt", "linkfile"]:
        got = await artifact_server.http.get(url(artifact_server, path))
        assert got.status_code == 400, (path, got.text)
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "secret"
    # Links that stay inside the root are ordinary files; links outside are not even listed.
    assert (await artifact_server.http.get(url(artifact_server, "innerlink"))).content == b"fine"
    assert [e["path"] for e in await listing(artifact_server)] == ["innerlink", "inside.txt"]
    graphql = await artifact_server.graphql(LIST_QUERY, id=artifact_server.run_id, path="linkdir")
    assert graphql["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


async def test_unknown_run_and_missing_file(artifact_server: Any) -> None:
    missing_run = await artifact_server.http.put(url(artifact_server, "a.txt", run_id="f" * 32), content=b"x")
    assert missing_run.status_code == 404
    assert missing_run.json()["error"]["code"] == "NOT_FOUND"
    assert (await artifact_server.http.get(url(artifact_server, "a.txt", run_id="f" * 32))).status_code == 404
    missing_file = await artifact_server.http.get(url(artifact_server, "nope.txt"))
    assert missing_file.status_code == 404
    assert missing_file.json()["error"]["code"] == "NOT_FOUND"
    await artifact_server.http.put(url(artifact_server, "dir/file.txt"), content=b"x")
    directory = await artifact_server.http.get(url(artifact_server, "dir"))
    assert directory.status_code == 400
    root = await artifact_server.http.put(f"/api/artifacts/{artifact_server.run_id}/", content=b"x")
    assert root.status_code == 400


async def test_deleted_run_refuses_uploads_but_serves_reads(artifact_server: Any) -> None:
    await artifact_server.http.put(url(artifact_server, "kept.txt"), content=b"kept")
    payload = await artifact_server.graphql(
        "mutation($id: ID!) { deleteRun(id: $id) { id } }", id=artifact_server.run_id
    )
    assert "errors" not in payload, payload
    refused = await artifact_server.http.put(url(artifact_server, "late.txt"), content=b"late")
    assert refused.status_code == 404
    assert (await artifact_server.http.get(url(artifact_server, "kept.txt"))).content == b"kept"


# -- size limit and interrupted uploads ----------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"max_upload_bytes": MiB}])
async def test_size_limit(artifact_server: Any, tmp_path: Path) -> None:
    before = files_under(tmp_path)
    target = url(artifact_server, "deep/too/big.bin")
    declared = await artifact_server.http.put(target, content=b"x" * (MiB + 1))
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "RESOURCE_EXHAUSTED"

    async def undeclared() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse early
        for _ in range(12):
            yield b"y" * (256 * 1024)

    streamed = await artifact_server.http.put(target, content=undeclared())
    assert streamed.status_code == 413
    assert files_under(tmp_path) == before
    assert await listing(artifact_server) == []
    exactly = await artifact_server.http.put(target, content=b"z" * MiB)
    assert exactly.status_code == 201


@pytest.mark.parametrize("existing", [False, True])
async def test_upload_cut_off_mid_stream_leaves_nothing(
    artifact_server: Any, tmp_path: Path, existing: bool
) -> None:
    target = f"/api/artifacts/{artifact_server.run_id}/outputs/checkpoint.bin"
    if existing:
        status, _, _ = await raw_asgi(artifact_server.app, "PUT", target, [b"previous version"])
        assert status == 201
    before = files_under(tmp_path)
    status, _, _ = await raw_asgi(
        artifact_server.app,
        "PUT",
        target,
        [os.urandom(MiB) for _ in range(10)],  # past one 8 MiB S3 part: a multipart upload to abort
        headers={"content-length": str(20 * MiB)},
        disconnect=True,
    )
    assert status >= 400
    assert files_under(tmp_path) == before
    if existing:
        got = await artifact_server.http.get(url(artifact_server, "outputs/checkpoint.bin"))
        assert got.content == b"previous version"
    else:
        assert await listing(artifact_server) == []


# -- direct mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("store_kind", ["s3"])  # direct mode needs presigned URLs
@pytest.mark.parametrize("settings_overrides", [{"artifact_mode": "direct"}])
async def test_direct_mode_redirects_to_presigned_urls(artifact_server: Any) -> None:
    target = url(artifact_server, "direct/data.bin")
    probe = await artifact_server.http.put(target, content=b"", headers={"X-Mltrail-Presign": "1"})
    assert probe.status_code == 307
    async with httpx.AsyncClient() as s3:  # no mltrail credentials, no AWS credentials
        uploaded = await s3.put(probe.headers["location"], content=b"straight to S3")
        assert uploaded.status_code == 200
        got = await artifact_server.http.get(target)
        assert got.status_code == 307
        assert "X-Amz-Signature=" in got.headers["location"]
        assert (await s3.get(got.headers["location"])).content == b"straight to S3"
    assert [e["path"] for e in await listing(artifact_server, "direct")] == ["direct/data.bin"]
    missing = await artifact_server.http.get(url(artifact_server, "direct/missing.bin"))
    assert missing.status_code == 404
    too_big = await artifact_server.http.put(
        target, content=b"", headers={"X-Mltrail-Presign": "1", "X-Mltrail-Upload-Length": str(10 * 1024**4)}
    )
    assert too_big.status_code == 413
    traversal = await artifact_server.http.put(url(artifact_server, "a/%2e%2e/%2e%2e/x"), content=b"")
    assert traversal.status_code == 400


async def test_proxied_probe_writes_nothing(artifact_server: Any) -> None:
    probe = await artifact_server.http.put(
        url(artifact_server, "probe.txt"), content=b"", headers={"X-Mltrail-Presign": "1"}
    )
    assert probe.status_code == 204
    assert probe.headers["x-mltrail-artifact-mode"] == "proxied"
    too_big = await artifact_server.http.put(
        url(artifact_server, "probe.txt"),
        content=b"",
        headers={"X-Mltrail-Presign": "1", "X-Mltrail-Upload-Length": str(10 * 1024**4)},
    )
    assert too_big.status_code == 413
    assert await listing(artifact_server) == []


async def test_direct_mode_needs_s3(tmp_path: Path) -> None:
    from mltrail_server.artifacts import open_artifact_store
    from mltrail_server.config import Settings

    with pytest.raises(ValueError, match="direct needs an s3://"):
        async with open_artifact_store(Settings(data_dir=str(tmp_path), artifact_mode="direct")):
            pass
    with pytest.raises(ValueError, match="ARTIFACT_MODE"):
        async with open_artifact_store(Settings(data_dir=str(tmp_path), artifact_mode="sideways")):
            pass
