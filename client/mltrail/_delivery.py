"""Sending queued operations: one record from the spool at a time, with item-level rejection.

Shared by the background sender (`_batcher`) and `mltrail sync`. A record is either
delivered, or rejected for good (reported once, then skipped so later records still go), or
left for a later retry (`ServerUnavailable` propagates, the record stays first in the spool).

When the server rejects a `logBatch` with an error that may concern a single item
(INVALID_ARGUMENT, CONFLICT, RESOURCE_EXHAUSTED), the batch is split in halves and each half
sent again, recursively, with batch ids derived from the parent's — so a param logged twice
with different values costs that param only, not the metric points that travelled with it.
If both halves of the first split fail with the parent's exact message, the error concerns the
whole batch (a deleted run, say) and the batch is rejected without further splitting.

A batch that keeps failing with INTERNAL (a server bug, or a value some database cannot store)
is split the same way once its retries are used up, so the items the server can store are
stored and only the failing ones are reported, each by name. INTERNAL messages say nothing
about the item, so that split goes down to single items, within a bound on requests.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import orjson

from mltrail._documents import LOG_BATCH, QUEUED_OPERATIONS
from mltrail._exceptions import ApiError, InternalError, MltrailWarning, ServerUnavailable
from mltrail._spool import Record

logger = logging.getLogger("mltrail")

_SPLITTABLE = frozenset({"INVALID_ARGUMENT", "CONFLICT", "RESOURCE_EXHAUSTED", "INTERNAL"})
# Requests one split of a poisoned (INTERNAL) batch may make before the rest is rejected whole:
# enough to isolate a few bad items in a batch of thousands (two per halving).
_MAX_SPLIT_REQUESTS = 128
# An INTERNAL error may be a passing database hiccup; after this many attempts the record is
# treated as poison and rejected, so it cannot hold back everything queued behind it.
_MAX_INTERNAL_ATTEMPTS = 5
_MAX_REJECTIONS_KEPT = 1000


class ServerErrorRetry(ServerUnavailable):
    """The server answered INTERNAL and the record has retries left: it is reachable, the
    record waits for a later attempt (and is split once its retries are used up)."""


@dataclass(frozen=True)
class Rejection:
    """A queued operation the server refused for good."""

    operation: str
    run_id: str | None
    code: str
    message: str
    metric_points: int
    params: int
    tags: int


class Delivery:
    """Sends spool records through one transport; not thread-safe (one sender owns it)."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.rejections: list[Rejection] = []
        self.rejected_points = 0
        self._warned: set[tuple[str, str]] = set()
        self._missing_runs: dict[str, ApiError] = {}
        self._internal_failures: dict[bytes, int] = {}
        self._split_requests = 0
        self._lock = threading.Lock()

    def deliver(self, record: Record) -> None:
        """Deliver or reject one record; raise ServerUnavailable to have it retried later."""
        operation = record.operation
        document = QUEUED_OPERATIONS.get(operation)
        if document is None:
            self._reject(operation, {}, ApiError(f"unknown queued operation {operation!r}"))
            return
        if self._missing_runs:
            variables = record.variables()
            missing = self._missing_runs.get(variables.get("runId") or variables.get("id") or "")
            if missing is not None and operation != "createRun":
                self._reject(operation, variables, missing)
                return
        key = record.payload[:120]  # starts with the run id and batch id: unique enough
        try:
            error = self._attempt(document, record.payload)
            if error is not None:
                variables = record.variables()
                if operation == "logBatch":
                    self._split_after(variables, error)
                else:
                    self._reject(operation, variables, error)
        except InternalError as error:
            attempts = self._internal_failures.get(key, 0) + 1
            if attempts >= _MAX_INTERNAL_ATTEMPTS:
                self._internal_failures.pop(key, None)
                variables = record.variables()
                if operation == "logBatch":
                    self._split_after(variables, ApiError(error.message, code="INTERNAL"))
                else:
                    self._reject(operation, variables, error)
                return
            self._internal_failures[key] = attempts
            raise ServerErrorRetry(f"server error, will retry: {error}") from None
        self._internal_failures.pop(key, None)

    def _attempt(
        self, document: str, variables: bytes | dict[str, Any], *, internal_is_answer: bool = False
    ) -> ApiError | None:
        """None when accepted; the error when rejected. Transient failures raise, and so does
        INTERNAL unless the caller is splitting a batch that already used up its retries."""
        if isinstance(variables, dict):
            variables = orjson.dumps(variables)
        try:
            self.transport.execute_json(document, variables)
        except InternalError as error:
            if internal_is_answer:
                return ApiError(error.message, code="INTERNAL")
            raise
        except ApiError as error:
            return error
        return None

    def _split_after(self, variables: dict[str, Any], error: ApiError) -> None:
        halves = split_batch(variables) if error.code in _SPLITTABLE else None
        if halves is None:
            self._reject("logBatch", variables, error)
            return
        self._split_requests = 0
        errors = [self._attempt(LOG_BATCH, half, internal_is_answer=True) for half in halves]
        # INTERNAL messages are all alike: they cannot tell a batch-wide error from two bad items.
        if error.code != "INTERNAL" and all(e is not None and e.message == error.message for e in errors):
            self._reject("logBatch", variables, error)
            return
        for half, half_error in zip(halves, errors, strict=True):
            if half_error is not None:
                self._bisect(half, half_error)

    def _bisect(self, variables: dict[str, Any], error: ApiError) -> None:
        halves = split_batch(variables) if error.code in _SPLITTABLE else None
        if halves is None or (error.code == "INTERNAL" and self._split_requests >= _MAX_SPLIT_REQUESTS):
            self._reject("logBatch", variables, error)
            return
        for half in halves:
            self._split_requests += 1
            half_error = self._attempt(LOG_BATCH, half, internal_is_answer=True)
            if half_error is not None:
                self._bisect(half, half_error)

    def _reject(self, operation: str, variables: dict[str, Any], error: ApiError) -> None:
        run_id = variables.get("runId") or variables.get("id")
        metrics = variables.get("metrics") or {}
        rejection = Rejection(
            operation=operation,
            run_id=run_id,
            code=error.code,
            message=error.message,
            metric_points=len(metrics.get("keys") or ()),
            params=len(variables.get("params") or ()),
            tags=len(variables.get("tags") or ()),
        )
        if error.code == "NOT_FOUND" and run_id and operation != "createRun":
            self._missing_runs[run_id] = error
        with self._lock:
            self.rejected_points += rejection.metric_points
            if len(self.rejections) < _MAX_REJECTIONS_KEPT:
                self.rejections.append(rejection)
            first_time = (error.code, error.message) not in self._warned
            self._warned.add((error.code, error.message))
        if first_time:
            what = _describe(rejection, variables)
            text = (
                f"mltrail: the server rejected {what} for run {run_id}: {error.code}: {error.message}. "
                "Later logging continues; identical rejections are not reported again."
            )
            logger.warning(text)
            warnings.warn(text, MltrailWarning, stacklevel=2)


