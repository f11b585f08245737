"""``billing lightning ...``: pay, underpay, pay late or expire a Lightning checkout in the local sandboxes.

The sandboxes are the ones ``billing up`` starts (``apps/cli/lightning_sandboxes.py``): BTCPay on port
8093, the NWC wallet on control port 8094 and relay 8095.
"""

import asyncio
import json
import os
import time
import uuid
from typing import Any

import httpx
import typer

from shared.connectors.lightning import invoice_store
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.engine import command_session
from shared.db.entitlements import list_user_entitlements
from shared.settings import Settings, get_settings

# Ports of the local sandboxes; the environment may move them (a second stack on one machine).
BTCPAY_PORT = int(os.environ.get("BILLING_BTCPAY_SANDBOX_PORT", "8093"))
NWC_PORT = int(os.environ.get("BILLING_NWC_SANDBOX_PORT", "8094"))
NWC_RELAY_PORT = int(os.environ.get("BILLING_NWC_RELAY_PORT", "8095"))
LOCAL_STORE_ID = "local-store"

lightning_app = typer.Typer(help="Lightning sandboxes: pay, underpay, pay late or expire a checkout by hand.")


async def _invoice_of(settings: Settings, checkout_id: str) -> LightningInvoice | None:
    async with command_session(settings.database_url) as session:
        return await invoice_store.invoice_for_session(session, uuid.UUID(checkout_id))


def _control(invoice: LightningInvoice, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """The sandbox that issued the invoice, asked to act on it as the payer or the network would."""
    if invoice.backend == "btcpay":
        url = f"http://127.0.0.1:{BTCPAY_PORT}/control/invoices/{invoice.provider_invoice_id}/{action}"
    else:
        url = f"http://127.0.0.1:{NWC_PORT}/control/invoices/{invoice.payment_hash}/{action}"
    response = httpx.post(url, json=body, timeout=10)
    if response.status_code != 200:
        raise typer.BadParameter(f"sandbox refused to {action}: {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def _checkout_invoice(settings: Settings, checkout_id: str) -> LightningInvoice:
    try:
        invoice = asyncio.run(_invoice_of(settings, checkout_id))
    except ValueError as exc:
        raise typer.BadParameter("not a checkout id (the `id` of POST /v1/checkout)") from exc
    if invoice is None:
        raise typer.BadParameter(f"no Lightning checkout {checkout_id}", param_hint="CHECKOUT_ID")
    return invoice


async def _entitlement(settings: Settings, user_id: str, reference: str) -> dict[str, Any] | None:
    async with command_session(settings.database_url) as session:
        found = await list_user_entitlements(session, user_id)
    return next((e for e in found if e["purchase_reference"] == reference), None)


@lightning_app.command()
def pay(
    checkout_id: str,
    amount_msat: int | None = typer.Option(None, help="pay less (or more) than the invoice asks"),
    late: bool = typer.Option(False, help="pay after the invoice expired"),
    wait_s: float = typer.Option(30.0, help="how long to wait for the entitlement"),
) -> None:
    """Pay a checkout's invoice (revealing the preimage) and print the entitlement it grants."""
    settings = get_settings()
    invoice = _checkout_invoice(settings, checkout_id)
    body: dict[str, Any] = {"late": late} | ({"amountMsat": amount_msat} if amount_msat is not None else {})
    paid = _control(invoice, "pay", body)
    typer.echo(f"paid {invoice.payment_hash}: preimage {paid.get('preimage')}")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        found = asyncio.run(_entitlement(settings, invoice.user_id, invoice.purchase_reference))
        if found is not None and found["status"] == "active":
            typer.echo(json.dumps(found, indent=2))
            return
        time.sleep(0.3)
    typer.echo("no active entitlement (underpaid, late or expired invoices grant none)", err=True)
    raise typer.Exit(1)


@lightning_app.command()
def expire(checkout_id: str) -> None:
    """Let a checkout's invoice expire now."""
    invoice = _checkout_invoice(get_settings(), checkout_id)
    typer.echo(json.dumps(_control(invoice, "expire", {})))
