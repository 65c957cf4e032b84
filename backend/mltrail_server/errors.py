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

import re

# Messages echo the offending value so that users see what was wrong, but a value can be
# megabytes long (a 10 MB id once produced a 10 MB error): quoted values are cut, and so is
# the whole message.
MAX_ECHO_CHARS = 80
MAX_MESSAGE_CHARS = 1_000
_SINGLE = r"'(?:[^'\\]|\\.){%d,}'" % MAX_ECHO_CHARS  # noqa: UP031 (braces of the regex)
_DOUBLE = r'"(?:[^"\\]|\\.){%d,}"' % MAX_ECHO_CHARS  # noqa: UP031
_LONG_QUOTED = re.compile(f"{_SINGLE}|{_DOUBLE}")


def _cut(match: re.Match[str]) -> str:
    text = match.group(0)
    quote = text[0]
    return f"{text[: MAX_ECHO_CHARS // 2 + 1]}…{quote} ({len(text) - 2:,} characters)"


def cut_echoes(message: str) -> str:
    """``message`` with long quoted values shortened and the whole kept under a bound."""
    if len(message) <= MAX_ECHO_CHARS:
        return message
    message = _LONG_QUOTED.sub(_cut, message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + f"… (message cut at {MAX_MESSAGE_CHARS:,} characters)"
    return message


class MltrailError(Exception):
    """Base of the domain errors; ``message`` names the offending field and value."""

    code = "INTERNAL"
    http_status = 500

    def __init__(self, message: str) -> None:
        message = cut_echoes(message)
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