def _describe(rejection: Rejection, variables: dict[str, Any]) -> str:
    if rejection.operation != "logBatch":
        return f"{rejection.operation}"
    single = _single_item(variables)
    if single is not None:
        return single
    parts = [
        f"{count} {label}"
        for count, label in (
            (rejection.metric_points, "metric point(s)"),
            (rejection.params, "param(s)"),
            (rejection.tags, "tag(s)"),
        )
        if count
    ]
    return "a batch of " + (", ".join(parts) or "nothing")


def _single_item(variables: dict[str, Any]) -> str | None:
    """"param 'lr'", "tag 'note'", "metric 'loss' at step 3" when the batch holds one item."""
    metrics = variables.get("metrics") or {}
    params = variables.get("params") or []
    tags = variables.get("tags") or []
    keys = metrics.get("keys") or []
    if len(keys) + len(params) + len(tags) != 1:
        return None
    if keys:
        return f"metric {keys[0]!r} at step {(metrics.get('steps') or ['?'])[0]}"
    kind, item = ("param", params[0]) if params else ("tag", tags[0])
    return f"{kind} {item.get('key')!r}"


def split_batch(variables: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Two halves of a logBatch with derived batch ids, or None if it holds a single item."""
    metrics = variables.get("metrics") or None
    params = variables.get("params") or []
    tags = variables.get("tags") or []
    n_points = len(metrics["keys"]) if metrics else 0
    base = {"runId": variables["runId"]}
    batch_id = variables.get("batchId") or ""

    def part(suffix: str, **fields: Any) -> dict[str, Any]:
        return {**base, "batchId": f"{batch_id}.{suffix}", **{k: v for k, v in fields.items() if v}}

    if n_points and (params or tags):
        return part("0", metrics=metrics), part("1", params=params, tags=tags)
    if params and tags:
        return part("0", params=params), part("1", tags=tags)
    if n_points > 1:
        middle = n_points // 2
        first = {column: values[:middle] for column, values in metrics.items()}
        second = {column: values[middle:] for column, values in metrics.items()}
        return part("0", metrics=first), part("1", metrics=second)
    items, name = (params, "params") if params else (tags, "tags")
    if len(items) > 1:
        middle = len(items) // 2
        return part("0", **{name: items[:middle]}), part("1", **{name: items[middle:]})
    return None
