"""The environment a project's command runs in: `local`, `virtualenv` or `uv`, built once and cached.

- `local`: the environment `mltrail` itself runs in (its interpreter's directory is put first
  on PATH, so the command's `python` is the one that has `mltrail`). Nothing is built.
- `virtualenv`: the standard `python -m venv` plus `python -m pip install`.
- `uv`: `uv venv` plus `uv pip install`, much faster when `uv` is installed.

A built environment lives in `$MLTRAIL_CACHE_DIR/envs/<manager>-<hash>`, the hash covering the
manager, the interpreter's version, both dependency lists and the contents of every
requirements file they name (`-r requirements.txt`): the same specification reuses the same
environment; any change builds a new one. A marker file written last makes a half-built
environment (an interrupted build) count as absent, and a lock makes concurrent launches
build it once. Environments are built in place, not renamed into place, because a venv's
scripts hold its absolute path.

Unlike MLflow (which installs Python with pyenv) the interpreter must already be on this
machine: the one running mltrail, or `pythonX.Y` on PATH; `uv` may find or fetch others.

The script needs `mltrail` to log into its run, and `mltrail` is rarely among a project's
dependencies (MLflow projects list `mlflow` instead). So when the environment's Python has
the launcher's major and minor version and its dependencies do not name `mltrail`, the
launcher's own client (the package and the distributions it requires, nothing else) is made
importable through a `.pth` file, placed after the environment's own packages so that the
project's pinned versions win.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.projects._fetch import _locked, cache_root
from mltrail.projects._spec import Project, ProjectError, PythonEnvSpec

ENV_MANAGERS = ("local", "virtualenv", "uv")
_COMPLETE_MARKER = ".mltrail-env-complete"
_BRIDGE_DIR = "mltrail-client"

# Runs one build step (argv, working directory) the way the launcher runs commands: output
# streamed and captured, signals forwarded. Returns the exit code.
StepRunner = Callable[[Sequence[str], Path], int]


@dataclass
class Environment:
    manager: str
    spec: PythonEnvSpec
    source: str  # python_env | requirements | none
    interpreter: str  # the Python the environment is built from (local: the launcher's)
    interpreter_version: str
    hash: str
    directory: Path | None = None  # None for local
    uv: str | None = None
    client_bridge: bool = False
    reused: bool = field(default=False)

    @property
    def bin_dir(self) -> Path:
        if self.directory is None:
            return Path(sys.executable).parent
        return self.directory / "bin"

    def child_env(self, base: dict[str, str]) -> dict[str, str]:
        """`base` with this environment's `bin` first on PATH (what `activate` does)."""
        env = dict(base)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), base.get("PATH", os.defpath)])
        if self.directory is not None:
            env["VIRTUAL_ENV"] = str(self.directory)
            env.pop("PYTHONHOME", None)
        return env

    def describe(self) -> dict[str, Any]:
        """What the run records: the specification, the interpreter and where it was built."""
        return {
            "manager": self.manager,
            "source": self.source,
            **self.spec.to_dict(),
            "interpreter_version": self.interpreter_version,
            "hash": self.hash,
            "path": str(self.directory) if self.directory is not None else None,
            "mltrail_client_bridged": self.client_bridge,
        }

    @property
    def ready(self) -> bool:
        return self.directory is None or (self.directory / _COMPLETE_MARKER).is_file()


def plan_environment(project: Project, manager: str) -> Environment:
    """Resolve the interpreter (and `uv`) and hash the spec; builds nothing, starts nothing."""
    if manager not in ENV_MANAGERS:
        raise ProjectError(f"--env-manager must be one of {', '.join(ENV_MANAGERS)}, got {manager!r}")
    spec = project.environment
    uv = None
    if manager == "local":
        interpreter, version = sys.executable, platform.python_version()
    elif manager == "uv":
        uv = find_uv()
        if uv is None:
            raise ProjectError("--env-manager uv: `uv` is not installed (pip install uv), or use virtualenv")
        found = _find_python(spec.python)
        # uv can find (or download) interpreters of its own: hand it the version when we have none.
        interpreter, version = found if found else (spec.python or "", spec.python or "")
    else:
        found = _find_python(spec.python)
        if found is None:
            raise ProjectError(
                f"the project asks for python {spec.python}, and neither this interpreter "
                f"({platform.python_version()}) nor python{_major_minor(spec.python or '')} on PATH "
                "has that version; mltrail does not install Python (try --env-manager uv)"
            )
        interpreter, version = found
    bridge = (
        manager != "local"
        and _major_minor(version) == _major_minor(platform.python_version())
        and not _names_mltrail(spec)
    )
    digest = _spec_hash(project, manager, version, bridge)
    directory = None if manager == "local" else cache_root() / "envs" / f"{manager}-{digest[:16]}"
    return Environment(
        manager, spec, project.environment_source, interpreter, version, digest, directory, uv, bridge
    )


def build_environment(environment: Environment, project_dir: Path, run_step: StepRunner) -> Environment:
    """Make the environment exist (reusing a complete one); `reused` says which happened."""
    if environment.directory is None:
        environment.reused = True
        return environment
    directory = environment.directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _locked(directory.parent / f"{directory.name}.lock"):
        if environment.ready:
            environment.reused = True
            return environment
        shutil.rmtree(directory, ignore_errors=True)  # a build that was interrupted
        try:
            for argv in _build_steps(environment):
                code = run_step(argv, project_dir)
                if code != 0:
                    raise ProjectError(
                        f"building the {environment.manager} environment failed: {shlex.join(argv)} exited {code}",
                        exit_code=1,
                    )
            if environment.client_bridge:
                _bridge_client(directory, environment.interpreter_version)
            (directory / _COMPLETE_MARKER).write_text(json.dumps(environment.describe(), indent=2))
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
    environment.reused = False
    return environment


