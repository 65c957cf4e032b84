"""What the write programs share (store/batch_writes.py: logBatch; store/run_writes.py:
createRun): the statements they both run, in qmark style, and the rule that params are
immutable, stated once as a small program both of them run.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from mltrail_server.errors import Conflict
from mltrail_server.store.programs import Program, many, rows

SQL_TAG_UPSERT = (
    "INSERT INTO run_tags (run_pk, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT (run_pk, key) DO UPDATE SET value = excluded.value"
)
SQL_EXPERIMENT_KEYS = (
    "INSERT INTO experiment_keys (experiment_id, kind, key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
)


def in_list(sql: str, n: int) -> str:
    """Expand the ``(?*)`` of ``sql`` into ``n`` placeholders."""
    return sql.replace("(?*)", "(" + ", ".join("?" * n) + ")")


SQL_PARAMS_STORED = "SELECT key, value FROM params WHERE run_pk = ? AND key IN (?*)"


@cache
def sql_params_insert(n_rows: int) -> str:
    """One multi-row INSERT that reports the keys it inserted (``RETURNING``): the keys it
    did not insert were there already, and their stored values are then compared."""
    values = ", ".join(["(?, ?, ?)"] * n_rows)
    return f"INSERT INTO params (run_pk, key, value) VALUES {values} ON CONFLICT DO NOTHING RETURNING key"


def dedupe_params(run_id: str, params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """One value per key; the same key twice with different values in one call is a CONFLICT."""
    merged: dict[str, str] = {}
    for key, value in params:
        old = merged.setdefault(key, value)
        if old != value:
            raise Conflict(
                f"params: key '{key}' appears twice in one batch of run '{run_id}' with "
                f"different values '{old}' and '{value}'"
            )
    return merged


def check_param_conflicts(run_id: str, wanted: dict[str, str], stored: Sequence[Any]) -> None:
    """A stored value that differs from the wanted one is a CONFLICT naming both."""
    for key, old in stored:
        new = wanted[key]
        if old != new:
            raise Conflict(
                f"params: '{key}' of run '{run_id}' is already '{old}'; cannot change it to "
                f"'{new}' (params are immutable; log a new key or start a new run)"
            )


def write_params(run_pk: int, run_id: str, wanted: dict[str, str]) -> Program[None]:
    """Store the params that are new; a key already stored with another value is a CONFLICT.

    Insert first, compare after: a check before the insert (SELECT, then INSERT … ON CONFLICT
    DO NOTHING) lets two PostgreSQL transactions both see "not there yet", both insert, and
    the second one's insert silently do nothing while it reports "stored". Here the INSERT
    itself decides: under PostgreSQL's unique index a concurrent inserter of the same key
    waits for the first transaction to end, and the keys it did not insert are then read
    back (a new snapshot under READ COMMITTED sees the winner's committed value) and
    compared. ``wanted`` is inserted in key order, so two batches lock keys in one order.
    """
    if not wanted:
        return
    ordered = sorted(wanted.items())
    args = tuple(a for key, value in ordered for a in (run_pk, key, value))
    inserted = yield rows(sql_params_insert(len(ordered)), args)
    if len(inserted) == len(ordered):
        return
    new = {key for (key,) in inserted}
    kept = [key for key, _ in ordered if key not in new]
    stored = yield rows(in_list(SQL_PARAMS_STORED, len(kept)), (run_pk, *kept))
    check_param_conflicts(run_id, wanted, stored)


def write_experiment_keys(keys: list[tuple[int, int, str]]) -> Program[None]:
    """Record (experiment, kind, key) for the column chooser, in the order given."""
    if keys:
        yield many(SQL_EXPERIMENT_KEYS, keys)
