"""Model signatures: what a model takes and returns, inferred from an example and enforced at
predict time.

The layout is MLflow's, field for field, so an ``MLmodel`` written here reads there:

    signature:
      inputs: '[{"type": "double", "name": "a", "required": true}, ...]'     # column-based
      outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
      params: null

A *column-based* schema (from a DataFrame or records) names each column and its type
(``boolean integer long float double string binary datetime``); a *tensor-based* one (from an
array) gives a dtype and a shape whose first (batch) dimension is ``-1``.

Enforcement (`enforce_schema`) accepts what a caller naturally has: a DataFrame, a list of
dicts, a dict of columns, or an array (split into the signature's columns when it has the
right width). It refuses, with a `ModelInputError` naming the column, a missing required
column or a value that cannot become the column's type without loss; safe widenings (int32 to
int64, int to double, float32 to float64) are applied, and the columns are put in signature
order with extra ones dropped, because scikit-learn checks names and order of a DataFrame.

numpy and pandas are imported inside the functions that need them: ``import mltrail`` stays thin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mltrail._exceptions import InvalidArgument

# MLflow's DataType names and the numpy dtype each one means.
COLUMN_TYPES: dict[str, str] = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
    "string": "object",
    "binary": "object",
    "datetime": "datetime64[ns]",
}


class ModelInputError(InvalidArgument):
    """Input given to ``predict`` does not match the model's signature.

    ``column`` names the offending column (None for a tensor input or the input as a whole).
    """

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,), {"column": self.column})


@dataclass(frozen=True, slots=True)
class ColSpec:
    """One column: its type (a `COLUMN_TYPES` name), its name, and whether it must be given."""

    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            spec["name"] = self.name
        spec["required"] = self.required
        return spec


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """An array: its numpy dtype name and shape (``-1`` for a dimension of any size)."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)},
        }
        if self.name is not None:
            spec["name"] = self.name
        return spec


