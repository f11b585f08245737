"""``billing toy ...``: the toy provider's own CLI subcommands, which ``billing`` mounts like the
built-in providers' once ``BILLING_EXTRA_PROVIDERS`` names the plugin."""

import asyncio
import sys

import typer

from shared.bootstrap import command_runtime
from shared.settings import get_settings
from tests.infra.toy_provider.delivery import SECRET_NAME, SIGNATURE_HEADER, signature

toy_app = typer.Typer(help="The tests' toy provider: sign a webhook body as the provider would.")


@toy_app.command()
def sign() -> None:
    """Print the signature header the toy provider would send with the body read from stdin."""
    body = sys.stdin.buffer.read()
    typer.echo(asyncio.run(_signature_header(body)))


async def _signature_header(body: bytes) -> str:
    async with command_runtime(get_settings()) as runtime:
        secret = await runtime.secrets.current(SECRET_NAME)
    return f"{SIGNATURE_HEADER}: {signature(secret.reveal(), body)}"
