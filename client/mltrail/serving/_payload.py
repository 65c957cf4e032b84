"""MLflow's scoring protocol: a request body to model input, and predictions to a JSON body.

Accepted, as ``mlflow models serve`` accepts them (``mlflow/pyfunc/scoring_server``):

    application/json  {"dataframe_split": {"columns": [...], "data": [[...], ...]}}
                      {"dataframe_records": [{"col": value, ...}, ...]}
                      {"instances": [...]} | {"inputs": [...] or {"col": [...], ...}}
                      each optionally with "params": {...}
    text/csv          a header line, then rows (what ``DataFrame.to_csv(index=False)`` writes)

Every malformed body is a `PayloadError` (HTTP 400, or 415 for a content type) whose message
says what is wrong and where; nothing here lets an exception from a bad body escape as a 500.
"""

from __future__ import annotations

import io
from typing import Any

import orjson

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_REQUIRED = f"the body must be a JSON object with exactly one of the keys {list(FORMATS)}"


class PayloadError(Exception):
    """A request the server cannot score: ``status`` 400 (or 413/415), ``column`` when one is at fault."""

    def __init__(self, message: str, *, status: int = 400, column: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.column = column

    def to_json(self) -> dict[str, Any]:
        # MLflow's error body ({"error_code", "message"}) plus the column, for machines.
        body: dict[str, Any] = {
            "error_code": _ERROR_CODES.get(self.status, "BAD_REQUEST"),
            "message": str(self),
        }
        if self.column is not None:
            body["column"] = self.column
        return body


_ERROR_CODES = {400: "BAD_REQUEST", 413: "RESOURCE_EXHAUSTED", 415: "BAD_REQUEST"}


def parse_request(body: bytes, content_type: str) -> tuple[Any, dict[str, Any] | None]:
    """The model input and the ``params`` of a scoring request."""
    mime, _, parameters = content_type.partition(";")
    mime = mime.strip().lower()
    charset = _charset(parameters)
    if charset not in ("utf-8", "utf8"):
        raise PayloadError(f"content type {content_type!r}: only UTF-8 is supported", status=415)
    if mime == "text/csv":
        return _parse_csv(body), None
    if mime in ("application/json", ""):
        return _parse_json(body)
    raise PayloadError(
        f"content type {mime!r} is not supported: send application/json or text/csv", status=415
    )


def _charset(parameters: str) -> str:
    for pair in parameters.split(";"):
        key, _, value = pair.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return "utf-8"


def _parse_csv(body: bytes) -> Any:
    import pandas as pd

    if not body.strip():
        raise PayloadError("text/csv: the body is empty; send a header line and at least one row")
    try:
        return pd.read_csv(io.BytesIO(body))
    except Exception as error:  # pandas raises several types for malformed CSV
        raise PayloadError(f"text/csv: cannot parse the body as CSV: {error}") from None


def _parse_json(body: bytes) -> tuple[Any, dict[str, Any] | None]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadError(f"the body is not valid JSON: {error}") from None
    if not isinstance(decoded, dict):
        raise PayloadError(f"{_REQUIRED}; got a JSON {type(decoded).__name__}")
    keys = [key for key in FORMATS if key in decoded]
    if len(keys) != 1:
        raise PayloadError(f"{_REQUIRED}; got keys {sorted(decoded)}")
    params = decoded.get("params")
    if params is not None and not isinstance(params, dict):
        raise PayloadError(f"'params' must be a JSON object, got {type(params).__name__}")
    key = keys[0]
    value = decoded[key]
    if key == "dataframe_split":
        return _dataframe_split(value), params
    if key == "dataframe_records":
        return _records(value, key), params
    return _tensor_or_columns(value, key), params


def _dataframe_split(value: Any) -> Any:
    import pandas as pd

    if not isinstance(value, dict) or "data" not in value:
        raise PayloadError("dataframe_split must be an object with 'columns' and 'data'")
    data, columns = value["data"], value.get("columns")
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise PayloadError("dataframe_split.data must be a list of rows, each a list of values")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise PayloadError("dataframe_split.columns must be a list of column names")
        for number, row in enumerate(data):
            if len(row) != len(columns):
                raise PayloadError(
                    f"dataframe_split.data row {number} has {len(row)} values for {len(columns)} columns"
                )
    index = value.get("index")
    try:
        return pd.DataFrame(data, columns=columns, index=index)
    except (ValueError, TypeError) as error:
        raise PayloadError(f"dataframe_split: {error}") from None


def _records(value: Any, key: str) -> Any:
    import pandas as pd

    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise PayloadError(f'{key} must be a list of objects, one per row ({{"column": value, ...}})')
    return pd.DataFrame.from_records(value)


def _tensor_or_columns(value: Any, key: str) -> Any:
    """``instances`` / ``inputs`` (TF serving): records, a dict of columns, or a (nested) array."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        listed = [isinstance(v, list) for v in value.values()]
        if not all(listed) and any(listed):
            raise PayloadError(f"{key}: give every column as a list of values, or one row of scalars")
        lengths = {len(v) for v in value.values() if isinstance(v, list)}
        if len(lengths) > 1:
            raise PayloadError(f"{key}: the columns have different lengths {sorted(lengths)}")
        return pd.DataFrame(value) if any(listed) else pd.DataFrame([value])
    if not isinstance(value, list):
        raise PayloadError(f"{key} must be a list (rows or an array) or an object of columns")
    if value and all(isinstance(row, dict) for row in value):
        return pd.DataFrame.from_records(value)
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nesting
        raise PayloadError(f"{key}: not a rectangular array ({error})") from None
    if array.dtype == object:
        raise PayloadError(f"{key}: not a rectangular array of numbers or strings")
    return array


def predictions_body(predictions: Any) -> bytes:
    """``{"predictions": [...]}``: arrays as lists, a DataFrame as records (MLflow's shapes)."""
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        predictions = predictions.to_dict(orient="records")
    elif isinstance(predictions, pd.Series):
        predictions = predictions.to_numpy()
    return orjson.dumps(
        {"predictions": predictions},
        option=orjson.OPT_SERIALIZE_NUMPY,
        default=_jsonable,
    )


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):  # non-contiguous or object arrays orjson declines
        return value.tolist()
    raise TypeError(f"cannot serialize {type(value).__name__}")
