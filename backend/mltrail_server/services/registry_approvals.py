"""Approvals: moving a version into a protected stage or alias is a request another user decides.

A model lists the stages and aliases that need approval (``protected_stages``,
``protected_aliases``). ``request_transition`` opens a PENDING request; ``approve`` (by
anyone but the requester) applies it through the ordinary stage/alias rules, in the same
transaction, and ``reject`` closes it. Opening, approving and rejecting are each recorded
in ``registry_changes`` like every other change.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from mltrail_server.services import registry, registry_versions
from mltrail_server.services.tracking import now_ms
from mltrail_server.store import models as m

PENDING, APPROVED, REJECTED = "PENDING", "APPROVED", "REJECTED"
STATUSES = (PENDING, APPROVED, REJECTED)
TRANSITION_REQUESTED = "TRANSITION_REQUESTED"
TRANSITION_APPROVED = "TRANSITION_APPROVED"
TRANSITION_REJECTED = "TRANSITION_REJECTED"


def _target(request: m.TransitionRequest) -> str:
    return f"stage {request.to_stage}" if request.to_stage is not None else f"alias {request.alias!r}"


async def request_transition(
    session: AsyncSession,
    *,
    name: str,
    version: int,
    user: str,
    stage: str | None = None,
    alias: str | None = None,
    comment: str | None = None,
    archive_existing: bool = False,
) -> m.TransitionRequest:
    """Ask to move ``version`` into ``stage`` or onto ``alias`` (exactly one)."""
    if (stage is None) == (alias is None):
        raise InvalidArgument("requestTransition: give exactly one of stage and alias")
    if stage is not None:
        registry.check_stage("stage", stage)
    if alias is not None:
        registry.check_alias("alias", alias)
    model = await registry.get_model(session, name=name, for_update=True)
    await registry_versions.get_version(
        session, name=name, version=registry.check_version("version", version)
    )
    duplicate = (
        await session.execute(
            select(m.TransitionRequest.id).where(
                m.TransitionRequest.model_id == model.id,
                m.TransitionRequest.version == version,
                m.TransitionRequest.status == PENDING,
                m.TransitionRequest.to_stage == stage
                if stage is not None
                else m.TransitionRequest.alias == alias,
            )
        )
    ).first()
    if duplicate is not None:
        target = f"stage {stage}" if stage is not None else f"alias {alias!r}"
        raise Conflict(
            f"version: request {duplicate[0]} to move version {version} of {name!r} to {target} is already pending"
        )
    request = m.TransitionRequest(
        model_id=model.id,
        version=version,
        to_stage=stage,
        alias=alias,
        archive_existing=archive_existing,
        status=PENDING,
        requested_by=user,
        requested_at=now_ms(),
        comment=comment,
    )
    session.add(request)
    await session.flush()
    registry.record(
        session,
        model,
        TRANSITION_REQUESTED,
        user=user,
        version=version,
        to_stage=stage,
        alias=alias,
        to_version=version if alias else None,
        request_id=request.id,
        comment=comment,
    )
    await session.flush()
    return request


async def _pending(session: AsyncSession, request_id: int) -> tuple[m.RegisteredModel, m.TransitionRequest]:
    request = await session.get(m.TransitionRequest, request_id)
    if request is None:
        raise NotFound(f"id: no transition request {request_id}")
    model = (
        await session.execute(
            select(m.RegisteredModel).where(m.RegisteredModel.id == request.model_id).with_for_update()
        )
    ).scalar_one()
    await session.refresh(request)  # re-read under the model's lock: a concurrent decision wins once
    if request.status != PENDING:
        raise Conflict(
            f"id: transition request {request_id} is already {request.status} by {request.decided_by!r}"
        )
    if model.deleted_at is not None:
        raise NotFound(f"name: registered model {model.name!r} was deleted")
    return model, request


async def approve(
    session: AsyncSession, *, request_id: int, user: str, comment: str | None = None
) -> m.TransitionRequest:
    """Apply a pending request; refused to its own requester."""
    model, request = await _pending(session, request_id)
    if user == request.requested_by:
        raise PermissionDenied(
            f"user: {user!r} opened transition request {request_id} and cannot approve it; another user must"
        )
    request.status, request.decided_by, request.decided_at = APPROVED, user, now_ms()
    request.decision_comment = comment
    registry.record(
        session,
        model,
        TRANSITION_APPROVED,
        user=user,
        version=request.version,
        to_stage=request.to_stage,
        alias=request.alias,
        request_id=request.id,
        comment=comment,
    )
    note = f"approved request {request.id} by {request.requested_by}" + (f": {comment}" if comment else "")
    if request.to_stage is not None:
        await registry_versions.transition_stage(
            session,
            name=model.name,
            version=request.version,
            stage=request.to_stage,
            user=user,
            comment=note,
            archive_existing=request.archive_existing,
            request_id=request.id,
        )
    else:
        await registry_versions.set_alias(
            session,
            name=model.name,
            alias=request.alias or "",
            version=request.version,
            user=user,
            comment=note,
            request_id=request.id,
        )
    await session.flush()
    return request


async def reject(
    session: AsyncSession, *, request_id: int, user: str, comment: str | None = None
) -> m.TransitionRequest:
    """Close a pending request without applying it (the requester may withdraw it this way)."""
    model, request = await _pending(session, request_id)
    request.status, request.decided_by, request.decided_at = REJECTED, user, now_ms()
    request.decision_comment = comment
    registry.record(
        session,
        model,
        TRANSITION_REJECTED,
        user=user,
        version=request.version,
        to_stage=request.to_stage,
        alias=request.alias,
        request_id=request.id,
        comment=comment,
    )
    await session.flush()
    return request


async def list_requests(
    session: AsyncSession,
    *,
    name: str | None = None,
    requested_by: str | None = None,
    status: str | None = PENDING,
    limit: int = 1000,
) -> list[m.TransitionRequest]:
    """Requests of a model and/or a requester, oldest first; PENDING ones unless asked."""
    query = select(m.TransitionRequest)
    if name is not None:
        model = await registry.get_model(session, name=name)
        query = query.where(m.TransitionRequest.model_id == model.id)
    if requested_by is not None:
        query = query.where(m.TransitionRequest.requested_by == requested_by)
    if status is not None:
        if status not in STATUSES:
            raise InvalidArgument(f"status: {status!r} is not one of {', '.join(STATUSES)}")
        query = query.where(m.TransitionRequest.status == status)
    return list((await session.execute(query.order_by(m.TransitionRequest.id).limit(limit))).scalars())


async def pending_by_model(
    session: AsyncSession, *, ids: Sequence[int]
) -> dict[int, list[m.TransitionRequest]]:
    rows = await session.execute(
        select(m.TransitionRequest)
        .where(m.TransitionRequest.model_id.in_(ids), m.TransitionRequest.status == PENDING)
        .order_by(m.TransitionRequest.id)
    )
    out: dict[int, list[m.TransitionRequest]] = {}
    for row in rows.scalars():
        out.setdefault(row.model_id, []).append(row)
    return out
