"""The search language's parser: the AST it builds and, above all, where its errors point."""

from __future__ import annotations

import pytest

from mltrail_server.errors import InvalidArgument
from mltrail_server.services.search.parser import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_IN_VALUES,
    And,
    Comparison,
    Field,
    Or,
    OrderKey,
    Position,
    parse_filter,
    parse_order_by,
)


def only(text: str) -> Comparison:
    node = parse_filter(text)
    assert isinstance(node, Comparison), node
    return node


def error(text: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text)
    assert caught.value.code == "INVALID_ARGUMENT"
    return caught.value.message


# --- what parses -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("metrics.acc = 0.9", "=", 0.9),
        ("metrics.acc != 1", "!=", 1),
        ("metrics.acc < -2", "<", -2),
        ("metrics.acc <= 1e-3", "<=", 1e-3),
        ("metrics.acc > +.5", ">", 0.5),
        ("metrics.acc >= -1.5E+3", ">=", -1500.0),
        ("metrics.acc>=1", ">=", 1),
        ("params.model = 'rf'", "=", "rf"),
        ('params.model != "rf"', "!=", "rf"),
        ("tags.team LIKE 'vis%'", "LIKE", "vis%"),
        ("tags.team like 'vis%'", "LIKE", "vis%"),
        ("tags.team ILIKE 'VIS%'", "ILIKE", "VIS%"),
        ("tags.team iLike 'VIS%'", "ILIKE", "VIS%"),
        ("params.x = 'it''s'", "=", "it's"),
        ('params.x = "say ""hi"""', "=", 'say "hi"'),
        ("params.x = ''", "=", ""),
        ("params.x = 'two\nlines'", "=", "two\nlines"),
    ],
)
def test_single_value_operators(text: str, op: str, value: object) -> None:
    comparison = only(text)
    assert comparison.op == op
    assert comparison.value is not None and not isinstance(comparison.value, tuple)
    assert comparison.value.value == value
    assert type(comparison.value.value) is type(value)


@pytest.mark.parametrize(
    ("text", "op", "values"),
    [
        ("params.model IN ('rf')", "IN", ("rf",)),
        ("params.model in ('rf', \"gbm\",'x')", "IN", ("rf", "gbm", "x")),
        ("tags.t NOT IN ('a', 'b')", "NOT IN", ("a", "b")),
        ("tags.t not  in('a')", "NOT IN", ("a",)),
        ("attributes.start_time IN (1, 2.5)", "IN", (1, 2.5)),
    ],
)
def test_list_operators(text: str, op: str, values: tuple[object, ...]) -> None:
    comparison = only(text)
    assert comparison.op == op
    assert tuple(v.value for v in comparison.values) == values


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("metrics.acc IS NULL", "IS NULL"),
        ("params.lr is not null", "IS NOT NULL"),
        ("tags.t Is Not Null", "IS NOT NULL"),
    ],
)
def test_null_operators(text: str, op: str) -> None:
    comparison = only(text)
    assert (comparison.op, comparison.value, comparison.values) == (op, None, ())


@pytest.mark.parametrize(
    ("text", "entity", "key", "aggregate"),
    [
        ("metrics.acc", "metric", "acc", None),
        ("metric.acc", "metric", "acc", None),
        ("METRICS.acc", "metric", "acc", None),
        ("metrics.loss.min", "metric", "loss", "min"),
        ("metrics.loss.Max", "metric", "loss", "max"),
        ("metrics.val.loss", "metric", "val.loss", None),
        ("metrics.val.loss.max", "metric", "val.loss", "max"),
        ("metrics.`val.loss`", "metric", "val.loss", None),
        ("metrics.`val.loss`.min", "metric", "val.loss", "min"),
        ('metrics."val loss".min', "metric", "val loss", "min"),
        # Quoting is the escape for a metric literally named with a .min / .max suffix.
        ("metrics.`loss.min`", "metric", "loss.min", None),
        ("metrics.loss.`min`", "metric", "loss.min", None),
        ("metrics.min", "metric", "min", None),
        ("metrics.train/loss", "metric", "train/loss", None),
        ("metrics.a-b:c", "metric", "a-b:c", None),
        ("metrics.0", "metric", "0", None),
        ("metrics.`a``b`", "metric", "a`b", None),
        ("params.lr", "param", "lr", None),
        ("param.lr", "param", "lr", None),
        ("params.a.min", "param", "a.min", None),
        ("tags.team", "tag", "team", None),
        ("tag.`mlflow.user`", "tag", "mlflow.user", None),
        ("attributes.status", "attribute", "status", None),
        ("attribute.status", "attribute", "status", None),
        ("attr.status", "attribute", "status", None),
        ("run.status", "attribute", "status", None),
        ("status", "attribute", "status", None),
        ("datasets.name", "dataset", "name", None),
        ("dataset.Digest", "dataset", "digest", None),
        ("datasets.context", "dataset", "context", None),
    ],
)
def test_fields(text: str, entity: str, key: str, aggregate: str | None) -> None:
    field = only(f"{text} IS NULL").field
    assert (field.entity, field.key, field.aggregate, field.text) == (entity, key, aggregate, text)
    assert field.position == Position(1, 1)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("metrics.acc", "metrics.acc"),
        ("metric.loss.MIN", "metrics.loss.min"),
        ("metrics.`val.loss`.max", "metrics.`val.loss`.max"),
        ("metrics.`loss.min`", "metrics.`loss.min`"),
        ("tags.`a b`", "tags.`a b`"),
        ("params.`a``b`", "params.`a``b`"),
    ],
)
def test_labels_parse_back_to_the_same_field(text: str, label: str) -> None:
    field = only(f"{text} IS NULL").field
    assert field.label == label
    again = only(f"{label} IS NULL").field
    assert (again.entity, again.key, again.aggregate) == (field.entity, field.key, field.aggregate)


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter("params.a = '1' or params.b = '2' and params.c = '3' OR params.d = '4'")
    assert isinstance(node, Or)
    first, middle, last = node.children
    assert isinstance(first, Comparison) and first.field.key == "a"
    assert isinstance(middle, And) and [c.field.key for c in middle.children] == ["b", "c"]  # type: ignore[union-attr]
    assert isinstance(last, Comparison) and last.field.key == "d"


