"""MLflow's model registry endpoints onto mltrail's registry services.

Every change goes through services/registry*.py, so it is validated, recorded in the
append-only change log with its user, and published on the bus after the commit, exactly
as a GraphQL mutation's. The acting user is the ``X-Mltrail-User`` header (as for GraphQL),
``anonymous`` without one.

Shapes: MLflow's stages are ``None``/``Staging``/``Production``/``Archived`` (mltrail's
``NONE``…), versions are strings on the wire, and a version's ``source`` written by MLflow's
client as ``mlflow-artifacts:/{run_id}/path`` is the run's ``runs:/{run_id}/path``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from mltrail_server.errors import InvalidArgument
from mltrail_server.graphql.context import Context
from mltrail_server.mlflow_api.protocol import key_values, optional_str, required
from mltrail_server.mlflow_api.tracking import page_size, resources
from mltrail_server.services import registry, registry_reads, registry_versions
from mltrail_server.store import models as m

_TO_MLFLOW_STAGE = {"NONE": "None", "STAGING": "Staging", "PRODUCTION": "Production", "ARCHIVED": "Archived"}
ARTIFACTS_SCHEME = "mlflow-artifacts:/"


def _stage(field: str, value: Any) -> str:
    stage = str(value or "").strip().upper()
    if stage not in _TO_MLFLOW_STAGE:
        raise InvalidArgument(f"{field}: {value!r} is not a stage (None, Staging, Production or Archived)")
    return stage


def _version(payload: dict[str, Any]) -> int:
    raw = required(payload, "version")
    try:
        return registry.check_version("version", int(raw))
    except (TypeError, ValueError):
        raise InvalidArgument(f"version: {raw!r} is not a version number (1, 2, 3…)") from None


def _user(request: Request) -> str:
    # The same rule (and checks) as GraphQL's acting user.
    return Context(resources=resources(request), user=request.headers.get("x-mltrail-user")).acting_user


@asynccontextmanager
async def _write(request: Request) -> AsyncIterator[AsyncSession]:
    """One write transaction; what it recorded reaches the event bus only once committed."""
    res = resources(request)
    async with res.db.transaction() as session:
        yield session
        changes = registry.recorded_changes(session)
    await registry.publish_changes(res.bus, changes)


def _source(source: str) -> str:
    if source.startswith(ARTIFACTS_SCHEME):
        return "runs:/" + source[len(ARTIFACTS_SCHEME) :].lstrip("/")
    return source


async def _versions_json(
    session: AsyncSession, versions: list[m.ModelVersion], names: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    ids = [v.id for v in versions]
    tags = await registry_reads.tags_by_version(session, ids=ids)
    aliases = await registry_reads.aliases_by_model(session, ids=list({v.model_id for v in versions}))
    if names is None:
        found = await registry_reads.models_by_id(session, ids=list({v.model_id for v in versions}))
        names = {i: model.name for i, model in found.items()}
    return [
        {
            "name": names[v.model_id],
            "version": str(v.version),
            "creation_timestamp": v.created_at,
            "last_updated_timestamp": v.updated_at,
            "user_id": v.created_by,
            "current_stage": _TO_MLFLOW_STAGE[v.stage],
            "description": v.description or "",
            "source": v.source,
            **({"run_id": v.run_id} if v.run_id else {}),
            "status": "READY",
            "tags": [{"key": k, "value": val} for k, val in tags.get(v.id, [])],
            "aliases": [a for a, number in aliases.get(v.model_id, []) if number == v.version],
        }
        for v in versions
    ]


async def _models_json(session: AsyncSession, models: list[m.RegisteredModel]) -> list[dict[str, Any]]:
    ids = [model.id for model in models]
    tags = await registry_reads.tags_by_model(session, ids=ids)
    aliases = await registry_reads.aliases_by_model(session, ids=ids)
    latest = await registry_reads.latest_versions_by_model(session, ids=ids)
    names = {model.id: model.name for model in models}
    out = []
    for model in models:
        out.append(
            {
                "name": model.name,
                "creation_timestamp": model.created_at,
                "last_updated_timestamp": model.updated_at,
                "user_id": model.created_by,
                "description": model.description or "",
                "latest_versions": await _versions_json(session, latest.get(model.id, []), names),
                "tags": [{"key": k, "value": v} for k, v in tags.get(model.id, [])],
                "aliases": [{"alias": a, "version": str(n)} for a, n in aliases.get(model.id, [])],
            }
        )
    return out


# --- registered models -------------------------------------------------------------------


async def create_registered_model(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    async with _write(request) as session:
        model = await registry.create_registered_model(
            session,
            settings=res.settings,
            name=required(payload, "name"),
            user=_user(request),
            description=optional_str(payload, "description"),
            tags=key_values(payload, "tags"),
        )
    async with res.db.sessionmaker() as session:
        return {"registered_model": (await _models_json(session, [model]))[0]}


async def get_registered_model(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with resources(request).db.sessionmaker() as session:
        model = await registry.get_model(session, name=required(payload, "name"))
        return {"registered_model": (await _models_json(session, [model]))[0]}


# MLflow's client appends this clause to every model search to hide its prompts (stored as
# registered models). mltrail stores no prompts, so the clause is always true; dropping it
# also spares MLflow's "a missing tag is != 'true'" reading, which SQL's NULL rules do not share.
_NOT_A_PROMPT = re.compile(
    r"""(\s+and\s+)?tags?\.`?mlflow\.prompt\.is_prompt`?\s*!=\s*['"]true['"]""", re.IGNORECASE
)


