"""Domain errors: every failure a client can cause carries a stable code.

The GraphQL layer maps ``code`` onto ``extensions.code`` in one place
(``graphql/extensions.py``); HTTP routes map it onto a status. Anything that is not an
``MltrailError`` is a bug and reaches clients only as ``INTERNAL``, without details.

    MltrailError                 code
    ├── NotFound                 NOT_FOUND
    ├── InvalidArgument          INVALID_ARGUMENT
    ├── Conflict                 CONFLICT
    ├── Unauthenticated          UNAUTHENTICATED
    ├── PermissionDenied         PERMISSION_DENIED
    ├── ResourceExhausted        RESOURCE_EXHAUSTED
    └── Internal                 INTERNAL
"""

from __future__ import annotations


class MltrailError(Exception):
    """Base of the domain errors; ``message`` names the offending field and value."""

    code = "INTERNAL"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(MltrailError):
    code = "NOT_FOUND"
    http_status = 404


class InvalidArgument(MltrailError):
    code = "INVALID_ARGUMENT"
    http_status = 400


class Conflict(MltrailError):
    code = "CONFLICT"
    http_status = 409


class Unauthenticated(MltrailError):
    code = "UNAUTHENTICATED"
    http_status = 401


class PermissionDenied(MltrailError):
    code = "PERMISSION_DENIED"
    http_status = 403


class ResourceExhausted(MltrailError):
    code = "RESOURCE_EXHAUSTED"
    http_status = 413


class Internal(MltrailError):
    code = "INTERNAL"
    http_status = 500
