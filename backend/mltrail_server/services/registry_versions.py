"""Model versions of the registry: registration, stages and aliases, each change recorded.

Rules shared with models (name checks, the change log, row locks) are in ``registry.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.errors import InvalidArgument, NotFound, PermissionDenied
from mltrail_server.services import validation as v
from mltrail_server.services.artifacts import normalize_artifact_path
from mltrail_server.services.registry import (
    ALIAS_DELETED,
    ALIAS_MOVED,
    ALIAS_SET,
    STAGE_CHANGED,
    VERSION_CREATED,
    VERSION_DELETED,
    VERSION_UPDATED,
    check_alias,
    check_model_name,
    check_stage,
    check_tags,
    check_version,
    ensure_model,
    get_model,
    protected_aliases,
    protected_stages,
    record,
    upsert_tag,
)
from mltrail_server.services.tracking import get_run, now_ms
from mltrail_server.store import models as m

# --- versions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSource:
    run_id: str
    path: str  # relative to the run's artifact root; "" is the root


def parse_source(source: str, run_id: str | None, artifact_uri: str | None = None) -> ModelSource:
    """``runs:/<run_id>/<path>``, or an artifact URI under the run's root (with ``runId``)."""
    if not isinstance(source, str) or not source.strip():
        raise InvalidArgument("source: must not be empty (e.g. 'runs:/<run_id>/model')")
    if source.startswith("runs:/"):
        rest = source[len("runs:/") :].lstrip("/")
        found_id, _, path = rest.partition("/")
        if not v.RUN_ID_RE.match(found_id):
            _bad_source(source)
        if run_id is not None and run_id != found_id:
            raise InvalidArgument(f"runId: {run_id!r} differs from the run in source {source!r}")
        return ModelSource(found_id, normalize_artifact_path(path, field="source"))
    if run_id is not None and artifact_uri is not None:
        root = artifact_uri.rstrip("/")
        if source == root or source.startswith(root + "/"):
            return ModelSource(
                run_id, normalize_artifact_path(source[len(root) :].lstrip("/"), field="source")
            )
    _bad_source(source)
    raise AssertionError  # unreachable


def _bad_source(source: str) -> None:
    raise InvalidArgument(
        f"source: {source!r} is not a model in a run's artifacts; give 'runs:/<run_id>/<path>' "
        "(or the artifact URI of a directory under the run's root, with runId)"
    )