def _without_prompt_clause(text: str | None) -> str | None:
    if not text:
        return text
    stripped = _NOT_A_PROMPT.sub("", text).strip()
    return re.sub(r"^and\s+", "", stripped, flags=re.IGNORECASE) or None


async def search_registered_models(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    if payload.get("order_by"):
        raise InvalidArgument(f"order_by: {payload['order_by']!r} is not supported; models come by name")
    first = page_size(request, payload, 100)
    async with res.db.sessionmaker() as session:
        page = await registry_reads.list_models(
            session,
            dialect=res.db.dialect,
            filter_text=_without_prompt_clause(optional_str(payload, "filter")),
            first=first,
            after=optional_str(payload, "page_token") or None,
        )
        out: dict[str, Any] = {"registered_models": await _models_json(session, list(page.items))}
    if page.has_next and page.cursors:
        out["next_page_token"] = page.cursors[-1]
    return out


async def update_registered_model(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        model = await registry.update_registered_model(
            session,
            name=required(payload, "name"),
            user=_user(request),
            description=optional_str(payload, "description") or "",
        )
    async with resources(request).db.sessionmaker() as session:
        return {"registered_model": (await _models_json(session, [model]))[0]}


async def delete_registered_model(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry.delete_registered_model(session, name=required(payload, "name"), user=_user(request))
    return {}


async def get_latest_versions(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    stages = payload.get("stages") or []
    if isinstance(stages, str):
        stages = [stages]
    wanted = {_stage("stages", s) for s in stages}
    async with resources(request).db.sessionmaker() as session:
        model = await registry.get_model(session, name=required(payload, "name"))
        latest = (await registry_reads.latest_versions_by_model(session, ids=[model.id])).get(model.id, [])
        picked = [v for v in latest if not wanted or v.stage in wanted]
        return {"model_versions": await _versions_json(session, picked, {model.id: model.name})}


async def set_registered_model_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry.set_model_tag(
            session,
            settings=resources(request).settings,
            name=required(payload, "name"),
            key=required(payload, "key"),
            value=str(payload.get("value") or ""),
        )
    return {}


async def delete_registered_model_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry.delete_model_tag(session, name=required(payload, "name"), key=required(payload, "key"))
    return {}


async def set_alias(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry_versions.set_alias(
            session,
            name=required(payload, "name"),
            alias=required(payload, "alias"),
            version=_version(payload),
            user=_user(request),
        )
    return {}


async def delete_alias(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry_versions.delete_alias(
            session, name=required(payload, "name"), alias=required(payload, "alias"), user=_user(request)
        )
    return {}


async def get_version_by_alias(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with resources(request).db.sessionmaker() as session:
        version = await registry_versions.get_version(
            session, name=required(payload, "name"), alias=required(payload, "alias")
        )
        return {"model_version": (await _versions_json(session, [version]))[0]}


# --- model versions ----------------------------------------------------------------------


async def create_model_version(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    async with _write(request) as session:
        version = await registry_versions.create_model_version(
            session,
            settings=res.settings,
            store=res.artifact_store,
            name=required(payload, "name"),
            source=_source(str(required(payload, "source"))),
            user=_user(request),
            run_id=optional_str(payload, "run_id") or None,
            description=optional_str(payload, "description"),
            tags=key_values(payload, "tags"),
        )
    async with res.db.sessionmaker() as session:
        return {"model_version": (await _versions_json(session, [version]))[0]}


async def get_model_version(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with resources(request).db.sessionmaker() as session:
        version = await registry_versions.get_version(
            session, name=required(payload, "name"), version=_version(payload)
        )
        return {"model_version": (await _versions_json(session, [version]))[0]}


async def update_model_version(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        version = await registry_versions.update_model_version(
            session,
            name=required(payload, "name"),
            version=_version(payload),
            user=_user(request),
            description=optional_str(payload, "description") or "",
        )
    async with resources(request).db.sessionmaker() as session:
        return {"model_version": (await _versions_json(session, [version]))[0]}


async def delete_model_version(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry_versions.delete_model_version(
            session, name=required(payload, "name"), version=_version(payload), user=_user(request)
        )
    return {}


async def transition_stage(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    archive = payload.get("archive_existing_versions")
    async with _write(request) as session:
        version = await registry_versions.transition_stage(
            session,
            name=required(payload, "name"),
            version=_version(payload),
            stage=_stage("stage", required(payload, "stage")),
            user=_user(request),
            archive_existing=archive is True or str(archive).lower() == "true",
        )
    async with resources(request).db.sessionmaker() as session:
        return {"model_version": (await _versions_json(session, [version]))[0]}


async def set_model_version_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry_versions.set_version_tag(
            session,
            settings=resources(request).settings,
            name=required(payload, "name"),
            version=_version(payload),
            key=required(payload, "key"),
            value=str(payload.get("value") or ""),
        )
    return {}


async def delete_model_version_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with _write(request) as session:
        await registry_versions.delete_version_tag(
            session, name=required(payload, "name"), version=_version(payload), key=required(payload, "key")
        )
    return {}


async def get_download_uri(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    """Where MLflow's client downloads the version's files: the run's artifacts, through here."""
    async with resources(request).db.sessionmaker() as session:
        version = await registry_versions.get_version(
            session, name=required(payload, "name"), version=_version(payload)
        )
    parsed = registry_versions.parse_source(version.source, version.run_id)
    path = f"/{parsed.path}" if parsed.path else ""
    return {"artifact_uri": f"{ARTIFACTS_SCHEME}{parsed.run_id}{path}"}


# MLflow's version filters: ``name = '…'``, ``run_id = '…'``, ``tags.k = '…'`` joined by AND —
# what its client and UI send. Anything else is refused by name rather than half-applied.
_CLAUSE = re.compile(
    r"""^\s*(?P<field>name|run_id|tags\.`?[\w.\-]+`?)\s*=\s*(?P<q>['"])(?P<value>.*?)(?P=q)\s*$""",
    re.IGNORECASE,
)


def _version_filter(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"tags": []}
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE) if text.strip() else []:
        match = _CLAUSE.match(clause)
        if match is None:
            raise InvalidArgument(
                f"filter: {clause.strip()!r} is not supported; use name = '…', run_id = '…' or "
                "tags.<key> = '…', joined by AND"
            )
        field, value = match["field"], match["value"]
        if field.lower() == "name":
            out["name"] = value
        elif field.lower() == "run_id":
            out["run_id"] = value
        else:
            out["tags"].append((field[len("tags.") :].strip("`"), value))
    return out


async def search_model_versions(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("order_by"):
        raise InvalidArgument(
            f"order_by: {payload['order_by']!r} is not supported; versions come newest first"
        )
    wanted = _version_filter(optional_str(payload, "filter") or "")
    first = page_size(request, payload, 1000)
    async with resources(request).db.sessionmaker() as session:
        page = await registry_reads.search_versions(
            session,
            name=wanted.get("name"),
            run_id=wanted.get("run_id"),
            tags=wanted["tags"],
            first=first,
            after=optional_str(payload, "page_token") or None,
        )
        out: dict[str, Any] = {"model_versions": await _versions_json(session, list(page.items))}
    if page.has_next and page.cursors:
        out["next_page_token"] = page.cursors[-1]
    return out
