"""Compile parsed searches into SQLAlchemy Core expressions over ``runs`` or ``experiments``.

Each condition on a metric, param, tag or dataset is a correlated ``EXISTS`` subquery on the
searched row, so AND, OR and parentheses compose freely and one SQL statement answers the
whole search; nothing is filtered in Python. Values are always bound parameters.

Semantics, chosen to match MLflow where it has an answer:

- ``metrics.k`` is the latest value, ``metrics.k.min`` / ``.max`` the run's extremes (all kept
  in ``latest_metrics``). NaN is stored as NULL there, so NaN never satisfies a comparison
  (not even ``!=``); +/-Infinity compare as numbers.
- ``metrics.k IS NULL`` means "the run has no metric ``k``" (whatever the aggregate);
  ``IS NOT NULL`` means it has one (even if its value is NaN).
- ``params.k != 'v'`` and ``params.k NOT IN (...)`` match runs that *have* ``k`` with another
  value; runs without ``k`` match ``params.k IS NULL``. Same for tags and dataset fields.
- ``datasets.name|digest|context`` match runs with at least one dataset input satisfying the
  condition; ``datasets.name IS NULL`` means the run has no dataset inputs at all.
- Attributes compare their column directly; SQL NULL (e.g. ``end_time`` of a running run, a
  run without a name) satisfies only ``IS NULL``.
- LIKE is case-sensitive and ILIKE case-insensitive on both databases, with backslash as the
  escape character. PostgreSQL has both natively. SQLite's LIKE ignores ASCII case, so LIKE
  becomes GLOB there (translated pattern, case-sensitive), and ILIKE becomes
  ``lower(col) LIKE lower(pattern)``. Limitation: SQLite's ``lower()`` folds ASCII only, so
  ILIKE on SQLite ignores case for ASCII letters only.
- Sorting by a param or tag sorts its text (params are strings).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, literal_column, or_, select

from mltrail_server.errors import InvalidArgument
from mltrail_server.services.search.parser import (
    EXPERIMENT_ATTRIBUTES,
    LIKE_OPS,
    LIST_OPS,
    NULL_OPS,
    NUMERIC_OPS,
    RUN_ATTRIBUTES,
    RUN_STATUSES,
    STRING_OPS,
    And,
    AttributeSpec,
    Comparison,
    Field,
    Node,
    Or,
    OrderKey,
    Value,
)
from mltrail_server.store import models

DIALECTS = ("sqlite", "postgresql")
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class OrderTerm:
    """One sort term: the caller adds NULLS LAST, the tiebreak and keyset pagination."""

    expression: ColumnElement[Any]
    descending: bool
    label: str


# --- public API ------------------------------------------------------------------------------


def compile_run_filter(node: Node, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over ``models.runs`` for a parsed filter."""
    return _compile(node, _RUNS, _check_dialect(dialect))


