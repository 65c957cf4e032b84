"""``mltrail models serve | promote | predict | dockerfile``: from the registry to production.

    mltrail models serve models:/Churn/Production --port 5001        # follows the registry
    mltrail models promote Churn --run RUN_ID --metric acc --mode max --min-delta 0.005 \\
        --stage Production --comment "nightly retrain"                 # the CI gate: exit 0 / 3 / 2
    mltrail models predict -m models:/Churn/Production -i big.csv -o scores.csv
    mltrail models dockerfile models:/Churn/Production -d build/churn     # a Docker build context

Kept apart from the registry's commands (`_cli_models`) and added to the same ``models`` group:
these drive the model server and the model format, not the registry's own records.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from mltrail._cli_models import models
from mltrail._cli_tracking import _print_json, _table
from mltrail._cli_tracking import _tracking_uri_option as tracking_uri_option

# The gate's exit codes: CI scripts branch on them.
EXIT_PROMOTED = 0
EXIT_ERROR = 2
EXIT_NOT_BETTER = 3


def register(group: click.Group) -> None:
    """Add ``serve``, ``promote`` and ``predict`` to ``mltrail models`` (the group is shared)."""
    models.add_command(serve_command)
    models.add_command(promote_command)
    models.add_command(predict_command)
    models.add_command(dockerfile_command)


@click.command("serve")
@click.argument("model_uri")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address (loopback by default).")
@click.option("--port", "-p", default=5001, show_default=True, type=int)
@click.option(
    "--workers", "-w", default=1, show_default=True, type=int, help="Processes, each with the model."
)
@click.option(
    "--tracking-uri",
    envvar="MLTRAIL_TRACKING_URI",
    default=None,
    help="The tracking server to resolve and follow the model on [env: MLTRAIL_TRACKING_URI].",
)
@click.option("--max-body-mb", default=32, show_default=True, type=int, help="Largest request body accepted.")
@click.option(
    "--poll-interval",
    default=2.0,
    show_default=True,
    type=float,
    help="Seconds between registry checks while the event stream is down.",
)
@click.option("--log-level", default="info", show_default=True)
def serve_command(
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    tracking_uri: str | None,
    max_body_mb: int,
    poll_interval: float,
    log_level: str,
) -> None:
    """Serve MODEL_URI over HTTP (MLflow's scoring protocol on POST /invocations).

    For a stage (models:/Churn/Production), an alias (models:/Churn@champion) or
    models:/Churn/latest, the server follows the registry: a transition or an alias move is
    served within seconds, with no restart and no failed request.
    """
    from mltrail.serving import serve

    if workers < 1:
        raise click.BadParameter("must be at least 1", param_hint="--workers")
    serve(
        model_uri,
        host=host,
        port=port,
        workers=workers,
        tracking_uri=tracking_uri,
        max_body_bytes=max_body_mb * 1024 * 1024,
        poll_interval=poll_interval,
        log_level=log_level,
    )


# -- the promotion gate ---------------------------------------------------------------------------


@click.command("promote")
@tracking_uri_option
@click.argument("name")
@click.option("--run", "run_id", required=True, help="The run whose model is the candidate.")
@click.option(
    "--model-path", default="model", show_default=True, help="The model's path in the run's artifacts."
)
@click.option("--metric", required=True, help="The run metric to compare (its latest value).")
@click.option("--mode", type=click.Choice(["max", "min"]), default="max", show_default=True)
@click.option("--min-delta", type=float, default=0.0, show_default=True, help="Required improvement.")
@click.option("--stage", default=None, help="Promote into this stage (e.g. Production) ...")
@click.option("--alias", default=None, help="... or point this alias (e.g. champion) at the candidate.")
@click.option("--comment", "-m", default=None, help="Why: recorded in the history.")
@click.option("--keep-existing", is_flag=True, help="Do not archive the versions now in --stage.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def promote_command(
    tracking_uri: str | None,
    name: str,
    run_id: str,
    model_path: str,
    metric: str,
    mode: str,
    min_delta: float,
    stage: str | None,
    alias: str | None,
    comment: str | None,
    keep_existing: bool,
    as_json: bool,
) -> None:
    """Promote RUN's model in NAME if its METRIC beats the current holder's: exit 0 promoted
    (or approval requested), 3 not better, 2 error."""
    from mltrail._exceptions import MltrailError

    try:
        if (stage is None) == (alias is None):
            raise click.UsageError("give exactly one of --stage or --alias")
        if min_delta < 0:
            raise click.UsageError("--min-delta must be >= 0")
        decision = _promote(
            tracking_uri,
            name,
            run_id,
            model_path,
            metric,
            mode,
            min_delta,
            stage,
            alias,
            comment,
            not keep_existing,
        )
    except (MltrailError, click.ClickException) as error:
        message = error.format_message() if isinstance(error, click.ClickException) else str(error)
        code = getattr(error, "code", None)
        if as_json:
            _print_json({"decision": "error", "error": message, "code": code})
        else:
            click.echo(f"error: {code + ': ' if code else ''}{message}", err=True)
        sys.exit(EXIT_ERROR)
    if as_json:
        _print_json(decision)
    else:
        _print_decision(decision)
    sys.exit(EXIT_NOT_BETTER if decision["decision"] == "not_better" else EXIT_PROMOTED)


def _promote(
    tracking_uri: str | None,
    name: str,
    run_id: str,
    model_path: str,
    metric: str,
    mode: str,
    min_delta: float,
    stage: str | None,
    alias: str | None,
    comment: str | None,
    archive_existing: bool,
) -> dict[str, Any]:
    from mltrail._client import MltrailClient
    from mltrail._exceptions import NotFound
    from mltrail._registry import stage_name

    target = stage_name(stage) if stage is not None else None
    with MltrailClient(tracking_uri) as client:
        run = client.get_run(run_id)
        if metric not in run.metrics:
            raise click.ClickException(
                f"--metric {metric!r}: run {run_id} has no such metric (it has {sorted(run.metrics)})"
            )
        candidate_value = run.metrics[metric]
        try:
            registered = client.get_registered_model(name)
        except NotFound:
            registered = None
        existing = client.search_model_versions(name=name, run_id=run_id) if registered else []
        source = f"runs:/{run_id}/{model_path}"
        mine = [v for v in existing if v.source == source]
        candidate = max(mine, key=lambda v: v.version) if mine else client.register_model(source, name)
        if registered is None:
            registered = client.get_registered_model(name)
        try:
            holder = (
                client.get_latest_version(name, target)
                if target
                else client.get_model_version_by_alias(name, alias)  # type: ignore[arg-type]
            )
        except NotFound:
            holder = None
        holder_value = None
        if holder is not None and holder.run_id:
            holder_value = client.get_run(holder.run_id).metrics.get(metric)
        decision: dict[str, Any] = {
            "name": name,
            "metric": metric,
            "mode": mode,
            "min_delta": min_delta,
            "target": {"stage": target} if target else {"alias": alias},
            "candidate": {"version": candidate.version, "run_id": run_id, "value": candidate_value},
            "current": None
            if holder is None
            else {"version": holder.version, "run_id": holder.run_id, "value": holder_value},
            "improvement": None,
            "request_id": None,
        }
        if holder is not None and holder.version == candidate.version:
            decision["decision"] = "already"
            decision["reason"] = f"version {candidate.version} already holds it"
            return decision
        if holder is not None and holder_value is not None:
            improvement = candidate_value - holder_value if mode == "max" else holder_value - candidate_value
            decision["improvement"] = improvement
            if not (improvement > 0 and improvement >= min_delta):
                decision["decision"] = "not_better"
                decision["reason"] = (
                    f"{metric} {candidate_value:.6g} vs {holder_value:.6g}: improvement {improvement:.6g} "
                    f"is below the required {min_delta:g}"
                    if improvement > 0
                    else f"{metric} {candidate_value:.6g} does not beat {holder_value:.6g} ({mode})"
                )
                return decision
            decision["reason"] = f"{metric} improves by {improvement:.6g} (required {min_delta:g})"
        else:
            decision["reason"] = (
                "nothing holds it yet" if holder is None else f"the current holder has no metric {metric!r}"
            )
        protected = (
            (target in registered.protected_stages) if target else (alias in registered.protected_aliases)
        )
        if protected:
            request = client.request_transition(
                name,
                candidate.version,
                stage=target,
                alias=alias,
                comment=comment,
                archive_existing=archive_existing,
            )
            decision["decision"] = "requested"
            decision["request_id"] = request.id
            return decision
        if target:
            client.transition_model_version_stage(
                name, candidate.version, target, comment=comment, archive_existing=archive_existing
            )
        else:
            client.set_registered_model_alias(name, alias, candidate.version, comment=comment)  # type: ignore[arg-type]
        decision["decision"] = "promoted"
        return decision


def _print_decision(decision: dict[str, Any]) -> None:
    def row(role: str, side: dict[str, Any] | None) -> list[Any]:
        if side is None:
            return [role, "-", "-", "-"]
        value = side["value"]
        return [role, side["version"], side["run_id"], "-" if value is None else f"{value:.6g}"]

    target = decision["target"]
    where = f"stage {target['stage']}" if "stage" in target else f"alias @{target['alias']}"
    _table(
        f"{decision['name']}: {decision['metric']} ({decision['mode']}) for {where}",
        ["", "version", "run id", decision["metric"]],
        [row("candidate", decision["candidate"]), row("current", decision["current"])],
    )
    version = decision["candidate"]["version"]
    verdicts = {
        "promoted": f"PROMOTED: version {version} now holds {where} ({decision['reason']})",
        "requested": (
            f"APPROVAL REQUIRED: {where} is protected; opened request {decision['request_id']} for version "
            f"{version} ({decision['reason']}); another user approves it with "
            f"`mltrail models approve {decision['request_id']}`"
        ),
        "not_better": f"NOT PROMOTED: {decision['reason']}",
        "already": f"UNCHANGED: {decision['reason']}",
    }
    click.echo(verdicts[decision["decision"]])


# -- batch scoring ---------------------------------------------------------------------------------


@click.command("predict")
@click.option("--model-uri", "-m", required=True, help="runs:/…, models:/… or a model directory.")
@click.option("--input", "-i", "input_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", "output_path", required=True, type=click.Path(dir_okay=False))
@click.option("--chunk-size", default=50_000, show_default=True, type=int, help="Rows scored at a time.")
@click.option(
    "--tracking-uri", envvar="MLTRAIL_TRACKING_URI", default=None, help="[env: MLTRAIL_TRACKING_URI]"
)
def predict_command(
    model_uri: str, input_path: str, output_path: str, chunk_size: int, tracking_uri: str | None
) -> None:
    """Score a CSV, Parquet or JSON-lines file in chunks into a CSV (constant memory)."""
    from mltrail._exceptions import MltrailError
    from mltrail.serving._batch import score_file

    if chunk_size < 1:
        raise click.BadParameter("must be at least 1", param_hint="--chunk-size")
    try:
        rows = score_file(
            model_uri,
            input_path,
            output_path,
            chunk_size=chunk_size,
            tracking_uri=tracking_uri,
            progress=sys.stderr.isatty() and not os.environ.get("CI"),
        )
    except MltrailError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"scored {rows} rows into {output_path}", err=True)


# -- deployment files -------------------------------------------------------------------------------


@click.command("dockerfile")
@click.argument("model_uri")
@click.option(
    "--directory",
    "-d",
    required=True,
    type=click.Path(file_okay=False),
    help="Where to write (new or empty).",
)
@click.option(
    "--mltrail-requirement",
    default=None,
    help="How the image installs mltrail (default mltrail[serving]==<this version>; e.g. a wheel's URL).",
)
@click.option(
    "--tracking-uri", envvar="MLTRAIL_TRACKING_URI", default=None, help="[env: MLTRAIL_TRACKING_URI]"
)
def dockerfile_command(
    model_uri: str, directory: str, mltrail_requirement: str | None, tracking_uri: str | None
) -> None:
    """Write a Docker build context (Dockerfile, requirements.txt, the model) serving MODEL_URI."""
    from mltrail._exceptions import MltrailError
    from mltrail.serving._dockerfile import write_docker_context

    try:
        dockerfile = write_docker_context(
            model_uri, directory, tracking_uri=tracking_uri, mltrail_requirement=mltrail_requirement
        )
    except MltrailError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {dockerfile} (+ requirements.txt, model/): docker build -t mltrail-model {directory}")
