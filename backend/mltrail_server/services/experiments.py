"""Experiments: create, find, rename, soft-delete, and list them with the search language.

Service functions take the session first and keyword-only arguments; the caller owns the
transaction (services never commit).

Names are unique. Two writers may race for one name (two createExperiment calls, a rename,
an offline client's get-or-create): the database's unique index decides, and the loser gets
CONFLICT (or, for get-or-create, the winner's experiment), never INTERNAL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.config import Settings
from mltrail_server.errors import Conflict, InvalidArgument, NotFound
from mltrail_server.services import validation
from mltrail_server.services.clock import now_ms
from mltrail_server.services.pagination import Cursors, CursorScope, Page, counting, decode_cursor
from mltrail_server.services.search.compiler import compile_experiment_filter
from mltrail_server.services.search.parser import parse_filter
from mltrail_server.store import models


async def get_experiment(
    session: AsyncSession, *, experiment_id: str | None = None, name: str | None = None
) -> models.Experiment:
    """Find an experiment by id or by name (deleted ones included)."""
    if (experiment_id is None) == (name is None):
        raise InvalidArgument("experiment: give exactly one of id and name")
    if experiment_id is not None:
        found = await session.get(models.Experiment, validation.parse_experiment_id("id", experiment_id))
        if found is None:
            raise NotFound(f"id: no experiment with id {experiment_id!r}")
        return found
    found = await _by_name(session, name or "")
    if found is None:
        raise NotFound(f"name: no experiment named {name!r}")
    return found


async def require_experiment(session: AsyncSession, *, field: str, experiment_id: str) -> int:
    """The numeric id of an existing experiment (deleted or not); NOT_FOUND naming ``field``."""
    pk = validation.parse_experiment_id(field, experiment_id)
    if await session.get(models.Experiment, pk) is None:
        raise NotFound(f"{field}: no experiment with id {experiment_id!r}")
    return pk


async def _by_name(session: AsyncSession, name: str) -> models.Experiment | None:
    query = select(models.Experiment).where(models.Experiment.name == name)
    return (await session.execute(query)).scalar_one_or_none()


def _name_taken(name: str, existing_id: int | None = None) -> Conflict:
    known = f" (id {existing_id})" if existing_id is not None else ""
    return Conflict(f"name: an experiment named {name!r} already exists{known}")


async def create_experiment(
    session: AsyncSession,
    *,
    settings: Settings,
    name: str,
    description: str | None = None,
    tags: Sequence[tuple[str, str]] = (),
) -> models.Experiment:
    """Create an experiment; its artifacts live under ``{artifact_root}/{id}``."""
    validation.check_name("name", name, settings, required=True)
    validation.check_description("description", description, settings)
    validation.check_tags(settings, "tags", tags)
    existing = (
        await session.execute(select(models.Experiment.id).where(models.Experiment.name == name))
    ).first()
    if existing is not None:
        raise _name_taken(name, existing[0])
    now = now_ms()
    experiment = models.Experiment(
        name=name, description=description, artifact_location="", created_at=now, updated_at=now
    )
    session.add(experiment)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent creator took the name between the check above and this insert.
        raise _name_taken(name) from None
    experiment.artifact_location = f"{settings.resolved_artifact_root.rstrip('/')}/{experiment.id}"
    # Experiment tags describe the experiment; experiment_keys lists the keys of its *runs*.
    for key, value in dict(tags).items():
        session.add(models.ExperimentTag(experiment_id=experiment.id, key=key, value=value))
    await session.flush()
    return experiment


async def get_or_create_experiment(
    session: AsyncSession, *, settings: Settings, name: str
) -> models.Experiment:
    """The experiment named ``name``, created if missing (what offline clients rely on)."""
    found = await _by_name(session, name)
    if found is not None:
        return found
    try:
        # A savepoint: when a concurrent creator wins, only the failed insert is undone and
        # this transaction can still read the winner's experiment.
        async with session.begin_nested():
            return await create_experiment(session, settings=settings, name=name)
    except Conflict:
        found = await _by_name(session, name)
        if found is None:
            raise
        return found


async def update_experiment(
    session: AsyncSession,
    *,
    settings: Settings,
    experiment_id: str,
    name: str | None = None,
    description: str | None = None,
) -> models.Experiment:
    """Rename or re-describe an experiment."""
    experiment = await get_experiment(session, experiment_id=experiment_id)
    if name is not None and name != experiment.name:
        validation.check_name("name", name, settings, required=True)
        clash = (
            await session.execute(select(models.Experiment.id).where(models.Experiment.name == name))
        ).first()
        if clash is not None:
            raise _name_taken(name, clash[0])
        experiment.name = name
    if description is not None:
        experiment.description = validation.check_description("description", description, settings)
    experiment.updated_at = now_ms()
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent rename or create took the name after the check above.
        raise _name_taken(name or "") from None
    return experiment


async def set_experiment_deleted(
    session: AsyncSession, *, experiment_id: str, deleted: bool
) -> models.Experiment:
    """Soft-delete or restore an experiment (its runs become unreachable for logging)."""
    experiment = await get_experiment(session, experiment_id=experiment_id)
    now = now_ms()
    experiment.deleted_at = now if deleted else None
    experiment.updated_at = now
    await session.flush()
    return experiment


async def list_experiments(
    session: AsyncSession,
    *,
    dialect: str,
    filter_text: str | None,
    first: int,
    after: str | None,
    include_deleted: bool,
) -> Page[models.Experiment]:
    """Newest experiments first, keyset-paginated by id."""
    conditions = []
    if not include_deleted:
        conditions.append(models.experiments.c.deleted_at.is_(None))
    node = parse_filter(filter_text or "")
    if node is not None:
        conditions.append(compile_experiment_filter(node, dialect))
    query = select(models.Experiment).where(*conditions)
    scope = CursorScope.of("experiments", filter=filter_text or "", includeDeleted=include_deleted)
    if after is not None:
        (last_id,) = decode_cursor(after, 1, scope)
        query = query.where(models.Experiment.id < last_id)
    rows = (
        (await session.execute(query.order_by(models.Experiment.id.desc()).limit(first + 1))).scalars().all()
    )
    has_next = len(rows) > first
    rows = rows[:first]
    cursors = Cursors(scope, [[e.id] for e in rows])
    total = counting(select(func.count()).select_from(models.experiments).where(*conditions))
    return Page(list(rows), cursors, has_next, total)
