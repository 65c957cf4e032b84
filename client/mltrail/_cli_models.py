"""``mltrail models …``: the model registry from the command line.

    mltrail models list
    mltrail models register runs:/<run_id>/model Churn
    mltrail models show Churn
    mltrail models versions Churn --stage Production
    mltrail models transition Churn 3 Production --comment "beats v2" --archive-existing
    mltrail models alias Churn champion 3            # set or move; --delete to remove
    mltrail models history Churn                     # every change, oldest first
    mltrail models at Churn 2026-03-01T12:00 --stage Production
    mltrail models requests --user alice | approve ID | reject ID

Tables for people, ``--json`` for scripts; server errors exit with status 1 and the server's
message. Changes are recorded as ``$MLTRAIL_USER`` (else the login name).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import click

from mltrail._cli_tracking import _client, _json_option, _print_json, _reports_errors, _table, _time
from mltrail._cli_tracking import _tracking_uri_option as tracking_uri_option


def register(group: click.Group) -> None:
    """Add the ``models`` commands to the ``mltrail`` group."""
    group.add_command(models)


@click.group()
def models() -> None:
    """Registered models: versions, stages, aliases, history and approvals."""


def _versions_table(title: str, versions: list) -> None:  # type: ignore[type-arg]
    _table(
        title,
        ["version", "stage", "aliases", "run id", "source", "created", "by"],
        [
            [v.version, v.stage, ", ".join(v.aliases), v.run_id, v.source, _time(v.created_at), v.created_by]
            for v in versions
        ],
    )


@models.command("list")
@tracking_uri_option
@click.option(
    "--filter", "filter_", default=None, help="e.g. \"name LIKE 'churn%'\" or \"tags.team = 'risk'\"."
)
@_json_option
@_reports_errors
def list_command(tracking_uri: str | None, filter_: str | None, as_json: bool) -> None:
    """List registered models."""
    with _client(tracking_uri) as client:
        found = client.search_registered_models(filter_)
    if as_json:
        _print_json([dataclasses.asdict(m) for m in found])
        return
    _table(
        None,
        ["name", "latest versions", "aliases", "updated", "description"],
        [
            [
                m.name,
                ", ".join(f"{v.version} ({v.stage})" for v in m.latest_versions),
                ", ".join(f"{a}={v}" for a, v in m.aliases.items()),
                _time(m.updated_at),
                m.description,
            ]
            for m in found
        ],
    )


@models.command("register")
@tracking_uri_option
@click.argument("model_uri")
@click.argument("name")
@click.option("--description", default=None)
@_json_option
@_reports_errors
def register_command(
    tracking_uri: str | None, model_uri: str, name: str, description: str | None, as_json: bool
) -> None:
    """Register MODEL_URI (runs:/<run_id>/model) as the next version of NAME."""
    with _client(tracking_uri) as client:
        version = client.register_model(model_uri, name, description=description)
    if as_json:
        _print_json(version)
    else:
        click.echo(f"registered {version.name} version {version.version} from {version.source}")


@models.command("show")
@tracking_uri_option
@click.argument("name")
@_json_option
@_reports_errors
def show_command(tracking_uri: str | None, name: str, as_json: bool) -> None:
    """A model: description, protections, aliases, the newest version of each stage, pending requests."""
    with _client(tracking_uri) as client:
        model = client.get_registered_model(name)
        pending = client.get_transition_requests(name=name)
    if as_json:
        _print_json(
            {**dataclasses.asdict(model), "pending_requests": [dataclasses.asdict(r) for r in pending]}
        )
        return
    click.echo(f"{model.name}: {model.description or ''}".rstrip(": "))
    click.echo(f"created {_time(model.created_at)} by {model.created_by}; updated {_time(model.updated_at)}")
    if model.protected_stages or model.protected_aliases:
        click.echo(
            "needs approval: "
            + ", ".join([*model.protected_stages, *(f"@{a}" for a in model.protected_aliases)])
        )
    for alias, version in model.aliases.items():
        click.echo(f"  @{alias} -> version {version}")
    for key, value in model.tags.items():
        click.echo(f"  tag {key}={value}")
    _versions_table("latest versions", model.latest_versions)
    if pending:
        _requests_table(pending)


@models.command("versions")
@tracking_uri_option
@click.argument("name", required=False)
@click.option("--stage", default=None, help="None, Staging, Production or Archived.")
@click.option("--alias", default=None)
@click.option("--run-id", default=None, help="Versions registered from this run.")
@_json_option
@_reports_errors
def versions_command(
    tracking_uri: str | None,
    name: str | None,
    stage: str | None,
    alias: str | None,
    run_id: str | None,
    as_json: bool,
) -> None:
    """Versions of NAME (or of every model), newest first."""
    with _client(tracking_uri) as client:
        found = client.search_model_versions(name=name, stage=stage, alias=alias, run_id=run_id)
    if as_json:
        _print_json([dataclasses.asdict(v) for v in found])
    else:
        _versions_table(name or "versions", found)


@models.command("transition")
@tracking_uri_option
@click.argument("name")
@click.argument("version", type=int)
@click.argument("stage")
@click.option("--comment", "-m", default=None, help="Why: recorded in the history.")
@click.option("--archive-existing", is_flag=True, help="Archive the versions now in STAGE.")
@click.option("--request", "as_request", is_flag=True, help="Ask for approval instead (protected stages).")
@_json_option
@_reports_errors
def transition_command(
    tracking_uri: str | None,
    name: str,
    version: int,
    stage: str,
    comment: str | None,
    archive_existing: bool,
    as_request: bool,
    as_json: bool,
) -> None:
    """Move VERSION of NAME to STAGE (None, Staging, Production, Archived)."""
    with _client(tracking_uri) as client:
        if as_request:
            request = client.request_transition(
                name, version, stage=stage, comment=comment, archive_existing=archive_existing
            )
            if as_json:
                _print_json(request)
            else:
                click.echo(
                    f"request {request.id}: {name} version {version} to {request.stage}, awaiting approval"
                )
            return
        moved = client.transition_model_version_stage(
            name, version, stage, comment=comment, archive_existing=archive_existing
        )
    if as_json:
        _print_json(moved)
    else:
        click.echo(f"{name} version {version} is now {moved.stage}")


@models.command("alias")
@tracking_uri_option
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=int, required=False)
@click.option("--delete", is_flag=True, help="Remove the alias.")
@click.option("--comment", "-m", default=None, help="Why: recorded in the history.")
@click.option("--request", "as_request", is_flag=True, help="Ask for approval instead (protected aliases).")
@_reports_errors
def alias_command(
    tracking_uri: str | None,
    name: str,
    alias: str,
    version: int | None,
    delete: bool,
    comment: str | None,
    as_request: bool,
) -> None:
    """Point ALIAS of NAME at VERSION (set or move), or remove it with --delete."""
    if delete == (version is not None):
        raise click.UsageError("give VERSION to set or move the alias, or --delete to remove it")
    with _client(tracking_uri) as client:
        if delete:
            client.delete_registered_model_alias(name, alias, comment=comment)
            click.echo(f"removed @{alias} from {name}")
        elif as_request:
            request = client.request_transition(name, version, alias=alias, comment=comment)  # type: ignore[arg-type]
            click.echo(f"request {request.id}: @{alias} to {name} version {version}, awaiting approval")
        else:
            client.set_registered_model_alias(name, alias, version, comment=comment)  # type: ignore[arg-type]
            click.echo(f"{name}@{alias} -> version {version}")


@models.command("history")
@tracking_uri_option
@click.argument("name")
@click.option("--version", type=int, default=None, help="Only this version's changes.")
@_json_option
@_reports_errors
def history_command(tracking_uri: str | None, name: str, version: int | None, as_json: bool) -> None:
    """Every change of NAME (or one version), oldest first: who, when, what, why."""
    with _client(tracking_uri) as client:
        changes = client.get_model_history(name, version)
    if as_json:
        _print_json([dataclasses.asdict(c) for c in changes])
        return
    _table(
        f"{name} history",
        ["time (UTC)", "user", "change", "version", "detail", "comment"],
        [[_time(c.timestamp), c.user, c.kind, c.version, _detail(c), c.comment] for c in changes],
    )


def _detail(change) -> str:  # type: ignore[no-untyped-def]
    if change.from_stage or change.to_stage:
        return f"{change.from_stage or '-'} -> {change.to_stage or '-'}"
    if change.alias:
        before = change.from_version if change.from_version is not None else "-"
        after = change.to_version if change.to_version is not None else "-"
        return f"@{change.alias}: {before} -> {after}"
    return f"request {change.request_id}" if change.request_id else ""


@models.command("at")
@tracking_uri_option
@click.argument("name")
@click.argument("time")
@click.option("--stage", default=None)
@click.option("--alias", default=None)
@_json_option
@_reports_errors
def at_command(
    tracking_uri: str | None, name: str, time: str, stage: str | None, alias: str | None, as_json: bool
) -> None:
    """Which version held --stage or --alias of NAME at TIME (ISO 8601, UTC unless it says; or ms)."""
    when: int | datetime
    if time.isdigit():
        when = int(time)
    else:
        try:
            when = datetime.fromisoformat(time)
        except ValueError:
            raise click.BadParameter(
                f"{time!r} is neither ISO 8601 nor milliseconds", param_hint="TIME"
            ) from None
        if when.tzinfo is None:
            from datetime import UTC

            when = when.replace(tzinfo=UTC)
    with _client(tracking_uri) as client:
        found = client.get_version_at(name, when, stage=stage, alias=alias)
    if as_json:
        _print_json(found)
    elif found is None:
        click.echo(f"no version of {name} held {stage or '@' + (alias or '')} at {time}")
    else:
        click.echo(f"{name} version {found.version} (now {found.stage}, run {found.run_id})")


def _requests_table(requests: list) -> None:  # type: ignore[type-arg]
    _table(
        "transition requests",
        ["id", "name", "version", "to", "by", "at", "status", "comment"],
        [
            [
                r.id,
                r.name,
                r.version,
                r.stage or f"@{r.alias}",
                r.requested_by,
                _time(r.requested_at),
                r.status,
                r.comment,
            ]
            for r in requests
        ],
    )


@models.command("requests")
@tracking_uri_option
@click.option("--name", default=None, help="Requests of this model.")
@click.option("--user", default=None, help="Requests opened by this user.")
@click.option("--status", default="PENDING", show_default=True, help="PENDING, APPROVED or REJECTED.")
@_json_option
@_reports_errors
def requests_command(
    tracking_uri: str | None, name: str | None, user: str | None, status: str, as_json: bool
) -> None:
    """Transition requests (pending ones by default)."""
    with _client(tracking_uri) as client:
        found = client.get_transition_requests(name=name, requested_by=user, status=status)
    if as_json:
        _print_json([dataclasses.asdict(r) for r in found])
    else:
        _requests_table(found)


@models.command("approve")
@tracking_uri_option
@click.argument("request_id")
@click.option("--comment", "-m", default=None)
@_reports_errors
def approve_command(tracking_uri: str | None, request_id: str, comment: str | None) -> None:
    """Approve (and apply) a pending request opened by someone else."""
    with _client(tracking_uri) as client:
        request = client.approve_transition(request_id, comment=comment)
    click.echo(
        f"request {request.id} approved: {request.name} version {request.version} to {request.stage or '@' + str(request.alias)}"
    )


@models.command("reject")
@tracking_uri_option
@click.argument("request_id")
@click.option("--comment", "-m", default=None)
@_reports_errors
def reject_command(tracking_uri: str | None, request_id: str, comment: str | None) -> None:
    """Reject a pending request; nothing moves."""
    with _client(tracking_uri) as client:
        request = client.reject_transition(request_id, comment=comment)
    click.echo(f"request {request.id} rejected")
