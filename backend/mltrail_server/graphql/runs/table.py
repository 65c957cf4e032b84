"""runTable: one page of a run search as columns, for tables and data frames.

Why a columnar twin of ``runs``: a table of 100 runs with 10 params, a few tags and metrics
asks graphql-core to complete ≈ 4,000 fields one by one when each run is an object, and that,
not SQL, is where the time goes. Here a page is a dozen list-valued fields whatever its size:
row i of every column is the i-th run, as in ``metricHistories``.
"""

from __future__ import annotations

import strawberry

from mltrail_server.graphql.common import PageInfo, page_info, page_size
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.runs.types import ViewType
from mltrail_server.graphql.scalars import (
    LongList,
    OptionalLongList,
    OptionalMetricValueList,
    OptionalStringList,
    StringList,
)
from mltrail_server.services.search import runs as run_search


@strawberry.type(description="A param or tag across the page's runs; null where a run has none.")
class TextColumn:
    key: str
    values: OptionalStringList


@strawberry.type(
    description="A metric across the page's runs: latest value with its step and timestamp, and "
    'the run\'s extremes; null where a run has not logged it ("NaN" where it logged NaN).'
)
class MetricColumn:
    key: str
    values: OptionalMetricValueList
    steps: OptionalLongList
    timestamps: OptionalLongList
    mins: OptionalMetricValueList = strawberry.field(
        description="Lowest value logged (NaN ignored; null where only NaN was logged)."
    )
    maxs: OptionalMetricValueList = strawberry.field(
        description="Highest value logged (NaN ignored; null where only NaN was logged)."
    )


@strawberry.type(description="One page of runs as parallel columns: row i of each column is the i-th run.")
class RunTable:
    run_ids: StringList
    experiment_ids: StringList
    names: OptionalStringList
    statuses: StringList
    users: OptionalStringList
    start_times: LongList
    end_times: OptionalLongList
    parent_ids: OptionalStringList
    artifact_uris: StringList
    params: list[TextColumn]
    tags: list[TextColumn]
    metrics: list[MetricColumn]
    page_info: PageInfo
    _data: strawberry.Private[run_search.RunTableData]

    @strawberry.field(description="Runs matching the search, on all pages.")
    async def total_count(self, info: Info) -> int:
        return await info.context.read(self._data.total_count)

    @classmethod
    def from_data(cls, d: run_search.RunTableData) -> RunTable:
        return cls(
            run_ids=StringList(d.run_ids),
            experiment_ids=StringList(d.experiment_ids),
            names=OptionalStringList(d.names),
            statuses=StringList(d.statuses),
            users=OptionalStringList(d.users),
            start_times=LongList(d.start_times),
            end_times=OptionalLongList(d.end_times),
            parent_ids=OptionalStringList(d.parent_ids),
            artifact_uris=StringList(d.artifact_uris),
            params=[TextColumn(key=c.key, values=OptionalStringList(c.values)) for c in d.params],
            tags=[TextColumn(key=c.key, values=OptionalStringList(c.values)) for c in d.tags],
            metrics=[
                MetricColumn(
                    key=c.key,
                    values=OptionalMetricValueList(c.values),
                    steps=OptionalLongList(c.steps),
                    timestamps=OptionalLongList(c.timestamps),
                    mins=OptionalMetricValueList(c.mins),
                    maxs=OptionalMetricValueList(c.maxs),
                )
                for c in d.metrics
            ],
            page_info=page_info(d.end_cursor, d.has_next),
            _data=d,
        )


@strawberry.type
class RunTableQuery:
    @strawberry.field(
        description="The search of `runs` (same filter, orderBy, cursors), one page as columns: "
        "run attributes, then one column per param, tag and metric key the page's runs have. "
        "`paramKeys` / `metricKeys` / `tagKeys` choose the columns (`[]`: none of that kind)."
    )
    async def run_table(
        self,
        info: Info,
        experiment_ids: list[strawberry.ID] | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        first: int | None = 100,
        after: str | None = None,
        view_type: ViewType = ViewType.ACTIVE,
        param_keys: list[str] | None = None,
        metric_keys: list[str] | None = None,
        tag_keys: list[str] | None = None,
    ) -> RunTable:
        data = await info.context.read(
            run_search.run_table,
            dialect=info.context.dialect,
            experiment_ids=experiment_ids,
            filter_text=filter,
            order_by=order_by,
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
            view=view_type.value,
            param_keys=param_keys,
            metric_keys=metric_keys,
            tag_keys=tag_keys,
        )
        return RunTable.from_data(data)
