"""MLflow's tracking endpoints (experiments, runs, metric history) onto mltrail's services.

Each handler reads MLflow's request fields, calls the same service function the GraphQL
resolvers call (validation, idempotency, the run writer, events), and writes MLflow's
response shape. Nothing is stored here: a run logged by ``mlflow`` is an ordinary mltrail
run, live in the dashboard.

Why one module of ≈ 600 lines: it is twenty-odd handlers of a few lines each, all built on
the same conversions of mltrail's runs and experiments into MLflow's messages (``_runs_json``,
``_experiment_json``, ``_run_id``, below). Split by resource, the run handlers would import the
experiment module and the reverse; moving the conversions into ``protocol.py`` first is the
way to split it, and worth doing when the logged-models endpoints land.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from mltrail_server.errors import Conflict, InvalidArgument
from mltrail_server.graphql.context import Resources
from mltrail_server.mlflow_api.protocol import (
    MlflowError,
    double,
    int64,
    key_values,
    optional_str,
    required,
    wire_double,
)
from mltrail_server.services import batch_reads, validation
from mltrail_server.services import experiments as experiment_service
from mltrail_server.services import metrics as metric_service
from mltrail_server.services import runs as run_service
from mltrail_server.services.search.runs import search_runs as search_run_pages
from mltrail_server.store import models

PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
USER_HEADER = "x-mltrail-user"
_RUN_VIEWS = {
    "ACTIVE_ONLY": "ACTIVE",
    "DELETED_ONLY": "DELETED",
    "ALL": "ALL",
    "1": "ACTIVE",
    "2": "DELETED",
    "3": "ALL",
}


def resources(request: Request) -> Resources:
    return request.app.state.resources


def _lifecycle(deleted_at: int | None) -> str:
    return "deleted" if deleted_at is not None else "active"


def page_size(request: Request, payload: dict[str, Any], default: int) -> int:
    """``max_results``, bounded like a GraphQL page (MLTRAIL_MAX_PAGE_SIZE): MLflow's client
    follows ``next_page_token`` for the rest."""
    size = int64(payload, "max_results", default) or default
    if size < 1:
        raise InvalidArgument(f"max_results: must be at least 1, got {size}")
    return min(size, resources(request).settings.max_page_size)


# --- experiments -------------------------------------------------------------------------

# MLflow's server always has experiment "0", named "Default", and its client logs there when
# no experiment is set. mltrail numbers experiments from 1; "0" stands for the experiment
# named "Default", created on first use.
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


async def resolve_experiment_id(request: Request, raw: Any) -> str:
    """An experiment id from MLflow's client, with "0" meaning the "Default" experiment.

    Called before the caller opens its own session: creating "Default" is a write
    transaction of its own, which must not nest inside another (SQLite has one writer).
    """
    experiment_id = str(raw)
    if experiment_id != DEFAULT_EXPERIMENT_ID:
        return experiment_id
    res = resources(request)
    async with res.db.transaction() as session:
        experiment = await experiment_service.get_or_create_experiment(
            session, settings=res.settings, name=DEFAULT_EXPERIMENT_NAME
        )
    return str(experiment.id)


async def _experiment_id(request: Request, payload: dict[str, Any]) -> str:
    return await resolve_experiment_id(request, required(payload, "experiment_id"))


async def _experiment_json(
    session: AsyncSession, experiments: list[models.Experiment]
) -> list[dict[str, Any]]:
    tags = await batch_reads.experiment_tags_by_id(session, ids=[e.id for e in experiments])
    return [
        {
            "experiment_id": str(e.id),
            "name": e.name,
            "artifact_location": e.artifact_location,
            "lifecycle_stage": _lifecycle(e.deleted_at),
            "creation_time": e.created_at,
            "last_update_time": e.updated_at,
            "tags": [{"key": k, "value": v} for k, v in tags.get(e.id, [])],
        }
        for e in experiments
    ]


async def create_experiment(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    async with res.db.transaction() as session:
        experiment = await experiment_service.create_experiment(
            session,
            settings=res.settings,
            name=required(payload, "name"),
            tags=key_values(payload, "tags"),
        )
    # MLflow's artifact_location is not mltrail's to choose: the server decides where
    # artifacts live, and the field is accepted and ignored.
    return {"experiment_id": str(experiment.id)}


async def get_experiment(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    experiment_id = await _experiment_id(request, payload)
    async with resources(request).db.sessionmaker() as session:
        experiment = await experiment_service.get_experiment(session, experiment_id=experiment_id)
        return {"experiment": (await _experiment_json(session, [experiment]))[0]}


async def get_experiment_by_name(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with resources(request).db.sessionmaker() as session:
        experiment = await experiment_service.get_experiment(
            session, name=str(required(payload, "experiment_name"))
        )
        return {"experiment": (await _experiment_json(session, [experiment]))[0]}


async def search_experiments(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    view = _RUN_VIEWS.get(str(payload.get("view_type") or "ACTIVE_ONLY"))
    if view is None or view == "DELETED":
        # mltrail lists active or all experiments; a deleted-only listing would need its own
        # query, and answering a wrong page silently is worse than saying so.
        raise InvalidArgument(
            f"view_type: {payload.get('view_type')!r} is not supported; use ACTIVE_ONLY or ALL"
        )
    order_by = payload.get("order_by") or []
    if order_by:
        raise InvalidArgument(
            f"order_by: {order_by!r} is not supported; experiments come newest first (by id)"
        )
    async with res.db.sessionmaker() as session:
        page = await experiment_service.list_experiments(
            session,
            dialect=res.db.dialect,
            filter_text=optional_str(payload, "filter"),
            first=page_size(request, payload, 1000),
            after=optional_str(payload, "page_token") or None,
            include_deleted=view == "ALL",
        )
        out: dict[str, Any] = {"experiments": await _experiment_json(session, list(page.items))}
    if page.has_next and page.cursors:
        out["next_page_token"] = page.cursors[-1]
    return out


async def update_experiment(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    experiment_id = await _experiment_id(request, payload)
    async with res.db.transaction() as session:
        await experiment_service.update_experiment(
            session,
            settings=res.settings,
            experiment_id=experiment_id,
            name=optional_str(payload, "new_name"),
        )
    return {}


async def _set_experiment_deleted(request: Request, payload: dict[str, Any], deleted: bool) -> dict[str, Any]:
    experiment_id = await _experiment_id(request, payload)
    async with resources(request).db.transaction() as session:
        await experiment_service.set_experiment_deleted(session, experiment_id=experiment_id, deleted=deleted)
    return {}


async def delete_experiment(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    return await _set_experiment_deleted(request, payload, True)


async def restore_experiment(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    return await _set_experiment_deleted(request, payload, False)


async def set_experiment_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    experiment_id = await _experiment_id(request, payload)
    async with res.db.transaction() as session:
        await run_service.set_tag(
            session,
            settings=res.settings,
            run_id=None,
            experiment_id=experiment_id,
            key=required(payload, "key"),
            value=str(payload.get("value") or ""),
        )
    return {}


async def delete_experiment_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    experiment_id = await _experiment_id(request, payload)
    async with resources(request).db.transaction() as session:
        await run_service.delete_tag(
            session,
            run_id=None,
            experiment_id=experiment_id,
            key=required(payload, "key"),
        )
    return {}


# --- runs --------------------------------------------------------------------------------


def _run_id(payload: dict[str, Any]) -> str:
    """``run_id``, or the older ``run_uuid`` that MLflow's client still sends beside it."""
    run_id = payload.get("run_id") or payload.get("run_uuid")
    if not run_id:
        raise InvalidArgument("Missing value for required parameter 'run_id'")
    return str(run_id)


