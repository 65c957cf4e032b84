"""Input checks of every service, in one place: each error names the field and the value.

The rules for a whole logBatch (``check_batch``) live here too: a batch is checked entirely
before any of it is written."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mltrail_server.config import Settings
from mltrail_server.errors import InvalidArgument, NotFound

RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _show(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def check_key(field: str, key: str, settings: Settings) -> str:
    if not key or not key.strip():
        raise InvalidArgument(f"{field}: key must not be empty")
    if len(key) > settings.max_key_length:
        raise InvalidArgument(
            f"{field}: key {_show(key)} is {len(key)} characters long; the limit is {settings.max_key_length}"
        )
    if _CONTROL.search(key):
        raise InvalidArgument(f"{field}: key {_show(key)} contains a control character")
    return key


def check_value(field: str, key: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidArgument(
            f"{field}: value of {_show(key)} is {len(value)} characters long; the limit is {limit}"
        )
    return value


def check_name(field: str, name: str | None, settings: Settings, *, required: bool = False) -> str | None:
    if name is None:
        if required:
            raise InvalidArgument(f"{field}: a name is required")
        return None
    if required and not name.strip():
        raise InvalidArgument(f"{field}: name must not be empty")
    if len(name) > settings.max_name_length:
        raise InvalidArgument(f"{field}: {_show(name)} is longer than {settings.max_name_length} characters")
    return name


def check_int64(field: str, value: int | None) -> int | None:
    if value is not None and not INT64_MIN <= value <= INT64_MAX:
        raise InvalidArgument(f"{field}: {value} does not fit in a signed 64-bit integer")
    return value


def parse_experiment_id(field: str, value: str) -> int:
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        raise NotFound(f"{field}: no experiment with id {value!r}") from None
    if not 0 <= parsed <= INT64_MAX:
        raise NotFound(f"{field}: no experiment with id {value!r}")
    return parsed


def check_run_id(field: str, value: str) -> str:
    if not RUN_ID_RE.match(value):
        raise InvalidArgument(f"{field}: {value!r} is not a run id (32 lowercase hex characters)")
    return value


def check_status(field: str, value: str) -> str:
    if value not in RUN_STATUSES:
        raise InvalidArgument(f"{field}: {value!r} is not one of {', '.join(RUN_STATUSES)}")
    return value


BATCH_ID_MAX_LENGTH = 128


def check_param_items(settings: Settings, params: Sequence[tuple[str, str]]) -> None:
    """The count limit and each key and value, with the element named in the error."""
    if len(params) > settings.max_batch_params:
        raise InvalidArgument(f"params: {len(params)} in one batch; the limit is {settings.max_batch_params}")
    for i, (key, value) in enumerate(params):
        check_key(f"params[{i}]", key, settings)
        check_value(f"params[{i}]", key, value, settings.max_param_value_length)


def check_tags(settings: Settings, field: str, tags: Sequence[tuple[str, str]]) -> None:
    """Each key and value of a list of tags (no count limit: see ``check_batch``)."""
    for key, value in tags:
        check_key(field, key, settings)
        check_value(field, key, value, settings.max_tag_value_length)


def check_batch(
    settings: Settings,
    *,
    batch_id: str | None,
    metric_keys: Sequence[str],
    values: Sequence[float],
    steps: Sequence[int],
    timestamps: Sequence[int],
    params: Sequence[tuple[str, str]],
    tags: Sequence[tuple[str, str]],
) -> None:
    """Check a whole logBatch before any of it is written; errors name the element."""
    if batch_id is not None and not 0 < len(batch_id) <= BATCH_ID_MAX_LENGTH:
        raise InvalidArgument(
            f"batchId: must be 1 to {BATCH_ID_MAX_LENGTH} characters long, got {len(batch_id)}"
        )
    n = len(metric_keys)
    for name, length in {"values": len(values), "steps": len(steps), "timestamps": len(timestamps)}.items():
        if length != n:
            raise InvalidArgument(
                f"metrics.{name}: has {length} elements but metrics.keys has {n}; the lists are parallel"
            )
    if n > settings.max_batch_points:
        raise InvalidArgument(
            f"metrics: {n} points in one batch; the limit is {settings.max_batch_points} (split the batch)"
        )
    for key in set(metric_keys):
        check_key("metrics.keys", key, settings)
    check_param_items(settings, params)
    if len(tags) > settings.max_batch_tags:
        raise InvalidArgument(f"tags: {len(tags)} in one batch; the limit is {settings.max_batch_tags}")
    for i, (key, value) in enumerate(tags):
        check_key(f"tags[{i}]", key, settings)
        check_value(f"tags[{i}]", key, value, settings.max_tag_value_length)


def check_description(field: str, description: str | None, settings: Settings) -> str | None:
    """A description (free text, often Markdown) within ``max_description_length``."""
    if description is not None and len(description) > settings.max_description_length:
        raise InvalidArgument(
            f"{field}: {len(description):,} characters long; the limit is "
            f"{settings.max_description_length:,} (MLTRAIL_MAX_DESCRIPTION_LENGTH)"
        )
    return description
