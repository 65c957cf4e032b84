"""Schema extensions: error codes in one place, request-scoped cleanup, and query limits.

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
from collections.abc import AsyncIterator
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from mltrail_server.errors import MltrailError

log = logging.getLogger("mltrail.graphql")

_LIMIT_MARKERS = ("exceeds maximum operation depth", "maximum number of aliases", "maximum token")


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


def with_code(error: GraphQLError) -> GraphQLError:
    code, message = classify(error)
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorCodes(SchemaExtension):
    """Sets ``extensions.code`` on every error and masks unexpected ones."""

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [with_code(e) for e in errors]  # type: ignore[union-attr]
        pre = getattr(self.execution_context, "pre_execution_errors", None)
        if pre:
            self.execution_context.pre_execution_errors = [with_code(e) for e in pre]


class RequestScope(SchemaExtension):
    """Closes the request's read session when the operation ends."""

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        try:
            yield
        finally:
            context = self.execution_context.context
            close = getattr(context, "close", None)
            if close is not None:
                await close()


def log_unexpected(errors: list[GraphQLError]) -> None:
    """Log what will reach clients as INTERNAL; domain and client errors are not bugs."""
    for error in errors:
        original = error.original_error
        if original is not None and error.path is not None and not isinstance(original, MltrailError):
            log.error("unexpected error in %s", ".".join(map(str, error.path)), exc_info=original)
