"""The one small interface every artifact store implements, and what it hands back.

A store knows bytes and keys, nothing about runs or users: the service layer
(``services/artifacts.py``) resolves a run to its artifact root and validates the relative
path *before* a store sees it. Stores still check confinement themselves (the local store
against symlinks, which only the filesystem can see), so a bug above cannot write outside a
run's root.

Every transfer is streamed in bounded chunks: memory stays flat whatever the file size.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mltrail_server.errors import ResourceExhausted

# Chunk size for reads and for buffering writes: large enough that per-chunk overhead (a
# thread hop for file I/O, an event-loop turn) is negligible, small enough to stay flat.
CHUNK_SIZE = 1024 * 1024

# Temporary upload files live beside their final name (so that ``os.replace`` is atomic on
# the same filesystem); this prefix hides them from listings and is refused in user paths.
TEMP_PREFIX = ".mltrail-upload-"

# Types that ``mimetypes`` misses or gets wrong on minimal systems, and which the dashboard
# previews as text.
_EXTRA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".log": "text/plain",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".py": "text/x-python",
    ".ipynb": "application/x-ipynb+json",
    ".parquet": "application/vnd.apache.parquet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".html": "text/html",
    ".pkl": "application/octet-stream",
}


def guess_content_type(path: str) -> str:
    """Content type from the file name; ``application/octet-stream`` when unknown."""
    dot = path.rfind(".")
    if dot != -1 and "/" not in path[dot:]:
        extra = _EXTRA_TYPES.get(path[dot:].lower())
        if extra:
            return extra
    guessed, _ = mimetypes.guess_type(path, strict=False)
    return guessed or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    """A file or directory under a run's artifact root.

    ``path`` is relative to the run's root, ``/``-separated, without leading or trailing
    slash. Directories have no size, time, type or etag (S3 has no directory objects).
    """

    path: str
    is_dir: bool
    size: int | None = None
    modified_at: int | None = None  # ms since the epoch
    content_type: str | None = None
    etag: str | None = None  # quoted, as sent in the ETag header

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@runtime_checkable
class ArtifactStore(Protocol):
    """Streamed put/get/stat/list under a run's artifact root.

    ``run_root`` is the run's artifact URI as stored on the run (a local path or
    ``s3://bucket/prefix/...``); ``path`` is already normalised and relative (``""`` is the
    root itself, valid for ``list`` and ``stat`` only).
    """

    #: Whether ``presigned_get``/``presigned_put`` can hand out URLs (direct mode).
    supports_presigned_urls: bool

    def handles(self, run_root: str) -> bool:
        """Whether this store serves artifact URIs of this form."""
        ...

    async def put_stream(
        self, run_root: str, path: str, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> ArtifactEntry:
        """Store the stream under ``path``, atomically: a failure leaves nothing visible.

        Raises ``ResourceExhausted`` (and stores nothing) once more than ``max_bytes`` arrive.
        """
        ...

    async def stat(self, run_root: str, path: str) -> ArtifactEntry:
        """The entry at ``path`` (file or directory); ``NotFound`` when absent."""
        ...

    def read_range(
        self, run_root: str, path: str, *, start: int = 0, stop: int | None = None, etag: str | None = None
    ) -> AsyncIterator[bytes]:
        """Bytes ``[start, stop)`` of the file, in chunks; ``etag`` pins the version stat saw."""
        ...

    async def list(self, run_root: str, path: str) -> list[ArtifactEntry]:
        """Direct children of the directory ``path``, directories first, then by name."""
        ...

    async def presigned_get(self, run_root: str, path: str, *, expires_in: int) -> str:
        """A URL that downloads ``path`` without credentials (direct mode)."""
        ...

    async def presigned_put(self, run_root: str, path: str, *, expires_in: int) -> str:
        """A URL that uploads ``path`` with a plain PUT, without credentials (direct mode)."""
        ...

    async def close(self) -> None:
        """Release clients and connection pools."""
        ...


def sort_entries(entries: list[ArtifactEntry]) -> list[ArtifactEntry]:
    """Directories first, then files, each by name: the order the dashboard shows."""
    return sorted(entries, key=lambda e: (not e.is_dir, e.path))


class UploadLimit:
    """Counts bytes of an upload and refuses the one that crosses ``max_bytes``."""

    __slots__ = ("max_bytes", "received")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.received = 0

    def add(self, n: int) -> None:
        self.received += n
        if self.received > self.max_bytes:
            raise ResourceExhausted(f"upload exceeds the limit of {self.max_bytes} bytes (max_upload_bytes)")
