"""The spool on its own: ordering, crash recovery, the memory window, locking, rotation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mltrail import _spool
from mltrail._batcher import _item_records, encode_values
from mltrail._delivery import split_batch
from mltrail._spool import Spool, SpoolBusy, make_record


def batch(run: str, n: int, start: int = 0) -> _spool.Record:
    metrics = {"keys": ["m"] * n, "values": [float(i) for i in range(start, start + n)],
               "steps": list(range(start, start + n)), "timestamps": [0] * n}  # fmt: skip
    return make_record("logBatch", {"runId": run, "batchId": f"b{start}", "metrics": metrics})


def test_records_come_back_in_order_and_the_session_is_removed_when_drained(tmp_path: Path) -> None:
    spool = Spool.create(tmp_path, tracking_uri="http://x")
    for i in range(5):
        spool.append(batch("r", 3, start=i * 3))
    seen = []
    while (record := spool.peek()) is not None:
        seen.append(record.variables()["batchId"])
        spool.mark_done()
    assert seen == ["b0", "b3", "b6", "b9", "b12"]
    assert spool.drained
    assert spool.close() is True
    assert Spool.sessions(tmp_path) == []


def test_a_crashed_session_keeps_undelivered_records_and_drops_a_torn_tail(tmp_path: Path) -> None:
    spool = Spool.create(tmp_path, tracking_uri="http://server:5000")
    for i in range(4):
        spool.append(batch("r", 2, start=i * 2))
    spool.peek()
    spool.mark_done()  # the first one was delivered
    directory = spool.directory
    # Simulate SIGKILL mid-write: release the lock as the kernel would, leave half a line.
    os.close(spool._lock_fd)  # type: ignore[arg-type]
    with open(directory / _spool.JOURNAL, "ab") as journal:
        journal.write(b'logBatch\t2\t{"runId":"r","batch')

    reopened = Spool.open(directory)
    assert reopened.tracking_uri == "http://server:5000"
    pending = [record.variables()["batchId"] for record in reopened.pending()]
    assert pending == ["b2", "b4", "b6"]
    assert reopened.close() is False  # undelivered records keep the session
    assert Spool.sessions(tmp_path) == [directory]


def test_a_live_session_is_locked_against_sync(tmp_path: Path) -> None:
    spool = Spool.create(tmp_path, tracking_uri="http://x")
    spool.append(batch("r", 1))
    with pytest.raises(SpoolBusy):
        Spool.open(spool.directory)
    spool.close()
    Spool.open(spool.directory).close()


def test_memory_holds_a_bounded_window_and_the_rest_is_read_back_from_disk(tmp_path: Path) -> None:
    spool = Spool.create(tmp_path, tracking_uri="http://x", window=100)
    for i in range(50):
        spool.append(batch("r", 10, start=i * 10))
    assert spool._cache_weight <= 100
    steps = []
    while (record := spool.peek()) is not None:
        assert spool._cache_weight <= 100
        steps.extend(record.variables()["metrics"]["steps"])
        spool.mark_done()
    assert steps == list(range(500))
    spool.close()


def test_a_drained_journal_is_truncated_once_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_spool, "ROTATE_BYTES", 1000)
    spool = Spool.create(tmp_path, tracking_uri="http://x")
    for round_ in range(3):
        for i in range(10):
            spool.append(batch("r", 5, start=round_ * 100 + i * 5))
        while spool.peek() is not None:
            spool.mark_done()
        assert (spool.directory / _spool.JOURNAL).stat().st_size == 0
    spool.append(batch("r", 1, start=999))
    assert spool.peek().variables()["metrics"]["steps"] == [999]  # type: ignore[union-attr]
    spool.close()


def test_non_finite_values_travel_as_strings() -> None:
    assert encode_values([1.0, 2.5]) == [1.0, 2.5]
    assert encode_values([float("nan"), float("inf"), -float("inf"), 1e308, 1e308]) == [
        "NaN", "Infinity", "-Infinity", 1e308, 1e308,
    ]  # fmt: skip
    json.dumps(encode_values([float("nan")]), allow_nan=False)


def test_split_batch_separates_kinds_first_then_halves_with_derived_ids() -> None:
    variables = {"runId": "r", "batchId": "b", "metrics": {"keys": ["a", "b", "c"], "values": [1, 2, 3],
                 "steps": [0, 1, 2], "timestamps": [0, 0, 0]}, "params": [{"key": "p", "value": "1"}]}  # fmt: skip
    metrics, params = split_batch(variables)  # type: ignore[misc]
    assert metrics["batchId"] == "b.0" and "params" not in metrics
    assert params["batchId"] == "b.1" and params["params"] == [{"key": "p", "value": "1"}]
    first, second = split_batch(metrics)  # type: ignore[misc]
    assert first["metrics"]["keys"] == ["a"] and second["metrics"]["keys"] == ["b", "c"]
    assert first["batchId"] == "b.0.0"
    assert split_batch({"runId": "r", "batchId": "x", "params": [{"key": "p", "value": "1"}]}) is None


def test_params_logged_twice_with_different_values_go_to_a_later_record() -> None:
    records = _item_records([("r", "p", "lr", "0.1"), ("r", "t", "t", "a"), ("r", "p", "lr", "0.2"),
                             ("r", "p", "lr", "0.1"), ("r", "t", "t", "b")])  # fmt: skip
    first, second = (r.variables() for r in records)
    assert first["params"] == [{"key": "lr", "value": "0.1"}]
    assert first["tags"] == [{"key": "t", "value": "b"}]  # the last value of a tag wins
    assert second["params"] == [{"key": "lr", "value": "0.2"}]
