"""`mltrail server`: imports the server's stack only when this command runs."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1; 0.0.0.0 exposes it).")
@click.option("--port", type=int, default=None, help="Port (default 5000).")
@click.option(
    "--allowed-hosts",
    default=None,
    help="Host names the server answers to besides loopback names, the bound host and IP addresses "
    "(comma-separated; *.example.com for subdomains; * for any). Others get 400 (DNS rebinding).",
)
@click.option("--workers", type=int, default=None, help="Server processes (default 1).")
@click.option("--data-dir", default=None, help="Where SQLite and local artifacts live (default ./mltrail-data).")
@click.option(
    "--backend-store-uri",
    default=None,
    help="Database URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB.",
)
@click.option("--artifact-root", default=None, help="Local directory or s3://bucket/prefix.")
@click.option("--artifact-mode", type=click.Choice(["proxied", "direct"]), default=None)
@click.option("--redis-url", default=None, help="redis://HOST:PORT/DB: live events shared by all replicas.")
@click.option("--static-dir", default=None, help="Built SPA to serve at / (default: the bundled build).")
@click.option("--log-level", default=None, type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log one line per HTTP request (default off: leave it to a reverse proxy).",
)
def server(**flags: object) -> None:
    """Start the tracking server (GraphQL at /graphql, dashboard at /)."""
    try:
        from mltrail_server.config import Settings
        from mltrail_server.serve import run
    except ImportError as exc:  # the thin client was installed without the server extra
        raise click.ClickException(
            f"the server is not installed ({exc.name} is missing): pip install 'mltrail[server]'"
        ) from None
    try:
        settings = Settings.from_env(**flags)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"mltrail server on http://{settings.host}:{settings.port} (store: {_safe(settings.database_url)})")
    run(settings)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