def test_parentheses_group_and_nested_groups_flatten() -> None:
    node = parse_filter("(params.a = '1' or params.b = '2') and ((params.c = '3') and params.d = '4')")
    assert isinstance(node, And)
    group, c, d = node.children
    assert isinstance(group, Or) and len(group.children) == 2
    assert [c.field.key, d.field.key] == ["c", "d"]  # type: ignore[union-attr]


def test_positions_count_lines_and_columns() -> None:
    node = parse_filter("metrics.acc > 0.9\n  and\tparams.model = 'rf'")
    assert isinstance(node, And)
    metric, param = node.children
    assert isinstance(metric, Comparison) and isinstance(param, Comparison)
    assert metric.op_position == Position(1, 13)
    assert param.field.position == Position(2, 7)  # a tab is one column
    assert param.value.position == Position(2, 22)  # type: ignore[union-attr]


def test_keywords_are_case_insensitive() -> None:
    lower = parse_filter("params.a in ('x') and params.b is not null or params.c like 'y'")
    upper = parse_filter("params.a IN ('x') AND params.b IS NOT NULL OR params.c LIKE 'y'")

    def shape(node: object) -> object:
        if isinstance(node, Comparison):
            return (node.field.key, node.op, tuple(v.value for v in node.values))
        return (type(node).__name__, tuple(shape(c) for c in node.children))  # type: ignore[attr-defined]

    assert shape(lower) == shape(upper)


def test_injection_is_a_plain_string() -> None:
    comparison = only("params.x = '1'' OR 1=1 --'")
    assert comparison.value.value == "1' OR 1=1 --"  # type: ignore[union-attr]


