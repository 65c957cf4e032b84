"""Input examples, saved as MLflow saves them.

    input_example.json           {"columns": [...], "data": [[...], ...]}   (a DataFrame, pandas "split")
                                 [[...], ...]                                (an array)
    serving_input_example.json   {"dataframe_split": {...}} or {"inputs": [...]}: a request body
                                 for a scoring server's POST /invocations

``saved_input_example_info`` in ``MLmodel`` says which: ``type: dataframe, pandas_orient: split``
or ``type: ndarray``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mltrail.models._signature import _as_frame_if_tabular, _pandas

INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_FILE = "serving_input_example.json"


def as_example(example: Any) -> Any:
    """The example as a DataFrame (tables, records, dicts) or a numpy array (anything else)."""
    import numpy as np

    example = _as_frame_if_tabular(example)
    pd = _pandas()
    if pd is not None and isinstance(example, pd.DataFrame | pd.Series):
        return example.to_frame() if isinstance(example, pd.Series) else example
    return np.asarray(example)


def save_example(example: Any, model_dir: Path) -> dict[str, Any]:
    """Write the example files; return ``saved_input_example_info``."""
    pd = _pandas()
    info: dict[str, Any] = {"artifact_path": INPUT_EXAMPLE_FILE, "serving_input_path": SERVING_INPUT_FILE}
    if pd is not None and isinstance(example, pd.DataFrame):
        # Not DataFrame.to_json: it rounds floats to 10 significant digits. Index dropped, as
        # MLflow does; missing values become null.
        rows = [
            [None if _missing(v) else v for v in row] for row in example.itertuples(index=False, name=None)
        ]
        body: Any = {"columns": [str(c) for c in example.columns], "data": rows}
        serving: Any = {"dataframe_split": body}
        info.update(type="dataframe", pandas_orient="split")
    else:
        body = example.tolist()
        serving = {"inputs": body}
        info["type"] = "ndarray"
    (model_dir / INPUT_EXAMPLE_FILE).write_text(json.dumps(body, default=_json_value), encoding="utf-8")
    (model_dir / SERVING_INPUT_FILE).write_text(
        json.dumps(serving, indent=2, default=_json_value), encoding="utf-8"
    )
    return dict(sorted(info.items()))


def _missing(value: Any) -> bool:
    import pandas as pd

    return not isinstance(value, list | tuple | dict) and bool(pd.isna(value))


def _json_value(value: Any) -> Any:
    """JSON for what the json module does not know: numpy scalars, timestamps, bytes (base64,
    as MLflow writes binary columns)."""
    import base64
    import datetime

    if hasattr(value, "item") and not isinstance(value, bytes | bytearray):  # numpy scalar
        return value.item()
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"input_example: cannot write a {type(value).__name__} value as JSON")


def load_example(model_dir: Path, info: dict[str, Any] | None) -> Any:
    """The saved example (a DataFrame or an array), or None when the model has none."""
    if not info or not (model_dir / info.get("artifact_path", INPUT_EXAMPLE_FILE)).is_file():
        return None
    body = json.loads((model_dir / info.get("artifact_path", INPUT_EXAMPLE_FILE)).read_text(encoding="utf-8"))
    if info.get("type") == "dataframe":
        import pandas as pd

        return pd.DataFrame(body["data"], columns=body["columns"])
    import numpy as np

    return np.asarray(body)
