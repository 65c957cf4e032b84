"""logBatch as one write program (store/programs.py): the same statements on both databases.

What one batch does, in one transaction:
  1. find the run (and refuse deleted runs or runs of deleted experiments);
  2. claim ``(run, batch_id)`` in ``log_batches``; if it was claimed before, stop: duplicate;
  3. params: insert the new ones; a different value for a stored key is a CONFLICT
     (``write_params``: insert first, compare after, so concurrent writers cannot both win);
  4. tags: upsert;
  5. metric keys: intern new ones, insert the points as one chunk per key (packed arrays,
     store/series.py), fold the batch into ``latest_metrics`` (latest by (step, timestamp),
     min, max, count) with one upsert per key;
  6. record new param/metric/tag keys in ``experiment_keys`` for the column chooser.

The one difference between the databases is a parameter: on PostgreSQL concurrent batches
really overlap, so rows that take locks (tags, new metric keys, experiment keys) are written
in sorted order, and two batches can never wait for each other in a cycle. SQLite has one
writer at a time and skips the sort.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mltrail_server.errors import InvalidArgument, NotFound
from mltrail_server.store.models import KEY_KIND_METRIC, KEY_KIND_PARAM, KEY_KIND_TAG
from mltrail_server.store.programs import Program, many, one, rows
from mltrail_server.store.series import CHUNK_COLUMNS, KeyGroup, chunk_row, group_by_key, summary_row
from mltrail_server.store.statements import (
    SQL_TAG_UPSERT,
    dedupe_params,
    in_list,
    write_experiment_keys,
    write_params,
)


@dataclass(frozen=True, slots=True)
class MetricColumns:
    """Parallel lists, as they arrive on the wire (already validated)."""

    keys: Sequence[str]
    values: Sequence[float]
    steps: Sequence[int]
    timestamps: Sequence[int]


@dataclass(frozen=True, slots=True)
class BatchRequest:
    run_id: str
    batch_id: str | None
    metrics: MetricColumns | None
    params: Sequence[tuple[str, str]]
    tags: Sequence[tuple[str, str]]
    now_ms: int


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    run_id: str
    batch_id: str | None
    experiment_id: int
    duplicate: bool
    metrics_written: int
    params_written: int
    tags_written: int
    metric_keys: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class KnownIds:
    """What the writer already knows from committed transactions: interned metric key ids
    and the (experiment, kind, key) rows of ``experiment_keys``. Read-only for a program."""

    key_ids: dict[str, int]
    experiment_keys: set[tuple[int, int, str]]


@dataclass
class Learned:
    """Ids one transaction interned. They join the writer's caches only after its commit: a
    concurrent transaction must not use an id it cannot see yet, and a rolled-back one must
    not leave an id behind that the database may hand to another key."""

    key_ids: dict[str, int] = field(default_factory=dict)
    experiment_keys: set[tuple[int, int, str]] = field(default_factory=set)


SQL_RUN = (
    "SELECT r.pk, r.experiment_id, r.deleted_at, e.deleted_at FROM runs r "
    "JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?"
)
SQL_CLAIM_BATCH = (
    "INSERT INTO log_batches (run_pk, batch_id, created_at, metrics_written, params_written, tags_written) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING run_pk"
)
SQL_CLAIMED_BATCH = (
    "SELECT metrics_written, params_written, tags_written FROM log_batches WHERE run_pk = ? AND batch_id = ?"
)
SQL_KEY_INSERT = "INSERT INTO metric_keys (key) VALUES (?) ON CONFLICT DO NOTHING"
SQL_KEY_SELECT = "SELECT id, key FROM metric_keys WHERE key IN (?*)"
SQL_CHUNK = (
    f"INSERT INTO metric_chunks ({', '.join(CHUNK_COLUMNS)}) VALUES ({', '.join('?' * len(CHUNK_COLUMNS))})"
)
_NEWER = (
    "(excluded.step > latest_metrics.step OR "
    "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp))"
)
SQL_LATEST_UPSERT = (
    "INSERT INTO latest_metrics (run_pk, key_id, value, step, timestamp, min_value, max_value, count) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_pk, key_id) DO UPDATE SET "
    f"value = CASE WHEN {_NEWER} THEN excluded.value ELSE latest_metrics.value END, "
    f"timestamp = CASE WHEN {_NEWER} THEN excluded.timestamp ELSE latest_metrics.timestamp END, "
    # Every right-hand side reads the row as it was before this UPDATE (SQL semantics).
    f"step = CASE WHEN {_NEWER} THEN excluded.step ELSE latest_metrics.step END, "
    "min_value = CASE WHEN latest_metrics.min_value IS NULL OR excluded.min_value < latest_metrics.min_value "
    "THEN excluded.min_value ELSE latest_metrics.min_value END, "
    "max_value = CASE WHEN latest_metrics.max_value IS NULL OR excluded.max_value > latest_metrics.max_value "
    "THEN excluded.max_value ELSE latest_metrics.max_value END, "
    "count = latest_metrics.count + excluded.count"
)


def check_run(row: Any, run_id: str) -> tuple[int, int]:
    if row is None:
        raise NotFound(f"runId: no run with id '{run_id}'")
    run_pk, experiment_id, run_deleted, experiment_deleted = row
    if run_deleted is not None:
        raise InvalidArgument(f"runId: run '{run_id}' is deleted; restore it before logging to it")
    if experiment_deleted is not None:
        raise InvalidArgument(f"runId: the experiment of run '{run_id}' is deleted; restore it first")
    return run_pk, experiment_id


def summarize(groups: Sequence[KeyGroup]) -> list[tuple[Any, ...]]:
    """One latest_metrics row per key of the batch (see series.summary_row)."""
    return [summary_row(group) for group in groups]


def log_batch_program(
    req: BatchRequest, known: KnownIds, learned: Learned, *, ordered_locks: bool
) -> Program[BatchOutcome]:
    """The statements of one batch; what it interns goes to ``learned``. With
    ``ordered_locks`` (PostgreSQL), rows that take locks are written in sorted order."""
    run_pk, experiment_id = check_run((yield one(SQL_RUN, (req.run_id,))), req.run_id)
    n_points = len(req.metrics.keys) if req.metrics else 0
    if req.batch_id is not None:
        claim = (run_pk, req.batch_id, req.now_ms, n_points, len(req.params), len(req.tags))
        if (yield one(SQL_CLAIM_BATCH, claim)) is None:
            written = yield one(SQL_CLAIMED_BATCH, (run_pk, req.batch_id))
            metrics_written, params_written, tags_written = written
            return BatchOutcome(
                req.run_id,
                req.batch_id,
                experiment_id,
                duplicate=True,
                metrics_written=metrics_written,
                params_written=params_written,
                tags_written=tags_written,
            )
    new_keys: list[tuple[int, int, str]] = []
    if req.params:
        wanted = dedupe_params(req.run_id, req.params)
        yield from write_params(run_pk, req.run_id, wanted)
        new_keys += [(experiment_id, KEY_KIND_PARAM, k) for k in wanted]
    if req.tags:
        tag_rows = [(run_pk, k, v) for k, v in (sorted(dict(req.tags).items()) if ordered_locks else req.tags)]
        yield many(SQL_TAG_UPSERT, tag_rows)
        new_keys += [(experiment_id, KEY_KIND_TAG, k) for k, _ in req.tags]
    metric_keys: tuple[str, ...] = ()
    if req.metrics and n_points:
        metrics = req.metrics
        metric_keys = tuple(dict.fromkeys(metrics.keys))
        ids = yield from _intern(metric_keys, known, learned, ordered_locks=ordered_locks)
        if len(metric_keys) > 1:
            key_ids = [ids[k] for k in metrics.keys]
        else:
            key_ids = [ids[metric_keys[0]]] * n_points
        groups = group_by_key(key_ids, metrics.steps, metrics.timestamps, metrics.values)
        yield many(SQL_CHUNK, [chunk_row(run_pk, group) for group in groups])
        yield many(SQL_LATEST_UPSERT, [(run_pk, *row) for row in summarize(groups)])
        new_keys += [(experiment_id, KEY_KIND_METRIC, k) for k in metric_keys]
    unseen = [k for k in dict.fromkeys(new_keys) if k not in known.experiment_keys]
    yield from write_experiment_keys(sorted(unseen) if ordered_locks else unseen)
    learned.experiment_keys.update(unseen)
    return BatchOutcome(
        req.run_id,
        req.batch_id,
        experiment_id,
        duplicate=False,
        metrics_written=n_points,
        params_written=len(req.params),
        tags_written=len(req.tags),
        metric_keys=metric_keys,
    )


def _intern(
    keys: Sequence[str], known: KnownIds, learned: Learned, *, ordered_locks: bool
) -> Program[dict[str, int]]:
    missing = [k for k in keys if k not in known.key_ids]
    if not missing:
        return known.key_ids
    if ordered_locks:
        missing.sort()
    # A concurrent transaction inserting the same key makes this one wait, then do nothing
    # (PostgreSQL); the SELECT (a new snapshot under READ COMMITTED) then sees the committed row.
    yield many(SQL_KEY_INSERT, [(k,) for k in missing])
    for key_id, key in (yield rows(in_list(SQL_KEY_SELECT, len(missing)), tuple(missing))):
        learned.key_ids[key] = key_id
    return {**known.key_ids, **learned.key_ids}