@dataclass(frozen=True, slots=True)
class Schema:
    """A list of column specs, or of tensor specs (never both)."""

    inputs: tuple[ColSpec | TensorSpec, ...]

    def __post_init__(self) -> None:
        kinds = {type(spec) for spec in self.inputs}
        if len(kinds) > 1:
            raise InvalidArgument("signature: a schema mixes column and tensor specs")

    @property
    def is_tensor_based(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def column_names(self) -> list[str | None]:
        return [spec.name for spec in self.inputs]

    def to_json(self) -> str:
        return json.dumps([spec.to_dict() for spec in self.inputs])

    @classmethod
    def from_json(cls, text: str) -> Schema:
        specs: list[ColSpec | TensorSpec] = []
        for item in json.loads(text):
            if item.get("type") == "tensor":
                tensor = item["tensor-spec"]
                specs.append(TensorSpec(tensor["dtype"], tuple(tensor["shape"]), item.get("name")))
            else:
                specs.append(ColSpec(item["type"], item.get("name"), item.get("required", True)))
        return cls(tuple(specs))


@dataclass(frozen=True, slots=True)
class ModelSignature:
    """The inputs (and optionally outputs) of a model, as written in ``MLmodel``."""

    inputs: Schema
    outputs: Schema | None = None
    params: Any = field(default=None)  # MLflow's inference params: carried, not interpreted

    def to_dict(self) -> dict[str, Any]:
        """MLflow's representation: each schema as a JSON string."""
        return {
            "inputs": self.inputs.to_json(),
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        outputs = data.get("outputs")
        return cls(
            inputs=Schema.from_json(data["inputs"]) if data.get("inputs") else Schema(()),
            outputs=Schema.from_json(outputs) if outputs else None,
            params=data.get("params"),
        )


# -- inference -----------------------------------------------------------------------------------


def infer_signature(model_input: Any, model_output: Any = None) -> ModelSignature:
    """The signature of an input example (and, if given, of the model's output for it).

    A DataFrame (or records, or a dict of columns) gives a column-based schema with each
    column's name and type; an array gives its dtype and shape with ``-1`` as batch dimension.
    """
    inputs = infer_schema(model_input)
    outputs = None
    if model_output is not None:
        outputs = infer_schema(model_output, unnamed_1d=not inputs.is_tensor_based)
    return ModelSignature(inputs=inputs, outputs=outputs)


def infer_schema(data: Any, *, unnamed_1d: bool = False) -> Schema:
    """The schema of one value. ``unnamed_1d``: a 1-D array becomes one unnamed column, as
    MLflow writes the output of a model that takes a DataFrame."""
    import numpy as np

    data = _as_frame_if_tabular(data)
    pd = _pandas()
    if pd is not None and isinstance(data, pd.DataFrame):
        return Schema(tuple(ColSpec(_column_type(data[c], str(c)), str(c)) for c in data.columns))
    if pd is not None and isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema((ColSpec(_column_type(data, name or "output"), name),))
    array = np.asarray(data)
    if array.ndim == 0:
        raise InvalidArgument(f"input_example: expected a table or an array, got a scalar {data!r}")
    if unnamed_1d and array.ndim == 1 and pd is not None:
        return Schema((ColSpec(_column_type(pd.Series(array), "output")),))
    return Schema((TensorSpec(_dtype_name(array.dtype), (-1, *array.shape[1:])),))


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # arrays alone need no pandas
        return None
    return pandas


def _as_frame_if_tabular(data: Any) -> Any:
    """Records (list of dicts) and dicts of columns (or of one row's values) become a
    DataFrame; anything else is kept."""
    pd = _pandas()
    if pd is None:
        return data
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        return pd.DataFrame.from_records(data)
    if isinstance(data, dict):
        if data and not any(pd.api.types.is_list_like(value) for value in data.values()):
            return pd.DataFrame([data])
        return pd.DataFrame(data)
    return data


def _dtype_name(dtype: Any) -> str:
    return "str" if dtype.kind == "U" else dtype.name


def _column_type(column: Any, name: str) -> str:
    """The MLflow column type of a pandas Series."""
    import numpy as np
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _column_type(pd.Series(np.asarray(column, dtype=object)), name)
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        # Small and unsigned-small integers fit in int32; everything wider is a long.
        numpy_dtype = np.dtype(str(dtype).lower()) if not isinstance(dtype, np.dtype) else dtype
        return "integer" if np.can_cast(numpy_dtype, np.int32, "safe") else "long"
    if pd.api.types.is_float_dtype(dtype):
        return "float" if str(dtype).lower() in ("float32", "float16") else "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) and not _is_object(dtype):
        return "string"
    values = [v for v in column.tolist() if v is not None and not (isinstance(v, float) and v != v)]
    if values and all(isinstance(v, str) for v in values):
        return "string"
    if values and all(isinstance(v, bytes | bytearray) for v in values):
        return "binary"
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    kinds = sorted({type(v).__name__ for v in values}) or ["no values"]
    raise InvalidArgument(
        f"input_example: cannot infer a type for column {name!r} ({', '.join(kinds)}); give signature= explicitly"
    )


# -- enforcement ---------------------------------------------------------------------------------


def enforce_schema(data: Any, schema: Schema) -> Any:
    """``data`` converted to what the signature describes, or a `ModelInputError`."""
    if not schema.inputs:
        return data
    if schema.is_tensor_based:
        return _enforce_tensor(data, schema.inputs[0])  # type: ignore[arg-type]
    return _enforce_columns(data, schema)


def _enforce_tensor(data: Any, spec: TensorSpec) -> Any:
    import numpy as np

    pd = _pandas()
    if pd is not None and isinstance(data, pd.DataFrame | pd.Series):
        data = data.to_numpy()
    array = np.asarray(data)
    expected_shape = "(" + ", ".join(str(d) for d in spec.shape) + ")"
    if array.ndim != len(spec.shape) or any(
        want != -1 and got != want for want, got in zip(spec.shape, array.shape, strict=False)
    ):
        raise ModelInputError(f"input: expected an array of shape {expected_shape}, got shape {array.shape}")
    expected = np.dtype("str") if spec.dtype == "str" else np.dtype(spec.dtype)
    if array.dtype == expected or (expected.kind == "U" and array.dtype.kind == "U"):
        return array
    if _widens(array.dtype, expected):
        return array.astype(expected)
    raise ModelInputError(
        f"input: expected dtype {spec.dtype} (shape {expected_shape}), got {array.dtype}; "
        f"{array.dtype} cannot be converted to {spec.dtype} without loss"
    )


def _widens(source: Any, target: Any) -> bool:
    """May ``source`` values be converted to ``target`` without losing anything a model needs?"""
    import numpy as np

    if source.kind == "b" or target.kind == "b":
        return source.kind == target.kind
    if np.can_cast(source, target, "safe"):
        return True
    # int64 to float64 is "unsafe" for numpy (beyond 2**53) but is what every tabular model
    # expects of integer features; MLflow allows it too.
    return source.kind in "iu" and target.kind == "f"


def _enforce_columns(data: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    specs: list[ColSpec] = list(schema.inputs)  # type: ignore[arg-type]
    names = [spec.name for spec in specs]
    if _already_conforms(data, specs, names):
        # The common case on a model server: a frame built from a request with exactly the
        # signature's columns and dtypes. Checking costs microseconds; rebuilding the frame
        # column by column costs most of a small model's prediction time.
        return data
    data = _as_frame_if_tabular(data)
    from_array = False
    if isinstance(data, pd.Series):
        data = data.to_frame()
    elif not isinstance(data, pd.DataFrame):
        array = np.asarray(data)
        if array.ndim == 1 and len(specs) == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2 or array.shape[1] != len(specs) or None in names:
            raise ModelInputError(
                f"input: the model takes columns {names}; give a DataFrame, records or a 2-D array "
                f"with {len(specs)} columns, got {type(data).__name__} of shape {array.shape}"
            )
        data = pd.DataFrame(array, columns=names)
        from_array = True
    if None in names:  # unnamed columns (an output-style schema): positional
        return data
    missing = [spec for spec in specs if spec.required and spec.name not in data.columns]
    if missing:
        listed = ", ".join(f"{spec.name!r} ({spec.type})" for spec in missing)
        raise ModelInputError(
            f"input is missing column {listed} required by the model's signature; "
            f"it has columns {[str(c) for c in data.columns]}",
            column=missing[0].name,
        )
    columns = {}
    for spec in specs:
        if spec.name in data.columns:
            columns[spec.name] = _enforce_column(data[spec.name], spec, lenient=from_array)
    return pd.DataFrame(columns, index=data.index)


def _already_conforms(data: Any, specs: list[ColSpec], names: list[str | None]) -> bool:
    """Is ``data`` a DataFrame with exactly the signature's columns, in order, of numeric or
    boolean types equal to the signature's? (Strings and datetimes take the full check.)"""
    pd = _pandas()
    if pd is None or not isinstance(data, pd.DataFrame) or list(data.columns) != names:
        return False
    import numpy as np

    for spec, dtype in zip(specs, data.dtypes, strict=True):
        if spec.type not in ("boolean", "integer", "long", "float", "double"):
            return False
        if not isinstance(dtype, np.dtype) or dtype != np.dtype(COLUMN_TYPES[spec.type]):
            return False
    return True


def _enforce_column(column: Any, spec: ColSpec, *, lenient: bool) -> Any:
    import numpy as np
    import pandas as pd

    got = column.dtype
    wrong = ModelInputError(
        f"input column {spec.name!r}: expected {spec.type}, got {got}"
        f"{_sample(column)}; it cannot be converted without loss",
        column=spec.name,
    )
    if spec.type in ("string", "binary"):
        want_type = str if spec.type == "string" else (bytes, bytearray)
        if spec.type == "string" and pd.api.types.is_string_dtype(got) and not _is_object(got):
            return column
        if _is_object(got) or got.kind in "US":
            if all(isinstance(v, want_type) or v is None for v in column.tolist()):
                return column
        raise wrong
    if spec.type == "datetime":
        if pd.api.types.is_datetime64_any_dtype(got):
            return column
        raise wrong
    target = np.dtype(COLUMN_TYPES[spec.type])
    if isinstance(got, pd.api.extensions.ExtensionDtype):
        if got.kind in "biuf" and not column.isna().any():  # nullable Int64, boolean, Float64
            column = column.astype(got.numpy_dtype if hasattr(got, "numpy_dtype") else got.type)
            got = column.dtype
        else:
            raise wrong
    if got == target:
        return column
    if _widens(got, target):
        return column.astype(target)
    if lenient and got.kind == "f" and target.kind in "iu":
        # A 2-D array has one dtype for all its columns: integer columns arrive as floats.
        values = column.to_numpy()
        if np.isfinite(values).all() and (values == np.round(values)).all():
            return column.astype(target)
    raise wrong


def _is_object(dtype: Any) -> bool:
    """numpy's object dtype (a pandas extension dtype may also report kind 'O')."""
    import numpy as np

    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _sample(column: Any) -> str:
    values = column.head(1).tolist()
    return f" (e.g. {values[0]!r})" if values else ""
