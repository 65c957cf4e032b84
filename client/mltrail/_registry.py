"""The model registry from Python: registered models, versions, stages, aliases, history, approvals.

`RegistryMethods` is mixed into `MltrailClient`; every call is synchronous and raises typed
errors (`NotFound`, `InvalidArgument`, `PermissionDenied`, `Conflict`, …) with the server's
message. The acting user recorded on each change is the client's ``user`` (``MLTRAIL_USER``,
else the login name), sent as the ``X-Mltrail-User`` header.

    client.register_model(f"runs:/{run.id}/model", "Churn")            # version 1, 2, 3…
    client.transition_model_version_stage("Churn", 1, "Production", comment="beats v0 on AUC")
    client.set_registered_model_alias("Churn", "champion", 1)
    client.get_model_history("Churn")                                    # every change, oldest first
    client.get_version_at("Churn", datetime(2026, 3, 1, 12), stage="Production")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mltrail._exceptions import InvalidArgument
from mltrail._registry_documents import (
    APPROVE_TRANSITION,
    CREATE_MODEL_VERSION,
    CREATE_REGISTERED_MODEL,
    DELETE_ALIAS,
    DELETE_MODEL_VERSION,
    DELETE_MODEL_VERSION_TAG,
    DELETE_REGISTERED_MODEL,
    DELETE_REGISTERED_MODEL_TAG,
    GET_MODEL_VERSION,
    GET_REGISTERED_MODEL,
    MODEL_HISTORY,
    REGISTRY_EVENTS,
    REJECT_TRANSITION,
    REQUEST_TRANSITION,
    SEARCH_MODEL_VERSIONS,
    SEARCH_REGISTERED_MODELS,
    SET_ALIAS,
    SET_MODEL_VERSION_TAG,
    SET_REGISTERED_MODEL_TAG,
    TRANSITION_REQUESTS,
    TRANSITION_STAGE,
    UPDATE_MODEL_VERSION,
    UPDATE_REGISTERED_MODEL,
    VERSION_AT,
    VERSION_HISTORY,
)

STAGES = ("NONE", "STAGING", "PRODUCTION", "ARCHIVED")

# The documents live in _registry_documents.py.


# -- entities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelVersion:
    """A registered version: where its files are, which run made it, its stage and aliases."""

    name: str
    version: int
    stage: str
    source: str
    run_id: str | None = None
    git_commit: str | None = None
    aliases: list[str] = field(default_factory=list)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    created_at: int = 0
    updated_at: int = 0
    created_by: str = ""

    @property
    def model_uri(self) -> str:
        """``models:/<name>/<version>``: what `mltrail.models.load_model` takes."""
        return f"models:/{self.name}/{self.version}"

    @classmethod
    def from_graphql(cls, d: Mapping[str, Any]) -> ModelVersion:
        return cls(
            name=d["name"],
            version=d["version"],
            stage=d["stage"],
            source=d["source"],
            run_id=d.get("runId"),
            git_commit=d.get("gitCommit"),
            aliases=list(d.get("aliases") or []),
            description=d.get("description"),
            tags={t["key"]: t["value"] for t in d.get("tags") or []},
            datasets=[dict(x) for x in d.get("datasets") or []],
            created_at=int(d.get("createdAt") or 0),
            updated_at=int(d.get("updatedAt") or 0),
            created_by=d.get("createdBy") or "",
        )


@dataclass(frozen=True)
class RegisteredModel:
    """A named model: its aliases, tags, protections and the newest version of each stage."""

    name: str
    description: str | None = None
    created_at: int = 0
    updated_at: int = 0
    created_by: str = ""
    protected_stages: list[str] = field(default_factory=list)
    protected_aliases: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)

    @classmethod
    def from_graphql(cls, d: Mapping[str, Any]) -> RegisteredModel:
        return cls(
            name=d["name"],
            description=d.get("description"),
            created_at=int(d.get("createdAt") or 0),
            updated_at=int(d.get("updatedAt") or 0),
            created_by=d.get("createdBy") or "",
            protected_stages=list(d.get("protectedStages") or []),
            protected_aliases=list(d.get("protectedAliases") or []),
            tags={t["key"]: t["value"] for t in d.get("tags") or []},
            aliases={a["alias"]: a["version"] for a in d.get("aliases") or []},
            latest_versions=[ModelVersion.from_graphql(v) for v in d.get("latestVersions") or []],
        )


@dataclass(frozen=True)
class RegistryChange:
    """One entry of a model's permanent history (see the server's `RegistryChange`)."""

    id: str
    kind: str
    user: str
    timestamp: int
    version: int | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    alias: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    request_id: str | None = None
    comment: str | None = None
    name: str | None = None  # set on live events

    @classmethod
    def from_graphql(cls, d: Mapping[str, Any], name: str | None = None) -> RegistryChange:
        return cls(
            id=d["id"],
            kind=d["kind"],
            user=d["user"],
            timestamp=d["timestamp"],
            version=d.get("version"),
            from_stage=d.get("fromStage"),
            to_stage=d.get("toStage"),
            alias=d.get("alias"),
            from_version=d.get("fromVersion"),
            to_version=d.get("toVersion"),
            request_id=d.get("requestId"),
            comment=d.get("comment"),
            name=name,
        )


@dataclass(frozen=True)
class TransitionRequest:
    """A move into a protected stage or alias, waiting for (or given) another user's decision."""

    id: str
    name: str
    version: int
    status: str
    requested_by: str
    requested_at: int
    stage: str | None = None
    alias: str | None = None
    archive_existing: bool = False
    comment: str | None = None
    decided_by: str | None = None
    decided_at: int | None = None
    decision_comment: str | None = None

    @classmethod
    def from_graphql(cls, d: Mapping[str, Any]) -> TransitionRequest:
        return cls(
            id=d["id"],
            name=d["name"],
            version=d["version"],
            status=d["status"],
            requested_by=d["requestedBy"],
            requested_at=d["requestedAt"],
            stage=d.get("stage"),
            alias=d.get("alias"),
            archive_existing=bool(d.get("archiveExisting")),
            comment=d.get("comment"),
            decided_by=d.get("decidedBy"),
            decided_at=d.get("decidedAt"),
            decision_comment=d.get("decisionComment"),
        )


