"""Batch scoring: a large CSV, Parquet or JSON-lines file through a model, chunk by chunk.

Memory stays bounded by ``chunk_size`` rows whatever the file's size: the input is read with
pandas' chunked readers (``read_csv(chunksize=)``, ``read_json(lines=True, chunksize=)``,
Parquet record batches), each chunk is validated against the signature and predicted, and the
chunk's rows with their predictions are appended to the output CSV before the next is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument


def read_chunks(path: str | Path, chunk_size: int) -> Iterator[Any]:
    """DataFrames of at most ``chunk_size`` rows, in file order."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        yield from pd.read_csv(path, chunksize=chunk_size)
    elif suffix in (".json", ".jsonl", ".ndjson"):
        # JSON lines (one object per line) stream; a single JSON array cannot be read in parts.
        try:
            yield from pd.read_json(path, lines=True, chunksize=chunk_size)
        except ValueError as error:
            raise InvalidArgument(
                f"--input {str(path)!r}: expected JSON lines (one object per line): {error}"
            ) from None
    elif suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InvalidArgument("--input: reading Parquet needs pyarrow (pip install pyarrow)") from None
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    else:
        raise InvalidArgument(f"--input {str(path)!r}: expected a .csv, .parquet or .json(l) file")


def _prediction_frame(predictions: Any, index: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions.set_axis(index)
    array = np.asarray(predictions)
    if array.ndim == 1:
        return pd.DataFrame({"prediction": array}, index=index)
    return pd.DataFrame(
        array.reshape(len(index), -1), index=index, columns=[f"prediction_{i}" for i in range(array.shape[1])]
    )


def score_file(
    model_uri: str,
    input_path: str | Path,
    output_path: str | Path,
    *,
    chunk_size: int = 50_000,
    tracking_uri: str | None = None,
    progress: bool = False,
) -> int:
    """Score ``input_path`` into ``output_path`` (the input's columns plus the predictions);
    returns the number of rows written. The output appears whole: it is written beside the
    target and renamed at the end, so a failure leaves no half-scored file behind."""
    import contextlib
    import os

    import pandas as pd

    from mltrail.models import load_model

    model = load_model(model_uri, tracking_uri=tracking_uri)
    output_path = Path(output_path)
    partial = output_path.with_name(f".{output_path.name}.partial")
    rows = 0
    bar: Any = contextlib.nullcontext()
    if progress:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), TextColumn("scored {task.completed:,} rows"), TimeElapsedColumn())
    try:
        with bar, partial.open("w", newline="", encoding="utf-8") as out:
            task = bar.add_task("scoring", total=None) if progress else None
            for number, chunk in enumerate(read_chunks(input_path, chunk_size)):
                predictions = model.predict(chunk)
                scored = pd.concat([chunk, _prediction_frame(predictions, chunk.index)], axis=1)
                scored.to_csv(out, header=number == 0, index=False)
                rows += len(chunk)
                if task is not None:
                    bar.update(task, completed=rows)
        os.replace(partial, output_path)
    finally:
        partial.unlink(missing_ok=True)
    return rows
