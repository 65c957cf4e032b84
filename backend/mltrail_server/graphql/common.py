"""Types every domain shares: tags, params, pagination."""

from __future__ import annotations

import strawberry

from mltrail_server.services.tracking import Page, count


@strawberry.type(description="A key/value label; mutable.")
class Tag:
    key: str
    value: str


@strawberry.input
class TagInput:
    key: str
    value: str


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


def pairs(items: list[TagInput] | None) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in items or []]


class ConnectionBase:
    """Shared behaviour of connections: totalCount runs its count query only when asked."""

    _page: Page

    async def _total_count(self, info: strawberry.Info) -> int:
        return await info.context.read(count, query=self._page.count_query)


def page_size(first: int | None, maximum: int) -> int:
    from mltrail_server.errors import InvalidArgument

    size = 100 if first is None else first
    if not 0 <= size <= maximum:
        raise InvalidArgument(f"first: {size} is out of range; ask for 0 to {maximum} items per page")
    return size
