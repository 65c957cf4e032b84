"""Custom scalars, including the list-valued ones that carry columnar metric data.

64-bit integers and JavaScript: ``JSON.parse`` reads every number as a double, so a step of
2^53 + 1 would arrive as 2^53 with no error. A ``Long`` is therefore a JSON number while it is
within ±(2^53 - 1) (exact in every JSON parser, and what nearly every step and every
millisecond timestamp is) and a decimal string beyond; inputs accept either form. Readers
that care about the far range take both (``typeof x === "string" ? BigInt(x) : x``).

Why list-valued scalars: a plain ``[Float!]!`` of 10,000 elements is coerced element by
element by graphql-core (plus its nesting checks and the garbage those objects create) and
costs more than the SQL that stores them. A ``MetricValueList`` is one scalar: its
``parse_value`` checks the whole list in one tight loop and names the first bad element.
"""

from __future__ import annotations

import math
from typing import Any, NewType

import orjson
import strawberry

from mltrail_server.config import Settings
from mltrail_server.services.validation import INT64_MAX, INT64_MIN

Long = NewType("Long", int)
MetricValue = NewType("MetricValue", float)
LongList = NewType("LongList", list)
MetricValueList = NewType("MetricValueList", list)
StringList = NewType("StringList", list)
# Output only: table columns, where null means "this run has no value here".
OptionalStringList = NewType("OptionalStringList", list)
OptionalLongList = NewType("OptionalLongList", list)
OptionalMetricValueList = NewType("OptionalMetricValueList", list)

_NON_FINITE_IN = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# The largest integer a double holds exactly along with all its neighbours (Number.MAX_SAFE_INTEGER).
JS_SAFE_MAX = 2**53 - 1
# Where the scalars are specified (GraphQL's @specifiedBy): the README section on them.
SPEC_URL = "https://github.com/mltrail/mltrail/blob/main/README.md"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _long_from_string(value: str) -> int | None:
    """The integer a decimal string spells (how a Long beyond ±2^53 travels), else None."""
    body = value[1:] if value[:1] == "-" else value
    if not (body.isascii() and body.isdigit()) or len(body) > 19:
        return None
    return int(value)


def parse_long(value: Any) -> int:
    if type(value) is str:
        value = _long_from_string(value)
    if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"expected a 64-bit integer (a number, or a decimal string), got {_show(value)}")
    return value


def serialize_long(value: Any) -> int | str:
    number = int(value)
    return number if -JS_SAFE_MAX <= number <= JS_SAFE_MAX else str(number)


def serialize_long_list(values: list[int]) -> list[int | str]:
    # One C-level pass each for min and max: a 2-million-step history stays a plain list.
    if not values or (-JS_SAFE_MAX <= min(values) and max(values) <= JS_SAFE_MAX):
        return list(values)
    return [serialize_long(x) for x in values]


def serialize_optional_long_list(values: list[int | None]) -> list[int | str | None]:
    present = [x for x in values if x is not None]
    if not present or (-JS_SAFE_MAX <= min(present) and max(present) <= JS_SAFE_MAX):
        return list(values)
    return [None if x is None else serialize_long(x) for x in values]


def parse_metric_value(value: Any) -> float:
    t = type(value)
    if t is float:
        return value
    if t is int:
        return float(value)
    if t is str and value in _NON_FINITE_IN:
        return _NON_FINITE_IN[value]
    raise ValueError(f'expected a number or "NaN", "Infinity", "-Infinity", got {_show(value)}')


def serialize_metric_value(value: float | str | None) -> float | str:
    # None is how the store returns NaN (see store/models.py); live events carry names.
    if type(value) is str:
        return value
    if value is None or value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return value


def _require_list(value: Any, what: str) -> list[Any]:
    if type(value) is not list:
        raise ValueError(f"expected a list of {what}, got {_show(value)}")
    return value


def parse_long_list(value: Any) -> list[int]:
    items = _require_list(value, "64-bit integers")
    # Fast path in C: one set of element types, then min and max.
    if not items or (set(map(type, items)) == {int} and INT64_MIN <= min(items) and max(items) <= INT64_MAX):
        return items
    parsed = []
    for i, x in enumerate(items):
        n = _long_from_string(x) if type(x) is str else x
        if type(n) is not int or not INT64_MIN <= n <= INT64_MAX:
            raise ValueError(f"element {i}: expected a 64-bit integer (a number, or a decimal string), got {_show(x)}")
        parsed.append(n)
    return parsed


def parse_metric_value_list(value: Any) -> list[float]:
    items = _require_list(value, "metric values")
    types = set(map(type, items))
    if types <= {float}:
        return items
    if types <= {float, int}:
        return [float(x) for x in items]
    for i, x in enumerate(items):
        if not (type(x) in (float, int) or (type(x) is str and x in _NON_FINITE_IN)):
            raise ValueError(
                f'element {i}: expected a number or "NaN", "Infinity", "-Infinity", got {_show(x)}'
            )
    return [_NON_FINITE_IN[x] if type(x) is str else float(x) for x in items]


def parse_string_list(value: Any) -> list[str]:
    items = _require_list(value, "strings")
    if set(map(type, items)) <= {str}:
        return items
    for i, x in enumerate(items):
        if type(x) is not str:
            raise ValueError(f"element {i}: expected a string, got {_show(x)}")
    return items


def _all_finite(values: list[Any]) -> bool:
    """True when every element is a finite number: one C-level pass, no new list."""
    try:
        return all(map(math.isfinite, values))
    except TypeError:  # None (NaN in the store, or absent) or a name
        return False


