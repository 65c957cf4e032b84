"""Exceptions raised by the mltrail client, and the warning used for queued logging.

    MltrailError                    base of everything the client raises
    ├── ApiError                    the server answered with a GraphQL error; .code is its
    │   │                           extensions.code, str(error) is the server's message
    │   ├── NotFound                NOT_FOUND
    │   ├── InvalidArgument         INVALID_ARGUMENT (also raised locally for bad arguments)
    │   ├── Conflict                CONFLICT (e.g. a param logged again with another value)
    │   ├── Unauthenticated         UNAUTHENTICATED
    │   ├── PermissionDenied        PERMISSION_DENIED
    │   ├── ResourceExhausted       RESOURCE_EXHAUSTED (a configured limit was exceeded)
    │   └── InternalError           INTERNAL, and any code this client does not know
    │                               (an error without a code, i.e. a document or variables
    │                               graphql-core refused, is an InvalidArgument)
    └── ServerUnavailable           no GraphQL answer at all: connection refused, timeout,
                                    HTTP 5xx without a GraphQL body, wrong URL

    MltrailWarning (UserWarning)    queued logging could not do what was asked: a batch was
                                    rejected by the server, or data was left in the spool

Only synchronous calls (reads, experiment and run management) raise. Queued logging
(`log_metric`, `log_param`, `set_tag`, ...) never raises for server-side problems: a rejected
batch is reported once as an `MltrailWarning` and the run keeps logging.
"""

from __future__ import annotations

from typing import Any, ClassVar


class MltrailError(Exception):
    """Base class of every exception raised by the mltrail client."""


class ApiError(MltrailError):
    """The server rejected a request; `code` is the GraphQL error's `extensions.code`."""

    default_code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, *, code: str | None = None, path: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:  # keep code and path when pickled (multiprocessing)
        return (_rebuild_api_error, (type(self), self.message, self.code, self.path))


def _rebuild_api_error(cls: type[ApiError], message: str, code: str, path: list[Any] | None) -> ApiError:
    return cls(message, code=code, path=path)


class NotFound(ApiError):
    """The experiment, run or other object does not exist."""

    default_code = "NOT_FOUND"


class InvalidArgument(ApiError):
    """An argument was malformed or out of range."""

    default_code = "INVALID_ARGUMENT"


class Conflict(ApiError):
    """The request contradicts the stored state (duplicate name, param with another value)."""

    default_code = "CONFLICT"


class Unauthenticated(ApiError):
    """The server requires credentials."""

    default_code = "UNAUTHENTICATED"


class PermissionDenied(ApiError):
    """The credentials do not allow this request."""

    default_code = "PERMISSION_DENIED"


class ResourceExhausted(ApiError):
    """A configured limit (batch size, key length, query cost, ...) was exceeded."""

    default_code = "RESOURCE_EXHAUSTED"


class InternalError(ApiError):
    """The server failed while handling the request."""

    default_code = "INTERNAL"


class ServerUnavailable(MltrailError):
    """The tracking server could not be reached or did not answer with GraphQL."""


class MltrailWarning(UserWarning):
    """Queued logging could not deliver something; the training job keeps running."""


ERRORS_BY_CODE: dict[str, type[ApiError]] = {
    cls.default_code: cls
    for cls in (
        NotFound,
        InvalidArgument,
        Conflict,
        Unauthenticated,
        PermissionDenied,
        ResourceExhausted,
        InternalError,
    )
}


def api_error(message: str, code: str | None, path: list[Any] | None = None) -> ApiError:
    """The exception for a GraphQL error with this `extensions.code`."""
    # No code at all means graphql-core refused the document or its variables before any
    # resolver ran (unknown field, wrong variable type): the request itself was invalid.
    cls = ERRORS_BY_CODE.get(code, InternalError) if code else InvalidArgument
    return cls(message, code=code or cls.default_code, path=path)
