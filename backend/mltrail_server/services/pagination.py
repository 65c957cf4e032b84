"""Cursor pagination shared by every list: pages, opaque cursors, and the total count.

A page carries ``total_count``, a function of a read session that counts every match: the
GraphQL layer runs it (``context.read(page.total_count)``) only when a client asks for
``totalCount``, and never sees the query inside it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from mltrail_server.errors import InvalidArgument

T = TypeVar("T")

TotalCount = Callable[[AsyncSession], Awaitable[int]]


def counting(query: Select[Any]) -> TotalCount:
    """A ``TotalCount`` that runs ``query`` (a ``SELECT count(*) …``) on the session it is given."""

    async def total_count(session: AsyncSession) -> int:
        return int((await session.execute(query)).scalar_one())

    return total_count


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection: its items, their cursors, and the count of all pages."""

    items: list[T]
    cursors: list[str]
    has_next: bool
    total_count: TotalCount


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, n: int) -> list[Any]:
    """The ``n`` values of a cursor this server issued; INVALID_ARGUMENT for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except Exception:
        raise InvalidArgument(f"after: {cursor!r} is not a cursor this server issued") from None
    if not isinstance(values, list) or len(values) != n:
        raise InvalidArgument(f"after: {cursor!r} does not belong to this query (was the order changed?)")
    return values