# --- errors: exact line, column and message --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Values
        ("metrics.acc >", "line 1, column 14: expected a value after '>'"),
        ("metrics.acc >   \n", "line 1, column 14: expected a value after '>'"),
        ("metrics.accuracy > and", "line 1, column 20: expected a value after '>', got 'and'"),
        (
            "params.model = rf",
            "line 1, column 16: expected a value after '=', got 'rf' (strings need quotes: 'rf')",
        ),
        ("params.model = NULL", "line 1, column 16: write IS NULL or IS NOT NULL instead of '= NULL'"),
        ("metrics.a > 1abc", "line 1, column 13: malformed number '1abc'"),
        ("metrics.a > 1.2.3", "line 1, column 13: malformed number '1.2.3'"),
        ("metrics.a > " + "9" * 65, "line 1, column 13: number too long (at most 64 characters)"),
        # Strings and quoted keys
        ("params.x = 'abc", "line 1, column 12: unterminated string"),
        ("params.x = 'it''s", "line 1, column 12: unterminated string"),
        ('metrics.a > 1 and\nparams.x = "abc', "line 2, column 12: unterminated string"),
        ("metrics.`val.loss > 1", "line 1, column 9: unterminated quoted key"),
        ("metrics.`` > 1", "line 1, column 9: empty key"),
        (
            "`metrics.acc` > 1",
            "line 1, column 1: back-ticks quote a key after an entity, as in metrics.`val.loss`",
        ),
        # Fields
        (
            "metricz.acc > 1",
            "line 1, column 1: unknown entity 'metricz' (expected metrics, params, tags, attributes or datasets)",
        ),
        (
            "params.a = 'x' and\n  tagz.b = 'y'",
            "line 2, column 3: unknown entity 'tagz' (expected metrics, params, tags, attributes or datasets)",
        ),
        ("metrics. > 1", "line 1, column 9: expected a key after 'metrics.'"),
        ("metrics > 1", "line 1, column 1: expected a key after 'metrics.' (as in metrics.KEY)"),
        (
            "datasets.size = 'x'",
            "line 1, column 1: unknown dataset field 'size' (expected name, digest or context)",
        ),
        # Operators
        (
            "metrics.acc 0.9",
            "line 1, column 13: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, "
            "IS NOT NULL) after 'metrics.acc', got '0.9'",
        ),
        (
            "metrics.acc",
            "line 1, column 12: expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN,",
        ),
        ("metrics.acc == 1", "line 1, column 14: expected a value after '=', got '='"),
        ("metrics.acc ! 1", "line 1, column 13: unexpected character '!'"),
        ("metrics.acc > 1 ; drop", "line 1, column 17: unexpected character ';'"),
        ("params.a NOT LIKE 'x'", "line 1, column 14: expected IN after 'NOT', got 'LIKE'"),
        ("params.a IS 'x'", "line 1, column 13: expected NULL or NOT NULL after 'IS', got \"'x'\""),
        ("params.a IS NOT 'x'", "line 1, column 17: expected NULL after 'NOT', got \"'x'\""),
        ("params.a IN 'x'", "line 1, column 13: expected '(' after 'IN', got \"'x'\""),
        ("params.a IN ()", "line 1, column 14: expected a value after '(', got ')'"),
        ("params.a IN ('x',)", "line 1, column 18: expected a value after ',', got ')'"),
        (
            "params.a IN ('x' 'y')",
            "line 1, column 18: expected ',' or ')' to close '(' at column 13, got \"'y'\"",
        ),
        ("params.a IN ('x', 'y'", "line 1, column 22: expected ')' to close '(' at column 13"),
        # Structure
        ("metrics.acc > 1 and", "line 1, column 20: expected a condition after 'and'"),
        ("metrics.acc > 1 or or metrics.b > 1", "line 1, column 20: expected a condition such as"),
        (
            "and metrics.acc > 1",
            "line 1, column 1: expected a condition such as metrics.acc > 0.9, got 'and'",
        ),
        ("'x' = params.a", "line 1, column 1: expected a condition such as metrics.acc > 0.9, got \"'x'\""),
        (
            "metrics.acc > 1 params.x = 'a'",
            "line 1, column 17: expected AND, OR or the end of the filter, got 'params.x'",
        ),
        ("metrics.a > 1)", "line 1, column 14: unexpected ')' without a matching '('"),
        ("()", "line 1, column 2: expected a condition after '('"),
        ("(metrics.a > 1", "line 1, column 15: expected ')' to close '(' at column 1"),
        ("metrics.a > 1 and (params.b = 'x'", "line 1, column 34: expected ')' to close '(' at column 19"),
        (
            "(metrics.a > 1 and (params.b = 'x')",
            "line 1, column 36: expected ')' to close '(' at column 1",
        ),
        (
            "(metrics.a > 1\n and params.b = 'x'",
            "line 2, column 20: expected ')' to close '(' at line 1, column 1",
        ),
        (
            "(metrics.a > 1 params.b = 'x')",
            "line 1, column 16: expected AND, OR or ')' to close '(' at column 1, got 'params.b'",
        ),
        # Types
        ("metrics.acc = 'x'", "line 1, column 15: metric values are numbers; got string 'x'"),
        ("metric.acc = 'x'", "line 1, column 14: metric values are numbers; got string 'x'"),
        (
            "metrics.acc LIKE '0.9%'",
            "line 1, column 13: LIKE does not apply to metrics, which are numbers "
            "(use =, !=, <, <=, >, >=, IS NULL or IS NOT NULL)",
        ),
        ("metrics.acc IN (1, 2)", "line 1, column 13: IN does not apply to metrics, which are numbers"),
        ("metrics.acc NOT IN (1)", "line 1, column 13: NOT IN does not apply to metrics, which are numbers"),
        (
            "params.lr > 0.1",
            "line 1, column 11: '>' does not apply to params, which are strings "
            "(use =, !=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL)",
        ),
        ("tags.t <= 'a'", "line 1, column 8: '<=' does not apply to tags, which are strings"),
        ("datasets.name < 'a'", "line 1, column 15: '<' does not apply to dataset fields, which are strings"),
        ("params.lr = 0.1", "line 1, column 13: params are strings; got number 0.1 (quote it: '0.1')"),
        ("tags.t IN ('a', 2)", "line 1, column 17: tags are strings; got number 2 (quote it: '2')"),
        ("datasets.name = 1", "line 1, column 17: dataset fields are strings; got number 1 (quote it: '1')"),
        ("attributes.run_name LIKE 5", "line 1, column 26: LIKE takes a string pattern; got number 5"),
        (
            "tags.t LIKE 'a\\'",
            "line 1, column 13: LIKE pattern ends with a lone escape character '\\' (write '\\\\' for a backslash)",
        ),
        ("tags.t ILIKE 'a\\\\\\'", "line 1, column 14: ILIKE pattern ends with a lone escape character"),
    ],
)
def test_errors_say_where_and_what(text: str, message: str) -> None:
    got = error(text)
    assert got.startswith(message), got


