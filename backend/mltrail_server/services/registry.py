"""The model registry's rules: registered models, versions, stages, aliases and their history.

Service functions take the session first and keyword-only arguments; the caller owns the
transaction. Every function that changes a model first locks its row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite's single writer serialises anyway), so the changes of one
model happen one after another on both databases and ``registry_changes`` ids follow commit
order — which is what lets ``version_at`` answer from the log alone.

Every change is appended to ``registry_changes`` (never updated or deleted) with the acting
user, the time and the comment, and remembered on the session (``recorded_changes``) so
that the caller publishes it on the event bus *after* its commit.

DataLoader batches in ``registry_reads.py``; versions, stages and aliases in
``registry_versions.py``; approvals in ``registry_approvals.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.errors import Conflict, InvalidArgument, NotFound
from mltrail_server.events.bus import EventBus
from mltrail_server.services import validation as v

# Coupling to the tracking services is kept to a few helpers (now_ms, get_run, Page and
# the cursor functions): services/tracking.py is being split, the names stay.
from mltrail_server.services.tracking import now_ms
from mltrail_server.store import models as m

STAGES = ("NONE", "STAGING", "PRODUCTION", "ARCHIVED")
TOPIC = "registry"

# Names appear in URIs (models:/Name/3, models:/Name@alias): no '/', '@', ':' or spaces.
MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,255}$")
ALIAS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,255}$")
# What models:/Name/<x> means already: an alias may not look like a version, a stage or latest.
_RESERVED_ALIAS = re.compile(r"^(v?\d+|latest|none|staging|production|archived)$", re.IGNORECASE)

# Change kinds, as stored and as GraphQL shows them.
MODEL_CREATED = "MODEL_CREATED"
MODEL_UPDATED = "MODEL_UPDATED"
PROTECTION_CHANGED = "PROTECTION_CHANGED"
MODEL_DELETED = "MODEL_DELETED"
VERSION_CREATED = "VERSION_CREATED"
VERSION_UPDATED = "VERSION_UPDATED"
VERSION_DELETED = "VERSION_DELETED"
STAGE_CHANGED = "STAGE_CHANGED"
ALIAS_SET = "ALIAS_SET"
ALIAS_MOVED = "ALIAS_MOVED"
ALIAS_DELETED = "ALIAS_DELETED"
STAGE_KINDS = (VERSION_CREATED, STAGE_CHANGED, VERSION_DELETED)
ALIAS_KINDS = (ALIAS_SET, ALIAS_MOVED, ALIAS_DELETED)


# --- input checks ------------------------------------------------------------------------


def check_model_name(field: str, name: str) -> str:
    if not isinstance(name, str) or not MODEL_NAME_RE.match(name):
        raise InvalidArgument(
            f"{field}: {name!r} is not a valid model name (1 to 256 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit; no '/', '@', ':' or spaces, which model URIs use)"
        )
    return name


def check_alias(field: str, alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_RE.match(alias) or _RESERVED_ALIAS.match(alias):
        raise InvalidArgument(
            f"{field}: {alias!r} is not a valid alias (letters, digits, '_' or '-', starting with a letter "
            "or '_'; not a version like 'v3', a stage name or 'latest')"
        )
    return alias


def check_stage(field: str, stage: str) -> str:
    if stage not in STAGES:
        raise InvalidArgument(f"{field}: {stage!r} is not a stage (one of {', '.join(STAGES)})")
    return stage


def check_version(field: str, version: int) -> int:
    if not isinstance(version, int) or not 1 <= version <= 2**31 - 1:
        raise InvalidArgument(f"{field}: {version!r} is not a version number (1, 2, 3…)")
    return version


# --- the change log ----------------------------------------------------------------------


def record(
    session: AsyncSession, model: m.RegisteredModel, kind: str, *, user: str, **fields: Any
) -> m.RegistryChange:
    """Append one change; it is published once the caller has committed."""
    change = m.RegistryChange(model_id=model.id, kind=kind, user=user, timestamp=now_ms(), **fields)
    session.add(change)
    session.info.setdefault("registry_changes", []).append((model.name, change))
    return change


def recorded_changes(session: AsyncSession) -> list[tuple[str, m.RegistryChange]]:
    """The (model name, change) pairs this session has recorded, to publish after commit."""
    return list(session.info.get("registry_changes", ()))


def change_payload(name: str, change: m.RegistryChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "name": name,
        "kind": change.kind,
        "version": change.version,
        "from_stage": change.from_stage,
        "to_stage": change.to_stage,
        "alias": change.alias,
        "from_version": change.from_version,
        "to_version": change.to_version,
        "request_id": change.request_id,
        "user": change.user,
        "comment": change.comment,
        "timestamp": change.timestamp,
    }


async def publish_changes(bus: EventBus | None, changes: Sequence[tuple[str, m.RegistryChange]]) -> None:
    """After the commit: live subscribers (on every replica, through the bus) see the changes."""
    if bus is None or not changes or not bus.may_have_subscribers(TOPIC):
        return
    for name, change in changes:
        await bus.publish(TOPIC, change_payload(name, change))


# --- registered models -------------------------------------------------------------------


async def get_model(session: AsyncSession, *, name: str, for_update: bool = False) -> m.RegisteredModel:
    """The live registered model named ``name``; locked for the transaction when updating."""
    query = select(m.RegisteredModel).where(m.RegisteredModel.name == name)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None or found.deleted_at is not None:
        raise NotFound(f"name: no registered model named {name!r}")
    return found


def insert_statement(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def ensure_model(
    session: AsyncSession, *, name: str, user: str, description: str | None = None
) -> tuple[m.RegisteredModel, bool]:
    """The model named ``name``, locked, created (or revived after deletion) if needed.

    The usual case is one locking SELECT. For a new name, INSERT … ON CONFLICT DO NOTHING:
    concurrent first registrations wait on the unique index for the first one's commit
    instead of failing, then lock the row it made.
    """
    check_model_name("name", name)
    now = now_ms()
    query = (
        select(m.RegisteredModel)
        .where(m.RegisteredModel.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    model = (await session.execute(query)).scalar_one_or_none()
    if model is not None and model.deleted_at is None:
        return model, False
    inserted = (
        await session.execute(
            insert_statement(session, m.registered_models)
            .values(
                name=name,
                description=description,
                created_at=now,
                updated_at=now,
                created_by=user,
                last_version=0,
                protected_stages="[]",
                protected_aliases="[]",
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(m.registered_models.c.id)
        )
    ).first()
    model = (await session.execute(query)).scalar_one()
    created = inserted is not None
    if model.deleted_at is not None:  # registering a deleted name revives it, numbering on
        model.deleted_at = None
        model.updated_at = now
        created = True
    if created:
        record(session, model, MODEL_CREATED, user=user, comment=description)
    return model, created


async def create_registered_model(
    session: AsyncSession,
    *,
    settings: Settings,
    name: str,
    user: str,
    description: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
    protected_stages: Sequence[str] = (),
    protected_aliases: Sequence[str] = (),
) -> m.RegisteredModel:
    """Create a registered model; CONFLICT when one with this name exists."""
    check_tags(settings, tags)
    model, created = await ensure_model(session, name=name, user=user, description=description)
    if not created:
        raise Conflict(f"name: a registered model named {name!r} already exists")
    model.description = description
    await _set_protection(session, model, user, protected_stages, protected_aliases, comment=None)
    for key, value in dict(tags).items():
        await upsert_tag(session, m.registered_model_tags, {"model_id": model.id}, key, value)
    await session.flush()
    return model


def check_tags(settings: Settings, tags: Sequence[tuple[str, str]]) -> None:
    for key, value in tags:
        v.check_key("tags", key, settings)
        v.check_value("tags", key, value, settings.max_tag_value_length)


async def upsert_tag(session: AsyncSession, table: Any, owner: dict[str, int], key: str, value: str) -> None:
    await session.execute(
        insert_statement(session, table)
        .values(**owner, key=key, value=value)
        .on_conflict_do_update(index_elements=[*owner, "key"], set_={"value": value})
    )


def protected_stages(model: m.RegisteredModel) -> list[str]:
    return list(json.loads(model.protected_stages))


def protected_aliases(model: m.RegisteredModel) -> list[str]:
    return list(json.loads(model.protected_aliases))


async def _set_protection(
    session: AsyncSession,
    model: m.RegisteredModel,
    user: str,
    stages: Sequence[str] | None,
    aliases: Sequence[str] | None,
    comment: str | None,
) -> None:
    before = (protected_stages(model), protected_aliases(model))
    if stages is not None:
        stages = sorted({check_stage("protectedStages", s) for s in stages})
        model.protected_stages = json.dumps(stages)
    if aliases is not None:
        aliases = sorted({check_alias("protectedAliases", a) for a in aliases})
        model.protected_aliases = json.dumps(aliases)
    after = (protected_stages(model), protected_aliases(model))
    if after != before:
        summary = f"protected stages {after[0] or 'none'}; protected aliases {after[1] or 'none'}"
        record(
            session,
            model,
            PROTECTION_CHANGED,
            user=user,
            comment=f"{summary}" + (f": {comment}" if comment else ""),
        )


async def update_registered_model(
    session: AsyncSession,
    *,
    name: str,
    user: str,
    description: str | None = None,
    protected_stages: Sequence[str] | None = None,
    protected_aliases: Sequence[str] | None = None,
    comment: str | None = None,
) -> m.RegisteredModel:
    """Change a model's description or the stages and aliases that need approval."""
    model = await get_model(session, name=name, for_update=True)
    if description is not None and description != model.description:
        model.description = description
        record(session, model, MODEL_UPDATED, user=user, comment=comment)
    await _set_protection(session, model, user, protected_stages, protected_aliases, comment)
    model.updated_at = now_ms()
    await session.flush()
    return model


