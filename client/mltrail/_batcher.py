"""Queued logging: microseconds on the caller's thread, delivery on background threads.

The caller's side (`add_metric`, `add_param`, `add_tag`, `submit`) appends to in-memory
columns under one lock and returns. A journaler thread wakes when `flush_points` points are
queued or every `flush_interval` seconds, turns the columns into columnar `logBatch` records
(at most `max_batch_points` points each, a fresh `batchId` each) and appends them to the
spool. A sender thread posts spool records oldest first, retrying with exponential backoff
and full jitter while the server is unreachable; records stay in the spool until answered.

Memory policy (bounded, never a silent drop): at most `max_queue_points` points wait in
memory (~40 bytes each). When a caller finds the queue full it wakes the journaler and
blocks up to `block_seconds` for room; if there is still none (the journaler cannot keep up:
slow disk, starved CPU), the caller writes the queue to the spool itself and carries on.
Records waiting for delivery live in the spool on disk, with only a bounded window of them in
memory, so a slow or absent server never grows the process.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
import uuid
import weakref
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mltrail._delivery import Delivery, ServerErrorRetry
from mltrail._exceptions import InvalidArgument, MltrailWarning, ServerUnavailable
from mltrail._spool import Record, Spool, default_root, make_record

logger = logging.getLogger("mltrail")

_time_ns = time.time_ns
_monotonic = time.monotonic
_isfinite = math.isfinite

# Params and tags per record (and params per createRun): the server's default limit per
# batch, and big enough for a config.
MAX_ITEMS_PER_RECORD = 1000


class Batcher:
    """The queue between training code and the server for one tracking URI."""

    def __init__(
        self,
        tracking_uri: str,
        *,
        spool_root: str | os.PathLike[str] | None = None,
        flush_points: int = 1_000,
        flush_interval: float = 0.2,
        max_batch_points: int = 10_000,
        max_queue_points: int = 250_000,
        block_seconds: float = 0.5,
        retry_max_delay: float = 5.0,
        timeout: float = 30.0,
        user: str | None = None,
    ) -> None:
        from mltrail._transport import GraphQLTransport

        self.tracking_uri = tracking_uri
        self._timeout = timeout
        self._user = user
        self._spool_root = Path(spool_root) if spool_root is not None else default_root()
        # The size trigger is also where the memory bound is checked, so it never exceeds it.
        self._flush_points = min(flush_points, max_queue_points)
        self._flush_interval = flush_interval
        self._max_batch_points = max_batch_points
        self._max_queue_points = max_queue_points
        self._block_seconds = block_seconds
        self._retry_max_delay = retry_max_delay

        self._auto_steps: dict[tuple[str, str], int] = {}
        self._start(GraphQLTransport)
        _live_batchers.add(self)

    def _start(self, transport_class: Any) -> None:
        """Fresh locks, queue, delivery state and sender thread (also in a forked child)."""
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._new_columns()
        self._items: list[tuple[str, str, str, str]] = []  # (run_id, "p" | "t", key, value)

        # `_drain_lock` orders drains among themselves (swap, encode, append), so records keep
        # the order of the calls; `_spool_lock` guards the spool only, so the sender can take
        # the next record while the journaler is still encoding the following ones.
        self._drain_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._spool: Spool | _MemorySpool | None = None
        self._appended = 0
        self._handled = 0

        self.delivery = Delivery(transport_class(self.tracking_uri, timeout=self._timeout, user=self._user))
        self._progress = threading.Condition()
        self._failures = 0  # consecutive failed attempts
        self._failed_attempts = 0  # all failed attempts, for flush()
        self._retry_at = 0.0
        self._retry_now = False
        self._flushing = 0
        self._offline_reported = False
        self._stopping = False
        self._closed = False
        self.spills = 0  # times a caller had to write the queue to the spool itself

        # Two daemon threads: the journaler encodes queued points into the spool, the sender
        # posts spool records. Encoding (float to JSON costs about a microsecond per point)
        # overlaps with requests in flight instead of adding to them.
        self._wake = threading.Event()  # the journaler's: points are waiting
        self._send_wake = threading.Event()  # the sender's: records are waiting
        self._journaler = threading.Thread(target=self._journal_loop, name="mltrail-journaler", daemon=True)
        self._thread = threading.Thread(target=self._send_loop, name="mltrail-sender", daemon=True)
        self._journaler.start()
        self._thread.start()

    # -- the caller's side: cheap, never touches the network --------------------------------

    def add_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        if type(value) is not float:
            value = _as_float(key, value)
        if timestamp is None:
            timestamp = _time_ns() // 1_000_000
        elif type(timestamp) is not int:
            timestamp = _as_int("timestamp", timestamp)
        if type(key) is not str or not key:
            raise InvalidArgument(f"metric key must be a non-empty string, got {key!r}")
        if step is not None and type(step) is not int:
            step = _as_int("step", step)
        with self._lock:
            if step is None:
                auto = (run_id, key)
                step = self._auto_steps.get(auto, 0)
                self._auto_steps[auto] = step + 1
            try:
                self._steps.append(step)
            except OverflowError:
                raise InvalidArgument(f"step {step} of metric {key!r} does not fit in 64 bits") from None
            try:
                self._timestamps.append(timestamp)
            except OverflowError:
                self._steps.pop()
                raise InvalidArgument(f"timestamp {timestamp} does not fit in 64 bits") from None
            self._values.append(value)
            self._keys.append(key)
            self._run_ids.append(run_id)
            queued = len(self._keys)
        if queued >= self._flush_points:
            if queued == self._flush_points:
                self._wake.set()
            if queued >= self._max_queue_points:
                self._make_room()

    def add_param(self, run_id: str, key: str, value: Any) -> None:
        self._add_item(run_id, "p", key, value)

    def add_tag(self, run_id: str, key: str, value: Any) -> None:
        self._add_item(run_id, "t", key, value)

    def _add_item(self, run_id: str, kind: str, key: str, value: Any) -> None:
        value = item_value("param" if kind == "p" else "tag", key, value)
        with self._lock:
            self._items.append((run_id, kind, key, value))
            queued = len(self._items)
        if queued >= self._flush_points:
            self._wake.set()

    def submit(self, operation: str, variables: dict[str, Any]) -> None:
        """Queue a non-batched operation (createRun, updateRun, logInputs) after what is queued."""
        self._journal(extra=[make_record(operation, variables)])

    def _make_room(self) -> None:
        self._wake.set()
        deadline = _monotonic() + self._block_seconds
        with self._room:
            while len(self._keys) >= self._max_queue_points:
                remaining = deadline - _monotonic()
                if remaining <= 0:
                    break
                self._room.wait(remaining)
            full = len(self._keys) >= self._max_queue_points
        if full:
            self.spills += 1
            self._journal()

    # -- flushing and closing ---------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is delivered; False on timeout or when offline.

        "Offline" means three attempts in a row failed after this call started (they are made
        at once and then every few hundred milliseconds): the data is safe in the spool and
        will be sent when the server is back, so there is no point holding the caller longer.
        """
        if self._closed:
            return self._appended == self._handled
        self._journal()
        with self._spool_lock:
            target = self._appended
        deadline = None if timeout is None else _monotonic() + timeout
        with self._progress:
            failed_before = self._failed_attempts
            self._flushing += 1
        self._retry_now = True
        self._send_wake.set()
        try:
            with self._progress:
                while self._handled < target:
                    if self._failed_attempts - failed_before >= 3 or not self._thread.is_alive():
                        return False
                    remaining = None if deadline is None else deadline - _monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._progress.wait(0.5 if remaining is None else min(0.5, remaining))
                return True
        finally:
            with self._progress:
                self._flushing -= 1

    def close(self, timeout: float | None = 10.0) -> bool:
        """Flush, stop the sender and release the spool. True if nothing was left undelivered."""
        if self._closed:
            return True
        delivered = self.flush(timeout)
        self._closed = True
        self._stopping = True
        self._wake.set()
        self._send_wake.set()
        self._journaler.join(timeout=2.0)
        self._thread.join(timeout=2.0)
        with self._spool_lock:
            spool, self._spool = self._spool, None
            if spool is not None:
                removed = spool.close()
                if not removed:
                    pending = self._appended - self._handled
                    _warn(
                        f"mltrail: {pending} queued operation(s) could not be delivered to "
                        f"{self.tracking_uri}; they are kept in {spool.directory} and will be sent "
                        "by `mltrail sync`."
                    )
        self.delivery.transport.close()
        return delivered

    @property
    def pending(self) -> int:
        """Operations journaled but not yet handled, plus points and items still in memory."""
        with self._lock:
            queued = len(self._keys) + len(self._items)
        return queued + self._appended - self._handled

    # -- the background threads -------------------------------------------------------------

    def _journal_loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            try:
                self._journal()
            except Exception:  # must survive anything; what was queued stays queued
                logger.exception("mltrail: unexpected error while journaling")
                time.sleep(self._flush_interval)

    def _send_loop(self) -> None:
        while not self._stopping:
            self._send_wake.wait(self._next_wait())
            self._send_wake.clear()
            try:
                self._deliver_pending()
            except Exception:  # must survive anything; the record stays in the spool
                logger.exception("mltrail: unexpected error in the background sender")
                time.sleep(self._flush_interval)

    def _next_wait(self) -> float:
        if self._retry_at and not self._retry_now:
            return max(0.0, min(1.0, self._retry_at - _monotonic()))
        return 1.0  # the journaler wakes the sender when there is something to send

    def _deliver_pending(self) -> None:
        while not self._stopping or self._flushing:
            if self._retry_now:
                self._retry_now = False
            elif _monotonic() < self._retry_at:
                return
            with self._spool_lock:
                record = self._spool.peek() if self._spool is not None else None
            if record is None:
                return
            try:
                self.delivery.deliver(record)
            except ServerUnavailable as error:
                self._note_failure(error)
                return
            with self._spool_lock:
                if self._spool is not None:
                    self._spool.mark_done()
            with self._progress:
                self._handled += 1
                self._failures = 0
                self._retry_at = 0.0
                self._progress.notify_all()
            if self._offline_reported:
                self._offline_reported = False
                logger.warning("mltrail: %s is reachable again; sending the spooled data", self.tracking_uri)

    def _note_failure(self, error: Exception) -> None:
        # A server that answers INTERNAL is up: flush() keeps waiting for the retries (and the
        # split that follows them) instead of concluding that it is offline.
        answered = isinstance(error, ServerErrorRetry)
        with self._progress:
            self._failures += 1
            if not answered:
                self._failed_attempts += 1
            delay = min(self._retry_max_delay, 0.1 * 2 ** min(self._failures, 16))
            if self._flushing:
                delay = min(delay, 0.3)  # someone is waiting: find out soon whether it is back
            # Full jitter: many clients that lost the same server do not come back in step.
            self._retry_at = _monotonic() + random.uniform(delay / 2, delay)
            self._progress.notify_all()
        if not self._offline_reported and not answered:
            self._offline_reported = True
            logger.warning(
                "mltrail: cannot reach %s (%s); logging continues into the spool and is sent when "
                "the server is back",
                self.tracking_uri,
                error,
            )

    # -- journaling ---------------------------------------------------------------------------

    def _new_columns(self) -> None:
        self._run_ids: list[str] = []
        self._keys: list[str] = []
        self._values = array("d")
        self._steps = array("q")
        self._timestamps = array("q")

    def _journal(self, extra: Iterable[Record] = ()) -> None:
        """Move everything queued in memory into the spool, then `extra`, in call order."""
        with self._drain_lock:
            with self._lock:
                run_ids, keys, values = self._run_ids, self._keys, self._values
                steps, timestamps, items = self._steps, self._timestamps, self._items
                if keys:
                    self._new_columns()
                    self._room.notify_all()
                if items:
                    self._items = []
            records = _item_records(items) if items else []
            if keys:
                records.extend(
                    _metric_records(run_ids, keys, values, steps, timestamps, self._max_batch_points)
                )
            records.extend(extra)
            if not records:
                return
            with self._spool_lock:
                spool = self._open_spool()
                for record in records:
                    try:
                        spool.append(record)
                    except OSError as error:  # disk full, spool directory removed, ...
                        spool = self._spool_in_memory(error)
                        spool.append(record)
                    self._appended += 1
        self._send_wake.set()

    def _open_spool(self) -> Spool | _MemorySpool:
        if self._spool is None:
            try:
                self._spool = Spool.create(self._spool_root, tracking_uri=self.tracking_uri)
            except OSError as error:
                return self._spool_in_memory(error)
        return self._spool

    def _spool_in_memory(self, error: OSError) -> _MemorySpool:
        """Keep queueing in memory when the disk refuses; what is on disk is left for sync."""
        old = self._spool
        note = ""
        if isinstance(old, Spool):
            stranded = old.appended - old.handled
            self._handled += stranded  # no longer this process's to deliver: flush must not wait
            old.close()
            note = f"; {stranded} operation(s) already in {old.directory} will be sent by `mltrail sync`"
        _warn(
            f"mltrail: cannot write the spool under {self._spool_root} ({error}){note}; from now on "
            "queued logging is kept in memory only and is lost if the process dies"
        )
        self._spool = _MemorySpool()
        return self._spool

    def _after_fork_in_child(self) -> None:
        # The parent's locks may have been held by a thread that does not exist here, its
        # sockets and spool belong to the parent: a forked child (a data-loader worker, say)
        # starts over with its own queue, sender and spool session.
        from mltrail._transport import GraphQLTransport

        self._auto_steps = {}
        self._start(GraphQLTransport)


