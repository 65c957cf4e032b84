"""Per-request DataLoaders: whatever a list asks for per item costs one query per page.

Each loader batch is one ``WHERE … IN (:keys)`` through a service function, returned in key
order, so a page of 100 runs with params, tags and latest metrics is a fixed number of SQL
statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from mltrail_server.services import registry_approvals, registry_reads, tracking

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    read: Callable[..., Awaitable[Any]],
    fetch: Callable[..., Awaitable[dict[Any, Any]]],
    keyword: str,
    default: Callable[[], Any],
) -> DataLoader[Any, Any]:
    async def load(keys: Sequence[Any]) -> list[Any]:
        found = await read(fetch, **{keyword: list(keys)})
        return [found[key] if key in found else default() for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    params_by_run: DataLoader[int, list[tuple[str, str]]]
    tags_by_run: DataLoader[int, list[tuple[str, str]]]
    latest_metrics_by_run: DataLoader[int, list[tracking.LatestMetricData]]
    inputs_by_run: DataLoader[int, list[Any]]
    run_by_id: DataLoader[str, Any]
    children_by_parent: DataLoader[str, list[Any]]
    experiment_by_id: DataLoader[int, Any]
    experiment_tags: DataLoader[int, list[tuple[str, str]]]
    experiment_stats: DataLoader[int, tracking.ExperimentStats]
    experiment_keys: DataLoader[int, dict[int, list[str]]]
    # model registry
    model_by_id: DataLoader[int, Any]
    versions_by_run: DataLoader[str, list[Any]]
    versions_by_model: DataLoader[int, list[Any]]
    latest_versions_by_model: DataLoader[int, list[Any]]
    aliases_by_model: DataLoader[int, list[tuple[str, int]]]
    aliases_by_version: DataLoader[tuple[int, int], list[str]]
    tags_by_model: DataLoader[int, list[tuple[str, str]]]
    tags_by_version: DataLoader[int, list[tuple[str, str]]]
    history_by_model: DataLoader[int, list[Any]]
    history_by_version: DataLoader[tuple[int, int], list[Any]]
    pending_requests_by_model: DataLoader[int, list[Any]]


def build_loaders(read: Callable[..., Awaitable[Any]]) -> Loaders:
    """``read(fetch, **kwargs)`` runs ``fetch(session, **kwargs)`` on the request's session."""

    def none() -> None:
        return None

    return Loaders(
        params_by_run=_loader(read, tracking.params_by_run, "run_pks", list),
        tags_by_run=_loader(read, tracking.tags_by_run, "run_pks", list),
        latest_metrics_by_run=_loader(read, tracking.latest_metrics_by_run, "run_pks", list),
        inputs_by_run=_loader(read, tracking.inputs_by_run, "run_pks", list),
        run_by_id=_loader(read, tracking.runs_by_id, "run_ids", none),
        children_by_parent=_loader(read, tracking.children_by_parent, "parent_ids", list),
        experiment_by_id=_loader(read, tracking.experiments_by_id, "ids", none),
        experiment_tags=_loader(read, tracking.experiment_tags_by_id, "ids", list),
        experiment_stats=_loader(
            read, tracking.experiment_stats_by_id, "ids", lambda: tracking.ExperimentStats(0, None)
        ),
        experiment_keys=_loader(read, tracking.experiment_keys_by_id, "ids", dict),
        model_by_id=_loader(read, registry_reads.models_by_id, "ids", none),
        versions_by_run=_loader(read, registry_reads.versions_by_run, "run_ids", list),
        versions_by_model=_loader(read, registry_reads.versions_by_model, "ids", list),
        latest_versions_by_model=_loader(read, registry_reads.latest_versions_by_model, "ids", list),
        aliases_by_model=_loader(read, registry_reads.aliases_by_model, "ids", list),
        aliases_by_version=_loader(read, registry_reads.aliases_by_version, "keys", list),
        tags_by_model=_loader(read, registry_reads.tags_by_model, "ids", list),
        tags_by_version=_loader(read, registry_reads.tags_by_version, "ids", list),
        history_by_model=_loader(read, registry_reads.history_by_model, "ids", list),
        history_by_version=_loader(read, registry_reads.history_by_version, "keys", list),
        pending_requests_by_model=_loader(read, registry_approvals.pending_by_model, "ids", list),
    )
