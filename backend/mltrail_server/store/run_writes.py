"""createRun on the writer's connection: the run, its tags and params in one transaction.

Why not the ORM: creating a run is a handful of tiny statements, and through the ORM session
(unit of work, flushes, one thread hop per statement) the Python around them cost ≈ 4 ms per
run against ≈ 0.6 ms of SQL. Here the rules are written once, as a write program (store/programs.py)
that ``run_sqlite`` drives on the SQLite writer thread's plain sqlite3 connection (one hop
for the whole run) and ``run_asyncpg`` on an asyncpg connection. The transaction belongs to
the caller (store/writer.py).

Validation of the arguments happens before (services/runs.py): what reaches this module
is well-formed, and only rules that need the database are checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mltrail_server.errors import Conflict, InvalidArgument, NotFound
from mltrail_server.store.models import KEY_KIND_PARAM, KEY_KIND_TAG
from mltrail_server.store.programs import Program, many, one
from mltrail_server.store.statements import SQL_TAG_UPSERT, write_experiment_keys, write_params

RUN_COLUMNS = (
    "pk",
    "id",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "user",
    "parent_id",
    "entry_point",
    "git_commit",
    "git_branch",
    "git_dirty",
    "git_remote",
    "environment",
    "artifact_uri",
    "deleted_at",
)
_INSERTED = RUN_COLUMNS[1:]
# Quoted: "user" is a reserved word in PostgreSQL.
_QUOTED = ", ".join(f'"{c}"' for c in RUN_COLUMNS)
_QUOTED_INSERTED = ", ".join(f'"{c}"' for c in _INSERTED)

SQL_EXPERIMENT_BY_ID = "SELECT id, artifact_location, deleted_at FROM experiments WHERE id = ?"
SQL_EXPERIMENT_BY_NAME = "SELECT id, artifact_location, deleted_at FROM experiments WHERE name = ?"
SQL_RUN_BY_ID = f"SELECT {_QUOTED} FROM runs WHERE id = ?"
SQL_PARENT = "SELECT deleted_at FROM runs WHERE id = ?"
SQL_RUN_INSERT = (
    f"INSERT INTO runs ({_QUOTED_INSERTED}) VALUES ({', '.join('?' * len(_INSERTED))}) "
    "ON CONFLICT (id) DO NOTHING RETURNING pk"
)
SQL_EXPERIMENT_TOUCH = "UPDATE experiments SET updated_at = ? WHERE id = ?"


class ExperimentMissing(Exception):
    """createRun by experiment name, and there is none yet: the caller creates it, then retries."""


@dataclass(frozen=True, slots=True)
class RunCreate:
    """A validated createRun. ``run_id`` is always set; ``client_chose_id`` makes it idempotent."""

    experiment_id: int | None
    experiment_name: str | None
    run_id: str
    client_chose_id: bool
    name: str | None
    start_time: int
    user: str | None
    parent_id: str | None
    entry_point: str | None
    git_commit: str | None
    git_branch: str | None
    git_dirty: bool | None
    git_remote: str | None
    environment: str | None  # JSON text
    now_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def create_run_program(req: RunCreate) -> Program[dict[str, Any]]:
    """Yields the statements of one createRun; returns the run as a dict of RUN_COLUMNS."""
    if req.experiment_id is not None:
        experiment = yield one(SQL_EXPERIMENT_BY_ID, (req.experiment_id,))
        if experiment is None:
            raise NotFound(f"experimentId: no experiment with id '{req.experiment_id}'")
    else:
        experiment = yield one(SQL_EXPERIMENT_BY_NAME, (req.experiment_name,))
        if experiment is None:
            raise ExperimentMissing(req.experiment_name)
    experiment_id, artifact_location, experiment_deleted = experiment
    if experiment_deleted is not None:
        raise InvalidArgument(f"experimentId: experiment {experiment_id} is deleted; restore it first")
    if req.client_chose_id:
        existing = yield one(SQL_RUN_BY_ID, (req.run_id,))
        if existing is not None:
            return (yield from _replayed(req, experiment_id, existing))
    if req.parent_id is not None:
        parent = yield one(SQL_PARENT, (req.parent_id,))
        if parent is None:
            raise NotFound(f"parentRunId: no run with id '{req.parent_id}'")
        if parent[0] is not None:
            raise InvalidArgument(f"parentRunId: run '{req.parent_id}' is deleted")
    run = {
        "id": req.run_id,
        "experiment_id": experiment_id,
        "name": req.name,
        "status": "RUNNING",
        "start_time": req.start_time,
        "end_time": None,
        "user": req.user,
        "parent_id": req.parent_id,
        "entry_point": req.entry_point,
        "git_commit": req.git_commit,
        "git_branch": req.git_branch,
        "git_dirty": req.git_dirty,
        "git_remote": req.git_remote,
        "environment": req.environment,
        "artifact_uri": f"{artifact_location}/{req.run_id}/artifacts",
        "deleted_at": None,
    }
    inserted = yield one(SQL_RUN_INSERT, tuple(run[c] for c in _INSERTED))
    if inserted is None:
        # A concurrent createRun with the same client-chosen id won (PostgreSQL): replay.
        existing = yield one(SQL_RUN_BY_ID, (req.run_id,))
        return (yield from _replayed(req, experiment_id, existing))
    run["pk"] = pk = inserted[0]
    if req.tags:
        yield many(SQL_TAG_UPSERT, sorted((pk, k, v) for k, v in req.tags.items()))
    # A new run: nobody else can see it before this commit, so its params are simply new.
    yield from write_params(pk, req.run_id, req.params)
    yield from _experiment_keys(experiment_id, req)
    yield many(SQL_EXPERIMENT_TOUCH, [(req.now_ms, experiment_id)])
    return run


def _replayed(req: RunCreate, experiment_id: int, existing: tuple[Any, ...]) -> Program[dict[str, Any]]:
    """The run exists (a client replaying createRun): same experiment, params immutable."""
    run = dict(zip(RUN_COLUMNS, existing, strict=True))
    if run["experiment_id"] != experiment_id:
        raise Conflict(
            f"runId: run '{req.run_id}' already exists in experiment {run['experiment_id']}, not {experiment_id}"
        )
    if run["git_dirty"] is not None:
        run["git_dirty"] = bool(run["git_dirty"])  # SQLite keeps booleans as 0/1
    if req.params:
        # Concurrent logBatch calls or replays may be setting the same keys: write_params
        # lets exactly one value win (see store/statements.py).
        yield from write_params(run["pk"], req.run_id, req.params)
        yield from _experiment_keys(experiment_id, req)
    return run


def _experiment_keys(experiment_id: int, req: RunCreate) -> Program[None]:
    keys = [(experiment_id, KEY_KIND_TAG, k) for k in req.tags]
    keys += [(experiment_id, KEY_KIND_PARAM, k) for k in req.params]
    yield from write_experiment_keys(sorted(keys))