# -- argument helpers -----------------------------------------------------------------------


def stage_name(stage: str, *, argument: str = "stage") -> str:
    """``'Production'``, ``'production'`` → ``'PRODUCTION'``; anything else is refused here."""
    upper = str(stage).upper()
    if upper not in STAGES:
        raise InvalidArgument(f"{argument}: {stage!r} is not a stage (None, Staging, Production or Archived)")
    return upper


def _ms(time: int | float | datetime) -> int:
    if isinstance(time, datetime):
        return int(time.timestamp() * 1000)  # naive datetimes are local time, as datetime says
    return int(time)


def _tags(tags: Mapping[str, Any] | None) -> list[dict[str, str]] | None:
    return [{"key": str(k), "value": str(v)} for k, v in tags.items()] if tags else None


def _source_of(model_uri: str, execute: Any) -> tuple[str, str | None]:
    """The source and run id to register for ``model_uri`` (``runs:/`` or ``models:/``)."""
    from mltrail.models._uri import RunsUri, parse_model_uri

    parsed = parse_model_uri(model_uri)
    if isinstance(parsed, RunsUri):
        return str(parsed), parsed.run_id
    # models:/… registers the files of that version again (e.g. copying Churn/3 to Churn-eu).
    found = execute(GET_MODEL_VERSION, parsed.graphql_variables())["modelVersion"]
    return found["source"], found.get("runId")