async def create_model_version(
    session: AsyncSession,
    *,
    settings: Settings,
    store: Any,
    name: str,
    source: str,
    user: str,
    run_id: str | None = None,
    description: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> m.ModelVersion:
    """Register the model at ``source`` as the next version of ``name`` (created if missing).

    The source must be a directory holding an ``MLmodel`` file in the run's artifacts. The
    run's git commit and datasets are copied onto the version so lineage survives later
    edits of the run.
    """
    check_model_name("name", name)
    check_tags(settings, tags)
    run = None
    if run_id is not None:
        run = await get_run(session, run_id=v.check_run_id("runId", run_id))
    parsed = parse_source(source, run_id, run.artifact_uri if run is not None else None)
    if run is None:
        run = await get_run(session, run_id=parsed.run_id)
    mlmodel = f"{parsed.path}/MLmodel" if parsed.path else "MLmodel"
    try:
        entry = await store.stat(run.artifact_uri, mlmodel)
    except NotFound:
        entry = None
    if entry is None or entry.is_dir:
        raise InvalidArgument(
            f"source: {source!r} holds no MLmodel file in the artifacts of run {run.id!r} "
            "(log a model there first, e.g. run.log_model(model, 'model'))"
        )
    datasets = (
        await session.execute(
            select(m.DatasetInput).where(m.DatasetInput.run_pk == run.pk).order_by(m.DatasetInput.id)
        )
    ).scalars()
    lineage = [
        {
            "name": d.name,
            "digest": d.digest,
            "source": d.source,
            "source_type": d.source_type,
            "context": d.context or None,
        }
        for d in datasets
    ]
    model, _ = await ensure_model(session, name=name, user=user)
    # The counter, bumped atomically under the model's row lock: 1, 2, 3… with no gaps or
    # duplicates whatever the concurrency (see store/models.py).
    number = (
        await session.execute(
            update(m.registered_models)
            .where(m.registered_models.c.id == model.id)
            .values(last_version=m.registered_models.c.last_version + 1, updated_at=now_ms())
            .returning(m.registered_models.c.last_version)
        )
    ).scalar_one()
    now = now_ms()
    canonical = f"runs:/{run.id}/{parsed.path}" if source.startswith("runs:/") else source
    version = m.ModelVersion(
        model_id=model.id,
        version=number,
        stage="NONE",
        source=canonical,
        run_id=run.id,
        run_git_commit=run.git_commit,
        run_datasets=json.dumps(lineage),
        description=description,
        created_at=now,
        updated_at=now,
        created_by=user,
    )
    session.add(version)
    await session.flush()
    for key, value in dict(tags).items():
        await upsert_tag(session, m.model_version_tags, {"version_id": version.id}, key, value)
    record(session, model, VERSION_CREATED, user=user, version=number, to_stage="NONE", comment=description)
    await session.flush()
    return version


async def get_version(
    session: AsyncSession,
    *,
    name: str,
    version: int | None = None,
    stage: str | None = None,
    alias: str | None = None,
) -> m.ModelVersion:
    """One live version by number, stage (the newest in it), alias, or the newest of all."""
    if sum(x is not None for x in (version, stage, alias)) > 1:
        raise InvalidArgument("modelVersion: give at most one of version, stage and alias")
    model = await get_model(session, name=name)
    live = select(m.ModelVersion).where(
        m.ModelVersion.model_id == model.id, m.ModelVersion.deleted_at.is_(None)
    )
    if version is not None:
        found = (await session.execute(live.where(m.ModelVersion.version == version))).scalar_one_or_none()
        if found is None:
            raise NotFound(f"version: registered model {name!r} has no version {version}")
        return found
    if alias is not None:
        row = await session.get(m.ModelAlias, (model.id, alias))
        if row is None:
            raise NotFound(f"alias: registered model {name!r} has no alias {alias!r}")
        return await get_version(session, name=name, version=row.version)
    if stage is not None:
        check_stage("stage", stage)
        live = live.where(m.ModelVersion.stage == stage)
    found = (
        await session.execute(live.order_by(m.ModelVersion.version.desc()).limit(1))
    ).scalar_one_or_none()
    if found is None:
        where = f" in stage {stage}" if stage is not None else ""
        raise NotFound(f"{'stage' if stage else 'name'}: registered model {name!r} has no version{where}")
    return found


async def _locked_version(
    session: AsyncSession, name: str, version: int, *, alias: str | None = None
) -> tuple[m.RegisteredModel, m.ModelVersion, m.ModelAlias | None]:
    """The model (row-locked), its live version and, if asked, the model's ``alias`` row: one
    statement (each one is a round trip to the database's thread)."""
    check_version("version", version)
    query = (
        select(m.RegisteredModel, m.ModelVersion)
        .join(m.ModelVersion, m.ModelVersion.model_id == m.RegisteredModel.id)
        .where(
            m.RegisteredModel.name == name,
            m.RegisteredModel.deleted_at.is_(None),
            m.ModelVersion.version == version,
            m.ModelVersion.deleted_at.is_(None),
        )
        .with_for_update(of=m.RegisteredModel)
        .execution_options(populate_existing=True)
    )
    if alias is not None:
        query = query.add_columns(m.ModelAlias).outerjoin(
            m.ModelAlias, and_(m.ModelAlias.model_id == m.RegisteredModel.id, m.ModelAlias.alias == alias)
        )
    row = (await session.execute(query)).first()
    if row is None:
        await get_model(session, name=name)  # NOT_FOUND naming the model when it is the model
        raise NotFound(f"version: registered model {name!r} has no version {version}")
    return row[0], row[1], (row[2] if alias is not None else None)


async def update_model_version(
    session: AsyncSession, *, name: str, version: int, user: str, description: str, comment: str | None = None
) -> m.ModelVersion:
    """Change a version's description (recorded)."""
    model, found, _ = await _locked_version(session, name, version)
    if description != found.description:
        found.description = description
        found.updated_at = now_ms()
        record(session, model, VERSION_UPDATED, user=user, version=version, comment=comment)
    await session.flush()
    return found


async def delete_model_version(
    session: AsyncSession, *, name: str, version: int, user: str, comment: str | None = None
) -> None:
    """Soft-delete a version: its aliases go, its number is never reused, its history stays."""
    model, found, _ = await _locked_version(session, name, version)
    aliases = await session.execute(
        select(m.ModelAlias).where(m.ModelAlias.model_id == model.id, m.ModelAlias.version == version)
    )
    for alias in aliases.scalars():
        record(
            session,
            model,
            ALIAS_DELETED,
            user=user,
            alias=alias.alias,
            version=version,
            from_version=version,
            comment=comment,
        )
        await session.delete(alias)
    found.deleted_at = found.updated_at = now_ms()
    record(
        session, model, VERSION_DELETED, user=user, version=version, from_stage=found.stage, comment=comment
    )
    await session.flush()


async def set_version_tag(
    session: AsyncSession, *, settings: Settings, name: str, version: int, key: str, value: str
) -> None:
    """Set a tag on a model version."""
    check_tags(settings, [(key, value)])
    _, found, _ = await _locked_version(session, name, version)
    await upsert_tag(session, m.model_version_tags, {"version_id": found.id}, key, value)


async def delete_version_tag(session: AsyncSession, *, name: str, version: int, key: str) -> None:
    """Delete a version's tag; NOT_FOUND when absent."""
    _, found, _ = await _locked_version(session, name, version)
    tag = await session.get(m.ModelVersionTag, (found.id, key))
    if tag is None:
        raise NotFound(f"key: version {version} of {name!r} has no tag {key!r}")
    await session.delete(tag)


# --- stages and aliases ------------------------------------------------------------------


def _protected(what: str, value: str, name: str) -> PermissionDenied:
    return PermissionDenied(
        f"{what}: {value!r} is protected on registered model {name!r}: ask for the change with "
        "requestTransition; another user approves it"
    )


async def transition_stage(
    session: AsyncSession,
    *,
    name: str,
    version: int,
    stage: str,
    user: str,
    comment: str | None = None,
    archive_existing: bool = False,
    request_id: int | None = None,
) -> m.ModelVersion:
    """Move a version to ``stage``; ``archive_existing`` archives the stage's other holders.

    Moving into a protected stage needs an approved request (``request_id``, passed only by
    the approval service).
    """
    check_stage("stage", stage)
    model, found, _ = await _locked_version(session, name, version)
    if stage in protected_stages(model) and request_id is None:
        raise _protected("stage", stage, name)
    if archive_existing and stage in ("STAGING", "PRODUCTION"):
        holders = await session.execute(
            select(m.ModelVersion)
            .where(
                m.ModelVersion.model_id == model.id,
                m.ModelVersion.stage == stage,
                m.ModelVersion.version != version,
                m.ModelVersion.deleted_at.is_(None),
            )
            .order_by(m.ModelVersion.version)
        )
        for holder in holders.scalars():
            holder.stage = "ARCHIVED"
            holder.updated_at = now_ms()
            note = f"archived: version {version} moved to {stage}" + (f" ({comment})" if comment else "")
            record(
                session,
                model,
                STAGE_CHANGED,
                user=user,
                version=holder.version,
                from_stage=stage,
                to_stage="ARCHIVED",
                comment=note,
                request_id=request_id,
            )
    if found.stage != stage:
        record(
            session,
            model,
            STAGE_CHANGED,
            user=user,
            version=version,
            from_stage=found.stage,
            to_stage=stage,
            comment=comment,
            request_id=request_id,
        )
        found.stage = stage
        found.updated_at = now_ms()
    await session.flush()
    return found


async def set_alias(
    session: AsyncSession,
    *,
    name: str,
    alias: str,
    version: int,
    user: str,
    comment: str | None = None,
    request_id: int | None = None,
) -> m.ModelVersion:
    """Point ``alias`` at ``version`` (set, or move from another version in one change)."""
    check_alias("alias", alias)
    model, found, row = await _locked_version(session, name, version, alias=alias)
    if alias in protected_aliases(model) and request_id is None:
        raise _protected("alias", alias, name)
    if row is None:
        session.add(m.ModelAlias(model_id=model.id, alias=alias, version=version))
        record(
            session,
            model,
            ALIAS_SET,
            user=user,
            alias=alias,
            version=version,
            to_version=version,
            comment=comment,
            request_id=request_id,
        )
    elif row.version != version:
        record(
            session,
            model,
            ALIAS_MOVED,
            user=user,
            alias=alias,
            version=version,
            from_version=row.version,
            to_version=version,
            comment=comment,
            request_id=request_id,
        )
        row.version = version
    await session.flush()
    return found


async def delete_alias(
    session: AsyncSession, *, name: str, alias: str, user: str, comment: str | None = None
) -> None:
    """Remove an alias; NOT_FOUND when the model has no such alias."""
    check_alias("alias", alias)
    model = await get_model(session, name=name, for_update=True)
    if alias in protected_aliases(model):
        raise PermissionDenied(
            f"alias: {alias!r} is protected on registered model {name!r}; it can be moved through an approved "
            "request, and removed only once it is no longer protected (updateRegisteredModel)"
        )
    row = await session.get(m.ModelAlias, (model.id, alias))
    if row is None:
        raise NotFound(f"alias: registered model {name!r} has no alias {alias!r}")
    record(
        session,
        model,
        ALIAS_DELETED,
        user=user,
        alias=alias,
        version=row.version,
        from_version=row.version,
        comment=comment,
    )
    await session.delete(row)
    await session.flush()
