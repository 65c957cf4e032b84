"""Run queries: one run, and search across experiments."""

from __future__ import annotations

from typing import Any

import strawberry

from mltrail_server.graphql.common import page_size
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.runs.types import (
    Run,
    RunConnection,
    ViewType,
    to_latest_metrics,
    to_params,
    to_tags,
)
from mltrail_server.services import batch_reads
from mltrail_server.services import runs as run_service
from mltrail_server.services.search import runs as run_search


@strawberry.type
class RunQuery:
    @strawberry.field(
        description="Search runs. `filter` is MLflow's search syntax plus OR, parentheses, IN on "
        "params/tags/attributes and run extremes (`metrics.loss.min`, `metrics.acc.max`), e.g. "
        "`metrics.acc > 0.9 and (params.model = 'rf' or tags.team IN ('a', 'b'))`. `orderBy` items "
        "look like `metrics.acc DESC`, `params.lr`, `attributes.start_time`; missing values sort "
        "last. Cursors are keyset-based: pages stay stable while runs are being created."
    )
    async def runs(
        self,
        info: Info,
        experiment_ids: list[strawberry.ID] | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        first: int | None = 100,
        after: str | None = None,
        view_type: ViewType = ViewType.ACTIVE,
    ) -> RunConnection:
        page = await info.context.read(
            run_search.search_runs,
            dialect=info.context.dialect,
            experiment_ids=experiment_ids,
            filter_text=filter,
            order_by=order_by,
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
            view=view_type.value,
        )
        connection = RunConnection.from_page(page)
        await _prefetch_page(info, connection.nodes)
        return connection

    @strawberry.field(description="One run by id (deleted ones too); NOT_FOUND when there is none.")
    async def run(self, info: Info, id: strawberry.ID) -> Run | None:
        return Run.from_model(await info.context.read(run_service.get_run, run_id=id))


# The list fields a page of runs prefetches (see ``_prefetch_page``).
_PREFETCHABLE = frozenset({"params", "tags", "latestMetrics"})


def _run_fields(info: Info) -> set[str]:
    """Names selected on the page's runs (under `nodes` or `edges { node }`), fragments flattened."""

    def flatten(selections: Any) -> list[Any]:
        out = []
        for sel in selections:
            if getattr(sel, "name", None) is None or not hasattr(sel, "arguments"):  # fragment
                out.extend(flatten(getattr(sel, "selections", [])))
            else:
                out.append(sel)
        return out

    names: set[str] = set()
    for root in info.selected_fields:
        for field in flatten(root.selections):
            if field.name == "nodes":
                names.update(f.name for f in flatten(field.selections))
            elif field.name == "edges":
                for edge_field in flatten(field.selections):
                    if edge_field.name == "node":
                        names.update(f.name for f in flatten(edge_field.selections))
    return names


async def _prefetch_page(info: Info, runs: list[Run]) -> None:
    """The page's params, tags and latest metrics in one read, attached to the runs.

    The rows the DataLoaders would read, shaped as the fields' resolvers would shape them and
    handed to the run objects: the fields then resolve synchronously, and the executor
    (graphql/execution.py) completes these lists without calling the resolvers.
    """
    wanted = _run_fields(info) & _PREFETCHABLE
    if not wanted or not runs:
        return
    lists = await info.context.read(
        batch_reads.page_lists_by_run,
        run_pks=[run.model.pk for run in runs],
        params="params" in wanted,
        tags="tags" in wanted,
        latest_metrics="latestMetrics" in wanted,
    )
    for run in runs:
        pk = run.model.pk
        run.prefetched = {}
        if lists.params is not None:
            run.prefetched["params"] = to_params(lists.params.get(pk, []))
        if lists.tags is not None:
            run.prefetched["tags"] = to_tags(lists.tags.get(pk, []))
        if lists.latest_metrics is not None:
            run.prefetched["latestMetrics"] = to_latest_metrics(lists.latest_metrics.get(pk, []))