def compile_experiment_filter(node: Node, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over ``models.experiments``: attributes and ``tags.KEY`` only."""
    return _compile(node, _EXPERIMENTS, _check_dialect(dialect))


def compile_registered_model_filter(node: Node, dialect: str) -> ColumnElement[bool]:
    """A WHERE clause over ``models.registered_models``: ``name`` and ``tags.KEY`` only."""
    return _compile(node, _REGISTERED_MODELS, _check_dialect(dialect))


def compile_run_order(keys: Sequence[OrderKey], dialect: str) -> list[OrderTerm]:
    """Sort expressions over ``models.runs``; a run without the key sorts as NULL."""
    _check_dialect(dialect)
    runs = models.runs
    terms: list[OrderTerm] = []
    for key in keys:
        field = key.field
        expression: ColumnElement[Any]
        if field.entity == "metric":
            metrics, key_is, column = _metric_tables(field)
            expression = (
                select(column)
                .where(metrics.c.run_pk == runs.c.pk, key_is)
                .correlate(runs)
                .scalar_subquery()
            )
        elif field.entity in ("param", "tag"):
            table = (models.params if field.entity == "param" else models.run_tags).alias()
            expression = (
                select(table.c.value)
                .where(table.c.run_pk == runs.c.pk, table.c.key == field.key)
                .correlate(runs)
                .scalar_subquery()
            )
        elif field.entity == "attribute":
            spec = RUN_ATTRIBUTES.get(field.key.lower())
            if spec is None:
                raise InvalidArgument(f"unknown field '{field.text}' in orderBy")
            expression = _RUNS.column(spec.name)
        else:
            raise InvalidArgument(f"cannot order by dataset fields ('{field.text}')")
        terms.append(OrderTerm(expression, key.descending, key.label))
    return terms


# --- targets: what a search runs over --------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    noun: str  # "runs" or "experiments"
    attributes: dict[str, AttributeSpec]
    column: Callable[[str], ColumnElement[Any]]  # canonical attribute name -> column
    entities: tuple[str, ...]


def _run_column(name: str) -> ColumnElement[Any]:
    c = models.runs.c
    if name == "duration":
        # NULL while the run has no end time, so running runs never match a duration.
        return c.end_time - c.start_time
    return {
        "status": c.status,
        "run_name": c.name,
        "run_id": c.id,
        "user": c.user,
        "start_time": c.start_time,
        "end_time": c.end_time,
        "experiment_id": c.experiment_id,
        "parent_run_id": c.parent_id,
    }[name]


def _experiment_column(name: str) -> ColumnElement[Any]:
    c = models.experiments.c
    return {
        "name": c.name,
        "experiment_id": c.id,
        "creation_time": c.created_at,
        "last_update_time": c.updated_at,
    }[name]


def _registered_model_column(name: str) -> ColumnElement[Any]:
    c = models.registered_models.c
    return {"name": c.name, "creation_time": c.created_at, "last_update_time": c.updated_at}[name]


_REGISTERED_MODEL_ATTRIBUTES = {
    name: spec
    for name, spec in EXPERIMENT_ATTRIBUTES.items()
    if spec.name in ("name", "creation_time", "last_update_time")
}
_RUNS = _Target("runs", RUN_ATTRIBUTES, _run_column, ("metric", "param", "tag", "attribute", "dataset"))
_EXPERIMENTS = _Target("experiments", EXPERIMENT_ATTRIBUTES, _experiment_column, ("tag", "attribute"))
_REGISTERED_MODELS = _Target(
    "registered models", _REGISTERED_MODEL_ATTRIBUTES, _registered_model_column, ("tag", "attribute")
)


def _check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        # A programming error, not a user's: the server only runs on these two.
        raise ValueError(f"unsupported dialect {dialect!r} (expected one of {DIALECTS})")
    return dialect


def _error(position: object, message: str) -> InvalidArgument:
    return InvalidArgument(f"{position}: {message}")


# --- compilation -----------------------------------------------------------------------------


def _compile(node: Node, target: _Target, dialect: str) -> ColumnElement[bool]:
    if isinstance(node, And):
        return and_(*(_compile(child, target, dialect) for child in node.children))
    if isinstance(node, Or):
        return or_(*(_compile(child, target, dialect) for child in node.children))
    field = node.field
    if field.entity not in target.entities:
        allowed = " and ".join(f"{e}s" for e in target.entities)
        raise _error(field.position, f"{target.noun} can be filtered by {allowed} only; got '{field.text}'")
    if field.entity == "attribute":
        return _attribute(node, target, dialect)
    if field.entity == "metric":
        return _metric(node, dialect)
    if field.entity == "dataset":
        return _dataset(node, dialect)
    if target is _EXPERIMENTS:
        tags = models.experiment_tags.alias()
        owner = tags.c.experiment_id == models.experiments.c.id
        return _key_value(node, tags, owner, models.experiments, dialect)
    if target is _REGISTERED_MODELS:
        tags = models.registered_model_tags.alias()
        owner = tags.c.model_id == models.registered_models.c.id
        return _key_value(node, tags, owner, models.registered_models, dialect)
    table = (models.params if field.entity == "param" else models.run_tags).alias()
    return _key_value(node, table, table.c.run_pk == models.runs.c.pk, models.runs, dialect)


def _metric_tables(field: Field) -> tuple[Any, ColumnElement[bool], ColumnElement[Any]]:
    """An alias of ``latest_metrics``, the condition naming the key, and the column to read.

    Anonymous aliases: the caller's query may itself join these tables (e.g. to sort), and an
    unaliased subquery would silently correlate to them. The key's id is an uncorrelated
    scalar subquery, evaluated once per statement (SQLite and PostgreSQL both cache it): one
    index lookup per run instead of a join to ``metric_keys`` for every run.
    """
    metrics, metric_keys = models.latest_metrics.alias(), models.metric_keys.alias()
    key_id = select(metric_keys.c.id).where(metric_keys.c.key == field.key).correlate(None).scalar_subquery()
    column = {None: metrics.c.value, "min": metrics.c.min_value, "max": metrics.c.max_value}
    return metrics, metrics.c.key_id == key_id, column[field.aggregate]


def _metric(comparison: Comparison, dialect: str) -> ColumnElement[bool]:
    metrics, key_is, column = _metric_tables(comparison.field)
    conditions = [metrics.c.run_pk == models.runs.c.pk, key_is]
    if comparison.op not in NULL_OPS:
        values = [_float(value) for value in comparison.values]
        conditions.append(_apply(column, comparison.op, values, dialect))
    exists = select(literal_column("1")).select_from(metrics).where(*conditions).correlate(models.runs).exists()
    return ~exists if comparison.op == "IS NULL" else exists


def _key_value(
    comparison: Comparison,
    table: Any,
    owner: ColumnElement[bool],
    searched: Table,
    dialect: str,
) -> ColumnElement[bool]:
    """Params and tags: EXISTS a row for the key (with a value satisfying the condition)."""
    conditions = [owner, table.c.key == comparison.field.key]
    if comparison.op not in NULL_OPS:
        values = [value.value for value in comparison.values]
        conditions.append(_apply(table.c.value, comparison.op, values, dialect))
    exists = select(literal_column("1")).select_from(table).where(*conditions).correlate(searched).exists()
    return ~exists if comparison.op == "IS NULL" else exists


def _dataset(comparison: Comparison, dialect: str) -> ColumnElement[bool]:
    inputs = models.dataset_inputs.alias()
    conditions = [inputs.c.run_pk == models.runs.c.pk]
    if comparison.op not in NULL_OPS:
        values = [value.value for value in comparison.values]
        column = getattr(inputs.c, comparison.field.key)
        conditions.append(_apply(column, comparison.op, values, dialect))
    exists = (
        select(literal_column("1")).select_from(inputs).where(*conditions).correlate(models.runs).exists()
    )
    return ~exists if comparison.op == "IS NULL" else exists


def _attribute(comparison: Comparison, target: _Target, dialect: str) -> ColumnElement[bool]:
    field, op = comparison.field, comparison.op
    spec = target.attributes.get(field.key.lower())
    if spec is None:
        names = ", ".join(dict.fromkeys(s.name for s in target.attributes.values()))
        raise _error(field.position, f"unknown attribute '{field.key}' (expected one of: {names})")
    column = target.column(spec.name)
    if op in NULL_OPS:
        return column.is_(None) if op == "IS NULL" else column.is_not(None)
    if spec.kind == "string":
        if op not in STRING_OPS:
            raise _error(
                comparison.op_position,
                f"'{op}' does not apply to {field.text}, which is a string "
                f"(use =, !=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL)",
            )
        values: list[Any] = [_string(field, value) for value in comparison.values]
        if spec.name == "status" and op not in LIKE_OPS:
            values = [_status(value, text) for value, text in zip(values, comparison.values, strict=True)]
    else:
        if op not in NUMERIC_OPS + LIST_OPS:
            raise _error(
                comparison.op_position,
                f"{op} does not apply to {field.text}, which is a number "
                f"(use =, !=, <, <=, >, >=, IN, NOT IN, IS NULL or IS NOT NULL)",
            )
        values = [_integer(field, spec, value) for value in comparison.values]
    return _apply(column, op, values, dialect)


# --- operators and values --------------------------------------------------------------------


def _apply(column: ColumnElement[Any], op: str, values: list[Any], dialect: str) -> ColumnElement[bool]:
    if op == "IN":
        return column.in_(values)
    if op == "NOT IN":
        return column.not_in(values)
    (value,) = values
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        if dialect == "sqlite":
            return column.op("GLOB", is_comparison=True)(like_to_glob(value))
        return column.like(value, escape="\\")
    if op == "ILIKE":
        if dialect == "sqlite":
            return func.lower(column).like(func.lower(value), escape="\\")
        return column.ilike(value, escape="\\")
    raise AssertionError(f"operator {op!r} reached the compiler unchecked")


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern (``%``, ``_``, backslash escape) into an SQLite GLOB pattern.

    GLOB is SQLite's case-sensitive matcher: ``*`` and ``?`` are its wildcards, and a
    one-character class ``[x]`` is how it matches ``*``, ``?`` or ``[`` literally.
    """
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")  # the parser rejects a trailing lone escape
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def _float(value: Value) -> float:
    # The parser guarantees a number; the guard is for ints too large for a float.
    try:
        return float(value.value)
    except OverflowError:
        raise _error(value.position, f"number {value.text} is out of range") from None


def _string(field: Field, value: Value) -> str:
    if not isinstance(value.value, str):
        raise _error(
            value.position,
            f"{field.text} is a string; got number {value.text} (quote it: '{value.text}')",
        )
    return value.value


def _status(status: str, value: Value) -> str:
    # Statuses are stored upper case; accept any case rather than silently match nothing.
    if status.upper() not in RUN_STATUSES:
        raise _error(
            value.position,
            f"unknown run status {value.text} (expected RUNNING, FINISHED, FAILED or KILLED)",
        )
    return status.upper()


def _integer(field: Field, spec: AttributeSpec, value: Value) -> int:
    raw = value.value
    if spec.kind == "id" and isinstance(raw, str):
        # GraphQL IDs travel as strings; experiment ids are integers underneath.
        if not raw.strip().isdigit():
            raise _error(value.position, f"{field.text} is an integer id; got {value.text}")
        raw = int(raw)
    if isinstance(raw, str):
        raise _error(value.position, f"{field.text} is a number of milliseconds; got string {value.text}")
    if isinstance(raw, float):
        if not math.isfinite(raw) or raw != int(raw):
            raise _error(value.position, f"{field.text} takes whole numbers; got {value.text}")
        raw = int(raw)
    if not _INT64[0] <= raw <= _INT64[1]:
        raise _error(value.position, f"number {value.text} is out of range for {field.text}")
    return raw
