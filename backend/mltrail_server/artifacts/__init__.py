"""Artifact stores: the local filesystem (default) or S3, behind ``ArtifactStore``.

The app's lifespan opens exactly one store with ``open_artifact_store(settings)`` and keeps it
at ``app.state.artifact_store``; nothing here is created at import time, and aioboto3 is only
imported when an ``s3://`` root is configured.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from mltrail_server.artifacts.base import ArtifactEntry, ArtifactStore
from mltrail_server.artifacts.local import LocalStore

if TYPE_CHECKING:
    from mltrail_server.config import Settings

ARTIFACT_MODES = ("proxied", "direct")


@contextlib.asynccontextmanager
async def open_artifact_store(settings: Settings) -> AsyncIterator[ArtifactStore]:
    """Open the store that ``settings.resolved_artifact_root`` names; close it on exit."""
    root = settings.resolved_artifact_root
    if settings.artifact_mode not in ARTIFACT_MODES:
        raise ValueError(
            f"MLTRAIL_ARTIFACT_MODE: expected one of {', '.join(ARTIFACT_MODES)}, "
            f"got {settings.artifact_mode!r}"
        )
    store: ArtifactStore
    if root.startswith("s3://"):
        from mltrail_server.artifacts.s3 import S3Store

        store = await S3Store.open(endpoint_url=settings.s3_endpoint_url)
    elif "://" in root and not root.startswith("file://"):
        raise ValueError(f"MLTRAIL_ARTIFACT_ROOT: unsupported scheme in {root!r} (use a path or s3://)")
    else:
        store = LocalStore(root)
    try:
        if settings.artifact_mode == "direct" and not store.supports_presigned_urls:
            raise ValueError(
                "MLTRAIL_ARTIFACT_MODE=direct needs an s3:// artifact root (presigned URLs); "
                f"{root!r} is local"
            )
        yield store
    finally:
        await store.close()


__all__ = ["ARTIFACT_MODES", "ArtifactEntry", "ArtifactStore", "LocalStore", "open_artifact_store"]