def _json_text(value: str | None) -> str:
    return value if value is not None else ""


async def _runs_json(session: AsyncSession, runs: list[models.Run]) -> list[dict[str, Any]]:
    """Runs in MLflow's shape, with every list of a page read in one trip per kind."""
    pks = [r.pk for r in runs]
    lists = await batch_reads.page_lists_by_run(
        session, run_pks=pks, params=True, tags=True, latest_metrics=True
    )
    inputs = await batch_reads.inputs_by_run(session, run_pks=pks)
    out = []
    for run in runs:
        tags = dict((lists.tags or {}).get(run.pk, []))
        if run.name is not None:
            tags.setdefault(RUN_NAME_TAG, run.name)
        if run.parent_id is not None:
            tags.setdefault(PARENT_RUN_TAG, run.parent_id)
        out.append(
            {
                "info": {
                    "run_id": run.id,
                    "run_uuid": run.id,
                    "run_name": run.name or "",
                    "experiment_id": str(run.experiment_id),
                    "user_id": run.user or "",
                    "status": run.status,
                    "start_time": run.start_time,
                    **({"end_time": run.end_time} if run.end_time is not None else {}),
                    "artifact_uri": run_artifact_uri(run),
                    "lifecycle_stage": _lifecycle(run.deleted_at),
                },
                "data": {
                    "metrics": [
                        {
                            "key": m.key,
                            "value": wire_double(m.value),
                            "timestamp": m.timestamp,
                            "step": m.step,
                        }
                        for m in (lists.latest_metrics or {}).get(run.pk, [])
                    ],
                    "params": [{"key": k, "value": v} for k, v in (lists.params or {}).get(run.pk, [])],
                    "tags": [{"key": k, "value": v} for k, v in tags.items()],
                },
                "inputs": {
                    "dataset_inputs": [
                        {
                            "tags": [{"key": "mlflow.data.context", "value": d.context}] if d.context else [],
                            "dataset": {
                                "name": d.name,
                                "digest": d.digest,
                                "source_type": d.source_type or "",
                                "source": d.source or "",
                                **({"schema": _schema_text(d.schema)} if d.schema else {}),
                                **({"profile": _schema_text(d.profile)} if d.profile else {}),
                            },
                        }
                        for d in inputs.get(run.pk, [])
                    ]
                },
            }
        )
    return out