def test_escaped_backslash_at_the_end_of_a_pattern_is_fine() -> None:
    assert only("tags.t LIKE 'a\\\\'").values[0].value == "a\\\\"


def test_limits() -> None:
    deep = "(" * (MAX_DEPTH + 1) + "params.a = 'x'" + ")" * (MAX_DEPTH + 1)
    assert error(deep) == f"line 1, column {MAX_DEPTH + 1}: parentheses nested deeper than {MAX_DEPTH} levels"
    nested_ok = "(" * MAX_DEPTH + "params.a = 'x'" + ")" * MAX_DEPTH
    assert isinstance(parse_filter(nested_ok), Comparison)

    many = " or ".join(["params.a = 'x'"] * (MAX_CONDITIONS + 1))
    assert error(many).endswith(f"more than {MAX_CONDITIONS} conditions in one filter")
    assert isinstance(parse_filter(" or ".join(["params.a = 'x'"] * MAX_CONDITIONS)), Or)

    values = ", ".join(["'v'"] * (MAX_IN_VALUES + 1))
    assert error(f"params.a IN ({values})").endswith(f"more than {MAX_IN_VALUES} values in one IN list")


# --- orderBy ---------------------------------------------------------------------------------


def keys(*items: str) -> list[tuple[str, str, str | None, bool]]:
    return [(k.field.entity, k.field.key, k.field.aggregate, k.descending) for k in parse_order_by(items)]


def test_order_by_items() -> None:
    assert keys(
        "metrics.acc DESC",
        "metrics.loss.min",
        "metrics.`val.loss`.max asc",
        "params.lr ASC",
        "tags.team",
        "attributes.start_time DESC",
        "start_time",
        "name desc",
        "attr.user_id",
        "  metric.acc   Desc  ",
    ) == [
        ("metric", "acc", None, True),
        ("metric", "loss", "min", False),
        ("metric", "val.loss", "max", False),
        ("param", "lr", None, False),
        ("tag", "team", None, False),
        ("attribute", "start_time", None, True),
        ("attribute", "start_time", None, False),
        ("attribute", "run_name", None, True),
        ("attribute", "user", None, False),
        ("metric", "acc", None, True),
    ]
    assert parse_order_by([]) == []


def test_order_key_label_is_canonical() -> None:
    (key,) = parse_order_by(["run.id DESC"])
    assert key == OrderKey(Field("attribute", "run_id", None, "run.id", Position(1, 1)), True)
    assert key.label == "attributes.run_id"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            ["metrics.acc", "attributes.foo"],
            "orderBy[1]: unknown field 'attributes.foo' (expected metrics.KEY, params.KEY, tags.KEY or an "
            "attribute: status, run_name, run_id, user, start_time, end_time, duration, experiment_id, "
            "parent_run_id)",
        ),
        (["foo DESC"], "orderBy[0]: unknown field 'foo'"),
        (
            ["metricz.acc"],
            "orderBy[0]: line 1, column 1: unknown entity 'metricz' (expected metrics, params, tags, "
            "attributes or datasets)",
        ),
        (
            ["metrics.acc DOWN"],
            "orderBy[0]: line 1, column 13: expected ASC or DESC after 'metrics.acc', got 'DOWN'",
        ),
        (
            ["metrics.acc DESC, params.lr"],
            "orderBy[0]: line 1, column 17: expected the end of the item after 'metrics.acc DESC', got ','",
        ),
        ([""], "orderBy[0]: expected a field such as 'metrics.acc DESC', got nothing"),
        (["  "], "orderBy[0]: expected a field such as 'metrics.acc DESC', got nothing"),
        (["DESC metrics.acc"], "orderBy[0]: unknown field 'DESC'"),
        (["'acc'"], "orderBy[0]: line 1, column 1: expected a field such as metrics.acc, got \"'acc'\""),
        (["params.`lr"], "orderBy[0]: line 1, column 8: unterminated quoted key"),
        (["datasets.name"], "orderBy[0]: cannot order by dataset fields ('datasets.name')"),
        (["metrics"], "orderBy[0]: line 1, column 1: expected a key after 'metrics.' (as in metrics.KEY)"),
    ],
)
def test_order_by_errors(items: list[str], message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_order_by(items)
    assert caught.value.message.startswith(message), caught.value.message
