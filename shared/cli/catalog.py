"""``billing catalog``: apply the declarative catalog file; compare and sync it with the providers."""

import asyncio
from pathlib import Path

import typer

from shared.catalog.errors import CatalogError
from shared.catalog.file import CatalogFile, locate_issues, parse_catalog
from shared.db.catalog_write import PackChange, write_wanted_packs
from shared.db.engine import create_engine, session_factory
from shared.messaging.topics import Topics
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
        typer.echo(f"{change.kind.value:12} {change.slug}  ({', '.join(change.fields)})")
    unchanged = len(catalog.packs) - sum(1 for c in changes if c.slug in {p.slug for p in catalog.packs})
    typer.echo(f"applied {path}: {len(changes)} changed, {unchanged} unchanged")


async def _apply(catalog: CatalogFile) -> list[PackChange]:
    settings = get_settings()
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await write_wanted_packs(
                session,
                {pack.slug: pack for pack in catalog.packs},
                changes_topic=Topics(settings.namespace).catalog_changes,
                catalog_name=catalog.catalog,
                dropped_by_catalog=True,
            )
    finally:
        await engine.dispose()


def _print_issues(error: CatalogError) -> None:
    typer.echo(f"{error.source or 'catalog'}: {len(error.issues)} problem(s)", err=True)
    for issue in error.issues:
        typer.echo(f"  {issue}", err=True)
