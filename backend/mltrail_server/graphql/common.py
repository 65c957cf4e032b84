"""Types every domain shares: tags, params, pagination."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import strawberry

from mltrail_server.errors import InvalidArgument
from mltrail_server.services.pagination import Page

# What a list answers when the client does not say `first` (the schema's default too).
DEFAULT_PAGE_SIZE = 100


@strawberry.type(description="A key/value label; mutable.")
class Tag:
    key: str
    value: str


@strawberry.input
class TagInput:
    key: str
    value: str


def build_key_value_input(cls: type, value: Mapping[str, Any], _context: Any) -> Any:
    """Build a key/value input from its GraphQL value in one call.

    Strawberry's generic conversion resolves each field's type and name for every item, which
    for a run's ten params cost more than writing them; graphql-core has already checked that
    ``key`` and ``value`` are strings. Installed through the definition's ``from_input`` hook.
    """
    return cls(key=value["key"], value=value["value"])


TagInput.__strawberry_definition__.from_input = build_key_value_input  # type: ignore[attr-defined]


@strawberry.type
class EdgeBase:
    """An edge's cursor is sealed only when a client selects it (see services.pagination.Cursors)."""

    _cursors: strawberry.Private[Sequence[str]]
    _index: strawberry.Private[int]

    @strawberry.field(description="Opaque; pass as `after` to the same query for the items after this one.")
    def cursor(self) -> str:
        return self._cursors[self._index]


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


def page_info(end_cursor: str | None, has_next: bool) -> PageInfo:
    """A page's info; an empty page (``first: 0``) has no cursor to continue from, so it says
    there is no next page rather than promise one that cannot be asked for."""
    return PageInfo(end_cursor=end_cursor, has_next_page=has_next and end_cursor is not None)


def pairs(items: list[TagInput] | None) -> list[tuple[str, str]]:
    return [(t.key, t.value) for t in items or []]


class ConnectionBase:
    """Shared behaviour of connections: built from a service Page; totalCount runs the page's
    count only when asked. Subclasses name their node and edge types (plain class attributes,
    not GraphQL fields)."""

    _page: Page
    node_type: Any
    edge_type: Any

    @classmethod
    def from_page(cls, page: Page) -> Any:
        nodes = [cls.node_type.from_model(item) for item in page.items]
        return cls(  # type: ignore[call-arg]
            edges=[cls.edge_type(_cursors=page.cursors, _index=i, node=n) for i, n in enumerate(nodes)],
            nodes=nodes,
            page_info=page_info(page.cursors[-1] if page.cursors else None, page.has_next),
            _page=page,
        )

    async def _total_count(self, info: strawberry.Info) -> int:
        return await info.context.read(self._page.total_count)


def page_size(first: int | None, maximum: int) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= maximum:
        raise InvalidArgument(f"first: {size} is out of range; ask for 0 to {maximum} items per page")
    return size
