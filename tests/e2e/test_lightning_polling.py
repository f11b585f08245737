"""Polling fallback: a BTCPay invoice paid while every webhook is lost still activates."""

import httpx

from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    lightning_pack,
)


async def test_settlement_without_any_webhook_is_found_by_the_poll(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_500_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    invoice_id = await btcpay.invoice_id_for(session["id"])
    await btcpay.delivery_faults(drop=True)
    try:
        await btcpay.pay(invoice_id)
        event = await stack.published.wait_for(
            stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", pack.slug)
        )
    finally:
        await btcpay.delivery_faults(drop=False)

    assert event.json()["data"]["status"] == "active"
    raw = stack.published.on(
        stack.topics.webhooks_raw, lambda r: r.headers.get("delivery-source") == b"btcpay"
    )
    assert not [r for r in raw if invoice_id.encode() in r.value and b"InvoiceSettled" in r.value]


async def test_failed_webhook_deliveries_are_redelivered_and_activate(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_500_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    invoice_id = await btcpay.invoice_id_for(session["id"])
    await btcpay.delivery_faults(failNext=3)

    await btcpay.pay(invoice_id)

    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", pack.slug)
    )
    redelivered = [d for d in await btcpay.deliveries() if d["request"].get("invoiceId") == invoice_id]
    assert any(d["request"]["isRedelivery"] and d["status"] == "HttpSuccess" for d in redelivered)
