"""``billing entitlements revoke``: an operator withdraws one entitlement through the pipeline."""

import asyncio
import getpass
import uuid
from typing import Annotated

import typer

from shared.bootstrap import command_runtime
from shared.connectors.revocation import RevocationRequested, revoke_entitlement_by_id
from shared.settings import get_settings

entitlements_app = typer.Typer(help="Entitlements: revoke one through its provider", no_args_is_help=True)


@entitlements_app.command("revoke")
def revoke(
    entitlement_id: Annotated[
        uuid.UUID, typer.Argument(help="the entitlement_id (GET /v1/users/{id}/entitlements)")
    ],
    reason: Annotated[str, typer.Option(help="why, kept with the revocation and in the audit log")],
) -> None:
    """Propose the revocation on the user's partition; the worker applies and announces it."""
    try:
        requested = asyncio.run(_revoke(entitlement_id, reason))
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"revocation of {requested.entitlement_id} ({requested.provider.value}, user {requested.user_id}) "
        "accepted; the worker applies it and announces entitlement.revoked"
    )


async def _revoke(entitlement_id: uuid.UUID, reason: str) -> RevocationRequested:
    async with command_runtime(get_settings(), producer=True) as runtime:
        return await revoke_entitlement_by_id(
            runtime.sessions, runtime.connectors, entitlement_id, reason, f"cli:{getpass.getuser()}"
        )
