"""The benchmark workload both sides run (mltrail's and MLflow's): one definition, so the
comparison cannot drift. Plain Python: it is imported from MLflow's own interpreter too."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

N_PARAMS = 10


def timed(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call, after `warmup` untimed calls (the same clock on both sides)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def param_values(i: int) -> dict[str, str]:
    """The 10 params of run ``i``: varied enough for the search filter to select some runs."""
    return {
        "lr": ["0.1", "0.01", "0.001"][i % 3],
        "batch_size": str([32, 64, 128, 256][i % 4]),
        "optimizer": ["adam", "sgd", "adamw"][i % 3],
        "layers": str(2 + i % 5),
        "dropout": str((i % 5) / 10),
        "seed": str(i),
        "epochs": str(10 + i % 7),
        "weight_decay": ["0", "1e-4", "1e-5"][i % 3],
        "warmup": str(i % 100),
        "model": ["resnet18", "resnet50", "vit-s"][i % 3],
    }
