"""The `mltrail` command line: one entry point for the server, sync, runs and artifacts.

Each area keeps its commands in its own private module; this file only assembles them, so
the client's import stays light (the server's stack is imported only by `mltrail server`).
"""

from __future__ import annotations

import click

from mltrail._cli_artifacts import register as register_artifacts
from mltrail._cli_models import register as register_models
from mltrail._cli_projects import register as register_projects
from mltrail._cli_server import server
from mltrail._cli_serving import register as register_serving
from mltrail._cli_tracking import register as register_tracking


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mltrail")
def main() -> None:
    """mltrail: experiment tracking and model registry."""


main.add_command(server)

# Tracking commands (sync, experiments, runs) and artifact commands live beside the client
# code they drive.
register_tracking(main)
register_artifacts(main)
register_projects(main)  # `mltrail run`: MLproject entry points as runs
register_models(main)

register_serving(main)  # models serve | promote | predict


if __name__ == "__main__":
    main()
