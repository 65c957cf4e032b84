"""Registry reads: model and version search, history, ``version_at``, DataLoader batches.

Each batch function is one ``WHERE … IN (:keys)`` for a whole page (see graphql/loaders.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.errors import InvalidArgument
from mltrail_server.services import validation as v
from mltrail_server.services.pagination import (
    Cursors,
    CursorScope,
    Page,
    counting,
    decode_cursor,
    encode_cursor,
)
from mltrail_server.services.registry import (
    ALIAS_DELETED,
    ALIAS_KINDS,
    STAGE_KINDS,
    check_stage,
    get_model,
)
from mltrail_server.store import models as m

# --- model search ----------------------------------------------------------------------


async def list_models(
    session: AsyncSession, *, dialect: str, filter_text: str | None, first: int, after: str | None
) -> Page:
    """Live registered models by name, keyset-paginated; ``filter`` on name and tags."""
    from mltrail_server.services.search.compiler import compile_registered_model_filter
    from mltrail_server.services.search.parser import parse_filter

    conditions: list[Any] = [m.registered_models.c.deleted_at.is_(None)]
    node = parse_filter(filter_text or "")
    if node is not None:
        conditions.append(compile_registered_model_filter(node, dialect))
    query = select(m.RegisteredModel).where(*conditions)
    scope = CursorScope.of("registeredModels", filter=filter_text or "")
    if after is not None:
        (last_name,) = decode_cursor(after, 1, scope)
        query = query.where(m.RegisteredModel.name > str(last_name))
    rows = list((await session.execute(query.order_by(m.RegisteredModel.name).limit(first + 1))).scalars())
    total_count = counting(select(func.count()).select_from(m.registered_models).where(*conditions))
    return Page(rows[:first], Cursors(scope, [[r.name] for r in rows[:first]]), len(rows) > first, total_count)


# --- history -----------------------------------------------------------------------------


async def history(session: AsyncSession, *, name: str, version: int | None = None) -> list[m.RegistryChange]:
    """The model's changes (or one version's, alias moves away from it included), oldest first."""
    model = await get_model(session, name=name)
    query = select(m.RegistryChange).where(m.RegistryChange.model_id == model.id)
    if version is not None:
        query = query.where(
            or_(
                m.RegistryChange.version == version,
                m.RegistryChange.from_version == version,
                m.RegistryChange.to_version == version,
            )
        )
    return list((await session.execute(query.order_by(m.RegistryChange.id))).scalars())


async def version_at(
    session: AsyncSession, *, model_id: int, time: int, stage: str | None = None, alias: str | None = None
) -> m.ModelVersion | None:
    """Which version held ``stage`` (the latest to enter it) or ``alias`` at ``time`` (ms).

    Answered from the change log alone, replayed up to ``time``: the current state of the
    versions plays no part, so the answer never changes once ``time`` has passed.
    """
    if (stage is None) == (alias is None):
        raise InvalidArgument("versionAt: give exactly one of stage and alias")
    v.check_int64("time", time)
    changes = select(m.RegistryChange).where(
        m.RegistryChange.model_id == model_id, m.RegistryChange.timestamp <= time
    )
    holder: int | None = None
    if alias is not None:
        last = (
            await session.execute(
                changes.where(m.RegistryChange.alias == alias, m.RegistryChange.kind.in_(ALIAS_KINDS))
                .order_by(m.RegistryChange.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        holder = last.to_version if last is not None and last.kind != ALIAS_DELETED else None
    else:
        check_stage("stage", stage)  # type: ignore[arg-type]
        rows = await session.execute(
            select(m.RegistryChange.id, m.RegistryChange.version, m.RegistryChange.to_stage)
            .where(
                m.RegistryChange.model_id == model_id,
                m.RegistryChange.timestamp <= time,
                m.RegistryChange.kind.in_(STAGE_KINDS),
            )
            .order_by(m.RegistryChange.id)
        )
        state: dict[int, tuple[str | None, int]] = {}
        for change_id, number, to_stage in rows:
            state[number] = (to_stage, change_id)
        entered = [(cid, number) for number, (s, cid) in state.items() if s == stage]
        holder = max(entered)[1] if entered else None
    if holder is None:
        return None
    return (
        await session.execute(
            select(m.ModelVersion).where(
                m.ModelVersion.model_id == model_id, m.ModelVersion.version == holder
            )
        )
    ).scalar_one_or_none()


# --- version search ----------------------------------------------------------------------


async def _version_conditions(
    session: AsyncSession,
    *,
    name: str | None,
    run_id: str | None,
    stage: str | None,
    alias: str | None,
    tags: Sequence[tuple[str, str]],
) -> list[Any]:
    mv = m.model_versions.c
    conditions: list[Any] = [mv.deleted_at.is_(None)]
    if name is not None:
        model = await get_model(session, name=name)
        conditions.append(mv.model_id == model.id)
    if run_id is not None:
        conditions.append(mv.run_id == run_id)
    if stage is not None:
        conditions.append(mv.stage == check_stage("stage", stage))
    if alias is not None:
        aliases = m.model_aliases.c
        conditions.append(
            select(aliases.alias)
            .where(aliases.model_id == mv.model_id, aliases.version == mv.version, aliases.alias == alias)
            .exists()
        )
    for key, value in tags:
        t = m.model_version_tags.alias()
        conditions.append(
            select(t.c.key).where(t.c.version_id == mv.id, t.c.key == key, t.c.value == value).exists()
        )
    return conditions


def _version_scope(
    field: str,
    name: str | None,
    run_id: str | None,
    stage: str | None,
    alias: str | None,
    tags: Sequence[tuple[str, str]],
) -> CursorScope:
    # One argument for all the filters: any change of them makes another list.
    return CursorScope.of(field, filter=[name, run_id, stage, alias, sorted(map(list, tags))])


async def search_versions(
    session: AsyncSession,
    *,
    name: str | None = None,
    run_id: str | None = None,
    stage: str | None = None,
    alias: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
    first: int,
    after: str | None,
) -> Page:
    """Live versions, newest first, by model, run, stage, alias and tags (all must match)."""
    conditions = await _version_conditions(
        session, name=name, run_id=run_id, stage=stage, alias=alias, tags=tags
    )
    query = select(m.ModelVersion).where(*conditions)
    scope = _version_scope("modelVersions", name, run_id, stage, alias, tags)
    if after is not None:
        (last_id,) = decode_cursor(after, 1, scope)
        query = query.where(m.ModelVersion.id < int(last_id))
    rows = list((await session.execute(query.order_by(m.ModelVersion.id.desc()).limit(first + 1))).scalars())
    total_count = counting(select(func.count()).select_from(m.model_versions).where(*conditions))
    return Page(rows[:first], Cursors(scope, [[r.id] for r in rows[:first]]), len(rows) > first, total_count)


@dataclass
class VersionTableData:
    """One page of a version search as parallel columns (row i of each is the i-th version)."""

    names: list[str]
    versions: list[int]
    stages: list[str]
    sources: list[str]
    run_ids: list[str | None]
    git_commits: list[str | None]
    descriptions: list[str | None]
    created_ats: list[int]
    updated_ats: list[int]
    created_bys: list[str]
    aliases: list[list[str]]
    tags: list[dict[str, str]]
    end_cursor: str | None
    has_next: bool


async def version_table(
    session: AsyncSession,
    *,
    name: str | None = None,
    run_id: str | None = None,
    stage: str | None = None,
    alias: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
    first: int,
    after: str | None,
) -> VersionTableData:
    """``search_versions`` as columns: three statements whatever the page size, no ORM objects."""
    conditions = await _version_conditions(
        session, name=name, run_id=run_id, stage=stage, alias=alias, tags=tags
    )
    mv, rm = m.model_versions.c, m.registered_models.c
    query = (
        select(
            mv.id,
            mv.model_id,
            rm.name,
            mv.version,
            mv.stage,
            mv.source,
            mv.run_id,
            mv.run_git_commit,
            mv.description,
            mv.created_at,
            mv.updated_at,
            mv.created_by,
        )
        .join_from(m.model_versions, m.registered_models, rm.id == mv.model_id)
        .where(*conditions)
    )
    page_ids = select(mv.id).where(*conditions)
    # The same list as modelVersions, in columns: the same cursors.
    scope = _version_scope("modelVersions", name, run_id, stage, alias, tags)
    if after is not None:
        (last_id,) = decode_cursor(after, 1, scope)
        query = query.where(mv.id < int(last_id))
        page_ids = page_ids.where(mv.id < int(last_id))
    rows = (await session.execute(query.order_by(mv.id.desc()).limit(first + 1))).all()
    has_next = len(rows) > first
    rows = rows[:first]
    ids = [r[0] for r in rows]
    # The page's tags and aliases by subquery, not by a list of up to 1,000 ids: expanding
    # that many bound parameters cost more than the statements themselves.
    page_ids = page_ids.order_by(mv.id.desc()).limit(first)
    page_models = select(mv.model_id).where(mv.id.in_(page_ids))
    tags_by_id: dict[int, dict[str, str]] = defaultdict(dict)
    aliases_by_key: dict[tuple[int, int], list[str]] = defaultdict(list)
    if rows:
        t = m.model_version_tags.c
        for version_id, key, value in await session.execute(
            select(t.version_id, t.key, t.value).where(t.version_id.in_(page_ids)).order_by(t.key)
        ):
            tags_by_id[version_id][key] = value
        a = m.model_aliases.c
        for model_id, alias_name, version in await session.execute(
            select(a.model_id, a.alias, a.version).where(a.model_id.in_(page_models)).order_by(a.alias)
        ):
            aliases_by_key[(model_id, version)].append(alias_name)
    return VersionTableData(
        names=[r[2] for r in rows],
        versions=[r[3] for r in rows],
        stages=[r[4] for r in rows],
        sources=[r[5] for r in rows],
        run_ids=[r[6] for r in rows],
        git_commits=[r[7] for r in rows],
        descriptions=[r[8] for r in rows],
        created_ats=[r[9] for r in rows],
        updated_ats=[r[10] for r in rows],
        created_bys=[r[11] for r in rows],
        aliases=[aliases_by_key.get((r[1], r[3]), []) for r in rows],
        tags=[tags_by_id.get(r[0], {}) for r in rows],
        end_cursor=encode_cursor([ids[-1]], scope) if ids else None,
        has_next=has_next,
    )


# --- what lists ask for per item (DataLoader batches) --------------------------------------


async def models_by_id(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, m.RegisteredModel]:
    rows = await session.execute(select(m.RegisteredModel).where(m.RegisteredModel.id.in_(ids)))
    return {r.id: r for r in rows.scalars()}


async def versions_by_run(
    session: AsyncSession, *, run_ids: Sequence[str]
) -> dict[str, list[m.ModelVersion]]:
    rows = await session.execute(
        select(m.ModelVersion)
        .where(m.ModelVersion.run_id.in_(run_ids), m.ModelVersion.deleted_at.is_(None))
        .order_by(m.ModelVersion.id)
    )
    out: dict[str, list[m.ModelVersion]] = defaultdict(list)
    for row in rows.scalars():
        out[row.run_id].append(row)  # type: ignore[index]
    return out


async def versions_by_model(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, list[m.ModelVersion]]:
    rows = await session.execute(
        select(m.ModelVersion)
        .where(m.ModelVersion.model_id.in_(ids), m.ModelVersion.deleted_at.is_(None))
        .order_by(m.ModelVersion.version.desc())
    )
    out: dict[int, list[m.ModelVersion]] = defaultdict(list)
    for row in rows.scalars():
        out[row.model_id].append(row)
    return out


async def aliases_by_model(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
    rows = await session.execute(
        select(m.ModelAlias.model_id, m.ModelAlias.alias, m.ModelAlias.version)
        .where(m.ModelAlias.model_id.in_(ids))
        .order_by(m.ModelAlias.alias)
    )
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for model_id, alias, version in rows:
        out[model_id].append((alias, version))
    return out


async def aliases_by_version(
    session: AsyncSession, *, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[str]]:
    """Keyed by (model id, version number)."""
    found = await aliases_by_model(session, ids=sorted({model_id for model_id, _ in keys}))
    out: dict[tuple[int, int], list[str]] = defaultdict(list)
    for model_id, pairs in found.items():
        for alias, version in pairs:
            out[(model_id, version)].append(alias)
    return out


async def tags_by_model(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    t = m.registered_model_tags.c
    rows = await session.execute(
        select(t.model_id, t.key, t.value).where(t.model_id.in_(ids)).order_by(t.key)
    )
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for owner, key, value in rows:
        out[owner].append((key, value))
    return out


async def tags_by_version(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    t = m.model_version_tags.c
    rows = await session.execute(
        select(t.version_id, t.key, t.value).where(t.version_id.in_(ids)).order_by(t.key)
    )
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for owner, key, value in rows:
        out[owner].append((key, value))
    return out


async def history_by_version(
    session: AsyncSession, *, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[m.RegistryChange]]:
    """Each (model id, version)'s changes, oldest first, in one query for the page."""
    c = m.RegistryChange
    wanted = set(keys)
    model_ids = sorted({model_id for model_id, _ in keys})
    numbers = sorted({number for _, number in keys})
    rows = await session.execute(
        select(c)
        .where(
            c.model_id.in_(model_ids),
            or_(c.version.in_(numbers), c.from_version.in_(numbers), c.to_version.in_(numbers)),
        )
        .order_by(c.id)
    )
    out: dict[tuple[int, int], list[m.RegistryChange]] = defaultdict(list)
    for change in rows.scalars():
        for number in {change.version, change.from_version, change.to_version} - {None}:
            if (change.model_id, number) in wanted:
                out[(change.model_id, number)].append(change)  # type: ignore[index]
    return out


