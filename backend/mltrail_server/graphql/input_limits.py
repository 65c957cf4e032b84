"""Rules every GraphQL input obeys, checked once at the edge before any resolver runs.

- **No NUL characters.** PostgreSQL cannot store U+0000 in text and its driver fails the whole
  statement; SQLite would store it. One rule for both databases: any string containing NUL —
  a variable at any depth (param and tag values, names, ids, filters, JSON scalars) or a
  string literal in the document — is refused with ``INVALID_ARGUMENT`` naming where it is.
  Checking here rather than in each service covers lookups by name and filter literals too,
  without an ``if`` per field.
- **Lists that graphql-core coerces item by item** (``runIds``, ``params``, ``tags``, ...)
  hold at most ``max_list_items``: about 5 µs per item, a million ids would hold the event
  loop for seconds before a resolver could refuse them. Columnar metric lists are scalars,
  coerced in one pass, and are bounded by the batch limits instead.

Walking the variables costs time on big batches, so it only happens when the HTTP layer saw
a NUL escape in the body (or could not look: WebSocket and GET requests, which are small).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    StringValueNode,
    parse,
    type_from_ast,
    visit,
)
from graphql.language import Visitor

from mltrail_server.config import Settings
from mltrail_server.errors import InvalidArgument, ResourceExhausted

NUL = "\x00"


def check_inputs(
    schema: GraphQLSchema,
    document: DocumentNode,
    query: str,
    variables: dict[str, Any] | None,
    settings: Settings,
    *,
    variables_may_contain_nul: bool = True,
) -> None:
    """Raise ``InvalidArgument`` / ``ResourceExhausted`` when an input breaks a rule above."""
    if "\\u" in query:  # the only way a GraphQL string literal can hold NUL
        where = _literal_with_nul(query)
        if where is not None:
            raise InvalidArgument(f"{where}: contains a NUL character (\\u0000), which text may not hold")
    if not variables:
        return
    if variables_may_contain_nul:
        where = _find_nul(variables)
        if where is not None:
            raise InvalidArgument(
                f"variable ${where}: contains a NUL character (\\u0000), which text may not hold"
            )
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode):
            for definition in operation.variable_definitions or ():
                name = definition.variable.name.value
                if name in variables:
                    declared = type_from_ast(schema, definition.type)
                    _check_list_lengths(schema, declared, variables[name], f"${name}", settings.max_list_items)


@lru_cache(maxsize=64)
def _literal_with_nul(query: str) -> str | None:
    """Where a string literal of the document holds NUL; keyed on the text (cheap to hash)."""
    found: list[str] = []

    class FindNul(Visitor):
        def enter_string_value(self, node: StringValueNode, key: Any, parent: Any, path: Any, ancestors: Any) -> Any:
            if NUL in node.value:
                owner = next(
                    (
                        a
                        for a in reversed([*ancestors, parent])
                        if getattr(a, "kind", "") in ("argument", "object_field")
                    ),
                    None,
                )
                found.append(f"argument {owner.name.value}" if owner is not None else "a string literal")
                return Visitor.BREAK
            return None

    visit(parse(query, no_location=True), FindNul())
    return found[0] if found else None


def _find_nul(value: Any) -> str | None:
    """The path of the first string holding NUL (``params[2].value``), or None; iterative."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        kind = type(item)
        if kind is str:
            if NUL in item:
                return path
        elif kind is dict:
            for key, child in item.items():
                if NUL in key:
                    return f"{path}.{key!r}".lstrip(".")
                stack.append((child, f"{path}.{key}" if path else key))
        elif kind is list:
            if item and all(type(x) is str for x in item):  # columnar keys: one C-speed test first
                if NUL not in "".join(item):
                    continue
            stack.extend((child, f"{path}[{i}]") for i, child in _reversed_enumerate(item))
    return None


def _reversed_enumerate(items: list[Any]) -> Iterator[tuple[int, Any]]:
    # Reversed so that the stack pops the first element first: the error names the first NUL.
    return zip(range(len(items) - 1, -1, -1), reversed(items), strict=True)


def _check_list_lengths(schema: GraphQLSchema, type_: Any, value: Any, path: str, limit: int) -> None:
    """Walk ``value`` along its declared type: GraphQL lists and input objects only, never
    into scalars (so a columnar batch costs a few steps, whatever its size)."""
    if isinstance(type_, GraphQLNonNull):
        _check_list_lengths(schema, type_.of_type, value, path, limit)
    elif isinstance(type_, GraphQLList):
        if type(value) is not list:
            return  # a single value where a list is expected: graphql-core coerces it
        if len(value) > limit:
            raise ResourceExhausted(
                f"{path}: {len(value):,} items; the limit is {limit:,} per list (MLTRAIL_MAX_LIST_ITEMS)"
            )
        if _holds_lists(type_.of_type):  # a thousand ParamInputs hold none: not walked
            for i, item in enumerate(value):
                _check_list_lengths(schema, type_.of_type, item, f"{path}[{i}]", limit)
    elif isinstance(type_, GraphQLInputObjectType) and type(value) is dict:
        for name, field in type_.fields.items():
            if name in value:
                _check_list_lengths(schema, field.type, value[name], f"{path}.{name}", limit)


@lru_cache(maxsize=256)
def _holds_lists(type_: Any) -> bool:
    """Whether values of this input type can contain a GraphQL list (recursive types: no loop,
    since a type under inspection counts as holding none until proven otherwise)."""
    return _holds_lists_within(type_, set())


def _holds_lists_within(type_: Any, seen: set[int]) -> bool:
    if isinstance(type_, GraphQLNonNull):
        return _holds_lists_within(type_.of_type, seen)
    if isinstance(type_, GraphQLList):
        return True
    if isinstance(type_, GraphQLInputObjectType) and id(type_) not in seen:
        seen.add(id(type_))
        return any(_holds_lists_within(field.type, seen) for field in type_.fields.values())
    return False
