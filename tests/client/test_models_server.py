"""Models logged into a real `mltrail server` (SQLite, local artifacts, a real port) and loaded
back by URI, with the cache starting empty as in a fresh process.

The model format does not touch the database, so one SQLite server serves the module; the
registry's own suites run on both databases.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mltrail
import mltrail.artifacts
import mltrail.models as mm
from mltrail.pyfunc import PythonModel

from .conftest import ServerProcess, started_server


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with started_server(tmp_path_factory, "models-server") as process:
        yield process


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty model cache for this test: loading starts as a fresh machine would."""
    path = tmp_path / "model-cache"
    monkeypatch.setenv("MLTRAIL_MODEL_CACHE_DIR", str(path))
    return path


@pytest.fixture
def tracking(model_server: ServerProcess, spool_dir: Path, cache_dir: Path) -> str:
    mltrail.set_tracking_uri(model_server.url)
    mltrail.set_experiment("models")
    return model_server.url


@pytest.fixture(scope="module")
def churn() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 300),
            "income": rng.normal(50_000, 12_000, 300),
            "plan": rng.choice(["basic", "pro", "team"], 300),
        }
    )
    y = ((X["income"] > 48_000) ^ (X["plan"] == "pro")).astype(int).to_numpy()
    return X, y


def _pipeline() -> Pipeline:
    features = ColumnTransformer(
        [("num", StandardScaler(), ["age", "income"]), ("cat", OneHotEncoder(), ["plan"])]
    )
    return Pipeline([("features", features), ("clf", LogisticRegression(max_iter=500))])


MODELS = {
    "random_forest": (lambda: RandomForestClassifier(n_estimators=25, random_state=0), ["age", "income"]),
    "logistic": (lambda: LogisticRegression(max_iter=500), ["age", "income"]),
    "pipeline": (_pipeline, ["age", "income", "plan"]),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_sklearn_model_round_trips_through_the_server(
    kind: str, tracking: str, churn: tuple[pd.DataFrame, np.ndarray], cache_dir: Path
) -> None:
    X, y = churn
    make, columns = MODELS[kind]
    model = make().fit(X[columns], y)
    with mltrail.start_run(name=kind) as run:
        info = run.log_model(model, "model", input_example=X[columns][:5])
    assert info.model_uri == f"runs:/{run.id}/model"
    listed = {entry.path for entry in mltrail.artifacts.list_artifacts(run.id, "model")}
    assert listed == {
        f"model/{name}"
        for name in (
            "MLmodel",
            "input_example.json",
            "model.pkl",
            "python_env.yaml",
            "requirements.txt",
            "serving_input_example.json",
        )
    }

    assert not cache_dir.exists()  # nothing cached yet: the load below downloads
    loaded = mm.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X[columns]), model.predict(X[columns]))
    assert loaded.metadata.run_id == run.id and loaded.metadata.model_uuid == info.model_uuid
    assert loaded.metadata.signature == info.signature
    assert [spec.name for spec in loaded.metadata.signature.inputs.inputs] == columns
    assert type(loaded.raw_model) is type(model)
    stats = mm.cache_info()
    assert (stats.misses, stats.hits, stats.files_downloaded) == (1, 0, 6)
    assert stats.path == cache_dir and loaded.local_path.is_relative_to(cache_dir / "objects")