async def history_by_model(session: AsyncSession, *, ids: Sequence[int]) -> dict[int, list[m.RegistryChange]]:
    rows = await session.execute(
        select(m.RegistryChange).where(m.RegistryChange.model_id.in_(ids)).order_by(m.RegistryChange.id)
    )
    out: dict[int, list[m.RegistryChange]] = defaultdict(list)
    for change in rows.scalars():
        out[change.model_id].append(change)
    return out


async def latest_versions_by_model(
    session: AsyncSession, *, ids: Sequence[int]
) -> dict[int, list[m.ModelVersion]]:
    """Per model, the newest live version of each stage that has one."""
    mv = m.ModelVersion
    newest = (
        select(mv.model_id, mv.stage, func.max(mv.version).label("version"))
        .where(mv.model_id.in_(ids), mv.deleted_at.is_(None))
        .group_by(mv.model_id, mv.stage)
        .subquery()
    )
    rows = await session.execute(
        select(mv)
        .join(newest, and_(mv.model_id == newest.c.model_id, mv.version == newest.c.version))
        .order_by(mv.version.desc())
    )
    out: dict[int, list[m.ModelVersion]] = defaultdict(list)
    for row in rows.scalars():
        out[row.model_id].append(row)
    return out


async def changes_after(
    session: AsyncSession, *, after_id: int, name: str | None = None, limit: int = 1000
) -> list[tuple[str, m.RegistryChange]]:
    """(model name, change) pairs recorded after ``after_id``, oldest first: a subscriber's
    catch-up after a reconnect."""
    query = (
        select(m.RegisteredModel.name, m.RegistryChange)
        .join(m.RegisteredModel, m.RegisteredModel.id == m.RegistryChange.model_id)
        .where(m.RegistryChange.id > after_id)
    )
    if name is not None:
        query = query.where(m.RegisteredModel.name == name)
    rows = await session.execute(query.order_by(m.RegistryChange.id).limit(limit))
    return [(model_name, change) for model_name, change in rows]
