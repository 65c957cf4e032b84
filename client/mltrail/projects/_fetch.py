"""From a project URI to a local directory, with the git state the run records.

As MLflow's `_fetch_project` (mlflow/projects/utils.py): `URI#sub/dir` names a subdirectory; a
local directory is used in place, unless `--version` asks for a revision of the git repository
it is in; anything else (`https://…`, `ssh://…`, `git@…`, `file://…`) is a git repository,
cloned at the revision (`--version` commit, branch or tag; else the remote's default branch).

Clones go to a cache (`$MLTRAIL_CACHE_DIR/projects`, default `~/.cache/mltrail`): one fetch
repository per remote, and one checkout per commit, made once and reused; a lock per remote
keeps two launches from fetching into the same repository at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit
from urllib.request import url2pathname

from mltrail._env import _without_credentials
from mltrail.projects._spec import ProjectError

# git's scp-like remote syntax, `user@host:path`: a remote, not a missing local directory.
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")


@dataclass(frozen=True)
class FetchedProject:
    directory: Path  # where the project (the subdirectory, if any) is on disk
    uri: str  # the URI to record: local paths absolute, the subdirectory kept
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None
    git_remote: str | None = None
    # The repository's root and the project's path in it, for a rerun pinned to the commit.
    repository: str | None = None
    subdirectory: str = ""


def cache_root() -> Path:
    configured = os.environ.get("MLTRAIL_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mltrail"


def split_subdirectory(uri: str) -> tuple[str, str]:
    """`repo#sub/dir` → (`repo`, `sub/dir`); the subdirectory stays inside the repository."""
    base, _, subdirectory = uri.partition("#")
    path = PurePosixPath(subdirectory)
    if subdirectory and (path.is_absolute() or ".." in path.parts):
        raise ProjectError(
            f"project subdirectory {subdirectory!r} must be a relative path inside the repository"
        )
    return base, subdirectory.strip("/")


def fetch_project(uri: str, version: str | None = None) -> FetchedProject:
    """The project at `uri` (at `version`, for git) as a local directory."""
    base, subdirectory = split_subdirectory(uri)
    local = _local_path(base)
    if local is not None and version is None:
        return _in_place(local, subdirectory)
    if local is not None:
        if _git(local, "rev-parse", "--git-dir") is None:
            raise ProjectError(f"--version needs a git repository, and {base!r} is not one")
        toplevel = Path(_git(local, "rev-parse", "--show-toplevel") or local).resolve()
        remote_url = str(toplevel)
        # `/repo/sub#more` at a version is `/repo#sub/more`: the clone is of the whole repository.
        subdirectory = _relative(local, toplevel, subdirectory)
    elif not urlsplit(base).scheme and not _SCP_LIKE.match(base):
        raise ProjectError(f"project directory {base!r} does not exist")
    else:
        remote_url = base
    checkout, commit, branch = _checkout(remote_url, version)
    directory = checkout / subdirectory if subdirectory else checkout
    if not directory.is_dir():
        raise ProjectError(f"subdirectory {subdirectory!r} does not exist in {base} at {commit[:12]}")
    recorded = remote_url + (f"#{subdirectory}" if subdirectory else "")
    return FetchedProject(
        directory=directory,
        uri=_without_credentials(recorded),
        git_commit=commit,
        git_branch=branch,
        git_dirty=False,
        git_remote=_without_credentials(remote_url),
        repository=_without_credentials(remote_url),
        subdirectory=subdirectory,
    )


def _local_path(base: str) -> Path | None:
    """A local directory named by a plain path or a `file://` URI without a host, else None."""
    parts = urlsplit(base)
    if parts.scheme == "file" and not parts.netloc:
        candidate = Path(url2pathname(parts.path))
    elif parts.scheme and len(parts.scheme) > 1:  # one letter is a Windows drive
        return None
    else:
        candidate = Path(base).expanduser()
    return candidate.resolve() if candidate.is_dir() else None


def _in_place(root: Path, subdirectory: str) -> FetchedProject:
    directory = root / subdirectory if subdirectory else root
    if not directory.is_dir():
        raise ProjectError(f"subdirectory {subdirectory!r} does not exist in {root}")
    uri = str(root) + (f"#{subdirectory}" if subdirectory else "")
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return FetchedProject(directory=directory, uri=uri)
    toplevel = Path(_git(directory, "rev-parse", "--show-toplevel") or directory).resolve()
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD")
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    remote = _git(directory, "config", "--get", "remote.origin.url")
    subdirectory = _relative(directory.resolve(), toplevel, "")
    # A project not yet committed cannot be rerun from the commit: record it, do not pin it.
    committed = bool(_git(toplevel, "ls-tree", "--name-only", "HEAD", "--", subdirectory or "."))
    return FetchedProject(
        directory=directory,
        uri=uri,
        git_commit=commit,
        git_branch=None if branch in (None, "HEAD") else branch,
        git_dirty=bool(status) if status is not None else None,
        git_remote=_without_credentials(remote) if remote else None,
        repository=str(toplevel) if committed else None,
        subdirectory=subdirectory,
    )


def _relative(path: Path, root: Path, rest: str) -> str:
    inside = path.relative_to(root).as_posix()
    joined = "/".join(part for part in (inside, rest) if part and part != ".")
    return joined


def _checkout(remote_url: str, version: str | None) -> tuple[Path, str, str | None]:
    """Fetch `version` of `remote_url` into the cache; the checkout, its commit and branch."""
    key = hashlib.sha256(_without_credentials(remote_url).encode()).hexdigest()[:16]
    root = cache_root() / "projects"
    repository = root / "git" / key
    repository.parent.mkdir(parents=True, exist_ok=True)
    with _locked(root / "git" / f"{key}.lock"):
        if not (repository / ".git").is_dir():
            _run_git(None, "init", "--quiet", str(repository))
            _run_git(repository, "remote", "add", "origin", remote_url)
        commit, branch = _fetch(repository, remote_url, version)
        checkout = root / "checkouts" / f"{key}-{commit}"
        if not checkout.is_dir():
            checkout.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=checkout.parent))
            try:
                # --shared borrows the objects of the fetch repository: a checkout costs the
                # working files only. The staging rename makes a half-made checkout invisible.
                _run_git(None, "clone", "--quiet", "--shared", "--no-checkout", str(repository), str(staging))
                _run_git(staging, "checkout", "--quiet", "--detach", commit)
                if (staging / ".gitmodules").is_file():
                    _run_git(staging, "submodule", "update", "--quiet", "--init", "--recursive")
                staging.rename(checkout)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return checkout, commit, branch


def _fetch(repository: Path, remote_url: str, version: str | None) -> tuple[str, str | None]:
    refs = _remote_refs(repository, remote_url)
    if version is None:
        head = _run_git(repository, "ls-remote", "--symref", "origin", "HEAD")
        branch = None
        for line in head.splitlines():
            if line.startswith("ref: refs/heads/"):
                branch = line.split()[1].removeprefix("refs/heads/")
        _run_git(repository, "fetch", "--quiet", "origin", "HEAD")
        return _run_git(repository, "rev-parse", "FETCH_HEAD^{commit}"), branch
    if f"refs/heads/{version}" in refs:
        _run_git(repository, "fetch", "--quiet", "origin", f"refs/heads/{version}")
        return _run_git(repository, "rev-parse", "FETCH_HEAD^{commit}"), version
    if f"refs/tags/{version}" in refs:
        _run_git(repository, "fetch", "--quiet", "origin", f"refs/tags/{version}")
        return _run_git(repository, "rev-parse", "FETCH_HEAD^{commit}"), None
    # A commit: already here from an earlier fetch, or fetched by id (protocol v2 allows it),
    # or, for an abbreviated id, found after fetching every branch and tag.
    for attempt in ("local", "by-id", "all"):
        if attempt == "by-id":
            if _git(repository, "fetch", "--quiet", "origin", version) is None:
                continue
        elif attempt == "all":
            _run_git(
                repository, "fetch", "--quiet", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"
            )
        commit = _git(repository, "rev-parse", "--verify", "--quiet", f"{version}^{{commit}}")
        if commit:
            return commit, None
    raise ProjectError(f"--version {version!r}: no such commit, branch or tag in {remote_url}", exit_code=2)


def _remote_refs(repository: Path, remote_url: str) -> set[str]:
    try:
        listing = _run_git(repository, "ls-remote", "origin")
    except ProjectError as error:
        raise ProjectError(f"cannot read the git repository {remote_url}: {error}", exit_code=1) from None
    return {line.split("\t", 1)[1] for line in listing.splitlines() if "\t" in line}


class _locked:
    """An exclusive advisory lock on a file, held for a `with` block."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        import fcntl

        self._file = self.path.open("a")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()  # closing releases the lock


def _git_env() -> dict[str, str]:
    # Never stop to ask for a password on a terminal the user is not watching.
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


def _run_git(directory: Path | None, *args: str) -> str:
    command = ["git", *(["-C", str(directory)] if directory is not None else []), *args]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, env=_git_env(), check=False)
    except OSError as error:
        raise ProjectError(f"cannot run git: {error}", exit_code=1) from None
    if completed.returncode != 0:
        raise ProjectError(f"git {args[0]} failed: {completed.stderr.strip()}", exit_code=1)
    return completed.stdout.strip()


def _git(directory: Path, *args: str) -> str | None:
    try:
        return _run_git(directory, *args)
    except ProjectError:
        return None
