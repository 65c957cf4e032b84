"""The batch writer: its key caches (an id joins them only once its transaction committed)
and the thread that runs its calls."""

from __future__ import annotations

import pytest

from fixtures.documents import HISTORIES, LOG_BATCH, metrics, new_experiment, new_run
from mltrail_server.store import batch_writes
from mltrail_server.store.writer import WriterThread, open_run_writer


async def test_a_rolled_back_batch_leaves_no_key_id_behind(gql, monkeypatch):
    rid = await new_run(gql, await new_experiment(gql))
    real_summarize = batch_writes.summarize

    def fail_once(*args, **kwargs):
        monkeypatch.setattr(batch_writes, "summarize", real_summarize)
        raise RuntimeError("disk full (injected after the key was interned)")

    monkeypatch.setattr(batch_writes, "summarize", fail_once)
    body = await gql.raw(LOG_BATCH, {"runId": rid, "metrics": metrics("fresh", [1.0])})
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    # The rolled-back id may be handed to the next new key; "fresh" must not follow it there.
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("other", [2.0])})
    await gql.ok(LOG_BATCH, {"runId": rid, "metrics": metrics("fresh", [3.0])})
    series = {s["key"]: s["values"] for s in (await gql.ok(HISTORIES, {"runIds": [rid]}))["metricHistories"]}
    assert series == {"fresh": [3.0], "other": [2.0]}


@pytest.mark.parametrize("n_keys", [1, 3])
async def test_concurrent_first_use_of_a_key(gql, n_keys):
    import asyncio

    rid = await new_run(gql, await new_experiment(gql))
    keys = [f"k{i}" for i in range(n_keys)]

    async def send(i: int) -> None:
        batch = {"keys": keys, "values": [float(i)] * n_keys, "steps": [i] * n_keys, "timestamps": [i] * n_keys}
        await gql.ok(LOG_BATCH, {"runId": rid, "metrics": batch})

    await asyncio.gather(*(send(i) for i in range(8)))
    series = (await gql.ok(HISTORIES, {"runIds": [rid]}))["metricHistories"]
    assert [s["key"] for s in series] == keys and all(s["totalPoints"] == 8 for s in series)


async def test_writer_thread_runs_calls_in_order_and_hands_back_results_and_errors():
    import asyncio
    import threading

    thread = WriterThread("test-writer")
    seen: list[int] = []
    gate = threading.Event()

    def record(i: int) -> str:
        if i == 0:
            gate.wait(5)  # later calls queue up behind this one
        seen.append(i)
        return threading.current_thread().name

    def fail() -> None:
        raise ValueError("bad batch")

    try:
        futures = [thread.call(record, i) for i in range(5)]
        failing = thread.call(fail)
        gate.set()
        assert await asyncio.gather(*futures) == ["test-writer"] * 5
        assert seen == [0, 1, 2, 3, 4]
        with pytest.raises(ValueError, match="bad batch"):
            await failing
        # A caller that gives up does not stop the call: a started batch is written whole.
        gate.clear()
        slow = thread.call(record, 5)
        slow.cancel()
        after = thread.call(record, 6)
        gate.set()
        assert await after == "test-writer" and seen[-2:] == [5, 6]
    finally:
        gate.set()
        await asyncio.to_thread(thread.stop)
    with pytest.raises(RuntimeError, match="stopped"):
        thread.call(record, 7)


async def test_sqlite_wal_is_checkpointed_in_the_background(tmp_path):
    """Committed batches reach the database file without any request doing the copy: the
    main file grows (in WAL mode only a checkpoint writes it) while the log stays far below
    the connections' own autocheckpoint mark."""
    import asyncio
    import time

    from mltrail_server.config import Settings
    from mltrail_server.services import runs
    from mltrail_server.store import migrate
    from mltrail_server.store.engine import open_database

    path = tmp_path / "wal.db"
    db = open_database(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(db.write_engine)
    writer = open_run_writer(db)
    try:
        run = await runs.create_run(db, writer, settings=Settings(), experiment_name="e")
        size_before = path.stat().st_size
        n = 20_000
        columns = batch_writes.MetricColumns(["loss"] * n, [0.5] * n, list(range(n)), [1] * n)
        for b in range(5):
            await writer.write(batch_writes.BatchRequest(run.id, f"b{b}", columns, (), (), 0))
        deadline = time.monotonic() + 10
        while path.stat().st_size <= size_before:
            assert time.monotonic() < deadline, "no background checkpoint within 10 s"
            await asyncio.sleep(0.05)
        assert writer._checkpointer.checkpoints >= 1
        assert path.with_name(path.name + "-wal").stat().st_size < 5_000 * 4096  # backstop: 20,000
    finally:
        await writer.close()
        await db.dispose()
