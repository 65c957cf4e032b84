"""Artifact transfers: files and trees to and from a run, streamed over plain HTTP.

Bytes go through ``PUT``/``GET /api/artifacts/{run_id}/{path}`` (never through GraphQL);
listings come from GraphQL's ``Run.artifacts``. Files are streamed in ``CHUNK_SIZE`` pieces
in both directions, so memory stays flat whatever their size; a download is written to a
temporary file beside its destination and renamed into place only when complete.

A server in *direct* mode (S3 with presigned URLs) answers with a redirect: downloads follow
it; uploads first send an empty probe (``X-Mltrail-Presign: 1``) so that the body goes
straight to S3 rather than to a server that would not read it. A proxied server's answer to
the probe is remembered per tracking URI, so later uploads skip it.

Transfers of at least ``PROGRESS_THRESHOLD`` bytes show a rich progress bar when stderr is a
terminal, and nothing otherwise (CI logs, notebooks' captured output, redirected stderr).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mltrail._exceptions import (
    InvalidArgument,
    NotFound,
    ServerUnavailable,
    api_error,
)
from mltrail._transport import GraphQLTransport, request_headers

CHUNK_SIZE = 1024 * 1024
PROGRESS_THRESHOLD = 8 * 1024 * 1024
PROBE_THRESHOLD = 64 * 1024 * 1024
_RETRIES = 3

PRESIGN_PROBE_HEADER = "X-Mltrail-Presign"
UPLOAD_LENGTH_HEADER = "X-Mltrail-Upload-Length"

_LIST_DOCUMENT = """
query MltrailListArtifacts($runId: ID!, $path: String) {
  run(id: $runId) { artifacts(path: $path) { path isDir size modifiedAt contentType } }
}
"""

# Tracking URIs known to proxy uploads: they need no probe before a PUT.
_proxied_servers: set[str] = set()


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """A file or directory under a run's artifact root (``path`` is relative to it)."""

    path: str
    is_dir: bool
    size: int | None = None
    modified_at: int | None = None  # ms since the epoch
    content_type: str | None = None


# -- URLs, errors, HTTP client ---------------------------------------------------------------


def artifact_url(tracking_uri: str, run_id: str, path: str) -> str:
    """The URL of one artifact file; each path component is percent-encoded."""
    base = tracking_uri.rstrip("/")
    if base.endswith("/graphql"):
        base = base[: -len("/graphql")]
    quoted_run = urllib.parse.quote(run_id, safe="")
    return f"{base}/api/artifacts/{quoted_run}/{urllib.parse.quote(path, safe='/')}"


def _clean_artifact_path(path: str, *, what: str = "artifact path") -> str:
    """Reject locally what the server would reject anyway, with the same wording."""
    if "\\" in path or "\x00" in path:
        raise InvalidArgument(f"{what} {path!r} must use '/' separators and contain no NUL byte")
    if path.startswith("/"):
        raise InvalidArgument(f"{what} {path!r} must be relative to the run's artifact root")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"{what} {path!r} must not contain '..'")
    return "/".join(parts)


def _error_from_response(response: Any, url: str) -> Exception:
    try:
        payload = response.json()
        error = payload.get("error") or {}
        message, code = str(error.get("message") or response.reason_phrase), error.get("code")
    except Exception:
        message, code = f"HTTP {response.status_code} {response.reason_phrase}", None
    if code is None:
        if response.status_code >= 500:  # a proxy's error page, not the server's JSON
            return ServerUnavailable(f"{url}: HTTP {response.status_code}")
        code = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            409: "CONFLICT",
            413: "RESOURCE_EXHAUSTED",
            416: "INVALID_ARGUMENT",
        }.get(response.status_code, "INTERNAL")
    return api_error(message, code)


def _http_client() -> Any:
    import httpx

    # Long read/write timeouts: the server answers a PUT only once the body is stored
    # (fsync, S3 completion), which can take a while for a large file.
    return httpx.Client(
        timeout=httpx.Timeout(300.0, connect=10.0),
        headers=request_headers(),
        follow_redirects=False,
    )


@contextlib.contextmanager
def _client_for(client: Any | None) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    owned = _http_client()
    try:
        yield owned
    finally:
        owned.close()


def _unavailable(url: str, error: BaseException) -> ServerUnavailable:
    if isinstance(error, ServerUnavailable):
        return error
    return ServerUnavailable(f"{url}: {type(error).__name__}: {error}")


def _is_transient(error: BaseException) -> bool:
    import httpx

    return isinstance(error, httpx.TransportError | ServerUnavailable)


# -- progress ----------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar on a terminal, or nothing at all."""

    def __init__(self, description: str, total: int | None) -> None:
        self._bar: Any = None
        self._task: Any = None
        if total is None or total < PROGRESS_THRESHOLD or not _stderr_is_tty():
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._bar.add_task(description, total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=n)

    def reset(self) -> None:
        if self._bar is not None:
            self._bar.reset(self._task)


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


# -- uploads -----------------------------------------------------------------------------------


def _file_chunks(handle: IO[bytes], progress: _Progress) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        progress.advance(len(chunk))
        yield chunk


