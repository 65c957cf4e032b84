"""Download and list a run's artifacts from the configured tracking server.

    import mltrail.artifacts
    mltrail.artifacts.download(run_id, "model", "out/")      # a tree, like cp -r
    mltrail.artifacts.list_artifacts(run_id, "plots")

Uploads belong to a run: ``run.log_artifact``, ``run.log_artifacts``, ``run.log_text``, ...
"""

from __future__ import annotations

import os
from pathlib import Path

from mltrail import _artifacts
from mltrail._artifacts import ArtifactInfo

__all__ = ["ArtifactInfo", "download", "list_artifacts"]


def _tracking_uri() -> str:
    # The URI set with mltrail.set_tracking_uri, else MLTRAIL_TRACKING_URI, else the default.
    from mltrail._fluent import get_tracking_uri

    return get_tracking_uri()


def download(run_id: str, path: str = "", dst: str | os.PathLike[str] | None = None) -> Path:
    """Download the file or directory ``path`` of a run (its whole root by default).

    Into ``dst/<name>`` when ``dst`` is an existing directory, else to ``dst`` (default: the
    current directory). Returns the local path written.
    """
    return _artifacts.download(_tracking_uri(), run_id, path, dst)


def list_artifacts(run_id: str, path: str | None = None) -> list[ArtifactInfo]:
    """Direct children of ``path`` under the run's artifact root (the root by default)."""
    return _artifacts.list_artifacts(_tracking_uri(), run_id, path)
