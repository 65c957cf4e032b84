"""The model format without a server: URIs, signatures, the MLmodel file, flavors on disk.

Models are real scikit-learn estimators and real `PythonModel`s, written by `save_model` and
read back by `load_model` from the directory (the server path is in test_models_server.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from graphql import build_schema, parse, validate
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.models as mm
from mltrail.models import _flavors
from mltrail.models._remote import MODEL_VERSION_QUERY
from mltrail.pyfunc import PythonModel

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 200),
            "income": rng.normal(50_000, 10_000, 200),
            "plan": rng.choice(["basic", "pro"], 200),
        }
    )
    y = ((X["income"] > 50_000) & (X["age"] < 60)).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def logistic(table: tuple[pd.DataFrame, np.ndarray]) -> LogisticRegression:
    X, y = table
    return LogisticRegression(max_iter=500).fit(X[["age", "income"]], y)


@pytest.fixture(scope="module")
def logistic_on_arrays(table: tuple[pd.DataFrame, np.ndarray]) -> LogisticRegression:
    X, y = table
    return LogisticRegression(max_iter=500).fit(X[["age", "income"]].to_numpy(), y)


# -- URIs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("runs:/abc123/model", mm.RunsUri("abc123", "model")),
        ("runs:/abc123/nested/dir/model/", mm.RunsUri("abc123", "nested/dir/model")),
        ("models:/Churn/3", mm.ModelsUri("Churn", version=3)),
        ("models:/Churn/Production", mm.ModelsUri("Churn", stage="PRODUCTION")),
        ("models:/Churn/staging", mm.ModelsUri("Churn", stage="STAGING")),
        ("models:/Churn/None", mm.ModelsUri("Churn", stage="NONE")),
        ("models:/Churn@champion", mm.ModelsUri("Churn", alias="champion")),
        ("models:/Churn/latest", mm.ModelsUri("Churn")),
        ("models:/fraud model.v2/1", mm.ModelsUri("fraud model.v2", version=1)),
    ],
)
def test_model_uris_parse(uri: str, expected: object) -> None:
    parsed = mm.parse_model_uri(uri)
    assert parsed == expected
    assert mm.parse_model_uri(str(parsed)) == parsed  # str() writes a URI that parses back


def test_models_uri_is_the_variables_of_the_contract_query() -> None:
    assert mm.parse_model_uri("models:/Churn@champion").graphql_variables() == {
        "name": "Churn",
        "version": None,
        "stage": None,
        "alias": "champion",
    }
    assert mm.parse_model_uri("models:/Churn/latest").is_latest
    assert mm.parse_model_uri("models:/Churn/Archived").graphql_variables()["stage"] == "ARCHIVED"


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("", "non-empty"),
        (" runs:/abc/model", "surrounding spaces"),
        ("model", "expected 'runs:/"),
        ("s3://bucket/model", "unknown scheme 's3'"),
        ("runs:abc/model", "exactly one '/'"),
        ("runs://abc/model", "exactly one '/'"),
        ("runs:/abc", "names no artifact path"),
        ("runs:/abc/", "names no artifact path"),
        ("runs:/ab c/model", "is not a run id"),
        ("runs:/abc/../other/model", "'..'"),
        ("models:/", "names no model"),
        ("models:/Churn", "expected models:/<name>/<version>"),
        ("models:/Churn/", "expected models:/<name>/<version>"),
        ("models:/Churn/0", "must be a positive integer"),
        ("models:/Churn/Prod", "neither a version number, a stage"),
        ("models:/Churn/3/extra", "unexpected path '3/extra'"),
        ("models:/Churn@", "alias ''"),
        ("models:/Churn@1st", "alias '1st'"),
        ("models:/@champion", "names no model"),
        ("models:/Ch\nurn/1", "characters a model name cannot have"),
    ],
)
def test_malformed_model_uris_say_what_is_wrong(uri: str, says: str) -> None:
    with pytest.raises(mltrail.InvalidArgument) as caught:
        mm.parse_model_uri(uri)
    assert "model_uri" in str(caught.value) and says in str(caught.value)
    assert caught.value.code == "INVALID_ARGUMENT"


def test_load_model_rejects_a_malformed_uri_before_any_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(mltrail.InvalidArgument, match="unknown scheme 'hdfs'"):
        mm.load_model("hdfs://x/model")
    with pytest.raises(mltrail.InvalidArgument, match="no such directory"):
        mm.load_model("file:///nonexistent/model")


def test_the_model_version_query_fits_the_registry_contract() -> None:
    # The registry's schema comes with its own branch; until then, validate against the
    # contract's SDL added to the checked-in schema (the same text once merged).
    sdl = (REPO / "schema.graphql").read_text()
    if "modelVersion(" not in sdl:
        sdl += """
        enum Stage { NONE STAGING PRODUCTION ARCHIVED }
        type ModelVersion { name: String!  version: Int!  stage: Stage!  aliases: [String!]!
                            source: String!  runId: ID }
        extend type Query { modelVersion(name: String!, version: Int, stage: Stage, alias: String): ModelVersion }
        """
    assert validate(build_schema(sdl), parse(MODEL_VERSION_QUERY)) == []


# -- signatures ----------------------------------------------------------------------------------


def test_signature_inferred_from_a_dataframe_names_columns_and_types() -> None:
    frame = pd.DataFrame(
        {
            "f64": [1.5, 2.5],
            "f32": np.array([1, 2], dtype=np.float32),
            "i64": [1, 2],
            "i32": np.array([1, 2], dtype=np.int32),
            "flag": [True, False],
            "name": ["a", "b"],
            "when": pd.to_datetime(["2026-01-01", "2026-01-02"]),
            "blob": [b"x", b"y"],
        }
    )
    signature = mm.infer_signature(frame)
    assert json.loads(signature.to_dict()["inputs"]) == [
        {"type": "double", "name": "f64", "required": True},
        {"type": "float", "name": "f32", "required": True},
        {"type": "long", "name": "i64", "required": True},
        {"type": "integer", "name": "i32", "required": True},
        {"type": "boolean", "name": "flag", "required": True},
        {"type": "string", "name": "name", "required": True},
        {"type": "datetime", "name": "when", "required": True},
        {"type": "binary", "name": "blob", "required": True},
    ]
    assert signature.outputs is None
    assert mm.ModelSignature.from_dict(signature.to_dict()) == signature


def test_signature_inferred_from_an_array_has_dtype_and_a_batch_dimension() -> None:
    signature = mm.infer_signature(np.zeros((5, 3, 2), dtype=np.float32), np.zeros(5, dtype=np.int64))
    assert json.loads(signature.to_dict()["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3, 2]}}
    ]
    assert json.loads(signature.to_dict()["outputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]


def test_records_are_a_table() -> None:
    signature = mm.infer_signature([{"x": 1.0, "city": "Oslo"}, {"x": 2.0, "city": "Lima"}])
    assert [(s.name, s.type) for s in signature.inputs.inputs] == [("x", "double"), ("city", "string")]


def test_mixed_object_column_cannot_be_inferred() -> None:
    with pytest.raises(mltrail.InvalidArgument, match="column 'mixed'"):
        mm.infer_signature(pd.DataFrame({"mixed": [1, "a"]}))


# -- the directory: MLmodel, requirements, example -----------------------------------------------


def test_sklearn_model_directory_has_mlflows_layout(
    tmp_path: Path, logistic: LogisticRegression, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = table
    example = X[["age", "income"]].head(5)
    mm.save_model(logistic, tmp_path / "m", run_id="r1", artifact_path="model", input_example=example)
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == [
        "MLmodel",
        "input_example.json",
        "model.pkl",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mlmodel["run_id"] == "r1" and mlmodel["artifact_path"] == "model"
    assert len(mlmodel["model_uuid"]) == 32
    assert mlmodel["mltrail_version"] == mltrail._version.client_version()
    assert mlmodel["utc_time_created"].startswith(str(pd.Timestamp.now("UTC").year))
    import sklearn

    assert mlmodel["flavors"]["sklearn"] == {
        "code": None,
        "pickled_model": "model.pkl",
        "serialization_format": "cloudpickle",
        "sklearn_version": sklearn.__version__,
    }
    pyfunc = mlmodel["flavors"]["python_function"]
    assert pyfunc["loader_module"] == "mlflow.sklearn" and pyfunc["model_path"] == "model.pkl"
    assert pyfunc["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert pyfunc["env"] == {"virtualenv": "python_env.yaml"}
    # Signature: MLflow's JSON strings; the output inferred by predicting on the example.
    assert json.loads(mlmodel["signature"]["inputs"]) == [
        {"type": "long", "name": "age", "required": True},
        {"type": "double", "name": "income", "required": True},
    ]
    assert json.loads(mlmodel["signature"]["outputs"]) == [{"type": "long", "required": True}]
    assert mlmodel["saved_input_example_info"] == {
        "artifact_path": "input_example.json",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
    }
    saved = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert saved["columns"] == ["age", "income"] and saved["data"][0] == example.iloc[0].tolist()
    assert json.loads((tmp_path / "m" / "serving_input_example.json").read_text()) == {
        "dataframe_split": saved
    }
    # Every other file's digest is recorded: the cache's address and the download check.
    assert set(mlmodel["mltrail_file_sha256"]) == set(files) - {"MLmodel"}
    assert mlmodel["model_size_bytes"] == sum(
        p.stat().st_size for p in (tmp_path / "m").iterdir() if p.name != "MLmodel"
    )


def test_requirements_are_pinned_to_installed_versions(tmp_path: Path, logistic: LogisticRegression) -> None:
    mm.save_model(logistic, tmp_path / "m", extra_pip_requirements=["gunicorn>=22"])
    lines = (tmp_path / "m" / "requirements.txt").read_text().split()
    for name in ("cloudpickle", "numpy", "scikit-learn", "scipy"):
        assert f"{name}=={metadata.version(name)}" in lines
    assert lines[-1] == "gunicorn>=22"
    env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["dependencies"] == ["-r requirements.txt"]


def test_pickle_scan_finds_the_libraries_a_model_uses(logistic: LogisticRegression) -> None:
    import cloudpickle

    modules = _flavors.pickled_modules(cloudpickle.dumps({"m": logistic, "a": np.arange(3)}))
    assert {"sklearn", "numpy"} <= modules


def test_array_example_is_saved_as_a_list(tmp_path: Path, logistic_on_arrays: LogisticRegression) -> None:
    logistic = logistic_on_arrays
    example = np.array([[30, 40_000.0], [50, 70_000.0]])
    info = mm.save_model(logistic, tmp_path / "m", input_example=example)
    assert info.saved_input_example_info["type"] == "ndarray"
    assert json.loads((tmp_path / "m" / "input_example.json").read_text()) == example.tolist()
    assert json.loads((tmp_path / "m" / "serving_input_example.json").read_text()) == {
        "inputs": example.tolist()
    }
    assert info.signature.inputs.inputs == (mm.TensorSpec("float64", (-1, 2)),)
    loaded = mm.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.input_example, example)


def test_signature_false_writes_none(tmp_path: Path, logistic_on_arrays: LogisticRegression) -> None:
    logistic = logistic_on_arrays
    mm.save_model(logistic, tmp_path / "m", input_example=np.ones((2, 2)), signature=False)
    assert "signature" not in yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mm.load_model(str(tmp_path / "m")).predict(np.ones((1, 2))).shape == (1,)


def test_objects_that_cannot_predict_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        mltrail.InvalidArgument, match=r"model: expected a scikit-learn estimator.*builtins\.dict"
    ):
        mm.save_model({"not": "a model"}, tmp_path / "m")
    with pytest.raises(mltrail.InvalidArgument, match="flavor 'sklearn' needs a scikit-learn estimator"):
        mm.save_model(_Doubler(), tmp_path / "n", flavor="sklearn")


# -- predict-time validation -----------------------------------------------------------------------


@pytest.fixture
def churn_model(
    tmp_path: Path, logistic: LogisticRegression, table: tuple[pd.DataFrame, np.ndarray]
) -> mm.LoadedModel:
    X, _ = table
    mm.save_model(logistic, tmp_path / "m", input_example=X[["age", "income"]].head(3))
    return mm.load_model(str(tmp_path / "m"))


def test_missing_column_is_named(churn_model: mm.LoadedModel) -> None:
    with pytest.raises(mm.ModelInputError) as caught:
        churn_model.predict(pd.DataFrame({"age": [30]}))
    assert caught.value.column == "income"
    assert "missing column 'income' (double)" in str(caught.value)
    assert isinstance(caught.value, mltrail.InvalidArgument)


def test_wrong_dtype_is_named(churn_model: mm.LoadedModel) -> None:
    with pytest.raises(mm.ModelInputError) as caught:
        churn_model.predict(pd.DataFrame({"age": ["thirty"], "income": [1.0]}))
    assert caught.value.column == "age"
    assert "input column 'age': expected long, got" in str(caught.value) and "'thirty'" in str(caught.value)
    with pytest.raises(mm.ModelInputError, match="input column 'age': expected long, got float64"):
        churn_model.predict(pd.DataFrame({"age": [30.5], "income": [1.0]}))


def test_inputs_are_accepted_in_the_forms_callers_have(
    churn_model: mm.LoadedModel, logistic: LogisticRegression, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, _ = table
    expected = logistic.predict(X[["age", "income"]])
    # Extra columns dropped, order restored, int32 widened to int64.
    shuffled = X[["plan", "income", "age"]].astype({"age": "int32"})
    np.testing.assert_array_equal(churn_model.predict(shuffled), expected)
    np.testing.assert_array_equal(churn_model.predict(X[["age", "income"]].to_dict("records")), expected)
    np.testing.assert_array_equal(churn_model.predict(X[["age", "income"]].to_numpy()), expected)
    np.testing.assert_array_equal(
        churn_model.predict({"age": 30, "income": 90_000.0}),
        logistic.predict(pd.DataFrame({"age": [30], "income": [90_000.0]})),
    )
    with pytest.raises(mm.ModelInputError, match="2-D array with 2 columns"):
        churn_model.predict(np.ones((3, 5)))


def test_tensor_signature_checks_shape_and_dtype(
    tmp_path: Path, logistic_on_arrays: LogisticRegression
) -> None:
    logistic = logistic_on_arrays
    mm.save_model(logistic, tmp_path / "m", input_example=np.array([[30.0, 40_000.0]]))
    model = mm.load_model(str(tmp_path / "m"))
    with pytest.raises(mm.ModelInputError, match=r"expected an array of shape \(-1, 2\), got shape \(1, 3\)"):
        model.predict(np.ones((1, 3)))
    with pytest.raises(mm.ModelInputError, match=r"expected dtype float64 .* got <U1"):
        model.predict(np.array([["a", "b"]]))
    assert model.predict([[30, 40_000]]).shape == (1,)  # ints widen to float64


# -- python-function flavor -------------------------------------------------------------------------


class _Doubler(PythonModel):
    def load_context(self, context: mltrail.pyfunc.PythonModelContext) -> None:
        self.factor = context.model_config.get("factor", 2)

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return model_input["x"] * self.factor


class _Plain:
    def predict(self, rows):  # type: ignore[no-untyped-def]
        return np.asarray(rows).sum(axis=1)


def test_python_model_round_trip_with_load_context(tmp_path: Path) -> None:
    info = mm.save_model(
        _Doubler(), tmp_path / "m", input_example=pd.DataFrame({"x": [1.0, 2.0]}), model_config={"factor": 5}
    )
    assert info.flavors["python_function"]["loader_module"] == "mltrail.pyfunc"
    assert info.flavors["python_function"]["model_config"] == {"factor": 5}
    assert (
        "mltrail==" + mltrail._version.client_version() in (tmp_path / "m" / "requirements.txt").read_text()
    )
    model = mm.load_model(str(tmp_path / "m"))
    assert model.predict(pd.DataFrame({"x": [3.0]})).tolist() == [15.0]
    assert isinstance(model.raw_model, _Doubler)
    with pytest.raises(mm.ModelInputError, match="missing column 'x'"):
        model.predict(pd.DataFrame({"y": [3.0]}))


def test_any_object_with_predict_is_a_python_function(tmp_path: Path) -> None:
    mm.save_model(_Plain(), tmp_path / "m", input_example=np.array([[1, 2], [3, 4]]))
    model = mm.load_model(str(tmp_path / "m"))
    assert model.metadata.flavor_names == ["python_function"]
    assert model.predict(np.array([[10, 20]])).tolist() == [30]
    assert isinstance(model.raw_model, _Plain)


def test_import_mltrail_stays_thin() -> None:
    script = (
        "import sys, mltrail\n"
        "mltrail.models, mltrail.pyfunc\n"  # the lazy attributes load the packages, not their libraries
        "print(sorted(m for m in ('numpy', 'pandas', 'sklearn', 'yaml', 'cloudpickle') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_models_public_surface_is_sorted_and_complete() -> None:
    assert mm.__all__ == sorted(mm.__all__)
    public = {
        name for name in vars(mm) if not name.startswith("_") and type(getattr(mm, name)).__name__ != "module"
    }
    assert public - {"annotations", "Any"} == set(mm.__all__)
    assert mltrail.pyfunc.__all__ == ["PythonModel", "PythonModelContext"]
    assert mltrail.log_model.__module__ == "mltrail._fluent" and "log_model" in mltrail.__all__
