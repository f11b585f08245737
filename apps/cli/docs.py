"""``billing docs``: documents generated from the code, so they cannot drift from it."""

import typer

from apps.cli.asyncapi import DOCUMENT, asyncapi_document, rendered

docs_app = typer.Typer(help="Generated documents (AsyncAPI)", no_args_is_help=True)


@docs_app.command("asyncapi")
def write_asyncapi(
    check: bool = typer.Option(False, "--check", help="Only compare; exit 1 when the file is stale."),
) -> None:
    """Write the AsyncAPI 3 document of every topic to docs/asyncapi.json."""
    fresh = rendered(asyncapi_document())
    if check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != fresh:
            typer.echo(f"{DOCUMENT} is stale: run `billing docs asyncapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{DOCUMENT} is up to date")
        return
    DOCUMENT.write_text(fresh)
    typer.echo(f"wrote {DOCUMENT}")
