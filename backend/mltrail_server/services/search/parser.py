"""Parse the search language (filters and orderBy items) into a small, typed AST.

The syntax is MLflow's, so users can paste what they know, plus what MLflow lacks::

    metrics.acc > 0.9 and (params.model IN ('rf', 'gbm') or tags.team ILIKE 'vis%')
    metrics.loss.min < 0.1 and attributes.status = 'FINISHED' and datasets.context = 'train'

Grammar (keywords are case-insensitive; AND binds tighter than OR)::

    filter     := or_expr
    or_expr    := and_expr (OR and_expr)*
    and_expr   := primary (AND primary)*
    primary    := '(' or_expr ')' | comparison
    comparison := field ( ('=' | '!=' | '<' | '<=' | '>' | '>=') value
                        | (LIKE | ILIKE) string
                        | [NOT] IN '(' value (',' value)* ')'
                        | IS [NOT] NULL )
    field      := entity '.' key ['.' (min | max)]      -- min/max on metrics only
                | name                                   -- a bare name is an attribute
    entity     := metrics | metric | params | param | tags | tag
                | attributes | attribute | attr | run | datasets | dataset
    key        := part ('.' part)*                       -- parts are joined with '.'
    part       := [A-Za-z0-9_/:-]+ | `back-ticked` | "double-quoted"
    value      := 'string' | "string" | number           -- quotes escape by doubling: 'it''s'

Keys: ``metrics.val.loss`` is the key ``val.loss`` (as in MLflow), but an unquoted key that ends
in ``.min`` / ``.max`` means the run's extreme of the key before it: ``metrics.loss.min`` is the
minimum of ``loss``. A metric literally named ``loss.min`` is written ``metrics.`loss.min```;
``metrics.`val.loss`.max`` is the maximum of ``val.loss``.

LIKE patterns use ``%`` and ``_``, with backslash as the escape character on every database
(``'a\\_b'`` matches ``a_b`` only); LIKE is case-sensitive and ILIKE case-insensitive.

Everything that does not depend on the target table is checked here, each error saying where it
broke (1-based line and column) and what was expected: syntax, entities, and the types of metric
(numbers), param/tag/dataset (strings) comparisons. Attribute names depend on what is searched
(runs or experiments), so the compiler resolves them against the catalogs defined below.

Why one module over ~500 lines: it is one grammar. The tokenizer, the recursive-descent rules
above and their error messages (line, column, what was expected) change together, and half
of the length is those messages and the attribute catalogs; split, each part would only make
sense with the other open beside it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mltrail_server.errors import InvalidArgument

# Bounds that keep a hostile or generated filter from exhausting the parser's recursion or
# the databases' own limits (SQLite refuses expression trees deeper than 1,000).
MAX_DEPTH = 32
MAX_CONDITIONS = 100
MAX_IN_VALUES = 1000

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]

ENTITIES: dict[str, Entity] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    # MLflow's alternate spellings of "attribute".
    "attr": "attribute",
    "run": "attribute",
    "datasets": "dataset",
    "dataset": "dataset",
}
PLURAL: dict[Entity, str] = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
}
DATASET_FIELDS = ("name", "digest", "context")

NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
NULL_OPS = ("IS NULL", "IS NOT NULL")
LIKE_OPS = ("LIKE", "ILIKE")
LIST_OPS = ("IN", "NOT IN")


@dataclass(frozen=True)
class AttributeSpec:
    """An attribute of a searchable table: its canonical name and how its values compare.

    ``kind``: ``string`` (string operators, IN), ``integer`` (numbers, e.g. ms timestamps) or
    ``id`` (an integer column whose values users also write as strings, since GraphQL IDs are).
    """

    name: str
    kind: Literal["string", "integer", "id"]


def _catalog(*entries: tuple[AttributeSpec, tuple[str, ...]]) -> dict[str, AttributeSpec]:
    catalog: dict[str, AttributeSpec] = {}
    for spec, aliases in entries:
        for name in (spec.name, *aliases):
            catalog[name] = spec
    return catalog


# Keys are lower case; lookups lower-case the name as written.
RUN_ATTRIBUTES = _catalog(
    (AttributeSpec("status", "string"), ()),
    (AttributeSpec("run_name", "string"), ("name",)),
    (AttributeSpec("run_id", "string"), ("id",)),
    (AttributeSpec("user", "string"), ("user_id",)),
    (AttributeSpec("start_time", "integer"), ()),
    (AttributeSpec("end_time", "integer"), ()),
    (AttributeSpec("duration", "integer"), ()),
    (AttributeSpec("experiment_id", "id"), ()),
    (AttributeSpec("parent_run_id", "string"), ("parent_id",)),
)
EXPERIMENT_ATTRIBUTES = _catalog(
    (AttributeSpec("name", "string"), ()),
    (AttributeSpec("experiment_id", "id"), ("id",)),
    (AttributeSpec("creation_time", "integer"), ("created_at",)),
    (AttributeSpec("last_update_time", "integer"), ("updated_at",)),
)
RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")


# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    line: int
    column: int

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True)
class Field:
    """What a condition or sort key is about, e.g. ``metrics.loss.min`` or ``tags.team``.

    ``key`` is the metric/param/tag key, the attribute name as written (the compiler resolves
    it), or the dataset field (``name``, ``digest`` or ``context``).
    """

    entity: Entity
    key: str
    aggregate: Literal["min", "max"] | None
    text: str  # as written, for messages
    position: Position

    @property
    def label(self) -> str:
        """Canonical spelling, which parses back to the same field."""
        key = self.key
        if self.entity != "attribute" and not _PLAIN_KEY.fullmatch(key):
            key = "`" + key.replace("`", "``") + "`"
        suffix = f".{self.aggregate}" if self.aggregate else ""
        return f"{PLURAL[self.entity]}.{key}{suffix}"


@dataclass(frozen=True)
class Value:
    value: str | int | float
    text: str  # as written, for messages
    position: Position


@dataclass(frozen=True)
class Comparison:
    """``field op value``; ``value`` is a tuple for IN / NOT IN and None for IS [NOT] NULL."""

    field: Field
    op: str  # one of NUMERIC_OPS, STRING_OPS or NULL_OPS
    value: Value | tuple[Value, ...] | None
    op_position: Position

    @property
    def values(self) -> tuple[Value, ...]:
        if self.value is None:
            return ()
        return self.value if isinstance(self.value, tuple) else (self.value,)


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Comparison | And | Or


@dataclass(frozen=True)
class OrderKey:
    """One orderBy item; attribute keys are already resolved to their canonical run name."""

    field: Field
    descending: bool

    @property
    def label(self) -> str:
        return self.field.label


# --- lexer -----------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_PART = re.compile(r"[A-Za-z0-9_/:\-]+")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_/:\-]+")  # a key that needs no quoting when printed
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"})


@dataclass(frozen=True)
class _Segment:
    text: str
    quoted: bool


@dataclass(frozen=True)
class _Token:
    kind: Literal["ident", "string", "number", "op", "keyword", "(", ")", ",", "end"]
    text: str  # as written
    offset: int
    # ident: tuple of _Segment; string: str; number: int | float; op: the operator;
    # keyword: upper-cased word.
    value: object = None


class _Source:
    """The text being parsed, and how to point into it in an error message."""

    def __init__(self, text: str, context: str | None = None) -> None:
        self.text = text
        self.context = context  # e.g. "orderBy[0]"
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._line_starts, offset)
        return Position(line, offset - self._line_starts[line - 1] + 1)

    def error(self, at: int | Position, message: str) -> InvalidArgument:
        position = at if isinstance(at, Position) else self.position(at)
        prefix = f"{self.context}: " if self.context else ""
        return InvalidArgument(f"{prefix}{position}: {message}")

    def where(self, offset: int, relative_to: int) -> str:
        """'column N', or 'line L, column N' when the error is on another line."""
        here, there = self.position(offset), self.position(relative_to)
        return f"column {here.column}" if here.line == there.line else str(here)


def _read_quoted(src: _Source, start: int, what: str) -> tuple[str, int]:
    """Read a quoted run starting at ``start``; a doubled quote stands for itself."""
    text, quote = src.text, src.text[start]
    chunks: list[str] = []
    pos = start + 1
    while True:
        end = text.find(quote, pos)
        if end < 0:
            raise src.error(start, f"unterminated {what}")
        chunks.append(text[pos:end])
        if text.startswith(quote, end + 1):
            chunks.append(quote)
            pos = end + 2
        else:
            return "".join(chunks), end + 1


def _lex(src: _Source) -> list[_Token]:
    text, tokens, pos = src.text, [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            tokens.append(_Token("end", "", len(text.rstrip())))
            return tokens
        char, start = text[pos], pos
        if char in "'\"":
            value, pos = _read_quoted(src, start, "string")
            tokens.append(_Token("string", text[start:pos], start, value))
        elif char in "(),":
            tokens.append(_Token(char, char, start))  # type: ignore[arg-type]
            pos += 1
        elif char == "`":
            raise src.error(start, "back-ticks quote a key after an entity, as in metrics.`val.loss`")
        elif word := _WORD.match(text, pos):
            pos = word.end()
            if pos < len(text) and text[pos] == ".":
                segments, pos = _lex_dotted(src, start, pos)
                tokens.append(_Token("ident", text[start:pos], start, segments))
            elif word.group().upper() in _KEYWORDS:
                tokens.append(_Token("keyword", word.group(), start, word.group().upper()))
            else:
                tokens.append(_Token("ident", word.group(), start, (_Segment(word.group(), False),)))
        elif number := _NUMBER.match(text, pos):
            pos = number.end()
            if pos < len(text) and (text[pos].isalnum() or text[pos] in "_."):
                written = re.match(r"[\w.+-]*", text[start:]).group()  # type: ignore[union-attr]
                raise src.error(start, f"malformed number {written!r}")
            literal = number.group()
            if len(literal) > 64:  # also keeps int() clear of Python's digit limit
                raise src.error(start, "number too long (at most 64 characters)")
            is_int = not any(c in literal for c in ".eE")
            tokens.append(_Token("number", literal, start, int(literal) if is_int else float(literal)))
        elif op := next((o for o in _OPERATORS if text.startswith(o, pos)), None):
            tokens.append(_Token("op", op, start, op))
            pos += len(op)
        else:
            raise src.error(start, f"unexpected character {char!r}")


def _lex_dotted(src: _Source, start: int, pos: int) -> tuple[tuple[_Segment, ...], int]:
    """Read the ``.part`` segments after the identifier's first word, ``text[start:pos]``."""
    text = src.text
    segments = [_Segment(text[start:pos], False)]
    while pos < len(text) and text[pos] == ".":
        pos += 1
        if pos < len(text) and text[pos] in '`"':
            value, end = _read_quoted(src, pos, "quoted key")
            if not value:
                raise src.error(pos, "empty key")
            segments.append(_Segment(value, True))
            pos = end
        elif part := _KEY_PART.match(text, pos):
            segments.append(_Segment(part.group(), False))
            pos = part.end()
        else:
            raise src.error(pos, f"expected a key after '{text[start:pos]}'")
    return tuple(segments), pos


