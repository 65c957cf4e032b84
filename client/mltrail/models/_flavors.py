"""The two flavors: scikit-learn and the generic python function; how each is written and read.

Serialization: **cloudpickle**, for both flavors. Why not skops (MLflow 3's default for
scikit-learn, since it refuses unknown types when loading)?

- "any estimator or pipeline" must work: skops refuses, at dump time, every type outside its
  allow-list (a custom transformer, a ``FunctionTransformer(lambda ...)``, an estimator from
  another package) unless the caller lists it as trusted; cloudpickle takes them all, and
  serializes classes defined in ``__main__`` or a notebook by value, so the training code is
  not needed to load the model.
- skops's safety does not survive the registry's use: the trusted-type list has to travel
  with the model (MLflow keeps it in ``MLmodel``), so a crafted model whitelists its own
  types. MLflow 3 itself gates skops models behind the same opt-in as pickles for this reason.
  The guarantee that matters here is provenance (the version, the run, the user who logged
  it, the audit trail) plus a content digest checked on download.
- The python-function flavor needs cloudpickle anyway; one serializer means one dependency.
- Loading is fast (the ``load_model`` budget for a cached version is 50 ms).

Models MLflow wrote with ``serialization_format: skops`` (or ``pickle``) still load here when
skops is installed. The sklearn flavor's ``loader_module`` is ``mlflow.sklearn`` because the
files are exactly that module's format (``pickled_model``, ``serialization_format``):
``mlflow.pyfunc.load_model`` reads the directory with no mltrail installed.

Requirements are the flavor's libraries plus every distribution whose modules the pickle
references (found by walking its opcodes, without unpickling), pinned to the installed
versions.
"""

from __future__ import annotations

import functools
import pickle
import platform
import sys
from pathlib import Path
from typing import Any

from mltrail._exceptions import InvalidArgument, MltrailError
from mltrail.models._mlmodel import ModelMetadata

SKLEARN = "sklearn"
PYFUNC = "python_function"
FLAVORS = (SKLEARN, PYFUNC)

SKLEARN_MODEL_FILE = "model.pkl"
REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"


def is_sklearn_model(model: Any) -> bool:
    """A scikit-learn estimator (or pipeline), recognised without importing scikit-learn first."""
    if not any(cls.__module__.split(".")[0] == "sklearn" for cls in type(model).__mro__):
        return False
    from sklearn.base import BaseEstimator

    return isinstance(model, BaseEstimator)


def choose_flavor(model: Any, flavor: str | None) -> str:
    """The flavor to log ``model`` with: the one asked for, or the best one it fits."""
    from mltrail.pyfunc import PythonModel

    if flavor is not None and flavor not in FLAVORS:
        raise InvalidArgument(f"flavor {flavor!r} must be one of {', '.join(FLAVORS)}")
    if flavor == SKLEARN or (flavor is None and is_sklearn_model(model)):
        if not is_sklearn_model(model):
            raise InvalidArgument(
                f"model: flavor 'sklearn' needs a scikit-learn estimator, got {_type_name(model)}"
            )
        return SKLEARN
    if isinstance(model, PythonModel) or callable(getattr(model, "predict", None)):
        return PYFUNC
    raise InvalidArgument(
        f"model: expected a scikit-learn estimator, a mltrail.pyfunc.PythonModel or an object with "
        f"predict(), got {_type_name(model)}"
    )


def _type_name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def python_version() -> str:
    return platform.python_version()


# -- writing -------------------------------------------------------------------------------------


def write_flavor(
    model: Any, flavor: str, model_dir: Path, *, model_config: dict[str, Any] | None
) -> tuple[dict[str, Any], bytes]:
    """Serialize ``model`` into ``model_dir``; return the ``flavors`` mapping and the pickle."""
    import cloudpickle

    env = {"virtualenv": PYTHON_ENV_FILE}
    if flavor == SKLEARN:
        import sklearn

        data = _dumps(cloudpickle, model)
        (model_dir / SKLEARN_MODEL_FILE).write_bytes(data)
        flavors = {
            PYFUNC: {
                "env": env,
                "loader_module": "mlflow.sklearn",
                "model_path": SKLEARN_MODEL_FILE,
                "predict_fn": "predict",
                "python_version": python_version(),
            },
            SKLEARN: {
                "code": None,
                "pickled_model": SKLEARN_MODEL_FILE,
                "serialization_format": "cloudpickle",
                "sklearn_version": sklearn.__version__,
            },
        }
        return flavors, data

    from mltrail.pyfunc import PYTHON_MODEL_FILE, PythonModel, _PredictorModel

    python_model = model if isinstance(model, PythonModel) else _PredictorModel(model)
    data = _dumps(cloudpickle, python_model)
    (model_dir / PYTHON_MODEL_FILE).write_bytes(data)
    conf: dict[str, Any] = {
        "cloudpickle_version": cloudpickle.__version__,
        "code": None,
        "env": env,
        "loader_module": "mltrail.pyfunc",
        "python_model": PYTHON_MODEL_FILE,
        "python_version": python_version(),
    }
    if model_config:
        conf["model_config"] = dict(model_config)
    return {PYFUNC: conf}, data


