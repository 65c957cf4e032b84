"""Artifacts in S3 or any S3-compatible server (MinIO, moto, Ceph...) through aioboto3.

Uploads stream into parts: a body that fits in one part is a single ``PutObject``; a larger
one becomes a multipart upload in which the next part is received while the previous one is
being sent, so memory stays at about two parts per upload whatever the file size. A failed,
cancelled or oversized upload aborts the multipart upload: S3 only makes an object visible
on completion, so nothing is left under the final key.

Downloads are ranged ``GetObject`` calls read in ``CHUNK_SIZE`` chunks, pinned with
``IfMatch`` to the version ``stat`` saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from mltrail_server.artifacts.base import (
    CHUNK_SIZE,
    ArtifactEntry,
    UploadLimit,
    guess_content_type,
    sort_entries,
)
from mltrail_server.errors import Conflict, InvalidArgument, NotFound

# S3 wants parts of at least 5 MiB (except the last) and at most 10,000 of them; growing the
# part size every 1,000 parts keeps memory small for ordinary files and still reaches far
# beyond the 5 GiB default upload limit (8 MiB x 1,000 + 16 MiB x 1,000 + ... ).
MIN_PART_SIZE = 8 * 1024 * 1024
_PARTS_PER_SIZE_STEP = 1000


def part_size_for(part_number: int, base: int = MIN_PART_SIZE) -> int:
    """Size of the part ``part_number`` (1-based) of a multipart upload."""
    return base * (1 + (part_number - 1) // _PARTS_PER_SIZE_STEP)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    if not uri.startswith("s3://"):
        raise InvalidArgument(f"artifact URI {uri!r} is not an s3:// URI")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise InvalidArgument(f"artifact URI {uri!r} names no bucket")
    return bucket, prefix.strip("/")


def _key(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return f"{prefix}/{path}" if prefix else path


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    """Artifact store over one S3 client; the app's lifespan opens and closes it."""

    supports_presigned_urls = True

    def __init__(
        self,
        client: Any,
        *,
        exit_stack: contextlib.AsyncExitStack | None = None,
        part_size: int = MIN_PART_SIZE,
    ) -> None:
        self._client = client
        self._exit_stack = exit_stack
        self._part_size = part_size

    @classmethod
    async def open(
        cls,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        max_pool_connections: int = 50,
        part_size: int = MIN_PART_SIZE,
    ) -> S3Store:
        """Open a client; credentials come from the usual AWS chain (env, profile, role)."""
        try:
            import aioboto3
            from aiobotocore.config import AioConfig
        except ImportError as exc:
            raise ValueError(
                f"MLTRAIL_ARTIFACT_ROOT is an s3:// URI but {exc.name} is not installed: "
                "pip install 'mltrail[s3]'"
            ) from None

        config = AioConfig(
            signature_version="s3v4",
            max_pool_connections=max_pool_connections,
            retries={"max_attempts": 5, "mode": "standard"},
            # Path-style addressing works with every S3-compatible server without DNS tricks.
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        session = aioboto3.Session()
        stack = contextlib.AsyncExitStack()
        client = await stack.enter_async_context(
            session.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                config=config,
            )
        )
        return cls(client, exit_stack=stack, part_size=part_size)

    def handles(self, run_root: str) -> bool:
        return run_root.startswith("s3://")

    # -- writes ----------------------------------------------------------------------------

    async def put_stream(
        self, run_root: str, path: str, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> ArtifactEntry:
        if not path:
            raise InvalidArgument("artifact path must name a file, got the run's root")
        bucket, prefix = split_s3_uri(run_root)
        key = _key(prefix, path)
        content_type = guess_content_type(path)
        limit = UploadLimit(max_bytes)
        client = self._client

        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        in_flight: asyncio.Task[None] | None = None
        buffer = bytearray()
        part_number = 1

        async def send_part(number: int, body: bytes) -> None:
            response = await client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            parts.append({"ETag": response["ETag"], "PartNumber": number})

        async def start_part(body: bytes) -> None:
            nonlocal upload_id, in_flight, part_number
            if upload_id is None:
                created = await client.create_multipart_upload(
                    Bucket=bucket, Key=key, ContentType=content_type
                )
                upload_id = created["UploadId"]
            if in_flight is not None:
                await in_flight  # at most one part in the air: two parts of memory in all
            in_flight = asyncio.create_task(send_part(part_number, body))
            part_number += 1

        try:
            async for chunk in chunks:
                limit.add(len(chunk))
                buffer += chunk
                size = part_size_for(part_number, self._part_size)
                if len(buffer) >= size:
                    with memoryview(buffer) as view:
                        body = bytes(view[:size])  # one copy, not a slice and then a copy
                    del buffer[:size]
                    await start_part(body)
            if upload_id is None:
                response = await client.put_object(
                    Bucket=bucket, Key=key, Body=bytes(buffer), ContentType=content_type
                )
                etag = response.get("ETag")
            else:
                if buffer:
                    await start_part(bytes(buffer))
                    buffer.clear()
                if in_flight is not None:
                    await in_flight
                    in_flight = None
                parts.sort(key=lambda p: p["PartNumber"])
                response = await client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
                etag = response.get("ETag")
        except BaseException:
            if in_flight is not None and not in_flight.done():
                in_flight.cancel()
                with contextlib.suppress(BaseException):
                    await in_flight
            if upload_id is not None:
                # Best effort: a lifecycle rule for incomplete uploads is the safety net.
                with contextlib.suppress(Exception):
                    await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise
        return ArtifactEntry(
            path=path,
            is_dir=False,
            size=limit.received,
            modified_at=None,
            content_type=content_type,
            etag=etag,
        )

    # -- reads -----------------------------------------------------------------------------

    async def stat(self, run_root: str, path: str) -> ArtifactEntry:
        bucket, prefix = split_s3_uri(run_root)
        if not path:
            return ArtifactEntry(path="", is_dir=True)
        key = _key(prefix, path)
        try:
            head = await self._client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if _error_code(exc) not in _NOT_FOUND_CODES:
                raise
        else:
            return ArtifactEntry(
                path=path,
                is_dir=False,
                size=int(head["ContentLength"]),
                modified_at=int(head["LastModified"].timestamp() * 1000),
                content_type=guess_content_type(path),
                etag=head.get("ETag"),
            )
        # S3 has no directories: a "directory" is a prefix that some key starts with.
        listed = await self._client.list_objects_v2(Bucket=bucket, Prefix=key + "/", MaxKeys=1)
        if listed.get("KeyCount", 0) or listed.get("Contents"):
            return ArtifactEntry(path=path, is_dir=True)
        raise NotFound(f"artifact {path!r} not found")

    async def read_range(
        self, run_root: str, path: str, *, start: int = 0, stop: int | None = None, etag: str | None = None
    ) -> AsyncIterator[bytes]:
        if stop is not None and stop <= start:
            return
        bucket, prefix = split_s3_uri(run_root)
        params: dict[str, Any] = {"Bucket": bucket, "Key": _key(prefix, path)}
        if start or stop is not None:
            params["Range"] = f"bytes={start}-{'' if stop is None else stop - 1}"
        if etag:
            params["IfMatch"] = etag
        try:
            response = await self._client.get_object(**params)
        except Exception as exc:
            code = _error_code(exc)
            if code in _NOT_FOUND_CODES:
                raise NotFound(f"artifact {path!r} not found") from None
            if code in {"PreconditionFailed", "412"}:
                raise Conflict(f"artifact {path!r} changed while being read") from None
            if code in {"InvalidRange", "416"}:
                return
            raise
        body = response["Body"]
        finished = False
        try:
            while True:
                chunk = await body.read(CHUNK_SIZE)
                if not chunk:
                    finished = True
                    break
                yield chunk
        finally:
            # A fully read body returns its connection to the pool; an abandoned one must not.
            if finished:
                body.release()
            else:
                body.close()

    async def list(self, run_root: str, path: str) -> list[ArtifactEntry]:
        bucket, prefix = split_s3_uri(run_root)
        base = _key(prefix, path)
        list_prefix = f"{base}/" if base else ""
        entries: list[ArtifactEntry] = []
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix=list_prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(list_prefix) :].rstrip("/")
                if name:
                    entries.append(ArtifactEntry(path=f"{path}/{name}" if path else name, is_dir=True))
            for obj in page.get("Contents", []):
                name = obj["Key"][len(list_prefix) :]
                if not name or name.endswith("/"):
                    continue  # the prefix itself, or a "folder" marker made by some S3 consoles
                child = f"{path}/{name}" if path else name
                entries.append(
                    ArtifactEntry(
                        path=child,
                        is_dir=False,
                        size=int(obj["Size"]),
                        modified_at=int(obj["LastModified"].timestamp() * 1000),
                        content_type=guess_content_type(child),
                        etag=obj.get("ETag"),
                    )
                )
        return sort_entries(entries)

    # -- direct mode -----------------------------------------------------------------------

    async def presigned_get(self, run_root: str, path: str, *, expires_in: int) -> str:
        bucket, prefix = split_s3_uri(run_root)
        return await self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": _key(prefix, path),
                "ResponseContentType": guess_content_type(path),
            },
            ExpiresIn=expires_in,
        )

    async def presigned_put(self, run_root: str, path: str, *, expires_in: int) -> str:
        bucket, prefix = split_s3_uri(run_root)
        return await self._client.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": _key(prefix, path)}, ExpiresIn=expires_in
        )

    async def close(self) -> None:
        if self._exit_stack is not None:
            stack, self._exit_stack = self._exit_stack, None
            await stack.aclose()
