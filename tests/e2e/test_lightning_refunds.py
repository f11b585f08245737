"""Refunds: a BTCPay pull payment, ``processing`` until its payout completes, then revoked."""

import asyncio
from typing import Any

import httpx

from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    lightning_pack,
)
from tests.infra.waiting import eventually


async def _paid_purchase(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> dict[str, Any]:
    """A settled Lightning purchase of a 3,000 sat pack, its activation published; its checkout."""
    pack, _ = await lightning_pack(stack.sessions, price=3_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    await btcpay.pay(await btcpay.invoice_id_for(session["id"]))
    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", pack.slug)
    )
    return session


async def test_refund_is_processing_until_the_payout_completes_then_revokes(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=3_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    invoice_id = await btcpay.invoice_id_for(session["id"])
    await btcpay.pay(invoice_id)
    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", pack.slug)
    )

    started = await http.post(
        f"{stack.gateway_url}/v1/lightning/refunds",
        json={"purchaseReference": session["purchaseReference"], "reason": "customer asked"},
    )
    assert started.status_code == 202
    refund = started.json()
    assert refund["status"] == "processing"
    pull_payment = await btcpay.pull_payment(refund["pullPaymentId"])
    assert pull_payment["amount"] == "0.00003000"

    await btcpay.complete_refund(invoice_id)

    revoked = await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.revoked", pack.slug)
    )
    assert revoked.json()["data"]["reason"] == "refunded"

    async def completed() -> str | None:
        view = (await http.get(f"{stack.gateway_url}/v1/lightning/refunds/{refund['refundId']}")).json()
        return view["status"] if view["status"] == "completed" else None

    await eventually(completed, what="refund completed")


async def test_starting_a_refund_twice_returns_the_same_refund(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    session = await _paid_purchase(stack, http, btcpay, user_id)
    body = {"purchaseReference": session["purchaseReference"]}

    first = (await http.post(f"{stack.gateway_url}/v1/lightning/refunds", json=body)).json()
    second = (await http.post(f"{stack.gateway_url}/v1/lightning/refunds", json=body)).json()

    assert second["refundId"] == first["refundId"]
    assert second["pullPaymentId"] == first["pullPaymentId"]


async def test_concurrent_refund_starts_create_one_pull_payment(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    session = await _paid_purchase(stack, http, btcpay, user_id)
    pull_payments_before = {p["id"] for p in await btcpay.greenfield("GET", "/pull-payments")}
    body = {"purchaseReference": session["purchaseReference"], "reason": "double click"}

    await btcpay.faults(writeDelayMs=300)  # a slow BTCPay: the four starts overlap for sure
    try:
        answers = await asyncio.gather(
            *(http.post(f"{stack.gateway_url}/v1/lightning/refunds", json=body) for _ in range(4))
        )
    finally:
        await btcpay.faults()

    assert {answer.status_code for answer in answers} <= {200, 202}
    assert len({answer.json()["refundId"] for answer in answers}) == 1
    created = {p["id"] for p in await btcpay.greenfield("GET", "/pull-payments")} - pull_payments_before
    assert created == {answers[0].json()["pullPaymentId"]}


async def test_refund_of_an_unknown_purchase_is_a_404(stack: Stack, http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"{stack.gateway_url}/v1/lightning/refunds", json={"purchaseReference": "nope"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "purchase_not_found"
