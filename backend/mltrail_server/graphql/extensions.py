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


class ErrorCodes(SchemaExtension):
    """Sets ``extensions.code`` on every error and masks unexpected ones."""

    def on_operation(self) -> Any:
        try:
            yield
        except GraphQLError as error:
            # A syntax error leaves this hook as an exception (then becomes the result).
            apply_code(error)
            raise
        else:
            ctx = self.execution_context
            for error in (getattr(ctx.result, "errors", None) or []) + (ctx.pre_execution_errors or []):
                apply_code(error)


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