# --- parser ----------------------------------------------------------------------------------


def _describe(token: _Token) -> str:
    return "the end of the filter" if token.kind == "end" else repr(token.text)


def _field(src: _Source, token: _Token) -> Field:
    """Interpret an identifier token as a field (entity, key, aggregate)."""
    segments: tuple[_Segment, ...] = token.value  # type: ignore[assignment]
    position = src.position(token.offset)
    head = segments[0].text
    if len(segments) == 1:
        # MLflow reads a bare name as an attribute; a bare entity name lacks its key.
        if head.lower() in ENTITIES:
            raise src.error(position, f"expected a key after '{head}.' (as in {head}.KEY)")
        return Field("attribute", head, None, token.text, position)
    entity = ENTITIES.get(head.lower())
    if entity is None:
        raise src.error(
            position,
            f"unknown entity '{head}' (expected metrics, params, tags, attributes or datasets)",
        )
    rest = segments[1:]
    aggregate: Literal["min", "max"] | None = None
    last = rest[-1]
    if entity == "metric" and len(rest) > 1 and not last.quoted and last.text.lower() in ("min", "max"):
        aggregate = "min" if last.text.lower() == "min" else "max"
        rest = rest[:-1]
    key = ".".join(segment.text for segment in rest)
    if entity == "dataset":
        if key.lower() not in DATASET_FIELDS:
            raise src.error(position, f"unknown dataset field '{key}' (expected name, digest or context)")
        key = key.lower()
    return Field(entity, key, aggregate, token.text, position)


