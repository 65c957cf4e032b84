"""Reading a project: the `MLproject` file and its environment specification, as MLflow reads them.

The format is MLflow's, read as is (mlflow/projects/_project_spec.py): `name`, at most one of
`python_env` / `conda_env` / `docker_env`, and `entry_points`, each with `parameters` (a type
name, or a mapping with `type` and `default`) and a `command` template. Without an environment
key a `python_env.yaml` beside the file is used, then (as MLflow would) a `conda.yaml`; this
version adds a plain `requirements.txt` after those. Without an `MLproject` file at all, or for
an entry point not declared, a `.py` or `.sh` file of the project is an entry point of its own.

Where this reading is stricter than MLflow's it says so at once, before anything starts: a
`python` version YAML turned into a number, conda and docker environments (this version builds
neither, and never ignores one silently). A parameter type MLflow does not check either
(`bool`, `number`, … are found in real MLproject files) is read as `string`, as MLflow reads
it, with a warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MLPROJECT_FILE = "MLproject"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"
REQUIREMENTS_FILE = "requirements.txt"

# The types whose values are checked; they change what a value must look like, never how it
# is quoted into the command.
PARAMETER_TYPES = ("float", "int", "string", "str", "path", "uri")

ENVIRONMENT_KEYS = ("python_env", "conda_env", "docker_env")
UNSUPPORTED_ENVIRONMENTS = {
    "conda_env": "conda environments",
    "docker_env": "docker environments",
}


class ProjectError(Exception):
    """A project, its parameters or its environment cannot be run as asked.

    `exit_code` 2 means a usage error found before anything started (no run was created).
    """

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "string"
    default: Any = None

    @property
    def has_default(self) -> bool:
        return self.default is not None


@dataclass(frozen=True)
class EntryPoint:
    name: str
    command: str
    parameters: dict[str, Parameter] = field(default_factory=dict)
    # An undeclared `.py`/`.sh` entry point takes any parameter, appended as `--key value`
    # (MLflow's behaviour); a declared one takes only those it declares.
    declared: bool = True


@dataclass(frozen=True)
class PythonEnvSpec:
    """MLflow's `_PythonEnv`: a python version and two lists of pip requirement lines."""

    python: str | None = None
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "build_dependencies": list(self.build_dependencies),
            "dependencies": list(self.dependencies),
        }


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str | None
    entry_points: dict[str, EntryPoint]
    # Where the environment came from: "python_env" (a python_env.yaml), "requirements"
    # (a requirements.txt), or "none" (the spec then only names the python version).
    environment_source: str
    environment: PythonEnvSpec
    warnings: tuple[str, ...] = ()  # read anyway, said once on stderr

    def entry_point(self, name: str) -> EntryPoint:
        """The declared entry point `name`, or a `.py`/`.sh` file of the project run as one."""
        if name in self.entry_points:
            return self.entry_points[name]
        suffix = PurePosixPath(name).suffix
        if suffix in (".py", ".sh"):
            _confined(self.directory, name, what="entry point")
            if not (self.directory / name).is_file():
                raise ProjectError(f"entry point {name!r}: no such file in the project {self.directory}")
            import shlex

            program = "python" if suffix == ".py" else "bash"
            return EntryPoint(name, f"{program} {shlex.quote(name)}", {}, declared=False)
        declared = ", ".join(sorted(self.entry_points)) or "none"
        raise ProjectError(
            f"entry point {name!r} is not declared in the MLproject file (declared: {declared}) "
            "and is not a .py or .sh file"
        )


def load_project(directory: str | os.PathLike[str]) -> Project:
    """Read the project in `directory` (an `MLproject` file is optional, as in MLflow)."""
    root = Path(directory)
    if not root.is_dir():
        raise ProjectError(f"project directory {str(root)!r} does not exist")
    document = _read_yaml(_find_mlproject(root)) if _find_mlproject(root) else {}
    if not isinstance(document, dict):
        raise ProjectError("MLproject: expected a mapping at the top level")

    present = [key for key in ENVIRONMENT_KEYS if key in document]
    if len(present) > 1:
        raise ProjectError(f"MLproject: a project declares one environment, found {', '.join(present)}")
    for key, what in UNSUPPORTED_ENVIRONMENTS.items():
        if key in document:
            raise ProjectError(
                f"MLproject: {key} is not supported by this version of mltrail ({what} are not "
                "built); declare a python_env (python_env.yaml) or a requirements.txt instead"
            )

    warnings: list[str] = []
    entry_points = {
        str(name): _entry_point(str(name), body, warnings)
        for name, body in (document.get("entry_points") or {}).items()
    }
    source, environment = _environment(root, document.get("python_env"))
    name = document.get("name")
    return Project(
        root, str(name) if name is not None else None, entry_points, source, environment, tuple(warnings)
    )


