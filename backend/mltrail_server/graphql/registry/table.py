"""modelVersionTable: one page of a version search as columns, for tables, data frames and CI.

The columnar twin of ``modelVersions`` (see graphql/runs/table.py for why): a page of 1,000
versions is a dozen list-valued fields instead of ≈ 11,000 field completions.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from mltrail_server.graphql.common import PageInfo, TagInput, page_size, pairs
from mltrail_server.graphql.context import Info
from mltrail_server.graphql.registry.types import Stage
from mltrail_server.graphql.scalars import LongList, OptionalStringList, StringList
from mltrail_server.services import registry_reads


@strawberry.type(
    description="One page of model versions as parallel columns: row i of each is the i-th version."
)
class ModelVersionTable:
    names: StringList
    versions: LongList
    stages: StringList
    sources: StringList
    run_ids: OptionalStringList
    git_commits: OptionalStringList
    descriptions: OptionalStringList
    created_ats: LongList
    updated_ats: LongList
    created_bys: StringList
    aliases: JSON = strawberry.field(description="Per version, the list of its aliases.")
    tags: JSON = strawberry.field(description="Per version, an object of its tags.")
    page_info: PageInfo


@strawberry.type
class ModelVersionTableQuery:
    @strawberry.field(
        description="The search of `modelVersions` (same criteria, order and cursors), one page as columns."
    )
    async def model_version_table(
        self,
        info: Info,
        name: str | None = None,
        run_id: strawberry.ID | None = None,
        stage: Stage | None = None,
        alias: str | None = None,
        tags: list[TagInput] | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> ModelVersionTable:
        d = await info.context.read(
            registry_reads.version_table,
            name=name,
            run_id=run_id,
            stage=stage.value if stage is not None else None,
            alias=alias,
            tags=pairs(tags),
            first=page_size(first, info.context.settings.max_page_size),
            after=after,
        )
        return ModelVersionTable(
            names=StringList(d.names),
            versions=LongList(d.versions),
            stages=StringList(d.stages),
            sources=StringList(d.sources),
            run_ids=OptionalStringList(d.run_ids),
            git_commits=OptionalStringList(d.git_commits),
            descriptions=OptionalStringList(d.descriptions),
            created_ats=LongList(d.created_ats),
            updated_ats=LongList(d.updated_ats),
            created_bys=StringList(d.created_bys),
            aliases=d.aliases,
            tags=d.tags,
            page_info=PageInfo(end_cursor=d.end_cursor, has_next_page=d.has_next),
        )