class RegistryMethods:
    """The registry half of `MltrailClient` (mixed in; uses its ``_execute`` and ``_paginate``)."""

    _execute: Any
    _paginate: Any
    tracking_uri: str

    # -- registered models -------------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        protected_stages: Iterable[str] | None = None,
        protected_aliases: Iterable[str] | None = None,
    ) -> RegisteredModel:
        """Create a model; moves into `protected_stages`/`protected_aliases` then need approval."""
        data = self._execute(
            CREATE_REGISTERED_MODEL,
            {
                "name": name,
                "description": description,
                "tags": _tags(tags),
                "protectedStages": [
                    stage_name(s, argument="protected_stages") for s in protected_stages or []
                ],
                "protectedAliases": list(protected_aliases or []),
            },
        )
        return RegisteredModel.from_graphql(data["createRegisteredModel"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.from_graphql(
            self._execute(GET_REGISTERED_MODEL, {"name": name})["registeredModel"]
        )

    def search_registered_models(
        self, filter: str | None = None, *, max_results: int | None = 1000
    ) -> list[RegisteredModel]:
        """Models by name; `filter` on ``name`` and ``tags.KEY`` (``"name LIKE 'churn%'"``)."""
        nodes = self._paginate(SEARCH_REGISTERED_MODELS, "registeredModels", {"filter": filter}, max_results)
        return [RegisteredModel.from_graphql(n) for n in nodes]

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        protected_stages: Iterable[str] | None = None,
        protected_aliases: Iterable[str] | None = None,
        comment: str | None = None,
    ) -> RegisteredModel:
        variables = {
            "name": name,
            "description": description,
            "protectedStages": [stage_name(s, argument="protected_stages") for s in protected_stages]
            if protected_stages is not None
            else None,
            "protectedAliases": list(protected_aliases) if protected_aliases is not None else None,
            "comment": comment,
        }
        return RegisteredModel.from_graphql(
            self._execute(UPDATE_REGISTERED_MODEL, variables)["updateRegisteredModel"]
        )

    def delete_registered_model(self, name: str, *, comment: str | None = None) -> None:
        self._execute(DELETE_REGISTERED_MODEL, {"name": name, "comment": comment})

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._execute(SET_REGISTERED_MODEL_TAG, {"name": name, "key": key, "value": str(value)})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._execute(DELETE_REGISTERED_MODEL_TAG, {"name": name, "key": key})

    # -- versions ----------------------------------------------------------------------------

    def register_model(
        self,
        model_uri: str,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Register the model at `model_uri` (``runs:/<run_id>/model`` or a ``models:/`` URI) as
        the next version of `name`, creating the model if needed."""
        source, run_id = _source_of(model_uri, self._execute)
        return self.create_model_version(name, source, run_id=run_id, description=description, tags=tags)

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        variables = {
            "name": name,
            "source": source,
            "runId": run_id,
            "description": description,
            "tags": _tags(tags),
        }
        return ModelVersion.from_graphql(self._execute(CREATE_MODEL_VERSION, variables)["createModelVersion"])

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        variables = {"name": name, "version": int(version)}
        return ModelVersion.from_graphql(self._execute(GET_MODEL_VERSION, variables)["modelVersion"])

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        variables = {"name": name, "alias": alias}
        return ModelVersion.from_graphql(self._execute(GET_MODEL_VERSION, variables)["modelVersion"])

    def get_latest_version(self, name: str, stage: str | None = None) -> ModelVersion:
        """The newest live version (in `stage`, when given); `NotFound` when there is none."""
        variables = {"name": name, "stage": stage_name(stage) if stage is not None else None}
        return ModelVersion.from_graphql(self._execute(GET_MODEL_VERSION, variables)["modelVersion"])

    def search_model_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        stage: str | None = None,
        alias: str | None = None,
        tags: Mapping[str, Any] | None = None,
        max_results: int | None = 1000,
    ) -> list[ModelVersion]:
        """Live versions, newest first, matching every criterion given."""
        variables = {
            "name": name,
            "runId": run_id,
            "stage": stage_name(stage) if stage is not None else None,
            "alias": alias,
            "tags": _tags(tags),
        }
        nodes = self._paginate(SEARCH_MODEL_VERSIONS, "modelVersions", variables, max_results)
        return [ModelVersion.from_graphql(n) for n in nodes]

    def update_model_version(
        self, name: str, version: int, *, description: str, comment: str | None = None
    ) -> ModelVersion:
        variables = {"name": name, "version": int(version), "description": description, "comment": comment}
        return ModelVersion.from_graphql(self._execute(UPDATE_MODEL_VERSION, variables)["updateModelVersion"])

    def delete_model_version(self, name: str, version: int, *, comment: str | None = None) -> None:
        self._execute(DELETE_MODEL_VERSION, {"name": name, "version": int(version), "comment": comment})

    def set_model_version_tag(self, name: str, version: int, key: str, value: Any) -> None:
        self._execute(
            SET_MODEL_VERSION_TAG, {"name": name, "version": int(version), "key": key, "value": str(value)}
        )

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self._execute(DELETE_MODEL_VERSION_TAG, {"name": name, "version": int(version), "key": key})

    # -- stages, aliases, approvals -------------------------------------------------------------

    def transition_model_version_stage(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        comment: str | None = None,
        archive_existing: bool = False,
    ) -> ModelVersion:
        """Move a version to `stage` (None, Staging, Production, Archived; any case). Rollback is
        moving an older version back. `PermissionDenied` for a protected stage: `request_transition`."""
        variables = {
            "name": name,
            "version": int(version),
            "stage": stage_name(stage),
            "comment": comment,
            "archiveExisting": archive_existing,
        }
        return ModelVersion.from_graphql(
            self._execute(TRANSITION_STAGE, variables)["transitionModelVersionStage"]
        )

    def set_registered_model_alias(
        self, name: str, alias: str, version: int, *, comment: str | None = None
    ) -> ModelVersion:
        """Point `alias` at `version`: set it, or move it in one change."""
        variables = {"name": name, "alias": alias, "version": int(version), "comment": comment}
        return ModelVersion.from_graphql(self._execute(SET_ALIAS, variables)["setModelVersionAlias"])

    def delete_registered_model_alias(self, name: str, alias: str, *, comment: str | None = None) -> None:
        self._execute(DELETE_ALIAS, {"name": name, "alias": alias, "comment": comment})

    def request_transition(
        self,
        name: str,
        version: int,
        *,
        stage: str | None = None,
        alias: str | None = None,
        comment: str | None = None,
        archive_existing: bool = False,
    ) -> TransitionRequest:
        """Ask for a move into a (protected) stage or alias; another user approves or rejects it."""
        variables = {
            "name": name,
            "version": int(version),
            "stage": stage_name(stage) if stage is not None else None,
            "alias": alias,
            "comment": comment,
            "archiveExisting": archive_existing,
        }
        return TransitionRequest.from_graphql(
            self._execute(REQUEST_TRANSITION, variables)["requestTransition"]
        )

    def approve_transition(self, request_id: str | int, *, comment: str | None = None) -> TransitionRequest:
        """Approve and apply a pending request (`PermissionDenied` for its requester)."""
        data = self._execute(APPROVE_TRANSITION, {"id": str(request_id), "comment": comment})
        return TransitionRequest.from_graphql(data["approveTransition"])

    def reject_transition(self, request_id: str | int, *, comment: str | None = None) -> TransitionRequest:
        data = self._execute(REJECT_TRANSITION, {"id": str(request_id), "comment": comment})
        return TransitionRequest.from_graphql(data["rejectTransition"])

    def get_transition_requests(
        self, *, name: str | None = None, requested_by: str | None = None, status: str | None = "PENDING"
    ) -> list[TransitionRequest]:
        """Requests of a model and/or by a user, oldest first (pending ones unless `status` says)."""
        variables = {"name": name, "requestedBy": requested_by, "status": status.upper() if status else None}
        return [
            TransitionRequest.from_graphql(r)
            for r in self._execute(TRANSITION_REQUESTS, variables)["transitionRequests"]
        ]

    # -- history ------------------------------------------------------------------------------

    def get_model_history(self, name: str, version: int | None = None) -> list[RegistryChange]:
        """Every change of a model (or of one version), oldest first, with user, time and comment."""
        if version is None:
            changes = self._execute(MODEL_HISTORY, {"name": name})["registeredModel"]["history"]
        else:
            changes = self._execute(VERSION_HISTORY, {"name": name, "version": int(version)})["modelVersion"][
                "history"
            ]
        return [RegistryChange.from_graphql(c) for c in changes]

    def get_version_at(
        self, name: str, time: int | float | datetime, *, stage: str | None = None, alias: str | None = None
    ) -> ModelVersion | None:
        """Which version held `stage` or `alias` at `time` (ms since the epoch, or a datetime)."""
        variables = {
            "name": name,
            "time": _ms(time),
            "stage": stage_name(stage) if stage is not None else None,
            "alias": alias,
        }
        found = self._execute(VERSION_AT, variables)["registeredModel"]["versionAt"]
        return ModelVersion.from_graphql(found) if found is not None else None

    def watch_registry(self, name: str | None = None) -> Iterator[RegistryChange]:
        """Registry changes as they are committed, live over WebSocket; stop by leaving the loop."""
        from mltrail._transport import subscribe

        for result in subscribe(self.tracking_uri, REGISTRY_EVENTS, {"name": name}):
            event = result["registryEvents"]
            yield RegistryChange.from_graphql(event["change"], name=event["name"])


def register_model(
    model_uri: str, name: str, *, description: str | None = None, tags: Mapping[str, Any] | None = None
) -> ModelVersion:
    """Register `model_uri` as the next version of `name` with the default client
    (``MLTRAIL_TRACKING_URI``): ``mltrail.register_model(f"runs:/{run.id}/model", "Churn")``."""
    from mltrail._fluent import get_client

    return get_client().register_model(model_uri, name, description=description, tags=tags)