def find_uv() -> str | None:
    """`uv` on PATH, or beside this interpreter (where `pip install uv` puts it)."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def _build_steps(environment: Environment) -> list[list[str]]:
    directory = str(environment.directory)
    python = str(Path(directory) / "bin" / "python")
    spec = environment.spec
    lists = [_requirement_args(spec.build_dependencies), _requirement_args(spec.dependencies)]
    if environment.manager == "uv":
        assert environment.uv is not None
        steps = [[environment.uv, "venv", "--quiet", "--python", environment.interpreter, directory]]
        install = [environment.uv, "pip", "install", "--quiet", "--python", python]
    else:
        # No dependencies, no pip: `--without-pip` makes the venv in a fraction of the time.
        no_pip = [] if any(lists) else ["--without-pip"]
        steps = [[environment.interpreter, "-m", "venv", *no_pip, directory]]
        install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    steps += [[*install, *args] for args in lists if args]
    return steps


def _requirement_args(lines: Sequence[str]) -> list[str]:
    """Requirement lines as pip arguments (`-r requirements.txt` is two), run in the project."""
    args: list[str] = []
    for line in lines:
        args.extend(shlex.split(line, comments=True))
    return args


def _spec_hash(project: Project, manager: str, interpreter_version: str, bridge: bool) -> str:
    spec = project.environment
    files: dict[str, str] = {}
    for args in (_requirement_args(spec.build_dependencies), _requirement_args(spec.dependencies)):
        for flag, value in itertools.pairwise(args):
            if flag in ("-r", "--requirement", "-c", "--constraint"):
                path = project.directory / value
                files[value] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    document = {
        "manager": manager,
        "python": interpreter_version,
        "build_dependencies": list(spec.build_dependencies),
        "dependencies": list(spec.dependencies),
        "files": files,
        "mltrail_client_bridged": bridge,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _find_python(requested: str | None) -> tuple[str, str] | None:
    """An interpreter of the requested version (major.minor must match; the exact patch
    version is preferred but not required), with its full version."""
    current = platform.python_version()
    if not requested:
        return sys.executable, current
    wanted = _major_minor(requested)
    if current == requested or (requested == wanted and _major_minor(current) == wanted):
        return sys.executable, current  # no need to start other interpreters to ask theirs
    candidates: list[tuple[str, str]] = [(sys.executable, current)]
    for name in (f"python{wanted}", "python3"):
        path = shutil.which(name)
        if path:
            version = _version_of(path)
            if version:
                candidates.append((path, version))
    exact = [c for c in candidates if c[1] == requested]
    close = [c for c in candidates if _major_minor(c[1]) == wanted]
    return (exact or close or [None])[0]


def _version_of(python: str) -> str | None:
    try:
        completed = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=15, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None


_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _names_mltrail(spec: PythonEnvSpec) -> bool:
    for line in (*spec.build_dependencies, *spec.dependencies):
        match = _NAME.match(line)
        if match and _normalize(match.group(1)) == "mltrail":
            return True
    return False


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _client_distributions() -> list[Any]:
    """The `mltrail` distribution and those it requires, transitively (extras followed only
    when asked for, as pip follows them)."""
    from importlib.metadata import PackageNotFoundError, distribution

    found: dict[str, Any] = {}
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, frozenset[str]]] = [("mltrail", frozenset())]
    while todo:
        name, extras = todo.pop()
        key = _normalize(name)
        if all((key, extra) in seen for extra in {"", *extras}):
            continue
        seen.update((key, extra) for extra in {"", *extras})
        try:
            dist = found.get(key) or distribution(name)
        except PackageNotFoundError:
            continue  # an optional requirement of some platform that is not installed here
        found[key] = dist
        for requirement in dist.requires or []:
            head, _, marker = requirement.partition(";")
            wanted_extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if wanted_extra and wanted_extra.group(1) not in extras:
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", head)
            if match:
                asked = frozenset(e.strip() for e in (match.group(2) or "").split(",") if e.strip())
                todo.append((match.group(1), asked))
    return list(found.values())


def _bridge_client(directory: Path, interpreter_version: str) -> None:
    """Symlink the launcher's client and its requirements into one directory named by a `.pth`."""
    import mltrail

    bridge = directory / _BRIDGE_DIR
    bridge.mkdir(exist_ok=True)
    links: dict[str, Path] = {"mltrail": Path(mltrail.__file__).resolve().parent}
    for dist in _client_distributions():
        for file in dist.files or []:
            top = file.parts[0]
            if top in links or top in ("..", "__pycache__", "bin") or top.startswith("__editable__"):
                continue
            if top.endswith(".pth") or (len(file.parts) == 1 and not top.endswith((".py", ".so", ".pyd"))):
                continue
            target = Path(dist.locate_file(top))
            if target.exists():
                links[top] = target.resolve()
    for name, target in links.items():
        link = bridge / name
        if not link.exists():
            link.symlink_to(target)
    site_packages = directory / "lib" / f"python{_major_minor(interpreter_version)}" / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    (site_packages / "zz-mltrail-client.pth").write_text(str(bridge) + "\n")
