"""What both writers share (store/ingest.py: batches; store/run_writes.py: createRun): the
statements they both run, in qmark style (``to_dollar`` rewrites them for asyncpg), and the
rules for params."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mltrail_server.errors import Conflict

SQL_PARAM_INSERT = "INSERT INTO params (run_pk, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
SQL_TAG_UPSERT = (
    "INSERT INTO run_tags (run_pk, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_pk, key) DO UPDATE SET value = excluded.value"
)
SQL_EXPERIMENT_KEYS = (
    "INSERT INTO experiment_keys (experiment_id, kind, key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)


def to_dollar(sql: str) -> str:
    """Rewrite qmark placeholders as asyncpg's $1, $2, ..."""
    counter = iter(range(1, 1_000_000))
    return re.sub(r"\?", lambda _m: f"${next(counter)}", sql)


def dedupe_params(run_id: str, params: Sequence[tuple[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in params:
        old = merged.setdefault(key, value)
        if old != value:
            raise Conflict(
                f"params: key '{key}' appears twice in one batch of run '{run_id}' with "
                f"different values '{old}' and '{value}'"
            )
    return merged


def check_param_conflicts(run_id: str, wanted: dict[str, str], existing: Sequence[Any]) -> dict[str, str]:
    """Return the params still to insert; a different value for a logged key is a CONFLICT."""
    for key, old in existing:
        new = wanted[key]
        if old != new:
            raise Conflict(
                f"params: '{key}' of run '{run_id}' is already '{old}'; cannot change it to "
                f"'{new}' (params are immutable; log a new key or start a new run)"
            )
    logged = {key for key, _ in existing}
    return {k: v for k, v in wanted.items() if k not in logged}
