"""CLI commands for tracking: `mltrail sync`, `mltrail experiments …`, `mltrail runs …`.

Output is a table for people or, with `--json`, JSON for scripts. Errors from the server
exit with status 1 and the server's message, never a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from mltrail._exceptions import MltrailError, ServerUnavailable

F = TypeVar("F", bound=Callable[..., Any])


def register(group: click.Group) -> None:
    group.add_command(sync)
    group.add_command(experiments)
    group.add_command(runs)


def _tracking_uri_option(function: F) -> F:
    return click.option(
        "--tracking-uri",
        envvar="MLTRAIL_TRACKING_URI",
        default=None,
        help="Tracking server (default $MLTRAIL_TRACKING_URI, else http://127.0.0.1:5000).",
    )(function)


def _json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(function)


def _client(tracking_uri: str | None) -> Any:
    from mltrail._client import MltrailClient

    return MltrailClient(tracking_uri)


def _reports_errors(function: F) -> F:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ServerUnavailable as error:
            raise click.ClickException(f"cannot reach the tracking server: {error}") from None
        except MltrailError as error:
            code = getattr(error, "code", None)
            raise click.ClickException(f"{code}: {error}" if code else str(error)) from None

    return wrapper  # type: ignore[return-value]


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=_json_default, allow_nan=True))


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)  # type: ignore[arg-type]
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


_UNWRAPPED = frozenset({"id", "run id", "name", "session", "key"})


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False)
    for column in columns:
        # Ids and names are what people copy into the next command: never wrap them.
        whole = column in _UNWRAPPED
        table.add_column(column, overflow="ignore" if whole else "fold", no_wrap=whole)
    for row in rows:
        # Text, not markup: a name like "sweep[lr=0.1]" must print as it is.
        table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


# -- sync ------------------------------------------------------------------------------------


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@click.option(
    "--spool-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Spool root (default $MLTRAIL_SPOOL_DIR, else ~/.mltrail/spool).",
)
@click.option(
    "--tracking-uri",
    default=None,
    help="Send everything here instead of to the server each session recorded.",
)
@_json_option
def sync(dry_run: bool, spool_dir: Path | None, tracking_uri: str | None, as_json: bool) -> None:
    """Send runs and metrics spooled while the server was unreachable (exactly once)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from mltrail._spool import default_root
    from mltrail._sync import sync_spool

    root = spool_dir or default_root()
    progress = Progress(
        TextColumn("syncing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("operations"),
        TimeRemainingColumn(),
        disable=as_json or dry_run,
        transient=False,
    )
    task = progress.add_task("sync", total=None)
    with progress:
        result = sync_spool(
            root,
            tracking_uri=tracking_uri,
            dry_run=dry_run,
            on_start=lambda total: progress.update(task, total=total),
            on_progress=lambda n: progress.advance(task, n),
        )
    if as_json:
        _print_json(
            {
                "dry_run": dry_run,
                "sessions": [dataclasses.asdict(s) for s in result.sessions],
                "busy": [str(p) for p in result.busy],
                "operations": result.operations,
                "metric_points": result.metric_points,
                "delivered": result.delivered,
                "rejected": [dataclasses.asdict(r) for r in result.rejections],
            }
        )
    else:
        if not result.sessions and not result.busy:
            click.echo(f"nothing to sync in {root}")
        if result.sessions:
            _table(
                "spooled sessions" + (" (dry run: nothing sent)" if dry_run else ""),
                ["session", "tracking URI", "runs", "operations", "metric points", "delivered", "error"],
                [
                    [
                        s.directory.name,
                        s.tracking_uri,
                        len(s.runs),
                        s.operations,
                        s.metric_points,
                        "-" if dry_run else s.delivered,
                        s.error,
                    ]
                    for s in result.sessions
                ],
            )
        for path in result.busy:
            click.echo(f"skipped {path}: its process is still running and delivers it itself")
        for rejection in result.rejections:
            click.echo(
                f"rejected by the server: {rejection.operation} for run {rejection.run_id}: "
                f"{rejection.code}: {rejection.message}"
            )
    if result.failed:
        raise click.ClickException("some sessions could not be delivered; they stay in the spool")


# -- experiments -----------------------------------------------------------------------------


@click.group()
def experiments() -> None:
    """List and create experiments."""


@experiments.command("list")
@_tracking_uri_option
@click.option("--filter", "filter_", default=None, help="Search filter, e.g. \"name LIKE 'churn%'\".")
@click.option("--all", "include_deleted", is_flag=True, help="Include deleted experiments.")
@click.option("--max-results", type=int, default=None, help="Stop after this many.")
@_json_option
@_reports_errors
def experiments_list(
    tracking_uri: str | None,
    filter_: str | None,
    include_deleted: bool,
    max_results: int | None,
    as_json: bool,
) -> None:
    """List experiments."""
    with _client(tracking_uri) as client:
        found = client.search_experiments(filter_, include_deleted=include_deleted, max_results=max_results)
    if as_json:
        _print_json([dataclasses.asdict(e) for e in found])
        return
    _table(
        None,
        ["id", "name", "runs", "created", "last activity", "deleted"],
        [
            [
                e.id,
                e.name,
                e.run_count,
                _time(e.created_at),
                _time(e.last_activity),
                "yes" if e.deleted else "",
            ]
            for e in found
        ],
    )


@experiments.command("create")
@_tracking_uri_option
@click.argument("name")
@click.option("--description", default=None)
@click.option("--tag", "tags", multiple=True, help="KEY=VALUE; repeatable.")
@_json_option
@_reports_errors
def experiments_create(
    tracking_uri: str | None, name: str, description: str | None, tags: tuple[str, ...], as_json: bool
) -> None:
    """Create an experiment and print its id."""
    parsed = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {tag!r}", param_hint="--tag")
        parsed[key] = value
    with _client(tracking_uri) as client:
        experiment = client.create_experiment(name, description=description, tags=parsed or None)
    if as_json:
        _print_json(dataclasses.asdict(experiment))
    else:
        click.echo(f"created experiment {experiment.name!r} with id {experiment.id}")


# -- runs ------------------------------------------------------------------------------------


@click.group()
def runs() -> None:
    """List, show and delete runs."""


@runs.command("list")
@_tracking_uri_option
@click.option("--experiment-id", "experiment_ids", multiple=True, help="Repeatable.")
@click.option("--experiment", "experiment_names", multiple=True, help="Experiment name; repeatable.")
@click.option("--filter", "filter_", default=None, help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\".")
@click.option("--order-by", multiple=True, help="e.g. 'metrics.acc DESC'; repeatable.")
@click.option("--view", type=click.Choice(["active", "deleted", "all"]), default="active")
@click.option("--max-results", type=int, default=100, show_default=True)
@_json_option
@_reports_errors
def runs_list(
    tracking_uri: str | None,
    experiment_ids: tuple[str, ...],
    experiment_names: tuple[str, ...],
    filter_: str | None,
    order_by: tuple[str, ...],
    view: str,
    max_results: int,
    as_json: bool,
) -> None:
    """List runs matching the search language."""
    with _client(tracking_uri) as client:
        found = client.search_runs(
            list(experiment_ids) or None,
            filter_,
            list(order_by) or None,
            max_results=max_results,
            view_type=view,
            experiment_names=list(experiment_names) or None,
        )
    if as_json:
        _print_json([dataclasses.asdict(r) for r in found])
        return
    _table(
        None,
        ["run id", "name", "experiment", "status", "started", "params", "metrics"],
        [
            [
                r.id,
                r.name,
                r.experiment_id,
                r.status,
                _time(r.start_time),
                _summary(r.params),
                _summary({k: f"{v:.6g}" for k, v in r.metrics.items()}),
            ]
            for r in found
        ],
    )


def _summary(values: dict[str, Any], limit: int = 4) -> str:
    items = [f"{k}={v}" for k, v in sorted(values.items())[:limit]]
    if len(values) > limit:
        items.append(f"(+{len(values) - limit})")
    return " ".join(items)


@runs.command("show")
@_tracking_uri_option
@click.argument("run_id")
@_json_option
@_reports_errors
def runs_show(tracking_uri: str | None, run_id: str, as_json: bool) -> None:
    """Show one run: attributes, params, latest metrics, tags, source."""
    with _client(tracking_uri) as client:
        run = client.get_run(run_id)
    if as_json:
        _print_json(dataclasses.asdict(run))
        return
    source = run.source
    attributes = [
        ["id", run.id],
        ["name", run.name],
        ["experiment", run.experiment_id],
        ["status", run.status],
        ["started", _time(run.start_time)],
        ["ended", _time(run.end_time)],
        ["user", run.user],
        ["parent", run.parent_id],
        ["artifacts", run.artifact_uri],
    ]
    if source is not None:
        attributes += [
            ["entry point", source.entry_point],
            ["git commit", source.git_commit],
            ["git branch", source.git_branch],
            ["git dirty", source.git_dirty],
            ["git remote", source.git_remote],
        ]
    _table(f"run {run.id}", ["attribute", "value"], attributes)
    if run.params:
        _table("params", ["key", "value"], [[k, v] for k, v in sorted(run.params.items())])
    if run.latest_metrics:
        _table(
            "metrics",
            ["key", "latest", "step", "min", "max", "points"],
            [
                [m.key, f"{m.value:.6g}", m.step, m.min, m.max, m.count]
                for m in sorted(run.latest_metrics.values(), key=lambda m: m.key)
            ],
        )
    if run.tags:
        _table("tags", ["key", "value"], [[k, v] for k, v in sorted(run.tags.items())])


@runs.command("delete")
@_tracking_uri_option
@click.argument("run_ids", nargs=-1, required=True)
@_reports_errors
def runs_delete(tracking_uri: str | None, run_ids: tuple[str, ...]) -> None:
    """Delete runs (soft: they can be restored)."""
    with _client(tracking_uri) as client:
        for run_id in run_ids:
            client.delete_run(run_id)
            click.echo(f"deleted run {run_id}")
