"""MLflow's REST wire format: reading requests, answering results and errors in its shape.

MLflow's client (``mlflow/utils/rest_utils.py``) sends GET parameters in the query string and
everything else as a JSON body whose field names are the proto's (snake_case); int64 fields
may arrive as numbers or strings, doubles as numbers or ``"NaN"``/``"Infinity"``. It reads
any non-200 answer as ``{"error_code": ..., "message": ...}`` and raises ``MlflowException``
with that code, so each mltrail error code maps onto the MLflow code its users expect.

The HTTP status matters too: the client retries 429 and 5xx with backoff, so a mistake of
the caller must never answer one of those (``RESOURCE_EXHAUSTED`` answers 400 here, not the
429 MLflow's table has: a body over the limit does not get smaller by retrying).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mltrail_server.errors import InvalidArgument, MltrailError, ResourceExhausted

log = logging.getLogger("mltrail.mlflow_api")

# mltrail code -> (MLflow error_code, HTTP status). Conflict is an existing name (experiment,
# registered model); the param routes turn a changed param value into INVALID_PARAMETER_VALUE
# themselves, as MLflow's own server does.
ERROR_CODES = {
    "NOT_FOUND": ("RESOURCE_DOES_NOT_EXIST", 404),
    "INVALID_ARGUMENT": ("INVALID_PARAMETER_VALUE", 400),
    "CONFLICT": ("RESOURCE_ALREADY_EXISTS", 400),
    "UNAUTHENTICATED": ("UNAUTHENTICATED", 401),
    "PERMISSION_DENIED": ("PERMISSION_DENIED", 403),
    "RESOURCE_EXHAUSTED": ("RESOURCE_EXHAUSTED", 400),
}

Handler = Callable[[Request, dict[str, Any]], Awaitable[Any]]


class MlflowError(MltrailError):
    """An error whose MLflow code differs from what its mltrail code maps to."""

    def __init__(self, message: str, *, error_code: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status


def error_response(error_code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error_code": error_code, "message": message}, status_code=status)


def json_response(payload: Any) -> Response:
    # orjson turns NaN into null; every float that can be NaN goes through ``wire_double``.
    return Response(orjson.dumps(payload), media_type="application/json")


async def read_payload(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's fields: the query string for GET, the JSON body otherwise (bounded)."""
    if request.method == "GET":
        payload: dict[str, Any] = {}
        for key, value in request.query_params.multi_items():
            # Repeated query parameters are how a GET carries a repeated proto field.
            if key in payload:
                existing = payload[key]
                payload[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                payload[key] = value
        return payload
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ResourceExhausted(
                f"request body is larger than the limit of {max_bytes} bytes (MLTRAIL_MAX_REQUEST_BYTES)"
            )
    if not body.strip():
        return {}
    try:
        parsed = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        raise InvalidArgument("request body: not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument("request body: expected a JSON object")
    return parsed


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: read the payload, answer its result as JSON, map errors to MLflow's."""

    async def run(request: Request) -> Response:
        try:
            payload = await read_payload(request, request.app.state.settings.max_request_bytes)
            return json_response(await handler(request, payload))
        except MlflowError as exc:
            return error_response(exc.error_code, exc.message, exc.status)
        except MltrailError as exc:
            error_code, status = ERROR_CODES.get(exc.code, ("INTERNAL_ERROR", 500))
            if status == 500:
                log.exception("mlflow api: internal error")
                return error_response("INTERNAL_ERROR", "internal error", 500)
            return error_response(error_code, exc.message, status)
        except Exception:
            # No stack trace to clients; the log has it.
            log.exception("mlflow api: unexpected error on %s", request.url.path)
            return error_response("INTERNAL_ERROR", "internal error", 500)

    return run


def required(payload: dict[str, Any], name: str) -> Any:
    value = payload.get(name)
    if value is None or value == "":
        raise InvalidArgument(f"Missing value for required parameter '{name}'")
    return value


def optional_str(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{name}: expected a string, got {value!r}")
    return value


def int64(payload: dict[str, Any], name: str, default: int | None = None) -> int | None:
    """An int64 field: proto JSON carries it as a number or a decimal string."""
    value = payload.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise InvalidArgument(f"{name}: expected an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}: expected an integer, got {value!r}") from None


def double(name: str, value: Any) -> float:
    """A double field: a number, or the proto JSON names of NaN and the infinities."""
    if isinstance(value, bool):
        raise InvalidArgument(f"{name}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}: expected a number, got {value!r}") from None


def wire_double(value: float | None) -> float | str:
    """A double as proto JSON writes it (``None`` is how mltrail's summaries hold NaN)."""
    if value is None or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def key_values(payload: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """A repeated ``{key, value}`` field as pairs."""
    items = payload.get(name) or []
    if not isinstance(items, list):
        raise InvalidArgument(f"{name}: expected a list of {{key, value}} objects")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise InvalidArgument(f"{name}[{i}]: expected an object with a string 'key'")
        value = item.get("value")
        out.append((item["key"], "" if value is None else str(value)))
    return out