def _put_once(
    client: Any, tracking_uri: str, url: str, handle: IO[bytes], size: int, progress: _Progress
) -> None:
    handle.seek(0)
    progress.reset()
    length = {"Content-Length": str(size)}
    # Probe when the server's mode is unknown, and before any large body: a server that
    # refuses it (size limit, unknown run) says so before gigabytes are sent for nothing.
    if tracking_uri not in _proxied_servers or size >= PROBE_THRESHOLD:
        probe = client.put(
            url, content=b"", headers={PRESIGN_PROBE_HEADER: "1", UPLOAD_LENGTH_HEADER: str(size)}
        )
        if probe.status_code in (301, 302, 303, 307, 308):
            # Direct mode: the bytes go to S3 through a presigned URL; no mltrail headers
            # (credentials) are sent to another host.
            import httpx

            location = probe.headers["location"]
            with httpx.Client(timeout=client.timeout) as s3:
                response = s3.put(location, content=_file_chunks(handle, progress), headers=length)
            if response.status_code >= 300:
                raise _error_from_response(response, location)
            return
        if probe.status_code != 204:
            raise _error_from_response(probe, url)
        _proxied_servers.add(tracking_uri)
    response = client.put(url, content=_file_chunks(handle, progress), headers=length)
    if response.status_code in (301, 302, 303, 307, 308):
        # The server switched to direct mode since we learnt it proxies: probe again.
        _proxied_servers.discard(tracking_uri)
        _put_once(client, tracking_uri, url, handle, size, progress)
        return
    if response.status_code >= 300:
        raise _error_from_response(response, url)


def _upload_handle(
    client: Any, tracking_uri: str, run_id: str, handle: IO[bytes], size: int, artifact_file: str
) -> None:
    url = artifact_url(tracking_uri, run_id, artifact_file)
    with _Progress(f"upload {artifact_file}", size) as progress:
        for attempt in range(_RETRIES):
            try:
                _put_once(client, tracking_uri, url, handle, size, progress)
                return
            except Exception as error:
                if not _is_transient(error):
                    raise  # an ApiError from the server, or a local error (reading the file)
                if attempt == _RETRIES - 1:
                    raise _unavailable(url, error) from None
                time.sleep(0.5 * 2**attempt)


def upload_file(
    tracking_uri: str,
    run_id: str,
    local_path: str | os.PathLike[str],
    artifact_path: str | None = None,
    *,
    client: Any | None = None,
) -> None:
    """Upload one file to ``artifact_path/<file name>`` under the run's artifact root."""
    source = Path(local_path)
    if not source.is_file():
        raise InvalidArgument(f"local_path {str(source)!r} is not a file")
    directory = _clean_artifact_path(artifact_path or "", what="artifact_path")
    target = f"{directory}/{source.name}" if directory else source.name
    with source.open("rb") as handle, _client_for(client) as http:
        size = os.fstat(handle.fileno()).st_size
        _upload_handle(http, tracking_uri, run_id, handle, size, target)


def upload_dir(
    tracking_uri: str,
    run_id: str,
    local_dir: str | os.PathLike[str],
    artifact_path: str | None = None,
) -> None:
    """Upload every file under ``local_dir`` to ``artifact_path/<relative path>``."""
    source = Path(local_dir)
    if not source.is_dir():
        raise InvalidArgument(f"local_dir {str(source)!r} is not a directory")
    directory = _clean_artifact_path(artifact_path or "", what="artifact_path")
    files: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames.sort()
        relative_dir = Path(dirpath).relative_to(source).as_posix()
        for name in sorted(filenames):
            relative = name if relative_dir == "." else f"{relative_dir}/{name}"
            files.append((Path(dirpath) / name, f"{directory}/{relative}" if directory else relative))
    with _client_for(None) as http:
        for path, target in files:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                _upload_handle(http, tracking_uri, run_id, handle, size, target)


def upload_bytes(tracking_uri: str, run_id: str, data: bytes, artifact_file: str) -> None:
    """Upload in-memory ``data`` (text, JSON, a rendered figure) as ``artifact_file``."""
    target = _clean_artifact_path(artifact_file, what="artifact_file")
    if not target:
        raise InvalidArgument("artifact_file must name a file")
    with _client_for(None) as http:
        _upload_handle(http, tracking_uri, run_id, io.BytesIO(data), len(data), target)


def upload_figure(tracking_uri: str, run_id: str, figure: Any, artifact_file: str) -> None:
    """Render a matplotlib figure (or a plotly one, as HTML) and upload it as ``artifact_file``.

    The format follows the file's extension (``loss.png``, ``loss.svg``, ``loss.pdf``).
    """
    suffix = Path(artifact_file).suffix.lower().lstrip(".")
    buffer = io.BytesIO()
    if hasattr(figure, "savefig"):  # matplotlib Figure
        figure.savefig(buffer, format=suffix or "png", bbox_inches="tight")
    elif hasattr(figure, "write_html") and suffix in ("html", "htm"):  # plotly Figure
        buffer.write(figure.to_html(include_plotlyjs="cdn").encode("utf-8"))
    elif hasattr(figure, "to_image"):  # plotly static export (needs kaleido)
        buffer.write(figure.to_image(format=suffix or "png"))
    else:
        raise InvalidArgument(
            f"figure: expected a matplotlib or plotly figure, got {type(figure).__module__}."
            f"{type(figure).__qualname__}"
        )
    upload_bytes(tracking_uri, run_id, buffer.getvalue(), artifact_file)


