"""Artifact bytes over plain HTTP: streamed PUT, and GET/HEAD with ranges.

    PUT  /api/artifacts/{run_id}/{path}   body streamed to the store; 201 + JSON entry
    GET  /api/artifacts/{run_id}/{path}   200 or 206 (Range), streamed; ETag, Accept-Ranges
    HEAD /api/artifacts/{run_id}/{path}   the GET headers, no body

Bytes never pass through GraphQL (listing does: ``Run.artifacts``). Memory is constant
whatever the size: the request body is read chunk by chunk as the store consumes it, and
responses are streamed from the store. The database session is held only to look the run
up, never for the length of a transfer.

In direct mode (S3 only) GET/HEAD/PUT answer ``307`` with a presigned URL instead, so the
bytes go between the client and S3. A PUT carrying ``X-Mltrail-Presign: 1`` and no body is a
probe: it gets the redirect in direct mode, and ``204`` in proxied mode (nothing written); with
``X-Mltrail-Upload-Length`` it gets ``413`` when that size is over the limit. A client thus
learns where to send a large body, and whether it will be accepted, before sending it.

Errors are JSON ``{"error": {"code": ..., "message": ...}}`` with the status that the domain
error carries (400 bad path, 404 unknown run or file, 413 too large, 416 bad range).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.utils import formatdate

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from mltrail_server.artifacts.base import ArtifactEntry, ArtifactStore
from mltrail_server.config import Settings
from mltrail_server.errors import Conflict, InvalidArgument, MltrailError, ResourceExhausted
from mltrail_server.services import artifacts as artifact_service

PRESIGNED_URL_TTL_SECONDS = 3600
PRESIGN_PROBE_HEADER = "x-mltrail-presign"
ARTIFACT_MODE_HEADER = "X-Mltrail-Artifact-Mode"

# Artifacts are user content served from the dashboard's origin: an uploaded HTML or SVG file
# must never run script there. ``sandbox`` gives the document an opaque origin; images shown
# with <img> are unaffected.
_SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
    "Cache-Control": "private, no-cache",
}

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def error_response(exc: MltrailError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.http_status)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``[start, stop)`` for a single satisfiable byte range, ``None`` to send the whole file.

    Raises ``_Unsatisfiable`` when the range cannot be served (416). Multiple ranges and
    malformed headers are ignored, as RFC 9110 allows: the full body is always correct.
    """
    if not header or size == 0:
        # Every range of an empty file is unsatisfiable; the whole (empty) body is the more
        # useful answer for a preview that always asks for its first bytes.
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise _Unsatisfiable
        return max(0, size - length), size
    start = int(first)
    stop = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None  # invalid range: ignore it
    if start >= size:
        raise _Unsatisfiable
    return start, stop


class _Unsatisfiable(Exception):
    pass


def _state(request: Request) -> tuple[Settings, ArtifactStore, async_sessionmaker[AsyncSession]]:
    """Settings, artifact store and read sessionmaker, as the app's lifespan published them."""
    state = request.app.state
    return state.settings, state.artifact_store, state.sessionmaker


async def _run_root(request: Request, run_id: str, *, for_write: bool) -> str:
    # A short session: never hold a database connection for the length of a transfer.
    _settings, _store, sessionmaker = _state(request)
    async with sessionmaker() as session:
        return await artifact_service.get_run_artifact_root(session, run_id=run_id, for_write=for_write)


def _entry_headers(entry: ArtifactEntry) -> dict[str, str]:
    headers = {
        "Content-Type": entry.content_type or "application/octet-stream",
        "Accept-Ranges": "bytes",
        **_SAFETY_HEADERS,
    }
    if entry.etag:
        headers["ETag"] = entry.etag
    if entry.modified_at is not None:
        headers["Last-Modified"] = formatdate(entry.modified_at / 1000, usegmt=True)
    return headers


def _etag_matches(header: str | None, etag: str | None) -> bool:
    if not header or not etag:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


