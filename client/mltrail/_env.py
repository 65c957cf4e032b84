"""What a run records about where it ran, captured at run start without being asked.

`source` fills the run's `RunSourceInput` (entry point and the git state of the script's
repository); `environment` is the run's free-form `environment` JSON: python, platform,
hostname, command line and installed packages. Both are computed once per process (the
packages and the repository do not change while a script runs) and every failure is
swallowed: a missing `git`, or a distribution with broken metadata, must never stop a run.
Set `MLTRAIL_CAPTURE_ENVIRONMENT=0` to send neither.
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def capture_enabled() -> bool:
    return os.environ.get("MLTRAIL_CAPTURE_ENVIRONMENT", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


@functools.cache
def run_source() -> dict[str, Any]:
    """Entry point and git commit, branch, dirty flag and remote of the script's repository."""
    script = _script_path()
    directory = script.parent if script is not None else Path.cwd()
    source: dict[str, Any] = {"entryPoint": str(script) if script is not None else None}
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return source
    root = _git(directory, "rev-parse", "--show-toplevel")
    if script is not None and root:
        try:
            source["entryPoint"] = str(script.relative_to(Path(root).resolve()))
        except ValueError:
            pass
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD")
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    remote = _git(directory, "config", "--get", "remote.origin.url")
    source.update(
        gitCommit=commit,
        gitBranch=None if branch in (None, "HEAD") else branch,  # "HEAD" means detached
        gitDirty=bool(status) if status is not None else None,
        gitRemote=_without_credentials(remote) if remote else None,
    )
    return source


@functools.cache
def environment() -> dict[str, Any]:
    """Python, platform, host, command line and installed packages."""
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "command": shlex.join([sys.executable, *sys.argv]),
        "argv": list(sys.argv),
        "cwd": os.getcwd(),
        "packages": installed_packages(),
    }


def installed_packages() -> list[str]:
    """Every installed distribution as `name==version`, sorted case-insensitively."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for distribution in distributions():
        try:
            name = distribution.metadata["Name"]
            version = distribution.version
        except Exception:  # broken metadata in one package must not hide the others
            continue
        if name and name.lower() not in found:
            found[name.lower()] = f"{name}=={version}"
    return [found[key] for key in sorted(found)]


def _script_path() -> Path | None:
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and argv0 not in ("-c", "-m") and os.path.isfile(argv0):
        return Path(argv0).resolve()
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).resolve() if path and os.path.isfile(path) else None


def _git(directory: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()


def _without_credentials(url: str) -> str:
    """A remote URL as safe to store: `https://user:token@host/x` loses `user:token@`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url