class _Parser:
    def __init__(self, src: _Source) -> None:
        self.src = src
        self.tokens = _lex(src)
        self.index = 0
        self.conditions = 0

    # token helpers

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def next(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def accept_keyword(self, word: str) -> _Token | None:
        token = self.peek()
        if token.kind == "keyword" and token.value == word:
            return self.next()
        return None

    def error(self, token: _Token, message: str) -> InvalidArgument:
        return self.src.error(token.offset, message)

    # grammar

    def parse(self) -> Node:
        node = self.or_expr(depth=0)
        token = self.peek()
        if token.kind == ")":
            raise self.error(token, "unexpected ')' without a matching '('")
        if token.kind != "end":
            raise self.error(token, f"expected AND, OR or the end of the filter, got {_describe(token)}")
        return node

    def or_expr(self, depth: int) -> Node:
        children = [self.and_expr(depth)]
        while self.accept_keyword("OR"):
            children.append(self.and_expr(depth))
        if len(children) == 1:
            return children[0]
        return Or(tuple(_flatten(children, Or)))

    def and_expr(self, depth: int) -> Node:
        children = [self.primary(depth)]
        while self.accept_keyword("AND"):
            children.append(self.primary(depth))
        if len(children) == 1:
            return children[0]
        return And(tuple(_flatten(children, And)))

    def primary(self, depth: int) -> Node:
        token = self.peek()
        if token.kind != "(":
            return self.comparison()
        self.next()
        if depth >= MAX_DEPTH:
            raise self.error(token, f"parentheses nested deeper than {MAX_DEPTH} levels")
        if self.peek().kind == ")":
            raise self.error(self.peek(), "expected a condition after '('")
        node = self.or_expr(depth + 1)
        close = self.next()
        if close.kind != ")":
            opened = self.src.where(token.offset, close.offset)
            if close.kind == "end":
                raise self.error(close, f"expected ')' to close '(' at {opened}")
            raise self.error(
                close, f"expected AND, OR or ')' to close '(' at {opened}, got {_describe(close)}"
            )
        return node

    def comparison(self) -> Comparison:
        previous = self.tokens[self.index - 1] if self.index else None
        token = self.next()
        if token.kind != "ident":
            if token.kind == "end" and previous is not None:
                raise self.error(token, f"expected a condition after '{previous.text}'")
            if token.kind == "end":
                raise self.error(token, "expected a condition")
            raise self.error(token, f"expected a condition such as metrics.acc > 0.9, got {_describe(token)}")
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.error(token, f"more than {MAX_CONDITIONS} conditions in one filter")
        field = _field(self.src, token)
        op_token = self.next()
        op_position = self.src.position(op_token.offset)
        value: Value | tuple[Value, ...] | None
        if op_token.kind == "op":
            op = str(op_token.value)
            value = self.value(after=op_token)
        elif op_token.kind == "keyword" and op_token.value in LIKE_OPS:
            op = str(op_token.value)
            value = self.value(after=op_token)
        elif op_token.kind == "keyword" and op_token.value == "IN":
            op, value = "IN", self.value_list(op_token)
        elif op_token.kind == "keyword" and op_token.value == "NOT":
            in_token = self.next()
            if not (in_token.kind == "keyword" and in_token.value == "IN"):
                raise self.error(in_token, f"expected IN after '{op_token.text}', got {_describe(in_token)}")
            op, value = "NOT IN", self.value_list(in_token)
        elif op_token.kind == "keyword" and op_token.value == "IS":
            negated = self.accept_keyword("NOT")
            null = self.next()
            if not (null.kind == "keyword" and null.value == "NULL"):
                expected = "NULL" if negated else "NULL or NOT NULL"
                after = negated.text if negated else op_token.text
                raise self.error(null, f"expected {expected} after '{after}', got {_describe(null)}")
            op, value = ("IS NOT NULL" if negated else "IS NULL"), None
        else:
            raise self.error(
                op_token,
                f"expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, "
                f"IS NOT NULL) after '{field.text}', got {_describe(op_token)}",
            )
        comparison = Comparison(field, op, value, op_position)
        _check_types(self.src, comparison)
        return comparison

    def value(self, after: _Token) -> Value:
        token = self.next()
        if token.kind in ("string", "number"):
            return Value(token.value, token.text, self.src.position(token.offset))  # type: ignore[arg-type]
        if token.kind == "end":
            raise self.error(token, f"expected a value after '{after.text}'")
        if token.kind == "keyword" and token.value == "NULL":
            raise self.error(token, f"write IS NULL or IS NOT NULL instead of '{after.text} NULL'")
        hint = ""
        if token.kind == "ident" and len(token.value) == 1:  # type: ignore[arg-type]
            hint = f" (strings need quotes: '{token.text}')"
        raise self.error(token, f"expected a value after '{after.text}', got {_describe(token)}{hint}")

    def value_list(self, in_token: _Token) -> tuple[Value, ...]:
        opening = self.next()
        if opening.kind != "(":
            raise self.error(opening, f"expected '(' after '{in_token.text}', got {_describe(opening)}")
        values = [self.value(after=opening)]
        while True:
            token = self.next()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                opened = self.src.where(opening.offset, token.offset)
                if token.kind == "end":
                    raise self.error(token, f"expected ')' to close '(' at {opened}")
                raise self.error(
                    token, f"expected ',' or ')' to close '(' at {opened}, got {_describe(token)}"
                )
            if len(values) >= MAX_IN_VALUES:
                raise self.error(token, f"more than {MAX_IN_VALUES} values in one IN list")
            values.append(self.value(after=token))


def _flatten(children: list[Node], kind: type[And] | type[Or]) -> list[Node]:
    """(a AND b) AND c is a AND b AND c: keep the tree shallow for the databases."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, kind) else (child,))
    return flat


_NOUNS = {"param": "params", "tag": "tags", "dataset": "dataset fields"}


def _check_types(src: _Source, comparison: Comparison) -> None:
    """Reject operators and values that cannot apply to the field's type, saying why."""
    field, op = comparison.field, comparison.op
    if field.entity == "metric":
        if op not in NUMERIC_OPS + NULL_OPS:
            raise src.error(
                comparison.op_position,
                f"{op} does not apply to metrics, which are numbers "
                f"(use =, !=, <, <=, >, >=, IS NULL or IS NOT NULL)",
            )
        for value in comparison.values:
            if isinstance(value.value, str):
                raise src.error(value.position, f"metric values are numbers; got string {value.text}")
    elif field.entity in _NOUNS:
        noun = _NOUNS[field.entity]
        if op not in STRING_OPS + NULL_OPS:
            raise src.error(
                comparison.op_position,
                f"'{op}' does not apply to {noun}, which are strings "
                f"(use =, !=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL)",
            )
        for value in comparison.values:
            if not isinstance(value.value, str):
                raise src.error(
                    value.position,
                    f"{noun} are strings; got number {value.text} (quote it: '{value.text}')",
                )
    if op in LIKE_OPS:
        (pattern,) = comparison.values
        if not isinstance(pattern.value, str):
            raise src.error(pattern.position, f"{op} takes a string pattern; got number {pattern.text}")
        trailing = len(pattern.value) - len(pattern.value.rstrip("\\"))
        if trailing % 2:
            raise src.error(
                pattern.position,
                f"{op} pattern ends with a lone escape character '\\' (write '\\\\' for a backslash)",
            )


# --- public API ------------------------------------------------------------------------------


def parse_filter(text: str) -> Node | None:
    """Parse a filter; None for empty or whitespace-only text (no filter)."""
    if text is None or not text.strip():
        return None
    return _Parser(_Source(text)).parse()


def parse_order_by(items: Sequence[str]) -> list[OrderKey]:
    """Parse run orderBy items such as ``metrics.acc DESC``, ``params.lr``, ``start_time``.

    Errors name the item by its 0-based index in the list: ``orderBy[1]: ...``.
    """
    keys: list[OrderKey] = []
    for index, item in enumerate(items):
        context = f"orderBy[{index}]"
        src = _Source(item, context)
        tokens = _lex(src)
        first = tokens[0]
        if first.kind == "end":
            raise InvalidArgument(f"{context}: expected a field such as 'metrics.acc DESC', got nothing")
        if first.kind != "ident":
            raise src.error(first.offset, f"expected a field such as metrics.acc, got {first.text!r}")
        field = _field(src, first)
        if field.entity == "dataset":
            raise InvalidArgument(f"{context}: cannot order by dataset fields ('{field.text}')")
        if field.entity == "attribute":
            spec = RUN_ATTRIBUTES.get(field.key.lower())
            if spec is None:
                names = ", ".join(dict.fromkeys(s.name for s in RUN_ATTRIBUTES.values()))
                raise InvalidArgument(
                    f"{context}: unknown field '{field.text}' (expected metrics.KEY, params.KEY, "
                    f"tags.KEY or an attribute: {names})"
                )
            field = Field("attribute", spec.name, None, field.text, field.position)
        descending = False
        direction = tokens[1]
        if direction.kind == "ident" and direction.text.upper() in ("ASC", "DESC"):
            descending = direction.text.upper() == "DESC"
            trailing = tokens[2]
        else:
            trailing = direction
        if trailing.kind != "end":
            expected = "the end of the item" if trailing is not direction else "ASC or DESC"
            raise src.error(
                trailing.offset,
                f"expected {expected} after {item[: trailing.offset].strip()!r}, got {trailing.text!r}",
            )
        keys.append(OrderKey(field, descending))
    return keys
