"""The bulk write path of ``logBatch``: one transaction per batch, set-based statements.

Why not the ORM session: a 10,000-point batch through SQLAlchemy + aiosqlite spends more in
thread hops and object handling than in SQL. On SQLite a single writer thread owns a plain
``sqlite3`` connection and runs each batch as ``BEGIN IMMEDIATE`` + one ``executemany`` per
table, which removes "database is locked" by construction (one writer per process; the busy
timeout covers other processes). On PostgreSQL the same statements run on an asyncpg
connection borrowed from the engine's pool.

What one batch does, in one transaction:
  1. find the run (and refuse deleted runs or runs of deleted experiments);
  2. claim ``(run, batch_id)`` in ``log_batches``; if it was claimed before, stop: duplicate;
  3. params: refuse a different value for an existing key (CONFLICT), insert the new ones;
  4. tags: upsert;
  5. metric keys: intern new ones, insert the points as one chunk per key (packed arrays,
     store/series.py), fold the batch into ``latest_metrics`` (latest by (step, timestamp),
     min, max, count) with one upsert per key;
  6. record new param/metric/tag keys in ``experiment_keys`` for the column chooser.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from mltrail_server.errors import InvalidArgument, NotFound
from mltrail_server.store.engine import Database, sqlite_path, tune_sqlite
from mltrail_server.store.models import KEY_KIND_METRIC, KEY_KIND_PARAM, KEY_KIND_TAG
from mltrail_server.store.run_writes import RunCreate, create_run_program, run_asyncpg, run_sqlite
from mltrail_server.store.series import CHUNK_COLUMNS, KeyGroup, chunk_row, group_by_key, summary_row
from mltrail_server.store.statements import (
    SQL_EXPERIMENT_KEYS,
    SQL_PARAM_INSERT,
    SQL_TAG_UPSERT,
    check_param_conflicts,
    dedupe_params,
    to_dollar,
)
from mltrail_server.store.wal import WalCheckpointer


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


@dataclass
class Learned:
    """Ids one transaction interned. They join the writer's caches only after its commit: a
    concurrent transaction must not use an id it cannot see yet, and a rolled-back one must
    not leave an id behind that the database may hand to another key."""

    key_ids: dict[str, int] = field(default_factory=dict)
    experiment_keys: set[tuple[int, int, str]] = field(default_factory=set)


class BatchWriter(Protocol):
    async def write(self, request: BatchRequest) -> BatchOutcome: ...

    async def create_run(self, request: RunCreate) -> dict[str, Any]: ...

    async def close(self) -> None: ...


# --- SQL shared by both dialects (qmark style; rewritten to $n for asyncpg) ---------------

SQL_RUN = (
    "SELECT r.pk, r.experiment_id, r.deleted_at, e.deleted_at FROM runs r "
    "JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?"
)
SQL_CLAIM_BATCH = (
    "INSERT INTO log_batches (run_pk, batch_id, created_at, metrics_written, params_written, tags_written) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
SQL_CLAIMED_BATCH = (
    "SELECT metrics_written, params_written, tags_written FROM log_batches WHERE run_pk = ? AND batch_id = ?"
)
SQL_KEY_INSERT = "INSERT INTO metric_keys (key) VALUES (?) ON CONFLICT DO NOTHING"
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


def _in_list(sql: str, n: int) -> str:
    return sql.replace("(?*)", "(" + ", ".join("?" * n) + ")")


SQL_PARAMS_EXISTING = "SELECT key, value FROM params WHERE run_pk = ? AND key IN (?*)"
SQL_KEY_SELECT = "SELECT id, key FROM metric_keys WHERE key IN (?*)"


# --- dialect-independent rules -----------------------------------------------------------


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


# --- SQLite: one writer thread with a plain sqlite3 connection ---------------------------

T = TypeVar("T")


class WriterThread:
    """One thread that runs calls in the order they come; each result returns to its caller's
    event loop as an asyncio future.

    ``loop.run_in_executor`` with a one-worker ThreadPoolExecutor does the same, but its
    submit (worker-count bookkeeping under a semaphore, a concurrent Future chained to an
    asyncio one) showed in ~8 % of the event loop thread's samples on a 1,000-point logBatch
    (py-spy), mostly waiting for the GIL inside that semaphore.
    A cancelled caller does not cancel the call: a batch that started is written whole.
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopped = False
        # A daemon, so a writer that was never closed cannot hang interpreter exit; the
        # server's lifespan always closes it, which lets the last call finish first.
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        if self._stopped:
            raise RuntimeError(f"{self._thread.name} is stopped")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, fn, args))
        return future

    def stop(self) -> None:
        """Finish the calls already queued, then end the thread (blocking)."""
        self._stopped = True
        if self._thread.is_alive():
            self._calls.put(None)
            self._thread.join()

    def _serve(self) -> None:
        while (item := self._calls.get()) is not None:
            loop, future, fn, args = item
            try:
                outcome = (fn(*args), None)
            except BaseException as error:  # handed to the caller, as an executor does
                outcome = (None, error)
            # A loop that closed meanwhile has no caller left to tell.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, *outcome)
            del item, future, outcome


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class SqliteBatchWriter:
    """Serialises every batch of this process through one thread and one connection."""

    def __init__(self, database_path: str) -> None:
        self._path = database_path
        self._thread = WriterThread("mltrail-sqlite-writer")
        self._checkpointer = WalCheckpointer(database_path)
        self._conn: sqlite3.Connection | None = None
        self._key_ids: dict[str, int] = {}
        self._experiment_keys: set[tuple[int, int, str]] = set()

    def _connection(self) -> sqlite3.Connection:
        # Only ever called on the writer thread.
        conn = self._conn
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            tune_sqlite(conn)
            self._conn = conn
        return conn

    async def write(self, request: BatchRequest) -> BatchOutcome:
        return await self._thread.call(self._write, request)

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._thread.call(_close)
        await asyncio.to_thread(self._thread.stop)
        await asyncio.to_thread(self._checkpointer.stop)

    async def create_run(self, request: RunCreate) -> dict[str, Any]:
        return await self._thread.call(self._create_run, request)

    def _create_run(self, req: RunCreate) -> dict[str, Any]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            run = run_sqlite(conn, create_run_program(req))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._checkpointer.committed()
        return run

    def _write(self, req: BatchRequest) -> BatchOutcome:
        conn = self._connection()
        learned = Learned()
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcome = self._write_in_transaction(conn, req, learned)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if outcome.duplicate:
            conn.execute("ROLLBACK")
        else:
            conn.execute("COMMIT")
            self._checkpointer.committed()
            self._key_ids.update(learned.key_ids)
            self._experiment_keys.update(learned.experiment_keys)
        return outcome

    def _write_in_transaction(
        self, conn: sqlite3.Connection, req: BatchRequest, learned: Learned
    ) -> BatchOutcome:
        run_pk, experiment_id = check_run(conn.execute(SQL_RUN, (req.run_id,)).fetchone(), req.run_id)
        n_points = len(req.metrics.keys) if req.metrics else 0
        if req.batch_id is not None:
            claimed = conn.execute(
                SQL_CLAIM_BATCH,
                (run_pk, req.batch_id, req.now_ms, n_points, len(req.params), len(req.tags)),
            ).rowcount
            if claimed == 0:
                row = conn.execute(SQL_CLAIMED_BATCH, (run_pk, req.batch_id)).fetchone()
                return BatchOutcome(req.run_id, req.batch_id, experiment_id, True, *row)
        new_keys: list[tuple[int, int, str]] = []
        if req.params:
            wanted = dedupe_params(req.run_id, req.params)
            existing = conn.execute(_in_list(SQL_PARAMS_EXISTING, len(wanted)), (run_pk, *wanted)).fetchall()
            fresh = check_param_conflicts(req.run_id, wanted, existing)
            conn.executemany(SQL_PARAM_INSERT, [(run_pk, k, v) for k, v in fresh.items()])
            new_keys += [(experiment_id, KEY_KIND_PARAM, k) for k in wanted]
        if req.tags:
            conn.executemany(SQL_TAG_UPSERT, [(run_pk, k, v) for k, v in req.tags])
            new_keys += [(experiment_id, KEY_KIND_TAG, k) for k, _ in req.tags]
        metric_keys: tuple[str, ...] = ()
        if req.metrics and n_points:
            m = req.metrics
            metric_keys = tuple(dict.fromkeys(m.keys))
            ids = self._intern(conn, metric_keys, learned)
            key_ids = [ids[k] for k in m.keys] if len(metric_keys) > 1 else [ids[metric_keys[0]]] * n_points
            groups = group_by_key(key_ids, m.steps, m.timestamps, m.values)
            conn.executemany(SQL_CHUNK, [chunk_row(run_pk, group) for group in groups])
            conn.executemany(SQL_LATEST_UPSERT, [(run_pk, *row) for row in summarize(groups)])
            new_keys += [(experiment_id, KEY_KIND_METRIC, k) for k in metric_keys]
        unseen = [k for k in dict.fromkeys(new_keys) if k not in self._experiment_keys]
        if unseen:
            conn.executemany(SQL_EXPERIMENT_KEYS, unseen)
        learned.experiment_keys.update(unseen)
        return BatchOutcome(
            req.run_id,
            req.batch_id,
            experiment_id,
            False,
            n_points,
            len(req.params),
            len(req.tags),
            metric_keys,
        )

    def _intern(self, conn: sqlite3.Connection, keys: Sequence[str], learned: Learned) -> dict[str, int]:
        missing = [k for k in keys if k not in self._key_ids]
        if not missing:
            return self._key_ids
        conn.executemany(SQL_KEY_INSERT, [(k,) for k in missing])
        for kid, key in conn.execute(_in_list(SQL_KEY_SELECT, len(missing)), missing):
            learned.key_ids[key] = kid
        return {**self._key_ids, **learned.key_ids}


