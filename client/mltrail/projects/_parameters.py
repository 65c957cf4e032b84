"""Parameters of an entry point: checked against their declared types, then quoted into the command.

Every value reaches the shell through `shlex.quote`, so a value is always exactly one word:
spaces, quotes, `;`, `$(…)` and backticks arrive in the script as the characters they are.
Placeholders are read with `string.Formatter` as MLflow's `str.format` reads them, but only
plain `{name}` fields of declared parameters are accepted (no `{p.attr}`, `{p[0]}`, `{p!r}`),
so a command template cannot reach into Python objects either.

`path` and `uri` are resolved as MLflow resolves them: a `uri` must have a scheme; a local
`path` (no scheme, or `file://`) must exist and becomes absolute (relative to where
`mltrail run` was started); an `http(s)://` path is downloaded for the run and replaced by the
local copy. Other types (`float`, `int`, `string`) are checked and passed as typed, never
reformatted (`1e-3` stays `1e-3`).
"""

from __future__ import annotations

import os
import re
import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from mltrail.projects._spec import EntryPoint, Parameter, ProjectError

_INT = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class ResolvedParameters:
    """`values` as logged on the run (as given, or the default); `command_values` as quoted
    into the command (paths made absolute or downloaded); `extra`: parameters an undeclared
    script entry point receives as `--key value`."""

    values: dict[str, str]
    command_values: dict[str, str]
    extra: dict[str, str]


def parse_assignments(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`-P key=value` options as a dict (split at the first `=`; the value may hold more)."""
    parsed: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ProjectError(f"-P {item!r}: expected KEY=VALUE")
        parsed[key] = value
    return parsed


def resolve_parameters(
    entry_point: EntryPoint,
    given: Mapping[str, str],
    *,
    download_dir: Path | None = None,
) -> ResolvedParameters:
    """Check `given` against the entry point's parameters; every problem in one error.

    With `download_dir`, remote `path` values are downloaded there; without it (dry runs)
    they stay URLs.
    """
    problems: list[str] = []
    if entry_point.declared:
        unknown = [key for key in given if key not in entry_point.parameters]
        for key in unknown:
            declared = ", ".join(entry_point.parameters) or "none"
            problems.append(
                f"unknown parameter {key!r} for entry point {entry_point.name!r} (declared: {declared})"
            )
    values: dict[str, str] = {}
    command_values: dict[str, str] = {}
    for position, (name, parameter) in enumerate(entry_point.parameters.items()):
        if name in given:
            value = given[name]
        elif parameter.has_default:
            value = _default_text(parameter.default)
        else:
            problems.append(
                f"parameter {name!r} of entry point {entry_point.name!r} needs a value (-P {name}=…)"
            )
            continue
        try:
            command_values[name] = _check(parameter, value, download_dir, position)
        except ProjectError as error:
            problems.append(str(error))
            continue
        values[name] = value
    if problems:
        raise ProjectError("; ".join(problems))
    extra = {} if entry_point.declared else dict(given)
    return ResolvedParameters({**values, **extra}, command_values, extra)


def build_command(entry_point: EntryPoint, parameters: ResolvedParameters) -> str:
    """The shell command: each placeholder replaced by its value, shell-quoted."""
    pieces: list[str] = []
    try:
        fields = list(string.Formatter().parse(entry_point.command))
    except ValueError as error:
        raise ProjectError(f"entry point {entry_point.name!r}: bad command template: {error}") from None
    for literal, field, format_spec, conversion in fields:
        pieces.append(literal)
        if field is None:
            continue
        if field not in parameters.command_values or format_spec or conversion:
            raise ProjectError(
                f"entry point {entry_point.name!r}: placeholder {{{field}}} is not a declared "
                "parameter (only plain {name} placeholders are substituted; write {{ and }} "
                "for literal braces)"
            )
        pieces.append(shlex.quote(parameters.command_values[field]))
    command = "".join(pieces)
    for key, value in parameters.extra.items():
        command += f" --{shlex.quote(key)} {shlex.quote(value)}"
    return command


def _default_text(default: object) -> str:
    # YAML hands a default over typed (0.1, 5, true); the command and the run see it as text.
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def _check(parameter: Parameter, value: str, download_dir: Path | None, position: int) -> str:
    name, kind = parameter.name, parameter.type
    if kind == "int":
        if not _INT.fullmatch(value.strip()):
            raise ProjectError(f"parameter {name!r} must be an int, got {value!r}")
    elif kind == "float":
        try:
            float(value)
        except ValueError:
            raise ProjectError(f"parameter {name!r} must be a float, got {value!r}") from None
    elif kind == "uri":
        if not urlsplit(value).scheme:
            raise ProjectError(
                f"parameter {name!r} must be a URI with a scheme (file://, s3://, …), got {value!r}"
            )
    elif kind == "path":
        return _path_value(name, value, download_dir, position)
    return value


def _path_value(name: str, value: str, download_dir: Path | None, position: int) -> str:
    parts = urlsplit(value)
    if not parts.scheme or (parts.scheme == "file" and not parts.netloc):
        local = url2pathname(unquote(parts.path)) if parts.scheme == "file" else value
        if not os.path.exists(local):
            raise ProjectError(f"parameter {name!r}: no such file or directory {value!r}")
        return os.path.abspath(local)
    if parts.scheme not in ("http", "https"):
        raise ProjectError(
            f"parameter {name!r}: cannot fetch {value!r} (a path is a local file, file://, or http(s)://)"
        )
    if download_dir is None:
        return value
    return str(_download(value, download_dir / f"param_{position}"))


def _download(url: str, directory: Path) -> Path:
    import httpx

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / (Path(urlsplit(url).path).name or "download")
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            response.raise_for_status()
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
    except httpx.HTTPError as error:
        raise ProjectError(f"cannot download {url}: {error}", exit_code=1) from None
    return target
