"""Dynamic batching: requests that arrive together are predicted in one call.

For a small tabular model the cost of ``predict`` is mostly fixed (input validation, dispatch),
not per row: predicting 16 one-row frames costs about 16 times one frame, predicting one
16-row frame about once. So under concurrency, the requests that are ready in the same turn of
the event loop are validated one by one (each keeps its own 400), concatenated, predicted once
and split back in order.

Only where that is exact: the scikit-learn flavor (its ``predict`` is row-wise), DataFrame
inputs, no ``params``, and an output with one entry per input row. Anything else, or a batch the
model rejects, is predicted request by request, so a batch never changes an answer or an error.
A request keeps the `ServedModel` it read before the swap, and only requests of the same one
are batched together.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mltrail.serving._slot import ServedModel

MAX_BATCH_ROWS = 20_000


def batchable(served: ServedModel, data: Any, params: Any) -> bool:
    import pandas as pd

    return not params and isinstance(data, pd.DataFrame) and "sklearn" in served.model.metadata.flavor_names


class PredictionBatcher:
    """Collects the requests ready in one event-loop turn and predicts them together."""

    def __init__(self, max_rows: int = MAX_BATCH_ROWS, on_batch: Any = None) -> None:
        self.max_rows = max_rows
        self._on_batch = on_batch  # called with the number of requests one predict call answered
        self._pending: list[tuple[ServedModel, Any, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._flushing: asyncio.Task[None] | None = None  # held: the loop keeps only weak references
        self.batches = 0  # predict calls that served more than one request

    async def predict(self, served: ServedModel, frame: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((served, frame, future))
        if not self._scheduled:
            self._scheduled = True
            self._flushing = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        # One turn of the loop lets the requests whose bytes are already here join the batch.
        await asyncio.sleep(0)
        pending, self._pending, self._scheduled = self._pending, [], False
        groups: dict[int, list[tuple[ServedModel, Any, asyncio.Future[Any]]]] = {}
        for item in pending:
            groups.setdefault(id(item[0]), []).append(item)
        for items in groups.values():
            start = 0
            while start < len(items):
                end, rows = start, 0
                while end < len(items) and (end == start or rows + len(items[end][1]) <= self.max_rows):
                    rows += len(items[end][1])
                    end += 1
                self._run(items[start:end])
                start = end

    def _run(self, items: list[tuple[ServedModel, Any, asyncio.Future[Any]]]) -> None:
        if len(items) > 1:
            import numpy as np
            import pandas as pd

            served = items[0][0]
            try:
                together = served.model.predict(
                    pd.concat([frame for _, frame, _ in items], ignore_index=True)
                )
                predictions = together if isinstance(together, pd.DataFrame) else np.asarray(together)
                if len(predictions) == sum(len(frame) for _, frame, _ in items):
                    self.batches += 1
                    if self._on_batch is not None:
                        self._on_batch(len(items))
                    offset = 0
                    for _, frame, future in items:
                        part = predictions[offset : offset + len(frame)]
                        offset += len(frame)
                        if not future.done():
                            future.set_result(
                                part.reset_index(drop=True) if isinstance(part, pd.DataFrame) else part
                            )
                    return
            except Exception:
                pass
        for served, frame, future in items:
            if future.done():
                continue
            try:
                future.set_result(served.model.predict(frame))
            except Exception as error:
                future.set_exception(error)
