"""The local model cache: content-addressed directories, so a model is downloaded once.

    $MLTRAIL_MODEL_CACHE_DIR  (default: $XDG_CACHE_HOME/mltrail/models, i.e. ~/.cache/mltrail/models)
      objects/<address>/      a complete model directory, never modified once in place
      refs/<key>.json         {"fingerprint": ..., "address": ...} for one (server, run, path)
      tmp/                    downloads in progress (renamed into objects/ when complete)

The *address* of a model is the SHA-256 of its ``MLmodel`` file, which lists the SHA-256 of
every other file of a model logged by mltrail (``mltrail_file_sha256``); files it does not
cover (a model MLflow wrote, a file added later) are hashed into the address too. So the same
bytes reached by two URIs (``runs:/<id>/model`` and ``models:/Churn/3``) are stored once, and
every downloaded file is checked against the digest the logging client recorded.

A load first lists the model directory (one GraphQL query). When the listing's
*fingerprint* (paths, sizes, modification times) is the one recorded in the ref, the object is
used as is: nothing is downloaded. Otherwise ``MLmodel`` is fetched; if its address is already
stored (another URI, or a rewrite with identical bytes) nothing else is; else the remaining
files are downloaded into ``tmp/``, verified, and the directory renamed into ``objects/``
(atomic: a concurrent loader of the same model finds either nothing or a complete directory).

When the server cannot be reached, a model already in the cache for that URI is used, with a
warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mltrail._exceptions import MltrailError, MltrailWarning, NotFound, ServerUnavailable
from mltrail.models._mlmodel import MLMODEL_FILE

CACHE_DIR_ENV = "MLTRAIL_MODEL_CACHE_DIR"
FILE_DIGESTS_KEY = "mltrail_file_sha256"


def default_cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail" / "models"


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Counters of this process's cache use, and where the cache is."""

    path: Path
    hits: int  # loads served without downloading anything
    misses: int  # loads that downloaded at least one file
    files_downloaded: int
    bytes_downloaded: int


