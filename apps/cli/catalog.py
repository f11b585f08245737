"""``billing catalog``: apply the declarative catalog file; compare and sync it with the providers."""

import asyncio
from pathlib import Path

import typer

from apps.cli.progress import working
from services.catalog_sync.providers import build_provider_catalogs
from services.catalog_sync.reconcile import reconcile
from shared.bootstrap import command_runtime
from shared.catalog.errors import CatalogError
from shared.catalog.file import CatalogFile, locate_issues, parse_catalog
from shared.connectors.catalog_push import SyncOutcome
from shared.db.catalog_changes import PackChange
from shared.db.catalog_write import write_wanted_packs
from shared.db.unit_of_work import unit_of_work
from shared.settings import get_settings

catalog_app = typer.Typer(help="Packs, bundles and their provider listings", no_args_is_help=True)


@catalog_app.command("apply")
def apply(path: Path) -> None:
    """Make the stored catalog equal to FILE (idempotent); packs the file dropped become inactive."""
    try:
        catalog, lines = parse_catalog(path.read_text(), str(path))
        try:
            changes = asyncio.run(_apply(catalog))
        except CatalogError as exc:
            raise locate_issues(exc, catalog, lines, str(path)) from exc
    except CatalogError as exc:
        _print_issues(exc)
        raise typer.Exit(1) from exc
    for change in changes:
        fields = "" if change.kind.value == "created" else f"  ({', '.join(change.fields)})"
        typer.echo(f"{change.kind.value:12} {change.slug}{fields}")
    unchanged = len(catalog.packs) - sum(1 for c in changes if c.slug in {p.slug for p in catalog.packs})
    typer.echo(f"applied {path}: {len(changes)} changed, {unchanged} unchanged")


async def _apply(catalog: CatalogFile) -> list[PackChange]:
    async with command_runtime(get_settings()) as runtime, unit_of_work(runtime.sessions) as session:
        return await write_wanted_packs(
            session,
            {pack.slug: pack for pack in catalog.packs},
            changes_topic=runtime.topics.catalog_changes,
            catalog_name=catalog.catalog,
            dropped_by_catalog=True,
        )


@catalog_app.command("diff")
def diff() -> None:
    """Print how each provider's catalog differs from ours, without pushing anything."""
    outcomes = asyncio.run(_reconcile(push=False))
    for outcome in outcomes:
        typer.echo(
            f"{outcome.provider.value}: {outcome.status}" + (f" ({outcome.error})" if outcome.error else "")
        )
        for difference in outcome.differences:
            where = difference["slug"] or "(not ours)"
            typer.echo(f"  {where} [{difference['product_id']}]")
            for problem in difference["problems"]:
                typer.echo(f"    - {problem}")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(2)


@catalog_app.command("sync")
def sync() -> None:
    """Reconcile every provider now (what catalog_sync does on its schedule); prints the report."""
    outcomes = asyncio.run(_reconcile(push=True))
    for outcome in outcomes:
        counts = f"{len(outcome.pushed)} pushed, {len(outcome.failed)} failed"
        typer.echo(f"{outcome.provider.value}: {outcome.status}, {counts}")
        for item in outcome.failed:
            typer.echo(f"  failed {item['slug'] or item['product_id']}: {item['error']}", err=True)
    if any(o.status in ("failed", "partial") for o in outcomes):
        raise typer.Exit(2)


async def _reconcile(*, push: bool) -> list[SyncOutcome]:
    async with command_runtime(get_settings()) as runtime:
        catalogs = build_provider_catalogs(runtime.provider_resources)
        if not catalogs:
            typer.echo("no provider configured (RevenueCat project id, BTCPay base URL + store id)", err=True)
        names = ", ".join(provider.value for provider in catalogs)
        with working(f"{'syncing' if push else 'comparing'} the catalog with {names}"):
            return await reconcile(runtime.sessions, catalogs, trigger="manual", push=push)


def _print_issues(error: CatalogError) -> None:
    typer.echo(f"{error.source or 'catalog'}: {len(error.issues)} problem(s)", err=True)
    for issue in error.issues:
        typer.echo(f"  {issue}", err=True)
