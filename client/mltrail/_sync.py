"""`mltrail sync`: replay spooled operations that their process could not deliver.

Sessions are replayed oldest first, each to the tracking URI it recorded (or the one given).
Progress is kept after every record (in the session's `delivered` file), so an interrupted
sync resumes where it stopped, and a record replayed twice is stored once thanks to its
client-chosen run id and batch id. Sessions still locked by a live process are skipped: that
process is delivering them itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mltrail._delivery import Delivery, Rejection
from mltrail._exceptions import ServerUnavailable
from mltrail._spool import Spool, SpoolBusy


@dataclass
class SessionSummary:
    directory: Path
    tracking_uri: str
    operations: int = 0
    metric_points: int = 0
    runs: set[str] = field(default_factory=set)
    delivered: int = 0
    error: str | None = None


@dataclass
class SyncResult:
    sessions: list[SessionSummary] = field(default_factory=list)
    busy: list[Path] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def operations(self) -> int:
        return sum(s.operations for s in self.sessions)

    @property
    def metric_points(self) -> int:
        return sum(s.metric_points for s in self.sessions)

    @property
    def delivered(self) -> int:
        return sum(s.delivered for s in self.sessions)

    @property
    def failed(self) -> bool:
        return any(s.error for s in self.sessions)


def sync_spool(
    root: Path,
    *,
    tracking_uri: str | None = None,
    dry_run: bool = False,
    attempts: int = 5,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Deliver every unlocked session under `root`; `on_progress` gets items sent per record."""
    from mltrail._client import tracking_uri_from_env
    from mltrail._transport import GraphQLTransport

    result = SyncResult()
    spools: list[tuple[Spool, SessionSummary]] = []
    for directory in Spool.sessions(root):
        try:
            spool = Spool.open(directory)
        except SpoolBusy:
            result.busy.append(directory)
            continue
        summary = SessionSummary(directory, tracking_uri or spool.tracking_uri or tracking_uri_from_env())
        for record in spool.pending():
            summary.operations += 1
            if record.operation == "logBatch":
                variables = record.variables()
                summary.metric_points += len((variables.get("metrics") or {}).get("keys") or ())
                summary.runs.add(variables["runId"])
            elif record.operation == "createRun":
                summary.runs.add(record.variables()["runId"])
        spools.append((spool, summary))
        result.sessions.append(summary)

    if dry_run:
        for spool, _summary in spools:
            spool.close()
        return result

    if on_start is not None:
        on_start(sum(s.operations for _spool, s in spools))
    for spool, summary in spools:
        delivery = Delivery(GraphQLTransport(summary.tracking_uri))
        try:
            while (record := spool.peek()) is not None:
                _deliver_with_retries(delivery, record, attempts)
                spool.mark_done()
                summary.delivered += 1
                if on_progress is not None:
                    on_progress(1)
        except ServerUnavailable as error:
            summary.error = str(error)
        finally:
            result.rejections.extend(delivery.rejections)
            delivery.transport.close()
            spool.close()
    return result


def _deliver_with_retries(delivery: Delivery, record: object, attempts: int) -> None:
    for attempt in range(attempts):
        try:
            delivery.deliver(record)  # type: ignore[arg-type]
            return
        except ServerUnavailable:
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.5, 1.0) * min(4.0, 0.25 * 2**attempt))