class _MemorySpool:
    """Stand-in when the spool directory is unusable: same interface, nothing durable."""

    directory = Path("<memory>")

    def __init__(self) -> None:
        from collections import deque

        self._records: deque[Record] = deque()
        self.appended = 0
        self.handled = 0

    def append(self, record: Record) -> None:
        self._records.append(record)
        self.appended += 1

    def peek(self) -> Record | None:
        return self._records[0] if self._records else None

    def mark_done(self) -> None:
        self._records.popleft()
        self.handled += 1

    def close(self) -> bool:
        return not self._records


_live_batchers: weakref.WeakSet[Batcher] = weakref.WeakSet()


def _reinitialize_after_fork() -> None:
    for batcher in list(_live_batchers):
        if not batcher._closed:
            batcher._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinitialize_after_fork)


def _warn(text: str) -> None:
    import warnings

    logger.warning(text)
    warnings.warn(text, MltrailWarning, stacklevel=3)


def item_value(kind: str, key: Any, value: Any) -> str:
    """A param's or tag's value as the wire carries it (a string); refuses a key that can never
    be valid, at the call. Shared by queued logging and `start_run(params=...)`."""
    if type(key) is not str or not key:
        raise InvalidArgument(f"{kind} key must be a non-empty string")
    return value if type(value) is str else str(value)