# --- PostgreSQL: asyncpg on a pooled connection ------------------------------------------


class PostgresBatchWriter:
    """The same statements on asyncpg; points go in with COPY, the fastest bulk path."""

    def __init__(self, database: Database) -> None:
        self._engine = database.write_engine
        self._key_ids: dict[str, int] = {}
        self._experiment_keys: set[tuple[int, int, str]] = set()
        self._sql = {
            name: to_dollar(sql)
            for name, sql in {
                "run": SQL_RUN,
                "claim": SQL_CLAIM_BATCH,
                "claimed": SQL_CLAIMED_BATCH,
                "param": SQL_PARAM_INSERT,
                "tag": SQL_TAG_UPSERT,
                "key": SQL_KEY_INSERT,
                "chunk": SQL_CHUNK,
                "latest": SQL_LATEST_UPSERT,
                "experiment_keys": SQL_EXPERIMENT_KEYS,
            }.items()
        }

    async def close(self) -> None:
        return None

    async def create_run(self, request: RunCreate) -> dict[str, Any]:
        raw = await self._engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            async with conn.transaction():
                return await run_asyncpg(conn, create_run_program(request))
        finally:
            raw.close()

    async def write(self, request: BatchRequest) -> BatchOutcome:
        raw = await self._engine.raw_connection()
        try:
            conn = raw.driver_connection
            assert conn is not None
            learned = Learned()
            tx = conn.transaction()
            await tx.start()
            try:
                outcome = await self._write_in_transaction(conn, request, learned)
            except BaseException:
                await tx.rollback()
                raise
            if outcome.duplicate:
                await tx.rollback()
            else:
                await tx.commit()
                self._key_ids.update(learned.key_ids)
                self._experiment_keys.update(learned.experiment_keys)
            return outcome
        finally:
            raw.close()

    async def _write_in_transaction(self, conn: Any, req: BatchRequest, learned: Learned) -> BatchOutcome:
        sql = self._sql
        run_pk, experiment_id = check_run(await conn.fetchrow(sql["run"], req.run_id), req.run_id)
        n_points = len(req.metrics.keys) if req.metrics else 0
        if req.batch_id is not None:
            status = await conn.execute(
                sql["claim"], run_pk, req.batch_id, req.now_ms, n_points, len(req.params), len(req.tags)
            )
            if status.endswith(" 0"):
                row = await conn.fetchrow(sql["claimed"], run_pk, req.batch_id)
                return BatchOutcome(req.run_id, req.batch_id, experiment_id, True, *row)
        new_keys: list[tuple[int, int, str]] = []
        if req.params:
            wanted = dedupe_params(req.run_id, req.params)
            existing = await conn.fetch(
                to_dollar(_in_list(SQL_PARAMS_EXISTING, len(wanted))), run_pk, *wanted
            )
            fresh = check_param_conflicts(req.run_id, wanted, [tuple(r) for r in existing])
            if fresh:
                await conn.executemany(sql["param"], [(run_pk, k, v) for k, v in fresh.items()])
            new_keys += [(experiment_id, KEY_KIND_PARAM, k) for k in wanted]
        if req.tags:
            # Sorted by key: concurrent upserts lock rows in one order.
            await conn.executemany(sql["tag"], sorted((run_pk, k, v) for k, v in dict(req.tags).items()))
            new_keys += [(experiment_id, KEY_KIND_TAG, k) for k, _ in req.tags]
        metric_keys: tuple[str, ...] = ()
        if req.metrics and n_points:
            m = req.metrics
            metric_keys = tuple(dict.fromkeys(m.keys))
            ids = await self._intern(conn, metric_keys, learned)
            key_ids = [ids[k] for k in m.keys] if len(metric_keys) > 1 else [ids[metric_keys[0]]] * n_points
            groups = group_by_key(key_ids, m.steps, m.timestamps, m.values)
            await conn.executemany(sql["chunk"], [chunk_row(run_pk, group) for group in groups])
            await conn.executemany(sql["latest"], [(run_pk, *row) for row in summarize(groups)])
            new_keys += [(experiment_id, KEY_KIND_METRIC, k) for k in metric_keys]
        unseen = sorted(k for k in dict.fromkeys(new_keys) if k not in self._experiment_keys)
        if unseen:
            await conn.executemany(sql["experiment_keys"], unseen)
        learned.experiment_keys.update(unseen)
        return BatchOutcome(
            req.run_id,
            req.batch_id,
            experiment_id,
            False,
            n_points,
            len(req.params),
            len(req.tags),
            metric_keys,
        )

    async def _intern(self, conn: Any, keys: Sequence[str], learned: Learned) -> dict[str, int]:
        missing = sorted(k for k in keys if k not in self._key_ids)
        if not missing:
            return self._key_ids
        # A concurrent transaction inserting the same key makes this one wait, then do nothing;
        # the SELECT (a new snapshot under READ COMMITTED) then sees the committed row.
        await conn.executemany(self._sql["key"], [(k,) for k in missing])
        rows = await conn.fetch(to_dollar(_in_list(SQL_KEY_SELECT, len(missing))), *missing)
        for kid, key in rows:
            learned.key_ids[key] = kid
        return {**self._key_ids, **learned.key_ids}


def open_batch_writer(database: Database) -> BatchWriter:
    if database.dialect == "sqlite":
        path = sqlite_path(database.url)
        assert path is not None
        return SqliteBatchWriter(str(path))
    return PostgresBatchWriter(database)


__all__ = [
    "BatchOutcome",
    "BatchRequest",
    "BatchWriter",
    "MetricColumns",
    "open_batch_writer",
]
