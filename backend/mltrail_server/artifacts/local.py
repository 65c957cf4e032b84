"""Artifacts on the local filesystem (the default store).

Writes go to a hidden temporary file in the destination directory, are fsynced, then renamed
onto the final name with ``os.replace``: readers see the old file or the whole new one, never
a prefix, and a failed or oversized upload leaves neither the temporary file nor the
directories it created. Every path is checked after ``realpath`` so that a symlink inside a
run's root cannot lead reads or writes outside it.

Blocking file calls run in worker threads, one ``CHUNK_SIZE`` chunk per hop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import stat as stat_mode
from collections.abc import AsyncIterator

from mltrail_server.artifacts.base import (
    CHUNK_SIZE,
    TEMP_PREFIX,
    ArtifactEntry,
    UploadLimit,
    guess_content_type,
    sort_entries,
)
from mltrail_server.errors import Conflict, InvalidArgument, NotFound

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def local_path(uri: str) -> str:
    """The filesystem path of a local artifact URI (a plain path or ``file://``)."""
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    return uri


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _entry(path: str, st: os.stat_result) -> ArtifactEntry:
    if stat_mode.S_ISDIR(st.st_mode):
        return ArtifactEntry(path=path, is_dir=True)
    return ArtifactEntry(
        path=path,
        is_dir=False,
        size=st.st_size,
        modified_at=st.st_mtime_ns // 1_000_000,
        content_type=guess_content_type(path),
        # A new inode per upload (os.replace), so the tag changes even within one mtime tick.
        etag=f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"',
    )


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class LocalStore:
    """Artifact store over a directory tree."""

    supports_presigned_urls = False

    def __init__(self, root: str) -> None:
        self.root = local_path(root)

    def handles(self, run_root: str) -> bool:
        return run_root.startswith("file://") or "://" not in run_root

    # -- path resolution -------------------------------------------------------------------

    def _real_root(self, run_root: str) -> str:
        if not self.handles(run_root):
            raise InvalidArgument(f"artifact URI {run_root!r} is not served by the local artifact store")
        return os.path.realpath(local_path(run_root))

    def _resolve(self, run_root: str, path: str) -> tuple[str, str]:
        """(real run root, real target path), refusing targets that resolve outside the root."""
        root = self._real_root(run_root)
        target = os.path.join(root, *path.split("/")) if path else root
        real = os.path.realpath(target)
        if not _inside(real, root):
            raise InvalidArgument(f"artifact path {path!r} resolves outside the run's artifact root")
        return root, real

    # -- writes ----------------------------------------------------------------------------

    def _prepare_parents(self, run_root: str, path: str) -> tuple[str, list[str]]:
        """Create the missing directories down to ``path``'s parent; return (parent, created).

        Each existing component is checked before anything is created beneath it, so a
        symlink pointing outside is refused with nothing written.
        """
        unresolved_root = os.path.abspath(local_path(run_root))
        created: list[str] = []
        try:
            # The run's root and its missing ancestors (experiment and run directories).
            missing: list[str] = []
            probe = unresolved_root
            while not os.path.lexists(probe):
                missing.append(probe)
                probe = os.path.dirname(probe)
            for directory in reversed(missing):
                with contextlib.suppress(FileExistsError):  # a concurrent upload made it
                    os.mkdir(directory)
                    created.append(directory)
            root = self._real_root(run_root)
            parts = path.split("/")
            current = root
            for name in parts[:-1]:
                current = os.path.join(current, name)
                if os.path.lexists(current):
                    real = os.path.realpath(current)
                    if not _inside(real, root):
                        raise InvalidArgument(
                            f"artifact path {path!r} resolves outside the run's artifact root"
                        )
                    if not os.path.isdir(real):
                        raise Conflict(f"artifact path {path!r}: {name!r} is a file, not a directory")
                    current = real
                else:
                    try:
                        os.mkdir(current)
                        created.append(current)
                    except FileExistsError:
                        pass
            final = os.path.join(current, parts[-1])
            if os.path.lexists(final):
                real = os.path.realpath(final)
                if not _inside(real, root):
                    raise InvalidArgument(f"artifact path {path!r} resolves outside the run's artifact root")
                if os.path.isdir(real):
                    raise Conflict(f"artifact path {path!r} is a directory")
            return current, created
        except BaseException:
            _remove_dirs(created)
            raise

    async def put_stream(
        self, run_root: str, path: str, chunks: AsyncIterator[bytes], *, max_bytes: int
    ) -> ArtifactEntry:
        if not path:
            raise InvalidArgument("artifact path must name a file, got the run's root")
        limit = UploadLimit(max_bytes)
        parent, created = await asyncio.to_thread(self._prepare_parents, run_root, path)
        name = path.rsplit("/", 1)[-1]
        tmp = os.path.join(parent, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        fd = -1
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY, 0o644)
            buffer = bytearray()
            async for chunk in chunks:
                limit.add(len(chunk))
                buffer += chunk
                if len(buffer) >= CHUNK_SIZE:
                    await asyncio.to_thread(_write_all, fd, buffer)
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(_write_all, fd, buffer)
            await asyncio.to_thread(os.fsync, fd)
            os.close(fd)
            fd = -1
            final = os.path.join(parent, name)
            await asyncio.to_thread(_replace_durably, tmp, final)
            st = os.stat(final)
        except BaseException:
            # Cancellation (client gone), the size limit or a disk error: leave nothing behind.
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            _remove_dirs(created)
            raise
        return _entry(path, st)

    # -- reads -----------------------------------------------------------------------------

    async def stat(self, run_root: str, path: str) -> ArtifactEntry:
        _root, real = self._resolve(run_root, path)
        try:
            st = await asyncio.to_thread(os.stat, real)
        except (FileNotFoundError, NotADirectoryError):
            if not path:  # a run that has no artifacts yet still has an (empty) root
                return ArtifactEntry(path="", is_dir=True)
            raise NotFound(f"artifact {path!r} not found") from None
        if not (stat_mode.S_ISDIR(st.st_mode) or stat_mode.S_ISREG(st.st_mode)):
            raise NotFound(f"artifact {path!r} not found")
        return _entry(path, st)

    async def read_range(
        self, run_root: str, path: str, *, start: int = 0, stop: int | None = None, etag: str | None = None
    ) -> AsyncIterator[bytes]:
        _root, real = self._resolve(run_root, path)
        try:
            fd = os.open(real, os.O_RDONLY | _O_BINARY)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"artifact {path!r} not found") from None
        try:
            st = os.fstat(fd)
            if etag is not None and _entry(path, st).etag != etag:
                raise Conflict(f"artifact {path!r} changed while being read")
            end = st.st_size if stop is None else min(stop, st.st_size)
            position = start
            while position < end:
                chunk = await asyncio.to_thread(os.pread, fd, min(CHUNK_SIZE, end - position), position)
                if not chunk:
                    break
                position += len(chunk)
                yield chunk
        finally:
            os.close(fd)

    async def list(self, run_root: str, path: str) -> list[ArtifactEntry]:
        root, real = self._resolve(run_root, path)
        return await asyncio.to_thread(self._list_sync, root, real, path)

    def _list_sync(self, root: str, real: str, path: str) -> list[ArtifactEntry]:
        entries: list[ArtifactEntry] = []
        try:
            iterator = os.scandir(real)
        except (FileNotFoundError, NotADirectoryError):
            return []  # like MLflow: listing a file or a missing path gives nothing
        with iterator:
            for item in iterator:
                if item.name.startswith(TEMP_PREFIX):
                    continue
                child = f"{path}/{item.name}" if path else item.name
                if item.is_symlink() and not _inside(os.path.realpath(item.path), root):
                    continue  # never reveal anything about files outside the root
                try:
                    st = item.stat()
                except OSError:
                    continue  # dangling symlink, or removed meanwhile
                if stat_mode.S_ISDIR(st.st_mode) or stat_mode.S_ISREG(st.st_mode):
                    entries.append(_entry(child, st))
        return sort_entries(entries)

    async def presigned_get(self, run_root: str, path: str, *, expires_in: int) -> str:
        raise InvalidArgument("the local artifact store cannot hand out presigned URLs")

    async def presigned_put(self, run_root: str, path: str, *, expires_in: int) -> str:
        raise InvalidArgument("the local artifact store cannot hand out presigned URLs")

    async def close(self) -> None:
        return None


def _replace_durably(tmp: str, final: str) -> None:
    os.replace(tmp, final)
    # The rename itself must survive a crash: fsync the directory that holds it (POSIX).
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(os.path.dirname(final), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _remove_dirs(created: list[str]) -> None:
    """Remove directories an upload created, deepest first, if they are still empty."""
    for directory in reversed(created):
        try:
            os.rmdir(directory)
        except OSError:
            break  # not empty: a concurrent upload uses it, and so do its parents
