"""The schema extension: error codes in one place, request-scoped cleanup, query limits, caches.

Every error leaving the API carries ``extensions.code``:
- a domain error (``MltrailError``) keeps its message and code;
- an error raised before execution (syntax, validation, a variable that fails coercion —
  e.g. a bad element in a MetricValueList) is the client's: ``INVALID_ARGUMENT``, or
  ``RESOURCE_EXHAUSTED`` when a depth/alias/token limit was hit; its message is kept;
- anything else is a bug: ``INTERNAL`` with a generic message; the traceback goes to the
  server log only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLSchema, parse
from graphql.error import GraphQLError
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from mltrail_server.config import Settings
from mltrail_server.errors import MltrailError
from mltrail_server.graphql.input_limits import check_inputs

log = logging.getLogger("mltrail.graphql")

_LIMIT_MARKERS = ("exceeds maximum operation depth", "aliases found", "token limit", "maximum token")


def classify(error: GraphQLError) -> tuple[str, str]:
    """(code, message) for one GraphQL error, as the client will see it."""
    original = error.original_error
    if isinstance(original, MltrailError):
        return original.code, original.message
    if original is None or error.path is None:
        lowered = error.message.lower()
        if any(marker in lowered for marker in _LIMIT_MARKERS):
            return "RESOURCE_EXHAUSTED", error.message
        return "INVALID_ARGUMENT", error.message
    return "INTERNAL", "internal error; the server log has the details"


def apply_code(error: GraphQLError) -> None:
    """Set the code and the client-facing message on the error object itself.

    In place, because strawberry may already hold the same error objects in the result it
    returns (pre-execution errors are returned from inside the operation hook).
    """
    if error.extensions and "code" in error.extensions:
        return
    code, message = classify(error)
    error.message = message
    error.extensions = {**(error.extensions or {}), "code": code}


class RequestPipeline(SchemaExtension):
    """What the schema adds around every operation, as one extension.

    - limits: the token limit on parsing, the depth and alias rules on validation;
    - caches: a document is parsed and validated once per (text, limits), then reused
      (clients send data as variables, so the same few documents come back);
    - error codes: ``extensions.code`` on every error (see ``apply_code``);
    - request scope: the request's read session is closed when the operation ends.

    One extension rather than six (strawberry's ParserCache, ValidationCache, MaxTokensLimiter,
    AddValidationRules and two of ours): strawberry builds a wrapper per extension and hook on
    every request, and the validation cache keyed on the parsed document hashed its whole
    tree each time. Merging them saved about 4 % of the server's instructions on a
    1,000-point logBatch (callgrind), more on smaller requests.
    """

    def __init__(self, rules: tuple[type[ASTValidationRule], ...], settings: Settings) -> None:
        self.rules = rules
        self.settings = settings
        self.max_tokens = settings.max_query_tokens

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.max_tokens
        ctx.validation_rules = ctx.validation_rules + self.rules
        try:
            yield
        except GraphQLError as error:
            # A syntax error leaves this hook as an exception (then becomes the result).
            apply_code(error)
            raise
        else:
            for error in (getattr(ctx.result, "errors", None) or []) + (ctx.pre_execution_errors or []):
                apply_code(error)
        finally:
            close = getattr(ctx.context, "close", None)
            if close is not None:
                await close()

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query:  # no query: strawberry answers "no query" itself
            ctx.graphql_document = _parse(ctx.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query and ctx.graphql_document is not None:
            errors = _validate(ctx.schema._schema, ctx.query, self.max_tokens, ctx.validation_rules)
            if not errors:
                errors = self._check_inputs()
            ctx.pre_execution_errors = errors
        yield

    def _check_inputs(self) -> list[GraphQLError]:
        """The input rules (no NUL, bounded lists) before graphql-core coerces a variable."""
        ctx = self.execution_context
        request = getattr(ctx.context, "request", None)
        scope = getattr(request, "scope", None) or {}
        try:
            check_inputs(
                ctx.schema._schema,
                ctx.graphql_document,  # type: ignore[arg-type]
                ctx.query or "",
                ctx.variables,
                self.settings,
                # The HTTP layer looked for a NUL escape in the body (http/request_bounds.py).
                variables_may_contain_nul=not scope.get("mltrail.nul_free", False),
            )
        except MltrailError as error:
            return [GraphQLError(error.message, original_error=error)]
        return []


@lru_cache(maxsize=256)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=256)
def _validate(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    # Keyed on the text, not the document: hashing a string is cheap, hashing an AST walks it.
    return validate_document(schema, _parse(query, max_tokens), rules)


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log what will reach clients as INTERNAL; domain and client errors are not bugs."""
    for error in errors:
        original = error.original_error
        if original is not None and error.path is not None and not isinstance(original, MltrailError):
            log.error("unexpected error in %s", ".".join(map(str, error.path)), exc_info=original)
