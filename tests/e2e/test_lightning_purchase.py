"""A Lightning purchase end to end: checkout → BOLT11 → payment (preimage) → activation."""

import hashlib

import httpx
import pytest

from shared.connectors.lightning.bolt11_invoices import decode_invoice
from shared.domain.packs import BillingKind
from tests.conftest import Stack
from tests.infra.lightning import BtcpaySandbox, checkout, entitlement_event, lightning_pack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def btcpay(stack: Stack, http: httpx.AsyncClient) -> BtcpaySandbox:
    return BtcpaySandbox(
        http,
        stack.sandbox_urls["btcpay"],
        stack.settings.btcpay_store_id,
        stack.settings.btcpay_api_key.get_secret_value(),
    )


async def test_paid_invoice_activates_the_pack_with_preimage_proof(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=19_900_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    invoice = decode_invoice(session["lightningInvoice"])
    assert invoice.amount_msat == session["amountMsat"] == 19_900_000
    assert session["lnurl"].startswith("LNURL1")

    paid = await btcpay.pay(await btcpay.invoice_id_for(session["id"]))

    assert hashlib.sha256(bytes.fromhex(paid["preimage"])).hexdigest() == invoice.payment_hash
    event = await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated"))
    assert event.json()["data"]["pack_slug"] == pack.slug
    assert event.json()["data"]["purchase_reference"] == invoice.payment_hash
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    assert [(e["pack_slug"], e["status"], e["expires_at"]) for e in read.json()["entitlements"]] == [
        (pack.slug, "active", None)
    ]
