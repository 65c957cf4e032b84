"""Background WAL checkpoints for the SQLite batch writer.

In WAL mode SQLite copies the log back into the database file (a checkpoint) from inside the
COMMIT that takes the log past ``wal_autocheckpoint`` pages: the request that happens to commit
that transaction waits for the copy (65 ms for the 40 MB that a long ingest leaves, measured
here on a createRun that followed one). ``WalCheckpointer`` makes the copy on a thread and
connection of its own, with a PASSIVE checkpoint (readers and the writer carry on meanwhile),
shortly after commits; the connections keep their own autocheckpoint only as a backstop at a
higher mark (store/engine.py), should this thread ever fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from mltrail_server.store.engine import tune_sqlite

log = logging.getLogger("mltrail.store")


class WalCheckpointer:
    """Checkpoints the WAL of one SQLite file a moment after the writer says it committed."""

    def __init__(self, database_path: str, *, delay_s: float = 0.2) -> None:
        self._path = database_path
        self._delay_s = delay_s
        self._pending = threading.Event()
        self._stopping = threading.Event()
        self.checkpoints = 0  # completed checkpoint calls (for tests)
        self._thread = threading.Thread(target=self._serve, name="mltrail-sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Called by the writer after each commit: cheap, never blocks."""
        self._pending.set()

    def stop(self) -> None:
        self._stopping.set()
        self._pending.set()
        self._thread.join()

    def _serve(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopping.is_set():
                if not self._pending.wait(timeout=1.0):
                    continue
                # Let a burst of commits land first: one checkpoint copies them all.
                if self._stopping.wait(self._delay_s):
                    return
                self._pending.clear()
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                        tune_sqlite(conn)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as error:
                    # Busy (another worker process is checkpointing) or a passing I/O error:
                    # the next commit tries again, and the connections' own autocheckpoint
                    # still bounds the log. A real disk problem shows in the writer's commits.
                    log.debug("background WAL checkpoint did not run: %s", error)
        finally:
            if conn is not None:
                conn.close()