def _as_float(key: str, value: Any) -> float:
    try:
        return float(value)  # ints, numpy scalars, 0-d tensors
    except (TypeError, ValueError):
        raise InvalidArgument(f"metric {key!r}: value {value!r} is not a number") from None


def _as_int(name: str, value: Any) -> int:
    import operator

    try:
        return operator.index(value)  # ints and numpy integers; not floats, which would truncate
    except TypeError:
        raise InvalidArgument(f"{name} must be an integer, got {value!r}") from None


def encode_values(values: list[float]) -> list[float | str]:
    """Metric values as the wire carries them: non-finite ones as "NaN" / "Infinity" / "-Infinity"."""
    if _isfinite(sum(values)):  # one C-speed pass for the common all-finite case
        return values  # type: ignore[return-value]
    return [
        v if _isfinite(v) else ("NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")) for v in values
    ]


def _metric_records(
    run_ids: list[str],
    keys: list[str],
    values: array,
    steps: array,
    timestamps: array,
    max_points: int,
) -> list[Record]:
    if run_ids.count(run_ids[0]) == len(run_ids):
        groups: dict[str, list[int] | None] = {run_ids[0]: None}
    else:  # several runs at once (nested runs): split by run, keeping each run's order
        groups = {}
        for index, run_id in enumerate(run_ids):
            groups.setdefault(run_id, []).append(index)  # type: ignore[union-attr]
    records = []
    for run_id, indexes in groups.items():
        if indexes is None:
            k, v, s, t = keys, values.tolist(), steps.tolist(), timestamps.tolist()
        else:
            k = [keys[i] for i in indexes]
            v = [values[i] for i in indexes]
            s = [steps[i] for i in indexes]
            t = [timestamps[i] for i in indexes]
        v = encode_values(v)
        for start in range(0, len(k), max_points):
            end = start + max_points
            metrics = {
                "keys": k[start:end],
                "values": v[start:end],
                "steps": s[start:end],
                "timestamps": t[start:end],
            }
            variables = {"runId": run_id, "batchId": uuid.uuid4().hex, "metrics": metrics}
            records.append(make_record("logBatch", variables))
    return records


