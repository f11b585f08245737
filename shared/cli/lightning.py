"""``billing lightning ...``: pay a Lightning checkout by hand; how ``billing up`` runs the sandboxes.

``billing up`` starts the BTCPay sandbox (port 8093) as the checkout back end and rate source, and the
NWC wallet sandbox (control port 8094, relay 8095), unless ``BILLING_BTCPAY_BASE_URL`` points at a real
BTCPay Server. Their API key, webhook secret and NWC connection secret are generated into ``.local/``.
"""

import asyncio
import json
import os
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import typer

from sandboxes.nwc.keys import connection_uri
from shared.connectors.lightning import invoices
from shared.connectors.lightning.tables import LightningInvoice
from shared.db.engine import create_engine, session_factory
from shared.db.entitlements import list_user_entitlements
from shared.settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_SECRETS_FILE = REPO_ROOT / ".local" / "lightning-sandboxes.json"
# Ports of the local sandboxes; the environment may move them (a second stack on one machine).
BTCPAY_PORT = int(os.environ.get("BILLING_BTCPAY_SANDBOX_PORT", "8093"))
NWC_PORT = int(os.environ.get("BILLING_NWC_SANDBOX_PORT", "8094"))
NWC_RELAY_PORT = int(os.environ.get("BILLING_NWC_RELAY_PORT", "8095"))
LOCAL_STORE_ID = "local-store"

lightning_app = typer.Typer(help="Lightning sandboxes: pay, underpay, pay late or expire a checkout by hand.")


def _local_secrets() -> dict[str, str]:
    """Per-machine sandbox secrets, generated once and kept out of the repo."""
    if not LOCAL_SECRETS_FILE.exists():
        LOCAL_SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "btcpay_api_key": secrets.token_urlsafe(24),
            "btcpay_webhook_secret": secrets.token_urlsafe(24),
            "nwc_client_secret": secrets.token_hex(32),
        }
        LOCAL_SECRETS_FILE.write_text(json.dumps(values))
        LOCAL_SECRETS_FILE.chmod(0o600)
    stored: dict[str, str] = json.loads(LOCAL_SECRETS_FILE.read_text())
    return stored


def sandbox_environment(env: dict[str, str]) -> dict[str, str]:
    """Point the stack at the local sandboxes unless a BTCPay Server was configured explicitly."""
    if "BILLING_BTCPAY_BASE_URL" in env:
        return env
    local = _local_secrets()
    return env | {
        "BILLING_LIGHTNING_BACKEND": env.get("BILLING_LIGHTNING_BACKEND", "btcpay"),
        "BILLING_BTCPAY_BASE_URL": f"http://127.0.0.1:{BTCPAY_PORT}",
        "BILLING_BTCPAY_STORE_ID": LOCAL_STORE_ID,
        "BILLING_BTCPAY_API_KEY": local["btcpay_api_key"],
        "BILLING_BTCPAY_WEBHOOK_SECRET": local["btcpay_webhook_secret"],
        "BILLING_NWC_URI": env.get("BILLING_NWC_URI")
        or connection_uri(local["nwc_client_secret"], NWC_RELAY_PORT),
    }


def sandbox_commands(env: dict[str, str], settings: Settings) -> dict[str, list[str]]:
    """argv of each local sandbox ``billing up`` starts (secrets reach them through ``env``)."""
    if env.get("BILLING_BTCPAY_BASE_URL") != f"http://127.0.0.1:{BTCPAY_PORT}":
        return {}
    webhook_url = f"http://127.0.0.1:{settings.gateway_port}/v1/webhooks/lightning"
    btcpay = ["-m", "sandboxes.btcpay", "--port", str(BTCPAY_PORT), "--webhook-url", webhook_url]
    return {
        "btcpay-sandbox": [sys.executable, *btcpay],
        "nwc-sandbox": [sys.executable, "-m", "sandboxes.nwc", "--port", str(NWC_PORT)],
    }


async def _invoice_of(settings: Settings, checkout_id: str) -> LightningInvoice | None:
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            return await invoices.invoice_for_session(session, uuid.UUID(checkout_id))
    finally:
        await engine.dispose()


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
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            found = await list_user_entitlements(session, user_id)
    finally:
        await engine.dispose()
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