def serialize_metric_value_list(values: list[float | str | None]) -> list[float | str]:
    if _all_finite(values):
        return values  # type: ignore[return-value]
    # x - x == 0 holds exactly for finite floats: one comparison per point.
    return [x if type(x) is float and x - x == 0 else serialize_metric_value(x) for x in values]


def serialize_optional_metric_value_list(values: list[float | None]) -> list[float | str | None]:
    if _all_finite(values):
        return values  # type: ignore[return-value]
    # Here None is absence, not NaN: table columns carry NaN as a float (see run_table).
    return [x if x is None or x - x == 0 else serialize_metric_value(x) for x in values]


def _output_only(name: str) -> Any:
    def refuse(value: Any) -> Any:
        raise ValueError(f"{name} is an output type")

    return refuse


SCALAR_MAP = {
    Long: strawberry.scalar(
        name="Long",
        description="A signed 64-bit integer (steps, millisecond timestamps): a JSON number within "
        "±(2^53 - 1), where every JSON parser reads it exactly, and a decimal string beyond "
        '(9007199254740993 travels as "9007199254740993"). Accepted as a number or a decimal '
        "string. TypeScript: `number | string`.",
        specified_by_url=f"{SPEC_URL}#64-bit-integers-long",
        serialize=serialize_long,
        parse_value=parse_long,
    ),
    MetricValue: strawberry.scalar(
        name="MetricValue",
        description='A float, or one of the strings "NaN", "Infinity", "-Infinity" (kept exactly). '
        'TypeScript: `number | "NaN" | "Infinity" | "-Infinity"`.',
        specified_by_url=f"{SPEC_URL}#metric-values-metricvalue",
        serialize=serialize_metric_value,
        parse_value=parse_metric_value,
    ),
    LongList: strawberry.scalar(
        name="LongList",
        description="A JSON array of Long (numbers, or decimal strings beyond ±(2^53 - 1)), coerced "
        "in one pass (columnar data). TypeScript: `Array<number | string>`.",
        specified_by_url=f"{SPEC_URL}#64-bit-integers-long",
        serialize=serialize_long_list,
        parse_value=parse_long_list,
    ),
    MetricValueList: strawberry.scalar(
        name="MetricValueList",
        description='A JSON array of MetricValue: numbers or "NaN" / "Infinity" / "-Infinity". '
        "TypeScript: `Array<number | string>`.",
        specified_by_url=f"{SPEC_URL}#metric-values-metricvalue",
        serialize=serialize_metric_value_list,
        parse_value=parse_metric_value_list,
    ),
    StringList: strawberry.scalar(
        name="StringList",
        description="A JSON array of strings, coerced in one pass (columnar data). TypeScript: `string[]`.",
        specified_by_url=f"{SPEC_URL}#columnar-scalars",
        serialize=list,
        parse_value=parse_string_list,
    ),
    OptionalStringList: strawberry.scalar(
        name="OptionalStringList",
        description="A JSON array of strings or null (output: a table column; null where a run has no value). "
        "TypeScript: `Array<string | null>`.",
        specified_by_url=f"{SPEC_URL}#columnar-scalars",
        serialize=list,
        parse_value=_output_only("OptionalStringList"),
    ),
    OptionalLongList: strawberry.scalar(
        name="OptionalLongList",
        description="A JSON array of Long or null (output: a table column; null where a run has no value). "
        "TypeScript: `Array<number | string | null>`.",
        specified_by_url=f"{SPEC_URL}#64-bit-integers-long",
        serialize=serialize_optional_long_list,
        parse_value=_output_only("OptionalLongList"),
    ),
    OptionalMetricValueList: strawberry.scalar(
        name="OptionalMetricValueList",
        description='A JSON array of MetricValue or null (output: a table column; null where a run has not logged '
        'the metric, "NaN" where it logged NaN). TypeScript: `Array<number | string | null>`.',
        specified_by_url=f"{SPEC_URL}#metric-values-metricvalue",
        serialize=serialize_optional_metric_value_list,
        parse_value=_output_only("OptionalMetricValueList"),
    ),
}


def json_scalar(settings: Settings) -> Any:
    """The JSON scalar (environment, dataset schema and profile), bounded in depth and size.

    Without a bound, 1,000 nested arrays in a run's environment reached ``json.dumps`` in the
    service and ended as a RecursionError (INTERNAL); a depth and a size limit refuse such
    input up front with INVALID_ARGUMENT. The walk is iterative: no input can exhaust the
    stack here.
    """
    max_depth, max_bytes = settings.max_json_depth, settings.max_json_bytes

    def parse_json_value(value: Any) -> Any:
        stack = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if type(item) is dict:
                children: Any = item.values()
            elif type(item) is list:
                children = item
            else:
                continue
            if depth > max_depth:
                raise ValueError(
                    f"JSON nests deeper than {max_depth} levels (MLTRAIL_MAX_JSON_DEPTH)"
                )
            stack.extend((child, depth + 1) for child in children if type(child) in (dict, list))
        size = len(orjson.dumps(value))
        if size > max_bytes:
            raise ValueError(f"JSON is {size:,} bytes long; the limit is {max_bytes:,} (MLTRAIL_MAX_JSON_BYTES)")
        return value

    # Described as strawberry's own JSON scalar: the contract (schema.graphql) is unchanged.
    return strawberry.scalar(
        name="JSON",
        description=f"The `JSON` scalar type represents JSON values as specified by [ECMA-404]({_ECMA_404}).",
        specified_by_url=_ECMA_404,
        serialize=lambda value: value,
        parse_value=parse_json_value,
    )


_ECMA_404 = "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
