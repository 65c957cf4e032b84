"""Input checks shared by the tracking services: each error names the field and the value."""

from __future__ import annotations

import re

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


def check_description(field: str, description: str | None, settings: Settings) -> str | None:
    """A description (free text, often Markdown) within ``max_description_length``."""
    if description is not None and len(description) > settings.max_description_length:
        raise InvalidArgument(
            f"{field}: {len(description):,} characters long; the limit is "
            f"{settings.max_description_length:,} (MLTRAIL_MAX_DESCRIPTION_LENGTH)"
        )
    return description
