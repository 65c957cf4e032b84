"""Types every domain shares: tags, params, pagination."""

from __future__ import annotations

from typing import Any

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
    """Shared behaviour of connections: built from a service Page; totalCount runs its count
    query only when asked. Subclasses name their node and edge types (plain class attributes,
    not GraphQL fields)."""

    _page: Page
    node_type: Any
    edge_type: Any

    @classmethod
    def from_page(cls, page: Page) -> Any:
        nodes = [cls.node_type.from_model(item) for item in page.items]
        return cls(  # type: ignore[call-arg]
            edges=[cls.edge_type(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=PageInfo(
                end_cursor=page.cursors[-1] if page.cursors else None, has_next_page=page.has_next
            ),
            _page=page,
        )

    async def _total_count(self, info: strawberry.Info) -> int:
        return await info.context.read(count, query=self._page.count_query)


def page_size(first: int | None, maximum: int) -> int:
    from mltrail_server.errors import InvalidArgument

    size = 100 if first is None else first
    if not 0 <= size <= maximum:
        raise InvalidArgument(f"first: {size} is out of range; ask for 0 to {maximum} items per page")
    return size