def _dumps(cloudpickle: Any, model: Any) -> bytes:
    try:
        # The default protocol, not cloudpickle's highest: a model logged on a newer Python
        # must load on an older one (MLflow pins it for the same reason).
        return cloudpickle.dumps(model, protocol=pickle.DEFAULT_PROTOCOL)
    except Exception as error:
        raise InvalidArgument(
            f"model: {_type_name(model)} cannot be serialized with cloudpickle: {error}"
        ) from error


def pickled_modules(data: bytes) -> set[str]:
    """Top-level modules a pickle refers to (by GLOBAL / STACK_GLOBAL), without loading it."""
    import pickletools

    modules: set[str] = set()
    strings: list[str] = []  # the last strings pushed, for STACK_GLOBAL (module, name)
    memo: dict[int, Any] = {}
    last: Any = None
    for opcode, arg, _pos in pickletools.genops(data):
        name = opcode.name
        if name == "GLOBAL":
            modules.add(str(arg).split(" ", 1)[0].split(".")[0])
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            last = arg
            strings.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = last
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = last
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            last = memo.get(int(arg))
            if isinstance(last, str):
                strings.append(last)
        elif name == "STACK_GLOBAL" and len(strings) >= 2:
            modules.add(strings[-2].split(".")[0])
        else:
            last = None
        del strings[:-2]
    return modules


def requirements(flavor: str, data: bytes, *, example: Any, extra: list[str] | None) -> list[str]:
    """``requirements.txt`` lines: the flavor's libraries and the pickle's, pinned."""
    from importlib import metadata

    distributions = {"cloudpickle"}
    if flavor == SKLEARN:
        distributions |= {"scikit-learn", "numpy", "scipy"}
    else:
        distributions.add("mltrail")  # the loader module
    modules = pickled_modules(data)
    if example is not None:
        modules.add(type(example).__module__.split(".")[0])  # pandas or numpy
    for module in modules:
        if module in sys.stdlib_module_names or module in ("__main__", "builtins", "copyreg", "_codecs"):
            continue
        distributions.update(_distributions_of(module))
    pinned = set()
    for name in distributions:
        try:
            pinned.add(f"{_canonical(name)}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue  # referenced but not installed as a distribution (a local module)
    return sorted(pinned, key=str.lower) + list(extra or [])


# Import names that differ from their distribution's, for the libraries models use most;
# anything else is looked up in the full module → distribution map, built once (it reads
# every installed distribution's file list: about a second).
_DISTRIBUTION_OF = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow", "skimage": "scikit-image"}


def _distributions_of(module: str) -> list[str]:
    from importlib import metadata

    name = _DISTRIBUTION_OF.get(module, module)
    try:
        metadata.distribution(name)
        return [name]
    except metadata.PackageNotFoundError:
        return _module_distributions().get(module, [])


@functools.cache
def _module_distributions() -> dict[str, list[str]]:
    from importlib import metadata

    return metadata.packages_distributions()


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def python_env_yaml(version: str) -> str:
    # MLflow's python_env.yaml: the interpreter, and pip's requirements by reference.
    return f"python: {version}\nbuild_dependencies:\n- pip\ndependencies:\n- -r {REQUIREMENTS_FILE}\n"


# -- reading -------------------------------------------------------------------------------------


class FlavorPredictor:
    """A loaded model reduced to what serving needs: ``predict(data, params)`` and the raw object."""

    def __init__(self, predict: Any, raw_model: Any) -> None:
        self._predict = predict
        self.raw_model = raw_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._predict(data, params)


def load_flavor(model_dir: Path, metadata: ModelMetadata) -> FlavorPredictor:
    """Load the model in ``model_dir`` through the best flavor it has."""
    flavors = metadata.flavors
    if SKLEARN in flavors:
        model = _load_sklearn(model_dir, flavors[SKLEARN])
        predict_fn = (flavors.get(PYFUNC) or {}).get("predict_fn") or "predict"
        method = getattr(model, predict_fn, None)
        if method is None:
            raise MltrailError(f"the scikit-learn model in {str(model_dir)!r} has no method {predict_fn!r}")
        return FlavorPredictor(lambda data, params: method(data), model)
    pyfunc = flavors.get(PYFUNC) or {}
    if "python_model" in pyfunc:
        from mltrail.pyfunc import load_python_model

        predictor = load_python_model(model_dir, pyfunc)
        return FlavorPredictor(predictor.predict, predictor.unwrap())
    raise MltrailError(
        f"the model in {str(model_dir)!r} has flavors {sorted(flavors)}; mltrail loads "
        f"'sklearn' and 'python_function' models with a python_model"
    )


def _load_sklearn(model_dir: Path, conf: dict[str, Any]) -> Any:
    path = model_dir / conf.get("pickled_model", SKLEARN_MODEL_FILE)
    serialization = conf.get("serialization_format", "pickle")
    if serialization == "skops":
        try:
            import skops.io
        except ImportError:
            raise MltrailError("this model was saved with skops: pip install skops to load it") from None
        return skops.io.load(path, trusted=conf.get("skops_trusted_types"))
    if serialization not in ("pickle", "cloudpickle"):
        raise MltrailError(f"sklearn flavor: unknown serialization_format {serialization!r}")
    import cloudpickle  # reads plain pickles too

    with path.open("rb") as handle:
        return cloudpickle.load(handle)