def test_second_load_downloads_nothing(tracking: str, churn: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = churn
    model = LogisticRegression(max_iter=500).fit(X[["age", "income"]], y)
    with mltrail.start_run() as run:
        run.log_model(model, "model", input_example=X[["age", "income"]][:3])
    first = mm.load_model(f"runs:/{run.id}/model")
    before = mm.cache_info()
    second = mm.load_model(f"runs:/{run.id}/model")
    after = mm.cache_info()
    assert after.hits == before.hits + 1
    assert (after.files_downloaded, after.bytes_downloaded, after.misses) == (
        before.files_downloaded,
        before.bytes_downloaded,
        before.misses,
    )
    assert second.local_path == first.local_path


def test_rewritten_model_is_downloaded_again_and_a_tampered_one_refused(
    tracking: str, churn: tuple[pd.DataFrame, np.ndarray], tmp_path: Path
) -> None:
    X, y = churn
    columns = ["age", "income"]
    with mltrail.start_run() as run:
        run.log_model(
            LogisticRegression(max_iter=500).fit(X[columns], y), "model", input_example=X[columns][:3]
        )
        uri = f"runs:/{run.id}/model"
        first = mm.load_model(uri)
        # Logged again at the same path: new bytes, so the listing's fingerprint changes.
        forest = RandomForestClassifier(n_estimators=5, random_state=1).fit(X[columns], y)
        run.log_model(forest, "model", input_example=X[columns][:3])
        second = mm.load_model(uri)
        assert second.local_path != first.local_path
        assert isinstance(second.raw_model, RandomForestClassifier)
        assert mm.cache_info().misses == 2
        # A file replaced behind the model's back: the cache holds the bytes MLmodel describes
        # and serves them; a machine without them downloads and refuses the altered file.
        (tmp_path / "model.pkl").write_bytes(b"not the model that was logged")
        run.log_artifact(tmp_path / "model.pkl", "model")
        assert isinstance(mm.load_model(uri).raw_model, RandomForestClassifier)
        mm.clear_cache()
        with pytest.raises(
            mltrail.MltrailError, match=r"'model\.pkl' does not match the SHA-256 recorded in its MLmodel"
        ):
            mm.load_model(uri)


def test_runs_uri_without_a_model_is_not_found(tracking: str) -> None:
    with mltrail.start_run() as run:
        run.log_text("just notes", "notes/readme.txt")
    with pytest.raises(
        mltrail.NotFound, match=r"model_uri 'runs:/\w+/notes': no model at 'notes'.*no MLmodel file"
    ):
        mm.load_model(f"runs:/{run.id}/notes")
    with pytest.raises(mltrail.NotFound, match="the path is empty or missing"):
        mm.load_model(f"runs:/{run.id}/model")
    with pytest.raises(mltrail.NotFound, match="no run with id 'feedfacefeedface'"):
        mm.load_model("runs:/feedfacefeedface/model")


class Threshold(PythonModel):
    def load_context(self, context: mltrail.pyfunc.PythonModelContext) -> None:
        self.cut = context.model_config["cut"]

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return (model_input["income"] > self.cut).astype(int).to_numpy()


def test_fluent_log_model_of_a_python_model(tracking: str, churn: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, _ = churn
    with mltrail.start_run() as run:
        info = mltrail.log_model(
            Threshold(), "rule", input_example=X[["income"]][:3], model_config={"cut": 60_000}
        )
    assert info.model_uri == f"runs:/{run.id}/rule"
    loaded = mm.load_model(info.model_uri, tracking_uri=tracking)
    np.testing.assert_array_equal(loaded.predict(X), (X["income"] > 60_000).astype(int).to_numpy())
    assert loaded.metadata.flavor_names == ["python_function"]
    with pytest.raises(mm.ModelInputError, match="missing column 'income'"):
        loaded.predict(X[["age"]])


TRAINING_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.linear_model import LogisticRegression
    import mltrail
    from mltrail.pyfunc import PythonModel

    class Scorer(PythonModel):          # defined in __main__: the loader never sees this code
        def predict(self, context, model_input, params=None):
            return model_input["x"] * 10 + 1

    X = pd.DataFrame({"x": np.linspace(-1, 1, 40)})
    y = (X["x"] > 0.1).astype(int)
    pipe = make_pipeline(FunctionTransformer(lambda a: a * 3), LogisticRegression()).fit(X, y)
    mltrail.set_tracking_uri(sys.argv[1])
    with mltrail.start_run() as run:
        mltrail.log_model(Scorer(), "scorer", input_example=X[:2])
        mltrail.log_model(pipe, "pipe", input_example=X[:2])
    print(run.id, ",".join(str(v) for v in pipe.predict(X)))
    """
)

LOADING_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    import mltrail.models as mm
    model = mm.load_model(sys.argv[2], tracking_uri=sys.argv[1])  # imports sklearn etc. once
    started = time.perf_counter()
    model = mm.load_model(sys.argv[2], tracking_uri=sys.argv[1])
    elapsed = time.perf_counter() - started
    info = mm.cache_info()
    print(info.hits, info.misses, info.files_downloaded, model.predict(pd.DataFrame({"x": [0.5]})).tolist(), elapsed)
    """
)


def test_training_code_is_not_needed_and_the_cache_outlives_the_process(
    tracking: str, tmp_path: Path, cache_dir: Path
) -> None:
    trained = subprocess.run(
        [sys.executable, "-c", TRAINING_SCRIPT, tracking],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    run_id, expected = trained[0], [int(v) for v in trained[1].split(",")]
    X = pd.DataFrame({"x": np.linspace(-1, 1, 40)})
    assert mm.load_model(f"runs:/{run_id}/pipe").predict(X).tolist() == expected
    assert mm.load_model(f"runs:/{run_id}/scorer").predict(pd.DataFrame({"x": [2.0]})).tolist() == [21.0]
    assert mm.cache_info().misses == 2

    # A new process with the same cache directory: both of its loads are hits.
    env = {**__import__("os").environ, "MLTRAIL_MODEL_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(
        [sys.executable, "-c", LOADING_SCRIPT, tracking, f"runs:/{run_id}/scorer"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split(maxsplit=4)
    assert out[:3] == ["2", "0", "0"], out
    assert out[3] == "[6.0]"


def test_cached_model_loads_while_the_server_is_down(
    own_server: ServerProcess, spool_dir: Path, cache_dir: Path, churn: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = churn
    own_server.start()
    mltrail.set_tracking_uri(own_server.url)
    model = LogisticRegression(max_iter=500).fit(X[["age"]], y)
    with mltrail.start_run() as run:
        run.log_model(model, "model")
    mm.load_model(f"runs:/{run.id}/model")
    own_server.stop()
    with pytest.warns(mltrail.MltrailWarning, match="unreachable.*using the cached copy"):
        loaded = mm.load_model(f"runs:/{run.id}/model")
    np.testing.assert_array_equal(loaded.predict(X[["age"]]), model.predict(X[["age"]]))
    with pytest.raises(mltrail.ServerUnavailable):
        mm.load_model(f"runs:/{run.id}/other")  # never cached: no fallback


def test_models_uris_resolve_through_the_registry(
    tracking: str, churn: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = churn
    name = f"Churn-{np.random.default_rng().integers(1 << 30)}"
    model = LogisticRegression(max_iter=500).fit(X[["age", "income"]], y)
    with mltrail.start_run() as run:
        info = run.log_model(
            model, "model", input_example=X[["age", "income"]][:3], registered_model_name=name
        )
    assert info.registered_model_version is not None
    expected = model.predict(X[["age", "income"]])
    for uri in (f"models:/{name}/1", f"models:/{name}/latest", f"models:/{name}/None"):
        loaded = mm.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(X[["age", "income"]]), expected)
        assert loaded.registered_version["version"] == 1 and loaded.metadata.run_id == run.id
    assert mm.cache_info().misses == 1  # three URIs, one version, one download
    with pytest.raises(mltrail.NotFound):
        mm.load_model(f"models:/{name}/2")
