"""Settings, read once from ``MLTRAIL_*`` environment variables and CLI flags.

Defaults give a working single-user server: 127.0.0.1:5000, SQLite and local artifacts under
one data directory. Tests build ``Settings(...)`` directly instead of editing the environment.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "MLTRAIL_"


def _default_static_dir() -> str | None:
    # A wheel ships the SPA inside the package; a source checkout builds it into frontend/dist.
    here = Path(__file__).resolve().parent
    for candidate in (here / "static", here.parents[1] / "frontend" / "dist"):
        if (candidate / "index.html").is_file():
            return str(candidate)
    return None


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its environment, typed and immutable."""

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    data_dir: str = "./mltrail-data"
    # Empty means "derive from data_dir": sqlite file and artifacts folder inside it.
    backend_store_uri: str = ""
    artifact_root: str = ""
    artifact_mode: str = "proxied"  # proxied | direct (presigned URLs, S3 only)
    s3_endpoint_url: str | None = None
    redis_url: str | None = None
    static_dir: str | None = field(default_factory=_default_static_dir)
    migrate_on_start: bool = True
    log_level: str = "info"
    # One line per request is a reverse proxy's job (as with gunicorn, off unless asked): a
    # training job sends a request a second, and the line costs ~5 % of a small request.
    access_log: bool = False
    # Host names (comma-separated) this server answers to besides the loopback names, the
    # bound host and IP literals; "*" accepts any. Anything else is refused with 400: a page
    # on a DNS-rebinding domain must not reach a server on 127.0.0.1 (http/hosts.py).
    allowed_hosts: str = ""
    # Seals pagination cursors (see cursor_secret_bytes). Replicas that share a database must
    # share it; one server (any number of workers) may leave it unset. Never printed.
    cursor_secret: str | None = field(default=None, repr=False)

    # Limits: each has a clear error when exceeded.
    max_batch_points: int = 100_000
    max_batch_params: int = 1_000
    max_batch_tags: int = 1_000
    max_key_length: int = 250
    max_param_value_length: int = 6_000
    max_tag_value_length: int = 8_000
    max_name_length: int = 500
    max_query_depth: int = 12
    max_query_tokens: int = 20_000
    max_aliases: int = 30
    max_page_size: int = 1_000
    max_history_points: int = 2_000_000
    max_request_bytes: int = 64 * 1024 * 1024
    max_upload_bytes: int = 5 * 1024**3
    # Request bodies, bounded by a byte scan before they are parsed (http/request_bounds.py):
    # five million empty arrays take seconds to build as Python lists.
    max_request_containers: int = 100_000  # JSON objects and arrays in one body
    max_request_elements: int = 1_000_000  # values in one body (about its commas)
    max_request_depth: int = 64  # JSON nesting of one body
    # Items of one GraphQL list argument that graphql-core coerces one by one (runIds, params,
    # tags...): ~5 µs each. The columnar metric lists are scalars and are not counted here.
    max_list_items: int = 10_000
    # One JSON scalar input (environment, dataset schema and profile).
    max_json_depth: int = 32
    max_json_bytes: int = 1024 * 1024
    # Metric points one request may produce across all its fields and aliases.
    max_request_points: int = 2_000_000
    # Stored metric points one request may read to answer (downsampling reads every point of a
    # series): 20 runs x 1M points, the compare view's largest overlay.
    max_request_read_points: int = 20_000_000
    max_description_length: int = 8_000

    @property
    def database_url(self) -> str:
        if self.backend_store_uri:
            return self.backend_store_uri
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'mltrail.db'}"

    @property
    def resolved_artifact_root(self) -> str:
        if self.artifact_root:
            return self.artifact_root
        return str(Path(self.data_dir).resolve() / "artifacts")

    def cursor_secret_bytes(self) -> bytes:
        """The key cursors are sealed with: MLTRAIL_CURSOR_SECRET, else ``cursor.key`` in the
        data directory, generated (mode 0600) on the first start.

        A file rather than a fresh key per process: the workers of one server and its restarts
        must accept each other's cursors (a client pages through a list across them). Replicas on
        other machines do not share the data directory, so they are given the variable.
        """
        if self.cursor_secret:
            return self.cursor_secret.encode()
        path = Path(self.data_dir) / "cursor.key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: workers starting together agree on the one file the first of them wrote.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):  # another worker may be between creating and writing it
                secret = path.read_bytes().strip()
                if secret:
                    return secret
                time.sleep(0.02)
            raise RuntimeError(f"{path} is empty: delete it and restart") from None
        secret = secrets.token_hex(32).encode()
        with os.fdopen(fd, "wb") as out:
            out.write(secret)
        return secret

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``MLTRAIL_<FIELD>`` variables; explicit overrides (CLI flags) win."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The inverse of ``from_env``: how the CLI hands settings to worker processes."""
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[ENV_PREFIX + f.name.upper()] = (
                ("1" if value else "0") if isinstance(value, bool) else str(value)
            )
        return out


def _coerce(type_name: Any, raw: str, name: str) -> Any:
    type_name = str(type_name)
    if type_name.startswith("bool"):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: expected a boolean, got {raw!r}")
    if type_name.startswith("int"):
        try:
            return int(raw.replace("_", ""))
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name.upper()}: expected an integer, got {raw!r}") from None
    return raw or None if "None" in type_name else raw
