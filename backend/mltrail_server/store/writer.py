"""The write path of runs and their batches (createRun, logBatch), on its own connection.

Why not the ORM session: a 10,000-point batch through SQLAlchemy + aiosqlite spends more in
thread hops and object handling than in SQL, and createRun spent ≈ 4 ms of Python around
≈ 0.6 ms of SQL. The rules of each write are one program for both databases
(store/batch_writes.py, store/run_writes.py); this module owns the connections and the
transactions that run them:

- SQLite: a single writer thread owns a plain ``sqlite3`` connection and runs each write as
  ``BEGIN IMMEDIATE`` + the program, which removes "database is locked" by construction (one
  writer per process; the busy timeout covers other processes). WAL checkpoints run on a
  background thread (store/wal.py).
- PostgreSQL: the same programs on an asyncpg connection borrowed from the engine's pool;
  concurrent writes really overlap there, so the batch program orders its locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from mltrail_server.store.batch_writes import (
    BatchOutcome,
    BatchRequest,
    KnownIds,
    Learned,
    log_batch_program,
)
from mltrail_server.store.engine import Database, sqlite_path, tune_sqlite
from mltrail_server.store.programs import run_asyncpg, run_sqlite
from mltrail_server.store.run_writes import RunCreate, create_run_program
from mltrail_server.store.wal import WalCheckpointer


class RunWriter(Protocol):
    """Creates runs and writes their batches, each call one transaction of its own."""

    async def write(self, request: BatchRequest) -> BatchOutcome: ...

    async def create_run(self, request: RunCreate) -> dict[str, Any]: ...

    async def close(self) -> None: ...


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


class SqliteRunWriter:
    """Serialises every write of this process through one thread and one connection."""

    def __init__(self, database_path: str) -> None:
        self._path = database_path
        self._thread = WriterThread("mltrail-sqlite-writer")
        self._checkpointer = WalCheckpointer(database_path)
        self._conn: sqlite3.Connection | None = None
        self._known = KnownIds(key_ids={}, experiment_keys=set())

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

    async def create_run(self, request: RunCreate) -> dict[str, Any]:
        return await self._thread.call(self._create_run, request)

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._thread.call(_close)
        await asyncio.to_thread(self._thread.stop)
        await asyncio.to_thread(self._checkpointer.stop)

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
            outcome = run_sqlite(conn, log_batch_program(req, self._known, learned, ordered_locks=False))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if outcome.duplicate:
            conn.execute("ROLLBACK")
        else:
            conn.execute("COMMIT")
            self._checkpointer.committed()
            _remember(self._known, learned)
        return outcome


class PostgresRunWriter:
    """The same programs on asyncpg, each write on a connection borrowed from the pool."""

    def __init__(self, database: Database) -> None:
        self._engine = database.write_engine
        self._known = KnownIds(key_ids={}, experiment_keys=set())

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
                program = log_batch_program(request, self._known, learned, ordered_locks=True)
                outcome = await run_asyncpg(conn, program)
            except BaseException:
                await tx.rollback()
                raise
            if outcome.duplicate:
                await tx.rollback()
            else:
                await tx.commit()
                _remember(self._known, learned)
            return outcome
        finally:
            raw.close()


def _remember(known: KnownIds, learned: Learned) -> None:
    """After a commit: what the transaction interned is safe for every later one to use."""
    known.key_ids.update(learned.key_ids)
    known.experiment_keys.update(learned.experiment_keys)


def open_run_writer(database: Database) -> RunWriter:
    if database.dialect == "sqlite":
        path = sqlite_path(database.url)
        assert path is not None
        return SqliteRunWriter(str(path))
    return PostgresRunWriter(database)


__all__ = ["PostgresRunWriter", "RunWriter", "SqliteRunWriter", "WriterThread", "open_run_writer"]
