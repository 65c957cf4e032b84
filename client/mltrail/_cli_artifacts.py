"""``mltrail artifacts ls|get|put``: a run's files from the command line."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click


def _tracking_uri_option(function):  # type: ignore[no-untyped-def]
    from mltrail._transport import DEFAULT_TRACKING_URI

    return click.option(
        "--tracking-uri",
        envvar="MLTRAIL_TRACKING_URI",
        default=DEFAULT_TRACKING_URI,
        show_default=True,
        help="The tracking server (or set MLTRAIL_TRACKING_URI).",
    )(function)


def _human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(size)  # pragma: no cover


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


@click.group("artifacts")
def artifacts() -> None:
    """List, download and upload a run's artifacts."""


@artifacts.command("ls")
@click.argument("run_id")
@click.argument("path", required=False, default="")
@_tracking_uri_option
def ls_command(run_id: str, path: str, tracking_uri: str) -> None:
    """List the files and directories under PATH (the run's root by default)."""
    from mltrail._artifacts import list_artifacts
    from mltrail._exceptions import MltrailError

    try:
        entries = list_artifacts(tracking_uri, run_id, path)
    except MltrailError as error:
        raise _fail(error) from None
    for entry in entries:
        modified = (
            dt.datetime.fromtimestamp(entry.modified_at / 1000).strftime("%Y-%m-%d %H:%M")
            if entry.modified_at is not None
            else ""
        )
        name = entry.path + ("/" if entry.is_dir else "")
        click.echo(f"{_human_size(entry.size):>10}  {modified:16}  {name}")


@artifacts.command("get")
@click.argument("run_id")
@click.argument("path")
@click.argument("dst", required=False, type=click.Path(path_type=Path))
@_tracking_uri_option
def get_command(run_id: str, path: str, dst: Path | None, tracking_uri: str) -> None:
    """Download the file or directory PATH into DST (like cp -r; default: here; - : standard output)."""
    from mltrail._artifacts import download, download_to_stream
    from mltrail._exceptions import MltrailError

    if dst is not None and str(dst) == "-":
        # Nothing else goes to stdout: it carries the file's bytes (`... - | tar x`).
        try:
            download_to_stream(tracking_uri, run_id, path, sys.stdout.buffer)
        except MltrailError as error:
            raise _fail(error) from None
        return
    try:
        written = download(tracking_uri, run_id, path, dst)
    except MltrailError as error:
        raise _fail(error) from None
    click.echo(str(written))


@artifacts.command("put")
@click.argument("run_id")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.argument("path", required=False, default=None)
@_tracking_uri_option
def put_command(run_id: str, file: Path, path: str | None, tracking_uri: str) -> None:
    """Upload FILE (or a directory's contents) under the directory PATH of the run."""
    from mltrail._artifacts import upload_dir, upload_file
    from mltrail._exceptions import MltrailError

    try:
        if file.is_dir():
            upload_dir(tracking_uri, run_id, file, path)
        else:
            upload_file(tracking_uri, run_id, file, path)
    except MltrailError as error:
        raise _fail(error) from None


def register(group: click.Group) -> None:
    """Add the ``artifacts`` commands to the ``mltrail`` group."""
    group.add_command(artifacts)