def _find_mlproject(root: Path) -> Path | None:
    # MLflow matches the file name case-insensitively.
    for child in sorted(root.iterdir()):
        if child.name.lower() == MLPROJECT_FILE.lower() and child.is_file():
            return child
    return None


def _read_yaml(path: Path) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with the `projects` extra
        raise ProjectError(
            "reading an MLproject file needs PyYAML: pip install 'mltrail[projects]'", exit_code=1
        ) from None
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.safe_load(stream) or {}
    except yaml.YAMLError as error:
        raise ProjectError(f"{path.name}: not valid YAML: {error}") from None


def _entry_point(name: str, body: Any, warnings: list[str]) -> EntryPoint:
    if not isinstance(body, dict) or not isinstance(body.get("command"), str):
        raise ProjectError(f"MLproject: entry point {name!r} needs a `command` string")
    parameters: dict[str, Parameter] = {}
    for key, spec in (body.get("parameters") or {}).items():
        key = str(key)
        if isinstance(spec, str):
            parameter = Parameter(key, spec)
        elif isinstance(spec, dict):
            parameter = Parameter(key, str(spec.get("type", "string")), spec.get("default"))
        elif spec is None:
            parameter = Parameter(key)
        else:
            raise ProjectError(
                f"MLproject: parameter {key!r} of entry point {name!r}: expected a type or a mapping"
            )
        if parameter.type not in PARAMETER_TYPES:
            warnings.append(
                f"MLproject: parameter {key!r} of entry point {name!r} has type {parameter.type!r}, "
                f"read as string (checked types: {', '.join(PARAMETER_TYPES)})"
            )
        parameters[key] = parameter
    return EntryPoint(name, body["command"], parameters)


def _environment(root: Path, python_env: Any) -> tuple[str, PythonEnvSpec]:
    if python_env is not None:
        path = root / _confined(root, str(python_env), what="python_env")
        if not path.is_file():
            raise ProjectError(f"MLproject: python_env file {python_env!r} does not exist in the project")
        return "python_env", _python_env(path)
    if (root / PYTHON_ENV_FILE).is_file():
        return "python_env", _python_env(root / PYTHON_ENV_FILE)
    if (root / CONDA_ENV_FILE).is_file():
        raise ProjectError(
            f"the project has a {CONDA_ENV_FILE}, which MLflow reads as a conda environment: "
            "conda environments are not supported by this version of mltrail; add a "
            f"{PYTHON_ENV_FILE} (read before {CONDA_ENV_FILE}) or a {REQUIREMENTS_FILE}"
        )
    if (root / REQUIREMENTS_FILE).is_file():
        return "requirements", PythonEnvSpec(dependencies=(f"-r {REQUIREMENTS_FILE}",))
    return "none", PythonEnvSpec()


def _python_env(path: Path) -> PythonEnvSpec:
    document = _read_yaml(path)
    if not isinstance(document, dict):
        raise ProjectError(f"{path.name}: expected a mapping with python, build_dependencies, dependencies")
    unknown = set(document) - {"python", "build_dependencies", "dependencies"}
    if unknown:
        raise ProjectError(f"{path.name}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    python = document.get("python")
    if python is not None and not isinstance(python, str):
        # YAML reads `python: 3.10` as the number 3.1: refuse rather than build the wrong one.
        raise ProjectError(f'{path.name}: python must be a quoted string such as "3.11", got {python!r}')
    lists = {}
    for key in ("build_dependencies", "dependencies"):
        value = document.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ProjectError(f"{path.name}: {key} must be a list of requirement strings")
        lists[key] = tuple(value)
    return PythonEnvSpec(python, lists["build_dependencies"], lists["dependencies"])


def _confined(root: Path, relative: str, *, what: str) -> str:
    """`relative` as a path inside the project: absolute paths and `..` are refused."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts:
        raise ProjectError(f"{what} {relative!r} must be a relative path inside the project")
    return relative
