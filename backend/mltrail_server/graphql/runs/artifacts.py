"""GraphQL listing of a run's artifacts: ``Run.artifacts(path)`` and ``ArtifactEntry``.

Only names, sizes and types go through GraphQL; bytes go through ``/api/artifacts`` (see
``http/artifacts.py``). Attach ``resolve_artifacts`` to the ``Run`` type as

    artifacts: list[ArtifactEntry] = strawberry.field(resolver=resolve_artifacts, description=...)
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from mltrail_server.artifacts.base import ArtifactEntry as StoredEntry
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.scalars import Long
from mltrail_server.services import artifacts as artifact_service


@strawberry.type(description="A file or directory under a run's artifact root.")
class ArtifactEntry:
    path: str = strawberry.field(
        description="Relative to the run's artifact root, '/'-separated; also the path to GET from "
        "/api/artifacts/{runId}/{path}."
    )
    is_dir: bool
    size: Long | None = strawberry.field(description="Bytes; null for directories.")
    modified_at: Long | None = strawberry.field(description="ms since the epoch; null for directories.")
    content_type: str | None = strawberry.field(description="Guessed from the name; null for directories.")

    @classmethod
    def from_entry(cls, entry: StoredEntry) -> ArtifactEntry:
        return cls(
            path=entry.path,
            is_dir=entry.is_dir,
            size=Long(entry.size) if entry.size is not None else None,
            modified_at=Long(entry.modified_at) if entry.modified_at is not None else None,
            content_type=entry.content_type,
        )


async def resolve_artifacts(
    root: Any,
    info: Info,
    path: Annotated[
        str | None,
        strawberry.argument(
            description="A directory under the run's artifact root; the root itself when null or empty."
        ),
    ] = None,
) -> list[ArtifactEntry]:
    """Direct children of ``path``: directories first, then files, each by name.

    Empty for a path that is a file or does not exist; INVALID_ARGUMENT for a path that is
    absolute, contains '..', a backslash or a NUL byte.
    """
    store = info.context.resources.artifact_store
    entries = await artifact_service.list_artifacts(store, artifact_uri=root.artifact_uri, path=path)
    return [ArtifactEntry.from_entry(entry) for entry in entries]
