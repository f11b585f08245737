"""The ``billing`` command: serve one service, migrate, or run the whole local stack."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import typer
from aiohttp import web
from faststream import FastStream
from yarl import URL

from apps.cli import local_stack
from apps.cli.catalog import catalog_app
from apps.cli.dead_letters import dlq_app
from apps.cli.docs import docs_app
from apps.cli.entitlements import entitlements_app
from apps.cli.history import history
from apps.cli.receipts import receipt_app
from apps.cli.reconcile import reconcile
from apps.cli.security import apikeys_app, audit_app, retention_app, secrets_app
from apps.cli.stack_env import load_beside_running_stack
from apps.cli.status import status
from shared.connectors.registry import REGISTERED_PROVIDERS, load_extra_providers
from shared.core_settings import flat_settings
from shared.db.migrate import upgrade_to_heads
from shared.logging import configure_logging
from shared.messaging.topics import ensure_topics
from shared.observability.metrics_server import serve_metrics
from shared.settings import Settings, get_settings

app = typer.Typer(help="HomeTryOn Billing", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(dlq_app, name="dlq")
app.add_typer(secrets_app, name="secrets")
app.add_typer(apikeys_app, name="apikeys")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(entitlements_app, name="entitlements")
app.add_typer(receipt_app, name="receipt")
app.add_typer(docs_app, name="docs")
app.command("history")(history)
app.command()(reconcile)
app.command()(status)
# A plugin named by BILLING_EXTRA_PROVIDERS brings its subcommands too: load it before mounting them.
load_extra_providers(get_settings())
for plugin in REGISTERED_PROVIDERS:
    app.add_typer(plugin.cli, name=plugin.provider.value)


@app.callback()
def beside_running_stack(ctx: typer.Context) -> None:
    """A command typed beside ``make run`` sees the settings ``billing up`` gave its services."""
    load_beside_running_stack(os.environ, ctx.invoked_subcommand)
    get_settings.cache_clear()


class Service(StrEnum):
    GATEWAY = "gateway"
    INGEST = "ingest"
    WORKER = "worker"
    CATALOG_SYNC = "catalog-sync"
    TELEMETRY = "telemetry"


@app.command()
def serve(service: Service) -> None:
    """Run one service in the foreground."""
    settings = get_settings()
    configure_logging(settings)  # before the first line (the metrics server's): one format for all
    load_extra_providers(settings)
    if service is Service.GATEWAY:
        from apps.gateway_process import build_gateway_process
        from shared.observability.request_context import AccessLogger

        web.run_app(
            build_gateway_process(settings),
            host=settings.gateway_host,
            port=settings.gateway_port,
            print=None,
            access_log_class=AccessLogger,  # structured, with the request id
        )
        return
    if service is Service.INGEST:
        from services.webhook_ingest.app import build_app
    elif service is Service.WORKER:
        from services.entitlement_worker.app import build_app
    elif service is Service.TELEMETRY:
        from services.telemetry.app import build_app
    else:
        from services.catalog_sync.app import build_app
    asyncio.run(_run_inside_loop(build_app, settings, service))


async def _run_inside_loop(
    build_app: Callable[[Settings], FastStream], settings: Settings, service: Service
) -> None:
    """Build the app inside the running loop: aiokafka clients must be created there."""
    serve_metrics(settings, service.value)
    await build_app(settings).run()


@app.command()
def migrate() -> None:
    """Apply database migrations and create Kafka topics."""
    settings = get_settings()
    upgrade_to_heads(settings.database_url)
    asyncio.run(ensure_topics(settings))
    typer.echo("migrations applied, topics present")


@app.command("settings")
def show_settings() -> None:
    """Print the settings this command sees (secrets masked), e.g. beside ``make run``."""
    for name, value in flat_settings(get_settings()).items():
        typer.echo(f"{name}={_without_password(value)}")  # SecretStr prints as **********


def _without_password(value: object) -> object:
    """A URL's password masked (database_url, redis_url may carry one)."""
    if isinstance(value, str) and "://" in value and URL(value).password:
        return URL(value).with_password("***")
    return value


@app.command()
def up() -> None:
    """Start infrastructure, migrate, then every service; Ctrl-C stops all of them."""
    local_stack.run_everything()


@app.command()
def down() -> None:
    """Stop the local Kafka, Redis and PostgreSQL."""
    local_stack.stop_infrastructure()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Benchmark raw bounds, the webhook pipeline, reads and scaling (options: bench/README.md)."""
    # The bench is its own program in the checkout (it drives this command's services from outside).
    checkout = Path(__file__).resolve().parents[2]
    finished = subprocess.run([sys.executable, "-m", "bench.main", *ctx.args], cwd=checkout, check=False)
    raise typer.Exit(finished.returncode)


if __name__ == "__main__":
    app()
