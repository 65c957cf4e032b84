"""The execution context: graphql-core's, with a fast path for plain fields and small objects.

A page of runs is mostly small objects (``params { key value }``, ``latestMetrics { … }``)
whose fields are attributes returned as they are. graphql-core completes each of those
fields the general way — a ``Path``, a resolve-info object, the resolver, ``complete_value``
through the type wrappers — about ten function calls per field, so a page of 1,000 runs
spent most of its time there, not in SQL.

``PlainFieldExecutor`` compiles each selection set once per request into a plan, one step per
response name:

- **plain**: Strawberry's default resolver (an attribute; no arguments, permission classes or
  field extensions) on a scalar or enum type. Read with ``getattr`` and coerced with the
  type's own ``coerce_output_value`` — what the general path ends up doing.
- **prefetched**: a field without arguments whose value the source object already holds in
  its ``prefetched`` mapping (keyed by the GraphQL field name; a list query fills it for a
  whole page, see ``graphql/runs/queries.py``). A list of objects whose selected fields are
  all plain is completed in one loop; the resolver is not called.
- **typename**: ``__typename`` on an object type is the type's name.
- **general**: everything else — resolvers, nested objects — goes through graphql-core
  unchanged.

Whenever a fast step meets something unusual (a null in a non-null field, a value the scalar
refuses, a null or awaitable list item, ``@stream``/``@defer``), it hands the field to the
general path, which reports it with graphql-core's own errors, paths and null propagation.
Aliases, fragments and ``@skip``/``@include`` are resolved before the plan, by graphql-core's
field collection, so they keep working.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

from graphql import (
    GraphQLID,
    GraphQLList,
    GraphQLObjectType,
    GraphQLString,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.executor import gather_with_cancel
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Directives that field collection has already applied; any other one (a custom directive)
# sends the field down the general path.
_ROUTINE_DIRECTIVES = frozenset({"skip", "include"})


class StepKind(enum.Enum):
    PLAIN = "plain"
    TYPENAME = "typename"
    PREFETCHED = "prefetched"
    GENERAL = "general"


# The kinds a list of objects can be completed with in one loop (``_plain_rows``).
_ROW_KINDS = frozenset({StepKind.PLAIN, StepKind.TYPENAME})


class Step(NamedTuple):
    kind: StepKind
    response_name: str
    field_name: str  # the attribute (PLAIN), the prefetched key (PREFETCHED), the type's name (TYPENAME)
    leaf_type: Any  # PLAIN: the scalar or enum type; PREFETCHED: the list's item type or None
    non_null: bool
    field_details_list: Any
    # String and ID hand a str back as it is: the loop skips the call.
    text: bool = False


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keyed on the identity of the grouped field set, which graphql-core memoizes per
        # (type, selection) for the whole request; the set itself is kept alive in the value
        # so its id cannot be reused while the request runs.
        self._plans: dict[int, tuple[Any, list[Step], bool]] = {}
        # Strawberry always passes a manager; it wraps resolvers only when an extension
        # implements ``resolve`` (none of ours does), and then every field must go through it.
        self._fast = not (self.middleware_manager is not None and self.middleware_manager.middlewares)
        # Without @stream/@defer in the schema no document can ask for incremental delivery,
        # and graphql-core's per-list check for it (a linear scan) can be skipped.
        self._incremental = any(self.schema.get_directive(name) for name in ("stream", "defer"))

    # --- plans -----------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> tuple[list[Step], bool]:
        """The steps of a selection set, and whether every one of them is PLAIN or TYPENAME."""
        cached = self._plans.get(id(grouped_field_set))
        if cached is None:
            steps = [
                self._step(parent_type, response_name, field_details_list)
                for response_name, field_details_list in grouped_field_set.items()
            ]
            cached = (grouped_field_set, steps, all(s.kind in _ROW_KINDS for s in steps))
            self._plans[id(grouped_field_set)] = cached
        return cached[1], cached[2]

    def _step(self, parent_type: GraphQLObjectType, response_name: str, field_details_list: Any) -> Step:
        general = Step(StepKind.GENERAL, response_name, "", None, False, field_details_list)
        if not self._fast:
            return general
        node = field_details_list[0].node
        if node.name.value == "__typename" and not node.directives:
            return Step(StepKind.TYPENAME, response_name, parent_type.name, None, True, field_details_list)
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is None or field_def.args or node.arguments:
            return general
        if any(d.name.value not in _ROUTINE_DIRECTIVES for fd in field_details_list for d in fd.node.directives or ()):
            return general
        return_type = field_def.type
        non_null = is_non_null_type(return_type)
        inner_type = return_type.of_type if non_null else return_type
        if getattr(field_def.resolve, "_is_default", False):
            attribute = getattr((field_def.extensions or {}).get("strawberry-definition"), "python_name", None)
            if attribute is None or not is_leaf_type(inner_type):
                return general
            text = inner_type is GraphQLString or inner_type is GraphQLID
            return Step(StepKind.PLAIN, response_name, attribute, inner_type, non_null, field_details_list, text)
        if is_list_type(inner_type):
            return Step(
                StepKind.PREFETCHED, response_name, node.name.value, inner_type.of_type, non_null, field_details_list
            )
        return general

    # --- completion ------------------------------------------------------------------------

    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        steps, _ = self._plan(parent_type, grouped_field_set)
        prefetched = getattr(source_value, "prefetched", None)
        try:
            for step in steps:
                response_name = step.response_name
                if step.kind is StepKind.TYPENAME:
                    results[response_name] = step.field_name
                    continue
                if step.kind is StepKind.PLAIN:
                    value = _plain_value(step, getattr(source_value, step.field_name, Undefined))
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                elif step.kind is StepKind.PREFETCHED and prefetched is not None and step.field_name in prefetched:
                    field_path = Path(path, response_name, parent_type.name)
                    rows = self._plain_rows(step.leaf_type, step.field_details_list, field_path, prefetched[step.field_name])
                    if rows is not None:
                        results[response_name] = rows
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    step.field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                name = awaitable_fields[0]
                results[name] = await results[name]
            else:
                awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def complete_list_value(  # type: ignore[override]
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        rows = self._plain_rows(return_type.of_type, field_details_list, path, result)
        if rows is not None:
            return rows
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def _plain_rows(self, item_type: Any, field_details_list: Any, path: Path, items: Any) -> list[Any] | None:
        """A list of objects whose selected fields are all PLAIN, completed in one loop; None
        when anything in it needs the general path (which then completes the whole list)."""
        if not self._fast or not isinstance(items, list | tuple):
            return None
        object_type = item_type.of_type if is_non_null_type(item_type) else item_type
        if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if self._incremental and (new_defer_usages or self.get_stream_usage(field_details_list, path) is not None):
            return None
        steps, all_plain = self._plan(object_type, grouped_field_set)
        if not all_plain:
            return None
        is_awaitable = self.is_awaitable
        rows: list[dict[str, Any]] = []
        # _plain_value inlined: this loop runs once per field of every small object of a page.
        for item in items:
            if item is None or is_awaitable(item):
                return None
            row: dict[str, Any] = {}
            for step in steps:
                if step.kind is StepKind.TYPENAME:
                    row[step.response_name] = step.field_name
                    continue
                value = getattr(item, step.field_name, Undefined)
                if value is None:
                    if step.non_null:
                        return None
                elif value is Undefined:
                    return None
                elif not (step.text and type(value) is str):
                    try:
                        value = step.leaf_type.coerce_output_value(value)
                    except Exception:  # the general path raises it, located at its path
                        return None
                    if value is None or value is Undefined:
                        return None
                row[step.response_name] = value
            rows.append(row)
        return rows


def _plain_value(step: Step, value: Any) -> Any:
    """The completed value of a PLAIN field, or Undefined when the general path must decide."""
    if value is None:
        return Undefined if step.non_null else None
    if value is Undefined:
        return Undefined
    try:
        coerced = step.leaf_type.coerce_output_value(value)
    except Exception:  # the general path raises it, located at its path
        return Undefined
    return Undefined if coerced is None else coerced