# -- listing and downloads -----------------------------------------------------------------------


def list_artifacts(tracking_uri: str, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
    """Direct children of ``path`` (the run's root by default); empty for a file or a missing path."""
    transport = GraphQLTransport(tracking_uri)
    try:
        return _list(transport, run_id, _clean_artifact_path(path or ""))
    finally:
        transport.close()


def _list(transport: GraphQLTransport, run_id: str, relative: str) -> list[ArtifactInfo]:
    data = transport.execute(_LIST_DOCUMENT, {"runId": run_id, "path": relative or None})
    run = data.get("run")
    if run is None:
        raise NotFound(f"runId: no run with id {run_id!r}")
    return [
        ArtifactInfo(
            path=item["path"],
            is_dir=item["isDir"],
            size=item.get("size"),
            modified_at=None if item.get("modifiedAt") is None else int(item["modifiedAt"]),
            content_type=item.get("contentType"),
        )
        for item in run["artifacts"]
    ]


def _walk(transport: GraphQLTransport, run_id: str, path: str) -> Iterator[ArtifactInfo]:
    for entry in _list(transport, run_id, path):
        if entry.is_dir:
            yield from _walk(transport, run_id, entry.path)
        else:
            yield entry


_umask_lock = threading.Lock()


def _file_mode() -> int:
    """The mode ``open()`` would give a new file (0666 less the umask).

    ``mkstemp`` creates its file 0600 whatever the umask, which is right for a secret but wrong
    for a downloaded artifact: the user expects what ``cp`` or ``curl -o`` would give. The umask
    can only be read by setting it, so the swap is done under a lock (it is process-wide).
    """
    with _umask_lock:
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _download_file(client: Any, tracking_uri: str, run_id: str, path: str, target: Path) -> None:
    url = artifact_url(tracking_uri, run_id, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(_RETRIES):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            os.fchmod(fd, _file_mode())
            with os.fdopen(fd, "wb") as out:
                # Redirects are followed here: in direct mode the file comes from S3 itself.
                with client.stream("GET", url, follow_redirects=True) as response:
                    if response.status_code != 200:
                        response.read()
                        raise _error_from_response(response, url)
                    length = response.headers.get("content-length")
                    with _Progress(f"download {path}", int(length) if length else None) as progress:
                        for chunk in response.iter_bytes(CHUNK_SIZE):
                            out.write(chunk)
                            progress.advance(len(chunk))
            os.replace(tmp_name, target)
            return
        except Exception as error:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            if not _is_transient(error):
                raise
            if attempt == _RETRIES - 1:
                raise _unavailable(url, error) from None
            time.sleep(0.5 * 2**attempt)


def download_to_stream(tracking_uri: str, run_id: str, path: str, out: IO[bytes]) -> None:
    """Write one artifact file to ``out`` (``mltrail artifacts get RUN PATH -``: standard output).

    No retry here: bytes already written to a pipe cannot be taken back.
    """
    relative = _clean_artifact_path(path)
    if not relative or list_artifacts(tracking_uri, run_id, relative):
        raise InvalidArgument(f"path: {path!r} is a directory; only a file can be written to standard output")
    url = artifact_url(tracking_uri, run_id, relative)
    with _client_for(None) as http:
        try:
            with http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code != 200:
                    response.read()
                    raise _error_from_response(response, url)
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    out.write(chunk)
        except Exception as error:
            if _is_transient(error):
                raise _unavailable(url, error) from None
            raise
    out.flush()


def download(
    tracking_uri: str, run_id: str, path: str | None, dst: str | os.PathLike[str] | None = None
) -> Path:
    """Download a file or a directory tree of the run; return the local path written.

    Like ``cp -r``: into ``dst/<name>`` when ``dst`` is an existing directory, else to
    ``dst`` itself (``dst`` defaults to the current directory). The run's whole root
    (``path`` empty) is copied into ``dst``.
    """
    relative = _clean_artifact_path(path or "")
    destination = Path(dst if dst is not None else ".")
    children = list_artifacts(tracking_uri, run_id, relative)
    name = relative.rsplit("/", 1)[-1] if relative else ""
    if destination.is_dir() and name:
        destination = destination / name
    with _client_for(None) as http:
        if not children and relative:
            # A file (or nothing at all: the GET says which).
            _download_file(http, tracking_uri, run_id, relative, destination)
            return destination
        destination.mkdir(parents=True, exist_ok=True)
        prefix = f"{relative}/" if relative else ""
        transport = GraphQLTransport(tracking_uri)
        try:
            for entry in _walk(transport, run_id, relative):
                target = destination / entry.path[len(prefix) :]
                _download_file(http, tracking_uri, run_id, entry.path, target)
        finally:
            transport.close()
    return destination
