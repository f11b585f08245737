"""Invoices that do not settle: expired, partially paid, paid late (BTCPay's ``additionalStatus``)."""

import httpx

from shared.connectors.lightning.tables import LightningInvoice
from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    invoice_in_status,
    invoice_row,
    lightning_pack,
)
from tests.infra.waiting import eventually


async def _no_entitlement(stack: Stack, http: httpx.AsyncClient, user_id: str) -> None:
    await stack.published.caught_up()
    assert not stack.published.on(stack.topics.entitlements, lambda r: user_id.encode() in r.value)
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    assert read.json()["entitlements"] == []


async def test_expired_invoice_grants_nothing(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)

    await btcpay.expire(await btcpay.invoice_id_for(session["id"]))

    row = await invoice_in_status(stack.sessions, session["id"], "expired")
    assert (row.provider_status, row.amount_paid_msat) == ("Expired", 0)
    await _no_entitlement(stack, http, user_id)


async def test_partial_payment_is_recorded_and_grants_nothing(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)

    await btcpay.pay(await btcpay.invoice_id_for(session["id"]), amountMsat=400_000)

    async def partially_paid() -> LightningInvoice | None:
        # The re-read takes two GETs (invoice, payment methods): one reading may see the payment
        # before BTCPay's PaidPartial; the next delivery's re-read records it.
        row = await invoice_row(stack.sessions, session["id"])
        return (
            row if (row.status, row.provider_additional_status) == ("partially_paid", "PaidPartial") else None
        )

    row = await eventually(partially_paid, what="invoice partially paid (PaidPartial)")
    assert row.amount_paid_msat == 400_000
    await _no_entitlement(stack, http, user_id)


async def test_late_payment_waits_for_the_merchant_then_activates_when_marked_settled(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    invoice_id = await btcpay.invoice_id_for(session["id"])

    await btcpay.pay(invoice_id, late=True)

    row = await invoice_in_status(stack.sessions, session["id"], "paid_late")
    assert (row.provider_status, row.provider_additional_status) == ("Expired", "PaidLate")
    await _no_entitlement(stack, http, user_id)

    await btcpay.greenfield("POST", f"/invoices/{invoice_id}/status", json={"status": "Settled"})

    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", pack.slug)
    )