class ModelCache:
    """The cache under one directory, with process-wide counters."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self.hits = self.misses = self.files_downloaded = self.bytes_downloaded = 0

    def info(self) -> CacheInfo:
        return CacheInfo(self.root, self.hits, self.misses, self.files_downloaded, self.bytes_downloaded)

    def clear(self) -> None:
        """Remove every cached model (the counters are kept)."""
        shutil.rmtree(self.root, ignore_errors=True)

    # -- the one entry point -----------------------------------------------------------------

    def fetch(self, tracking_uri: str, run_id: str, artifact_path: str, *, model_uri: str) -> Path:
        """The local directory of the model at ``artifact_path`` in the run, downloading what is missing."""
        from mltrail._artifacts import _walk
        from mltrail.models._remote import transport_for

        ref_file = self.root / "refs" / (_digest(f"{tracking_uri}\n{run_id}\n{artifact_path}") + ".json")
        try:
            listing = list(_walk(transport_for(tracking_uri), run_id, artifact_path))
        except ServerUnavailable as error:
            cached = self._cached_object(_read_json(ref_file))
            if cached is None:
                raise
            warnings.warn(
                f"mltrail: {tracking_uri} unreachable ({error}); using the cached copy of {model_uri}",
                MltrailWarning,
                stacklevel=4,
            )
            return cached
        prefix = artifact_path + "/"
        files = {entry.path[len(prefix) :]: entry for entry in listing if entry.path.startswith(prefix)}
        for name in files:
            # Names become paths under the cache: a listing must not point outside it.
            if name.startswith("/") or "\\" in name or ".." in name.split("/"):
                raise MltrailError(f"model_uri {model_uri!r}: the server listed an unsafe file name {name!r}")
        if MLMODEL_FILE not in files:
            where = f"'{artifact_path}' of run {run_id}"
            raise NotFound(
                f"model_uri {model_uri!r}: no model at {where} (no {MLMODEL_FILE} file"
                + (f"; it holds {sorted(files)[:5]}" if files else "; the path is empty or missing")
                + ")"
            )
        fingerprint = _digest(json.dumps(sorted((p, e.size, e.modified_at) for p, e in files.items())))
        ref = _read_json(ref_file)
        if ref is not None and ref.get("fingerprint") == fingerprint:
            cached = self._cached_object(ref)
            if cached is not None:
                with self._lock:
                    self.hits += 1
                return cached
        address = self._download(tracking_uri, run_id, artifact_path, sorted(files), model_uri=model_uri)
        _write_json(ref_file, {"fingerprint": fingerprint, "address": address, "model_uri": model_uri})
        return self.root / "objects" / address

    # -- internals ---------------------------------------------------------------------------

    def _cached_object(self, ref: dict[str, Any] | None) -> Path | None:
        address = ref.get("address") if ref else None
        if (
            not isinstance(address, str)
            or len(address) != 64
            or not all(c in "0123456789abcdef" for c in address)
        ):
            return None  # not a SHA-256 we wrote: never a path to follow
        path = self.root / "objects" / address
        return path if (path / MLMODEL_FILE).is_file() else None

    def _download(
        self, tracking_uri: str, run_id: str, artifact_path: str, names: list[str], *, model_uri: str
    ) -> str:
        from mltrail._artifacts import _client_for, _download_file

        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="model-", dir=self.root / "tmp"))
        downloaded = 0
        try:
            with _client_for(None) as http:

                def get(name: str) -> Path:
                    nonlocal downloaded
                    target = staging / name
                    _download_file(http, tracking_uri, run_id, f"{artifact_path}/{name}", target)
                    with self._lock:
                        self.files_downloaded += 1
                        self.bytes_downloaded += target.stat().st_size
                    downloaded += 1
                    return target

                mlmodel = get(MLMODEL_FILE).read_bytes()
                recorded = _recorded_digests(mlmodel)
                uncovered = [n for n in names if n != MLMODEL_FILE and n not in recorded]
                missing = sorted(set(recorded) - set(names))
                if missing:
                    raise MltrailError(
                        f"model_uri {model_uri!r}: incomplete model, {missing} listed in MLmodel are missing"
                    )
                if not uncovered:
                    address = _digest_bytes(mlmodel)
                    if self._has(address):
                        self._count_miss_or_hit(downloaded)
                        return address
                for name in names:
                    if name == MLMODEL_FILE:
                        continue
                    actual = _file_digest(get(name))
                    if name in recorded and recorded[name] != actual:
                        raise MltrailError(
                            f"model_uri {model_uri!r}: file {name!r} does not match the SHA-256 recorded in its "
                            f"MLmodel (corrupted, or changed after the model was logged)"
                        )
                extra = "".join(f"\n{n} {_file_digest(staging / n)}" for n in uncovered)
                address = _digest_bytes(mlmodel + extra.encode()) if extra else _digest_bytes(mlmodel)
                final = self.root / "objects" / address
                final.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.rename(staging, final)
                except OSError:
                    if not self._has(address):  # not a concurrent loader's identical copy
                        raise
            self._count_miss_or_hit(downloaded)
            return address
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _has(self, address: str) -> bool:
        return (self.root / "objects" / address / MLMODEL_FILE).is_file()

    def _count_miss_or_hit(self, downloaded: int) -> None:
        with self._lock:
            self.misses += 1 if downloaded else 0


def _recorded_digests(mlmodel: bytes) -> dict[str, str]:
    import yaml

    try:
        data = yaml.safe_load(mlmodel)
    except yaml.YAMLError:
        return {}
    digests = data.get(FILE_DIGESTS_KEY) if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in digests.items()} if isinstance(digests, dict) else {}


def _digest(text: str) -> str:
    return _digest_bytes(text.encode("utf-8"))


def _digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ref-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_caches: dict[Path, ModelCache] = {}
_caches_lock = threading.Lock()


def get_cache() -> ModelCache:
    """The cache for the current `MLTRAIL_MODEL_CACHE_DIR` (read on each call)."""
    root = default_cache_dir()
    with _caches_lock:
        cache = _caches.get(root)
        if cache is None:
            cache = _caches[root] = ModelCache(root)
        return cache