def _schema_text(stored: str) -> str:
    """MLflow's schema and profile are JSON text; mltrail stores them as JSON values."""
    value = json.loads(stored)
    return value if isinstance(value, str) else json.dumps(value)


def run_artifact_uri(run: models.Run) -> str:
    """Where MLflow's client reads and writes the run's artifacts: through this server."""
    return f"mlflow-artifacts:/{run.id}"


async def _run_response(request: Request, run_id: str) -> dict[str, Any]:
    async with resources(request).db.sessionmaker() as session:
        run = await run_service.get_run(session, run_id=run_id)
        return {"run": (await _runs_json(session, [run]))[0]}


async def create_run(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    tags = key_values(payload, "tags")
    tag_map = dict(tags)
    name = optional_str(payload, "run_name") or tag_map.get(RUN_NAME_TAG) or None
    user = optional_str(payload, "user_id") or request.headers.get(USER_HEADER)
    run = await run_service.create_run(
        res.db,
        res.writer,
        settings=res.settings,
        experiment_id=await resolve_experiment_id(
            request, payload.get("experiment_id") or DEFAULT_EXPERIMENT_ID
        ),
        name=name,
        # The name and the parent are columns in mltrail; the tags MLflow derives from them
        # are answered from those columns (see ``_runs_json``).
        tags=[(k, v) for k, v in tags if k not in (RUN_NAME_TAG, PARENT_RUN_TAG)],
        parent_run_id=tag_map.get(PARENT_RUN_TAG) or None,
        start_time=int64(payload, "start_time"),
        user=user or None,
        source=run_service.RunSourceData(entry_point=tag_map.get("mlflow.source.name") or None),
    )
    await run_service.announce_run(res.bus, run_id=run.id, experiment_id=run.experiment_id, change="created")
    return await _run_response(request, run.id)


async def get_run(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    return await _run_response(request, _run_id(payload))


async def update_run(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    run_id = _run_id(payload)
    status = optional_str(payload, "status")
    if status == "SCHEDULED":
        # mltrail has no SCHEDULED state; MLflow's client never sends it for its own runs.
        raise InvalidArgument("status: SCHEDULED is not a run status in mltrail")
    async with res.db.transaction() as session:
        run = await run_service.update_run(
            session,
            settings=res.settings,
            run_id=run_id,
            status=status,
            end_time=int64(payload, "end_time"),
            name=optional_str(payload, "run_name") or None,
        )
    await run_service.announce_run(res.bus, run_id=run.id, experiment_id=run.experiment_id, change="updated")
    return {
        "run_info": {
            "run_id": run.id,
            "run_uuid": run.id,
            "run_name": run.name or "",
            "experiment_id": str(run.experiment_id),
            "user_id": run.user or "",
            "status": run.status,
            "start_time": run.start_time,
            **({"end_time": run.end_time} if run.end_time is not None else {}),
            "artifact_uri": run_artifact_uri(run),
            "lifecycle_stage": _lifecycle(run.deleted_at),
        }
    }


async def _set_run_deleted(request: Request, payload: dict[str, Any], deleted: bool) -> dict[str, Any]:
    res = resources(request)
    async with res.db.transaction() as session:
        run = await run_service.set_run_deleted(session, run_id=_run_id(payload), deleted=deleted)
    change = "deleted" if deleted else "restored"
    await run_service.announce_run(res.bus, run_id=run.id, experiment_id=run.experiment_id, change=change)
    return {}


async def delete_run(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    return await _set_run_deleted(request, payload, True)


async def restore_run(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    return await _set_run_deleted(request, payload, False)


async def set_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    key, value = required(payload, "key"), str(payload.get("value") or "")
    run_id = _run_id(payload)
    if key == RUN_NAME_TAG:
        # MLflow renames a run by setting this tag; in mltrail the name is the run's column.
        async with res.db.transaction() as session:
            await run_service.update_run(session, settings=res.settings, run_id=run_id, name=value)
        return {}
    async with res.db.transaction() as session:
        await run_service.set_tag(
            session, settings=res.settings, run_id=run_id, experiment_id=None, key=key, value=value
        )
    return {}


async def delete_tag(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    async with resources(request).db.transaction() as session:
        await run_service.delete_tag(
            session, run_id=_run_id(payload), experiment_id=None, key=required(payload, "key")
        )
    return {}


async def _log_batch(
    request: Request,
    run_id: str,
    *,
    metrics: list[dict[str, Any]] = (),  # type: ignore[assignment]
    params: list[tuple[str, str]] = (),  # type: ignore[assignment]
    tags: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> None:
    res = resources(request)
    keys, values, steps, timestamps = [], [], [], []
    for i, metric in enumerate(metrics):
        if not isinstance(metric, dict):
            raise InvalidArgument(f"metrics[{i}]: expected an object with key, value, timestamp, step")
        keys.append(required(metric, "key"))
        values.append(double(f"metrics[{i}].value", required(metric, "value")))
        timestamps.append(int64(metric, "timestamp", 0) or 0)
        steps.append(int64(metric, "step", 0) or 0)
    try:
        await metric_service.log_batch(
            res.writer,
            settings=res.settings,
            run_id=run_id,
            metric_keys=keys,
            values=values,
            steps=steps,
            timestamps=timestamps,
            params=params,
            tags=tags,
            bus=res.bus,
        )
    except Conflict as exc:
        # MLflow answers a changed param value as a bad parameter, not an existing resource.
        raise MlflowError(exc.message, error_code="INVALID_PARAMETER_VALUE") from None


async def log_metric(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    metric = {k: payload.get(k) for k in ("key", "value", "timestamp", "step")}
    await _log_batch(request, _run_id(payload), metrics=[metric])
    return {}


async def log_param(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    key = required(payload, "key")
    value = payload.get("value")
    await _log_batch(request, _run_id(payload), params=[(key, "" if value is None else str(value))])
    return {}


async def log_batch(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    metrics = payload.get("metrics") or []
    if not isinstance(metrics, list):
        raise InvalidArgument("metrics: expected a list of {key, value, timestamp, step} objects")
    tags = key_values(payload, "tags")
    run_id = _run_id(payload)
    names = [v for k, v in tags if k == RUN_NAME_TAG]
    await _log_batch(
        request,
        run_id,
        metrics=metrics,
        params=key_values(payload, "params"),
        tags=[(k, v) for k, v in tags if k != RUN_NAME_TAG],
    )
    if names:
        res = resources(request)
        async with res.db.transaction() as session:
            await run_service.update_run(session, settings=res.settings, run_id=run_id, name=names[-1])
    return {}


async def log_inputs(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    specs = []
    for i, item in enumerate(payload.get("datasets") or []):
        dataset = item.get("dataset") if isinstance(item, dict) else None
        if not isinstance(dataset, dict):
            raise InvalidArgument(f"datasets[{i}].dataset: expected an object")
        context = next((v for k, v in key_values(item, "tags") if k == "mlflow.data.context"), None)
        specs.append(
            run_service.DatasetSpec(
                name=str(dataset.get("name") or ""),
                digest=str(dataset.get("digest") or ""),
                source=dataset.get("source"),
                source_type=dataset.get("source_type"),
                schema=_parse_json_text(dataset.get("schema")),
                profile=_parse_json_text(dataset.get("profile")),
                context=context,
            )
        )
    async with res.db.transaction() as session:
        run = await run_service.log_inputs(
            session, settings=res.settings, run_id=_run_id(payload), datasets=specs
        )
    await run_service.announce_run(res.bus, run_id=run.id, experiment_id=run.experiment_id, change="logged")
    return {}


def _parse_json_text(text: Any) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


async def search_runs(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    experiment_ids = payload.get("experiment_ids") or []
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    view = _RUN_VIEWS.get(str(payload.get("run_view_type") or "ACTIVE_ONLY"))
    if view is None:
        raise InvalidArgument(f"run_view_type: {payload.get('run_view_type')!r} is not a view type")
    order_by = payload.get("order_by") or []
    if isinstance(order_by, str):
        order_by = [order_by]
    experiment_ids = [await resolve_experiment_id(request, e) for e in experiment_ids]
    for experiment_id in experiment_ids:
        validation.parse_experiment_id("experiment_ids", experiment_id)
    async with res.db.sessionmaker() as session:
        page = await search_run_pages(
            session,
            dialect=res.db.dialect,
            experiment_ids=[str(e) for e in experiment_ids],
            filter_text=optional_str(payload, "filter"),
            order_by=order_by,
            first=page_size(request, payload, 1000),
            after=optional_str(payload, "page_token") or None,
            view=view,
        )
        out: dict[str, Any] = {"runs": await _runs_json(session, list(page.items))}
    if page.has_next and page.cursors:
        out["next_page_token"] = page.cursors[-1]
    return out


# --- metric history ----------------------------------------------------------------------


async def get_metric_history(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    res = resources(request)
    run_id, key = _run_id(payload), required(payload, "metric_key")
    if payload.get("page_token"):
        raise InvalidArgument("page_token: the whole history comes in one answer; there are no further pages")
    async with res.db.sessionmaker() as session:
        await run_service.get_run(session, run_id=run_id)  # an unknown run is NOT_FOUND, not empty
        series = await metric_service.metric_histories(
            session, settings=res.settings, run_ids=[run_id], keys=[key], max_points=None
        )
    metrics = []
    for s in series:
        values = [wire_double(v) for v in s.values]
        metrics.extend(
            {"key": key, "value": v, "timestamp": t, "step": st}
            for v, t, st in zip(values, s.timestamps, s.steps, strict=True)
        )
    return {"metrics": metrics}


# --- logged models -----------------------------------------------------------------------


async def search_logged_models(request: Request, payload: dict[str, Any]) -> dict[str, Any]:
    """No run has an MLflow 3 logged model here: ``logged-models/create`` is not served yet.

    MLflow's client asks this whenever a ``runs:/`` path is not among the run's own
    artifacts (``RunsArtifactRepository``); the true answer, an empty list, lets it go on.
    """
    for experiment_id in payload.get("experiment_ids") or []:
        validation.parse_experiment_id("experiment_ids", str(experiment_id))
    return {"models": []}