def _item_records(items: list[tuple[str, str, str, str]]) -> list[Record]:
    """Params and tags per run. A tag set twice keeps its last value; a param logged again
    with another value goes into a later record, so the server judges it on its own."""
    records = []
    pending = items
    while pending:
        params: dict[str, dict[str, str]] = {}
        tags: dict[str, dict[str, str]] = {}
        later = []
        for item in pending:
            run_id, kind, key, value = item
            if kind == "t":
                tags.setdefault(run_id, {})[key] = value
                continue
            run_params = params.setdefault(run_id, {})
            if run_params.get(key, value) != value:
                later.append(item)
            else:
                run_params[key] = value
        for run_id in dict.fromkeys([*params, *tags]):
            param_list = [{"key": k, "value": v} for k, v in params.get(run_id, {}).items()]
            tag_list = [{"key": k, "value": v} for k, v in tags.get(run_id, {}).items()]
            for start in range(0, max(len(param_list), len(tag_list)), MAX_ITEMS_PER_RECORD):
                variables: dict[str, Any] = {"runId": run_id, "batchId": uuid.uuid4().hex}
                chunk_params = param_list[start : start + MAX_ITEMS_PER_RECORD]
                chunk_tags = tag_list[start : start + MAX_ITEMS_PER_RECORD]
                if chunk_params:
                    variables["params"] = chunk_params
                if chunk_tags:
                    variables["tags"] = chunk_tags
                records.append(make_record("logBatch", variables))
        pending = later
    return records
