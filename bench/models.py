"""Model format: what `log_model` and `load_model` cost, cold (download) and cached.

    .venv/bin/python bench/models.py                      # starts its own server (SQLite)
    .venv/bin/python bench/models.py --tracking-uri URL   # against a running server

For three real scikit-learn models (logistic regression, a 100-tree random forest, a
scaler + one-hot + logistic pipeline), against a real `mltrail server`:

- ``log_model``: package (cloudpickle, requirements, signature, example) and upload;
- cold ``load_model("runs:/...")``: an empty cache, so every file is downloaded;
- cached ``load_model``: the same URI again (one GraphQL listing, then the files on disk:
  MLmodel parsed, model unpickled); median and p90 of ``--repeat`` loads. Target: < 50 ms.
- local ``load_model(<cached directory>)``: the same files with no server at all (MLmodel
  parsed, model unpickled), i.e. what any loader pays; "cache overhead" is the difference of
  the medians (the listing round trip and the ref lookup).

Libraries (scikit-learn, pandas) are imported before timing: their import is a process's
one-off cost, not the cache's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _harness import mltrail_server
from _workload import timed


def models() -> dict[str, tuple[object, object]]:
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 2000),
            "income": rng.normal(50_000, 12_000, 2000),
            "plan": rng.choice(["basic", "pro", "team"], 2000),
        }
    )
    y = ((X["income"] > 48_000) ^ (X["plan"] == "pro")).astype(int)
    numeric = X[["age", "income"]]
    pipeline = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [("n", StandardScaler(), ["age", "income"]), ("c", OneHotEncoder(), ["plan"])]
                ),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    return {
        "logistic regression": (LogisticRegression(max_iter=500).fit(numeric, y), numeric),
        "random forest (100 trees)": (
            RandomForestClassifier(n_estimators=100, random_state=0).fit(numeric, y),
            numeric,
        ),
        "pipeline (scaler+onehot+logistic)": (pipeline.fit(X, y), X),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracking-uri")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mltrail-bench-models-"))
    os.environ["MLTRAIL_MODEL_CACHE_DIR"] = str(work / "cache")
    os.environ["MLTRAIL_SPOOL_DIR"] = str(work / "spool")
    os.environ["MLTRAIL_CAPTURE_ENVIRONMENT"] = "0"
    server = None
    uri = args.tracking_uri
    if uri is None:
        server = mltrail_server(str(work / "data")).start()
        uri = server.url
    try:
        import mltrail
        import mltrail.models as mm

        mltrail.set_tracking_uri(uri)
        mltrail.set_experiment("bench-models")
        print(
            f"{'model':36} {'size':>9} {'log_model':>10} {'cold load':>10} {'cached p50':>11} "
            f"{'cached p90':>11} {'local p50':>10} {'cache overhead':>15}"
        )
        for name, (model, X) in models().items():
            with mltrail.start_run(name=name) as run:
                started = time.perf_counter()
                info = run.log_model(model, "model", input_example=X[:5])
                logged_ms = (time.perf_counter() - started) * 1000
            mm.clear_cache()
            started = time.perf_counter()
            loaded = mm.load_model(info.model_uri)
            cold_ms = (time.perf_counter() - started) * 1000
            assert (loaded.predict(X) == model.predict(X)).all()
            before = mm.cache_info()
            cached = timed(lambda uri=info.model_uri: mm.load_model(uri), args.repeat, warmup=1)
            after = mm.cache_info()
            assert after.files_downloaded == before.files_downloaded, "a cached load downloaded"
            p90 = statistics.quantiles(cached, n=10)[-1]
            local = timed(lambda path=str(loaded.local_path): mm.load_model(path), args.repeat, warmup=1)
            size = info.metadata.model_size_bytes or 0
            print(
                f"{name:36} {size / 1024:>7.0f} K {logged_ms:>8.1f} ms {cold_ms:>7.1f} ms "
                f"{statistics.median(cached):>8.1f} ms {p90:>8.1f} ms {statistics.median(local):>7.1f} ms "
                f"{statistics.median(cached) - statistics.median(local):>12.1f} ms"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
