"""`mltrail run`: run an MLproject entry point (a directory or a git repository) as a run.

The work is in `mltrail.projects`; this module only turns options into a `LaunchRequest`
and errors into exit codes: 2 for a request that cannot run as given (nothing started), 1
for a failure along the way, the command's own exit code otherwise (128+N when a signal N
stopped it).
"""

from __future__ import annotations

import sys

import click


def register(group: click.Group) -> None:
    group.add_command(run)


@click.command(context_settings={"show_default": True})
@click.argument("uri", required=False)
@click.option("-e", "--entry-point", default=None, help="Entry point to run (default: main).")
@click.option("-P", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter; repeatable.")
@click.option("--experiment", "experiment_name", default=None, help="Experiment name (created if missing).")
@click.option("--run-name", default=None, help="Name of the run.")
@click.option(
    "--env-manager",
    type=click.Choice(["local", "virtualenv", "uv"]),
    default=None,
    help="Where the command runs: this environment (default), or one built from the project's spec.",
)
@click.option("--version", "version", default=None, help="Git commit, branch or tag of the project.")
@click.option("--from-run", default=None, metavar="RUN_ID", help="Rerun a run launched by `mltrail run`.")
@click.option("--dry-run", is_flag=True, help="Check everything and print the command; start nothing.")
@click.option(
    "--tracking-uri",
    envvar="MLTRAIL_TRACKING_URI",
    default=None,
    help="Tracking server (default $MLTRAIL_TRACKING_URI, else http://127.0.0.1:5000).",
)
def run(
    uri: str | None,
    entry_point: str | None,
    params: tuple[str, ...],
    experiment_name: str | None,
    run_name: str | None,
    env_manager: str | None,
    version: str | None,
    from_run: str | None,
    dry_run: bool,
    tracking_uri: str | None,
) -> None:
    """Run the project at URI (a directory, `DIR#subdir`, or a git URL) as a tracked run.

    Parameters are checked against the MLproject's types and shell-quoted into the command.
    The command runs with MLTRAIL_RUN_ID set, so the script's own `mltrail.start_run()`
    logs into this run; its output is streamed and stored as the artifact logs/stdout.log.
    """
    from mltrail._exceptions import MltrailError, ServerUnavailable
    from mltrail.projects._launcher import LaunchRequest, launch
    from mltrail.projects._parameters import parse_assignments
    from mltrail.projects._spec import ProjectError

    try:
        request = LaunchRequest(
            uri=uri,
            entry_point=entry_point,
            parameters=parse_assignments(params),
            version=version,
            env_manager=env_manager,
            experiment_name=experiment_name,
            run_name=run_name,
            from_run=from_run,
            dry_run=dry_run,
            tracking_uri=tracking_uri,
        )
        code = launch(request)
    except ProjectError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    except ServerUnavailable as error:
        click.echo(f"Error: cannot reach the tracking server: {error}", err=True)
        sys.exit(1)
    except MltrailError as error:
        code_name = getattr(error, "code", None)
        click.echo(f"Error: {code_name}: {error}" if code_name else f"Error: {error}", err=True)
        sys.exit(2 if code_name == "NOT_FOUND" and from_run else 1)
    sys.exit(code)
