"""Artifact rules: which paths are acceptable, where a run's artifacts live, what a listing is.

Paths are untrusted input from URLs, GraphQL arguments and CLI flags. They are validated
here, before any store is touched, so a refused path writes nothing:

- no NUL or other control characters, no backslashes (a separator on Windows servers);
- not absolute (``/etc/passwd``, ``C:/...``), no ``..`` component;
- not the hidden names the local store uses for in-flight uploads;
- percent-encoding: HTTP servers decode a URL path once before routing. A path that still
  contains escapes (``%2e%2e``) is kept literally, but is refused when decoding it once more
  would produce any of the above, so a double-encoded traversal never reaches a store that
  might decode again (some S3 gateways and proxies do).

``.`` components and repeated or trailing slashes are dropped: ``a/./b//c/`` is ``a/b/c``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from mltrail_server.artifacts.base import TEMP_PREFIX, ArtifactEntry, ArtifactStore
from mltrail_server.errors import Internal, InvalidArgument, NotFound
from mltrail_server.services.runs import get_run

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MAX_PATH_LENGTH = 1024
MAX_COMPONENT_LENGTH = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _check(path: str, raw: str, field: str) -> list[str]:
    def refuse(why: str) -> InvalidArgument:
        return InvalidArgument(f"{field} {raw!r} is not a valid artifact path: {why}")

    if "\x00" in path:
        raise refuse("it contains a NUL byte")
    if _CONTROL.search(path):
        raise refuse("it contains a control character")
    if "\\" in path:
        raise refuse("it contains a backslash")
    if path.startswith("/") or _DRIVE.match(path):
        raise refuse("it is absolute")
    if len(path) > MAX_PATH_LENGTH:
        raise refuse(f"it is longer than {MAX_PATH_LENGTH} characters")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    for part in parts:
        if part == "..":
            raise refuse("'..' is not allowed")
        if part.startswith(TEMP_PREFIX):
            raise refuse(f"names starting with {TEMP_PREFIX!r} are reserved")
        if len(part) > MAX_COMPONENT_LENGTH:
            raise refuse(f"a component is longer than {MAX_COMPONENT_LENGTH} characters")
    return parts


def normalize_artifact_path(raw: Any, *, field: str = "path", allow_root: bool = True) -> str:
    """The canonical relative form of ``raw`` (``""`` is the run's root), or ``InvalidArgument``."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidArgument(f"{field} must be a string, got {type(raw).__name__}")
    parts = _check(raw, raw, field)
    if "%" in raw:
        decoded = urllib.parse.unquote(raw, errors="replace")
        if decoded != raw:
            _check(decoded, raw, field)
    if not parts and not allow_root:
        raise InvalidArgument(f"{field} {raw!r} must name a file, not the run's artifact root")
    return "/".join(parts)


async def get_run_artifact_root(session: AsyncSession, *, run_id: str, for_write: bool = False) -> str:
    """The run's artifact URI; ``NotFound`` for unknown runs, and for deleted ones when writing."""
    run = await get_run(session, run_id=run_id)  # NotFound for unknown runs
    if for_write and run.deleted_at is not None:
        raise NotFound(f"runId: run {run_id!r} is deleted; restore it before uploading artifacts")
    return run.artifact_uri


def _check_store(store: ArtifactStore, artifact_uri: str) -> None:
    if not store.handles(artifact_uri):
        # The server's artifact root changed since the run was created.
        raise Internal(f"artifact URI {artifact_uri!r} is not served by the configured artifact store")


async def list_artifacts(store: ArtifactStore, *, artifact_uri: str, path: str | None) -> list[ArtifactEntry]:
    """Direct children of ``path`` under the run's root; empty for a file or a missing path."""
    relative = normalize_artifact_path(path)
    _check_store(store, artifact_uri)
    return await store.list(artifact_uri, relative)


async def stat_artifact(store: ArtifactStore, *, artifact_uri: str, path: str) -> ArtifactEntry:
    """The file or directory at ``path``; ``NotFound`` when absent."""
    _check_store(store, artifact_uri)
    return await store.stat(artifact_uri, normalize_artifact_path(path))


async def put_artifact(
    store: ArtifactStore,
    *,
    artifact_uri: str,
    path: str,
    chunks: AsyncIterator[bytes],
    max_bytes: int,
) -> ArtifactEntry:
    """Stream ``chunks`` to ``path`` atomically, refusing bad paths and oversized bodies."""
    relative = normalize_artifact_path(path, allow_root=False)
    _check_store(store, artifact_uri)
    return await store.put_stream(artifact_uri, relative, chunks, max_bytes=max_bytes)