async def get_artifact(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    try:
        path = artifact_service.normalize_artifact_path(request.path_params["path"], allow_root=False)
        run_root = await _run_root(request, run_id, for_write=False)
        settings, store, _ = _state(request)
    except MltrailError as exc:
        return error_response(exc)
    # An upload may replace the file between the stat that sets the headers and the read:
    # the read is opened (and its first chunk taken) before anything is sent, and a version
    # change found there starts over with the new version. A 200 is never cut short: its
    # headers go out only once the reader holds the version they describe (the local store
    # reads from the open file, which a rename does not change; S3 pins it with IfMatch).
    for _attempt in range(_READ_ATTEMPTS):
        try:
            response = await _answer_get(request, store, settings, run_root, path)
        except _VersionChanged:
            continue
        except MltrailError as exc:
            return error_response(exc)
        return response
    return error_response(Conflict(f"artifact {path!r} kept changing while being read; try again"))


_READ_ATTEMPTS = 5


class _VersionChanged(Exception):
    pass


async def _answer_get(
    request: Request, store: ArtifactStore, settings: Settings, run_root: str, path: str
) -> Response:
    # Also in direct mode: a missing file or a directory gets our 404/400, not S3's XML.
    entry = await artifact_service.stat_artifact(store, artifact_uri=run_root, path=path)
    if entry.is_dir:
        raise InvalidArgument(f"artifact {path!r} is a directory; list it with Run.artifacts(path:)")
    if settings.artifact_mode == "direct":
        url = await store.presigned_get(run_root, path, expires_in=PRESIGNED_URL_TTL_SECONDS)
        return RedirectResponse(url, status_code=307, headers={ARTIFACT_MODE_HEADER: "direct"})

    headers = _entry_headers(entry)
    size = entry.size or 0
    if _etag_matches(request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)

    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != entry.etag:
        range_header = None  # the client's partial copy is stale: send the whole file
    try:
        byte_range = parse_range(range_header, size)
    except _Unsatisfiable:
        return JSONResponse(
            {"error": {"code": "INVALID_ARGUMENT", "message": f"range {range_header!r} not satisfiable"}},
            status_code=416,
            headers={"Content-Range": f"bytes */{size}"},
        )
    status = 200
    start, stop = 0, size
    if byte_range is not None:
        start, stop = byte_range
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    body = store.read_range(run_root, path, start=start, stop=stop, etag=entry.etag)
    try:
        first = await anext(body, b"")
    except Conflict:
        await body.aclose()
        raise _VersionChanged from None
    return StreamingResponse(_prepend(first, body), status_code=status, headers=headers)


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def put_artifact(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    settings, store, _ = _state(request)
    max_bytes: int = settings.max_upload_bytes
    try:
        path = artifact_service.normalize_artifact_path(request.path_params["path"], allow_root=False)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            # Refused before a byte of the body is read.
            raise ResourceExhausted(f"upload of {declared} bytes exceeds the limit of {max_bytes} bytes")
        run_root = await _run_root(request, run_id, for_write=True)
        # The size a probe announces (or, in direct mode, the size the client will send S3).
        upload_length = request.headers.get("x-mltrail-upload-length", "")
        if upload_length.isdigit() and int(upload_length) > max_bytes:
            raise ResourceExhausted(f"upload of {upload_length} bytes exceeds the limit of {max_bytes} bytes")
        if settings.artifact_mode == "direct":
            url = await store.presigned_put(run_root, path, expires_in=PRESIGNED_URL_TTL_SECONDS)
            return RedirectResponse(url, status_code=307, headers={ARTIFACT_MODE_HEADER: "direct"})
        if request.headers.get(PRESIGN_PROBE_HEADER):
            return Response(status_code=204, headers={ARTIFACT_MODE_HEADER: "proxied"})
        entry = await artifact_service.put_artifact(
            store, artifact_uri=run_root, path=path, chunks=request.stream(), max_bytes=max_bytes
        )
    except MltrailError as exc:
        response = error_response(exc)
        if exc.http_status == 413:
            # The rest of the body is not read; closing is the only way not to receive it.
            response.headers["Connection"] = "close"
        return response
    except ClientDisconnect:
        # The store has already removed what it wrote; nobody is left to answer.
        return Response(status_code=400)
    headers = {ARTIFACT_MODE_HEADER: "proxied"}
    if entry.etag:
        headers["ETag"] = entry.etag
    return JSONResponse(
        {"path": entry.path, "size": entry.size, "etag": entry.etag, "contentType": entry.content_type},
        status_code=201,
        headers=headers,
    )


routes: list[Route] = [
    Route("/api/artifacts/{run_id}/{path:path}", get_artifact, methods=["GET", "HEAD"]),
    Route("/api/artifacts/{run_id}/{path:path}", put_artifact, methods=["PUT"]),
]
