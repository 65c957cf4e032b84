"""The spool: an append-only, crash-safe journal of queued operations on local disk.

Every queued operation (metric batches, params, tags, run creation and end) is appended here
*before* it is sent, and marked done after the server has answered. A process that is killed,
or that loses its server, therefore leaves behind exactly what was not yet delivered, and
`mltrail sync` replays it later; replays are harmless because every operation is idempotent
(run ids and batch ids are chosen by the client).

One directory per client session under the spool root (`MLTRAIL_SPOOL_DIR`, default
`~/.mltrail/spool`):

    <root>/<session>/journal.jsonl   one record per line: `<operation>\t<items>\t<variables JSON>`
    <root>/<session>/delivered       append-only; the last line is the journal offset up to
                                     which every record has been handled
    <root>/<session>/meta.json       tracking URI, pid, host, creation time
    <root>/<session>/lock            flock held by the live process; `sync` skips locked ones

Writes go straight to the operating system (`os.write`, no user-space buffer), so a process
killed with SIGKILL loses nothing it had journaled; records are whole lines, and a torn last
line is ignored when the journal is read back. Only a power failure can lose the last records
(the journal is fsync'ed on close, not on every append, which would cost milliseconds each).

A record's variables are serialized once, when journaled, and those very bytes are the body
sent to the server: encoding floats as JSON is the client's main cost per point. (JSON never
holds a raw tab or newline, so the line format needs no escaping.) The delivery side reads
records through a bounded in-memory window: while the server is away the journal grows on
disk, not in memory.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: sessions are not locked
    fcntl = None  # type: ignore[assignment]

JOURNAL = "journal.jsonl"
DELIVERED = "delivered"
META = "meta.json"
LOCK = "lock"

# Records held in memory for delivery, counted in metric points + params + tags.
DEFAULT_WINDOW = 200_000
# A fully delivered journal is truncated once it is this large, so a long run's spool does
# not grow without bound while the server is healthy.
ROTATE_BYTES = 64 * 1024 * 1024
_READ_CHUNK = 4 * 1024 * 1024


class SpoolBusy(Exception):
    """The session is locked by a live process."""


def default_root() -> Path:
    configured = os.environ.get("MLTRAIL_SPOOL_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".mltrail" / "spool"


class Record(NamedTuple):
    """One queued operation: its name, its GraphQL variables as JSON, and its size in items
    (metric points + params + tags, at least 1), kept beside the JSON so that progress bars
    and the memory window never have to parse it."""

    operation: str
    payload: bytes
    weight: int

    def variables(self) -> dict[str, Any]:
        return orjson.loads(self.payload)


def make_record(operation: str, variables: dict[str, Any]) -> Record:
    metrics = variables.get("metrics") or {}
    weight = (
        len(metrics.get("keys") or ()) + len(variables.get("params") or ()) + len(variables.get("tags") or ())
    )
    # orjson: 5-6x faster than json.dumps on a 1,000-point batch, and this runs in the training
    # process. It writes NaN as null, so metric values arrive here already as wire values
    # ("NaN", "Infinity", "-Infinity": see _batcher.wire_values); steps and timestamps were
    # checked to fit in 64 bits when they were queued.
    payload = orjson.dumps(variables)
    return Record(operation, payload, weight or 1)


class Spool:
    """One session's journal; thread-safe only under its owner's lock (see Batcher)."""

    def __init__(self, directory: Path, lock_fd: int | None, *, window: int = DEFAULT_WINDOW) -> None:
        self.directory = directory
        self._lock_fd = lock_fd
        self._window = window
        journal = directory / JOURNAL
        self._write_fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._read_fd = os.open(journal, os.O_RDONLY)
        self._done_fd = os.open(directory / DELIVERED, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._write_offset = _complete_length(self._read_fd)
        os.ftruncate(self._write_fd, self._write_offset)  # drop a torn tail left by a crash
        self._done_offset = min(_last_delivered_offset(directory / DELIVERED), self._write_offset)
        # Records from _done_offset on, in order, as (end offset, record). When `_cached_all`
        # is false, records after the last cached one exist only on disk.
        self._cache: collections.deque[tuple[int, Record]] = collections.deque()
        self._cache_weight = 0
        self._cached_all = self._done_offset == self._write_offset
        self.appended = 0  # records appended by this process
        self.handled = 0  # records marked done by this process
        self._closed = False

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, root: Path, *, tracking_uri: str, window: int = DEFAULT_WINDOW) -> Spool:
        """A new session directory for this process, locked."""
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        directory = root / name
        directory.mkdir(parents=True, mode=0o700)
        lock_fd = _lock(directory, blocking=True)
        meta = {
            "tracking_uri": tracking_uri,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "created": int(time.time() * 1000),
        }
        (directory / META).write_text(json.dumps(meta))
        return cls(directory, lock_fd, window=window)

    @classmethod
    def open(cls, directory: Path, *, window: int = DEFAULT_WINDOW) -> Spool:
        """An existing session, for `mltrail sync`; raises SpoolBusy if its process is alive."""
        lock_fd = _lock(directory, blocking=False)
        try:
            return cls(directory, lock_fd, window=window)
        except BaseException:
            if lock_fd is not None:
                os.close(lock_fd)
            raise

    @staticmethod
    def sessions(root: Path) -> list[Path]:
        """Session directories under a spool root, oldest first."""
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if p.is_dir() and (p / JOURNAL).exists())

    @property
    def tracking_uri(self) -> str | None:
        try:
            return json.loads((self.directory / META).read_text()).get("tracking_uri")
        except (OSError, ValueError):
            return None

    # -- writing ---------------------------------------------------------------------------

    def append(self, record: Record) -> None:
        """Journal one record (one line, one write) and queue it for delivery."""
        line = b"%s\t%d\t%s\n" % (record.operation.encode(), record.weight, record.payload)
        view = memoryview(line)
        while view:
            written = os.write(self._write_fd, view)
            view = view[written:]
        self._write_offset += len(line)
        self.appended += 1
        weight = record.weight
        if self._cached_all and (self._cache_weight + weight <= self._window or not self._cache):
            self._cache.append((self._write_offset, record))
            self._cache_weight += weight
        else:
            self._cached_all = False

    # -- delivering ------------------------------------------------------------------------

    def peek(self) -> Record | None:
        """The oldest record not yet handled, or None when everything is."""
        if not self._cache and not self._cached_all:
            self._refill()
        return self._cache[0][1] if self._cache else None

    def mark_done(self) -> None:
        """The record returned by `peek` was delivered (or rejected for good)."""
        end, record = self._cache.popleft()
        self._cache_weight -= record.weight
        self._done_offset = end
        self.handled += 1
        os.write(self._done_fd, f"{end}\n".encode())
        if self._done_offset == self._write_offset and self._write_offset >= ROTATE_BYTES:
            os.ftruncate(self._write_fd, 0)
            os.ftruncate(self._done_fd, 0)
            self._write_offset = self._done_offset = 0

    @property
    def drained(self) -> bool:
        return self._done_offset >= self._write_offset

    def pending(self) -> Iterator[Record]:
        """Every record not yet handled, read from disk (for dry runs and progress totals)."""
        for _end, record in self._read_records(self._done_offset, self._write_offset, limit=None):
            yield record

    def _refill(self) -> None:
        for end, record in self._read_records(self._done_offset, self._write_offset, limit=self._window):
            self._cache.append((end, record))
            self._cache_weight += record.weight
        last_end = self._cache[-1][0] if self._cache else self._done_offset
        self._cached_all = last_end >= self._write_offset

    def _read_records(self, start: int, stop: int, *, limit: int | None) -> Iterator[tuple[int, Record]]:
        offset, weight, buffer = start, 0, b""
        while offset + len(buffer) < stop:
            chunk = os.pread(
                self._read_fd, min(_READ_CHUNK, stop - offset - len(buffer)), offset + len(buffer)
            )
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                offset += len(line) + 1
                try:
                    operation, items, payload = line.split(b"\t", 2)
                    record = Record(operation.decode(), payload, int(items))
                except ValueError:
                    continue  # a corrupt line cannot be replayed; skipping it keeps the rest
                yield offset, record
                weight += record.weight
                if limit is not None and weight >= limit:
                    return

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> bool:
        """Release the session; delete it when everything was delivered. True if deleted."""
        if self._closed:
            return not self.directory.exists()
        self._closed = True
        drained = self.drained
        with contextlib.suppress(OSError):
            os.fsync(self._write_fd)
        for fd in (self._write_fd, self._read_fd, self._done_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        if drained:
            shutil.rmtree(self.directory, ignore_errors=True)
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)  # closing the descriptor releases the flock
        return drained


def _lock(directory: Path, *, blocking: bool) -> int | None:
    if fcntl is None:
        return None
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        raise SpoolBusy(str(directory)) from None
    return fd


def _complete_length(fd: int) -> int:
    """Length of the journal up to its last complete line."""
    size = os.fstat(fd).st_size
    position = size
    while position > 0:
        start = max(0, position - 65536)
        chunk = os.pread(fd, position - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0


def _last_delivered_offset(path: Path) -> int:
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    for line in reversed(data.split(b"\n")[:-1]):  # a line without its newline is torn
        with contextlib.suppress(ValueError):
            return int(line)
    return 0
