"""Running the service: first-run set-up, the HTTP server, the workers, the schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from notarium.cli.context import admin_runtime, settings

if TYPE_CHECKING:
    from notarium.app.bootstrap import InitResult


def _print_init(result: InitResult) -> None:
    if result.keys_created:
        click.echo("Created the private CA, the TSA certificate and the Ed25519 signing key.")
    if result.api_key is not None and result.admin_key is not None:
        click.echo(f"Created account 'default' ({result.account_id}).")
        click.echo("These keys are shown once; store them now.")
        click.echo(f"  API key:   {result.api_key.secret}")
        click.echo(f"  admin key: {result.admin_key.secret}")


@click.command()
def init() -> None:
    """Create keys, the schema and a first account; never overwrites existing keys."""
    from notarium.app.bootstrap import initialise

    with admin_runtime() as admin:
        result = initialise(admin)
    _print_init(result)
    if not result.keys_created and result.api_key is None:
        click.echo("Already initialised; nothing changed.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Server processes (default 1).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Run the HTTP service (initialising an embedded data directory on first run)."""
    import uvicorn

    from notarium.app.bootstrap import initialise

    with admin_runtime() as admin:
        # An embedded SQLite database is migrated in place; a shared PostgreSQL schema is
        # changed only by an explicit `notarium db upgrade`, never by racing servers.
        _print_init(initialise(admin, migrate_schema=admin.settings.is_sqlite))
        http_workers = admin.settings.http_workers
    uvicorn.run(
        "notarium.http.asgi:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers or http_workers,
        log_level="info",
        access_log=False,
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 and rewrite the
        # peer address; notarium reads the header itself, from trusted proxies only.
        proxy_headers=False,
    )


@click.command()
@click.option("--once", is_flag=True, help="Do one round of every job and exit.")
def worker(once: bool) -> None:
    """Run batching, anchoring and log integration (scaled mode; any number at once)."""
    import logging
    import signal

    from notarium.app.runtime import build_runtime
    from notarium.app.workers.jobs import worker_loop

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    runtime = build_runtime(settings())
    loop = worker_loop(runtime)
    try:
        if once:
            click.echo(f"handled {loop.run_once()} item(s)")
            return
        signal.signal(signal.SIGTERM, lambda *_: loop.stop(timeout=0))
        loop.run_forever()
    finally:
        runtime.close()


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from notarium.adapters.store import migrate

    with admin_runtime() as admin:
        migrate.upgrade(admin.engine)
        click.echo(f"Schema at revision {migrate.current_revision(admin.engine)}.")
