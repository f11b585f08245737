"""``billing catalog``: load the declarative catalog file into Postgres."""

import asyncio
from pathlib import Path

import typer

from shared.catalog.file import load_catalog_file
from shared.db.catalog import upsert_pack
from shared.db.engine import create_engine, session_factory
from shared.settings import get_settings

catalog_app = typer.Typer(help="Packs and their provider listings", no_args_is_help=True)


@catalog_app.command("apply")
def apply(path: Path) -> None:
    """Insert or update every pack of the file (idempotent)."""
    catalog = load_catalog_file(path)
    asyncio.run(_apply(catalog.packs))
    typer.echo(f"applied {len(catalog.packs)} packs from {path}")


async def _apply(entries: list) -> None:  # type: ignore[type-arg]
    engine = create_engine(get_settings().database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            for entry in entries:
                await upsert_pack(session, entry.to_pack(), entry.provider_products())
    finally:
        await engine.dispose()