async def delete_registered_model(
    session: AsyncSession, *, name: str, user: str, comment: str | None = None
) -> None:
    """Soft-delete a model and its versions; its history stays, and so do its numbers."""
    model = await get_model(session, name=name, for_update=True)
    now = now_ms()
    for alias in (
        await session.execute(select(m.ModelAlias).where(m.ModelAlias.model_id == model.id))
    ).scalars():
        record(
            session,
            model,
            ALIAS_DELETED,
            user=user,
            alias=alias.alias,
            version=alias.version,
            from_version=alias.version,
            comment=comment,
        )
        await session.delete(alias)
    live = select(m.ModelVersion).where(
        m.ModelVersion.model_id == model.id, m.ModelVersion.deleted_at.is_(None)
    )
    for version in (await session.execute(live)).scalars():
        version.deleted_at = now
        record(
            session,
            model,
            VERSION_DELETED,
            user=user,
            version=version.version,
            from_stage=version.stage,
            comment=comment,
        )
    model.deleted_at = now
    model.updated_at = now
    record(session, model, MODEL_DELETED, user=user, comment=comment)
    await session.flush()


async def set_model_tag(
    session: AsyncSession, *, settings: Settings, name: str, key: str, value: str
) -> None:
    """Set a tag on a registered model."""
    check_tags(settings, [(key, value)])
    model = await get_model(session, name=name, for_update=True)
    await upsert_tag(session, m.registered_model_tags, {"model_id": model.id}, key, value)


async def delete_model_tag(session: AsyncSession, *, name: str, key: str) -> None:
    """Delete a registered model's tag; NOT_FOUND when absent."""
    model = await get_model(session, name=name, for_update=True)
    tag = await session.get(m.RegisteredModelTag, (model.id, key))
    if tag is None:
        raise NotFound(f"key: registered model {name!r} has no tag {key!r}")
    await session.delete(tag)
