"""Model URIs: ``runs:/<run_id>/<path>`` and the four ``models:/`` forms, parsed strictly.

    runs:/<run_id>/<artifact/path>     a model directory in a run's artifacts
    models:/<Name>/<version>           a registered version by number (1, 2, ...)
    models:/<Name>/<Stage>             the version holding a stage (None|Staging|Production|Archived,
                                       any case)
    models:/<Name>@<alias>             the version an alias points at
    models:/<Name>/latest              the highest live version

Parsing is pure (no network): the registry (``register_model``) and ``load_model`` share it, so
a URI that one accepts the other accepts too. Every rejection is an `InvalidArgument` whose
message names ``model_uri``, the value and what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mltrail._exceptions import InvalidArgument

STAGES = ("NONE", "STAGING", "PRODUCTION", "ARCHIVED")

# What the server accepts as a model name and an alias (the registry's own rule is the
# authority; these only reject early what cannot be a name at all: separators of the URI
# syntax, control characters, surrounding spaces).
_NAME = re.compile(r"[^/@\x00-\x1f\x7f]+")
_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_RUN_ID = re.compile(r"[A-Za-z0-9_\-]+")


@dataclass(frozen=True, slots=True)
class RunsUri:
    """``runs:/<run_id>/<artifact_path>``."""

    run_id: str
    artifact_path: str

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"


@dataclass(frozen=True, slots=True)
class ModelsUri:
    """``models:/...``: exactly one of ``version``, ``stage`` or ``alias``, or none of them
    (``latest``). These are the variables of the registry's ``modelVersion`` query."""

    name: str
    version: int | None = None
    stage: str | None = None  # upper case, one of STAGES
    alias: str | None = None

    @property
    def is_latest(self) -> bool:
        return self.version is None and self.stage is None and self.alias is None

    def graphql_variables(self) -> dict[str, object]:
        """Variables for ``modelVersion(name, version, stage, alias)``."""
        return {"name": self.name, "version": self.version, "stage": self.stage, "alias": self.alias}

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        if self.version is not None:
            return f"models:/{self.name}/{self.version}"
        if self.stage is not None:
            return f"models:/{self.name}/{self.stage.capitalize()}"
        return f"models:/{self.name}/latest"


ModelUri = RunsUri | ModelsUri


def _bad(uri: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"model_uri {uri!r}: {why}")


def parse_model_uri(uri: str) -> ModelUri:
    """Parse a model URI; raise `InvalidArgument` naming ``model_uri`` when it is malformed."""
    if not isinstance(uri, str):
        raise InvalidArgument(f"model_uri must be a string, got {type(uri).__name__}")
    if uri != uri.strip() or not uri:
        raise _bad(uri, "must be non-empty, without surrounding spaces")
    scheme, sep, rest = uri.partition(":")
    if not sep:
        raise _bad(uri, "expected 'runs:/<run_id>/<path>' or 'models:/<name>/<version|stage|latest>'")
    if scheme == "runs":
        return _parse_runs(uri, rest)
    if scheme == "models":
        return _parse_models(uri, rest)
    raise _bad(uri, f"unknown scheme {scheme!r}: expected 'runs' or 'models'")


def _strip_one_slash(uri: str, rest: str) -> str:
    # One slash exactly, as MLflow writes them ("runs:/x/model"); "runs://x" would read the
    # run id as a host name, which other tools do, so it is refused rather than guessed.
    if not rest.startswith("/") or rest.startswith("//"):
        raise _bad(uri, "the scheme must be followed by exactly one '/'")
    return rest[1:]


def _parse_runs(uri: str, rest: str) -> RunsUri:
    body = _strip_one_slash(uri, rest)
    run_id, _, path = body.partition("/")
    if not run_id or not _RUN_ID.fullmatch(run_id):
        raise _bad(uri, f"run id {run_id!r} is not a run id")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts:
        raise _bad(uri, "names no artifact path after the run id (e.g. 'runs:/<run_id>/model')")
    if ".." in parts or "\\" in path or "\x00" in path:
        raise _bad(uri, "the artifact path must not contain '..', '\\' or NUL")
    return RunsUri(run_id=run_id, artifact_path="/".join(parts))


def _parse_models(uri: str, rest: str) -> ModelsUri:
    body = _strip_one_slash(uri, rest)
    if "@" in body:
        name, _, alias = body.partition("@")
        _check_name(uri, name)
        if not _ALIAS.fullmatch(alias):
            raise _bad(
                uri, f"alias {alias!r} must be letters, digits, '_' or '-', starting with a letter or '_'"
            )
        return ModelsUri(name=name, alias=alias)
    name, sep, selector = body.partition("/")
    _check_name(uri, name)
    if not sep or not selector:
        raise _bad(uri, "expected models:/<name>/<version>, /<stage>, /latest or models:/<name>@<alias>")
    if "/" in selector:
        raise _bad(uri, f"unexpected path {selector!r} after the model name")
    if selector.isdigit():  # ASCII digits only: "٣" is a digit to str.isdigit but not a version
        if not selector.isascii() or int(selector) < 1:
            raise _bad(uri, f"version {selector!r} must be a positive integer")
        return ModelsUri(name=name, version=int(selector))
    if selector.lower() == "latest":
        return ModelsUri(name=name)
    if selector.upper() in STAGES:
        return ModelsUri(name=name, stage=selector.upper())
    raise _bad(
        uri,
        f"{selector!r} is neither a version number, a stage (None, Staging, Production, Archived) nor 'latest'",
    )


def _check_name(uri: str, name: str) -> None:
    if not name:
        raise _bad(uri, "names no model")
    if name != name.strip() or not _NAME.fullmatch(name):
        raise _bad(uri, f"model name {name!r} contains characters a model name cannot have")
