"""Alby Hub over Nostr Wallet Connect: make_invoice through the adapter, payment_received over the
relay, lookup_invoice as the proof, and the poll when the notification never comes."""

import hashlib

import httpx

from shared.connectors.lightning.bolt11_invoices import decode_invoice
from shared.connectors.lightning.lnurl_pay import description_hash
from tests.conftest import Stack
from tests.infra.lightning import (
    NwcSandbox,
    entitlement_event,
    invoice_in_status,
    invoice_row,
    lightning_pack,
    nwc_checkout,
    nwc_fixture,  # noqa: F401
)

ACTIVATED = "entitlement.activated"


async def test_payment_received_notification_activates_after_lookup(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_500_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)
    invoice = decode_invoice(session["bolt11"])
    row = await invoice_row(stack.sessions, session["id"])
    assert invoice.payment_hash == session["hash"]
    assert invoice.description_hash == description_hash(row.lnurl_metadata or "")

    paid = await nwc.pay(session["hash"])

    assert hashlib.sha256(bytes.fromhex(paid["preimage"])).hexdigest() == session["hash"]
    event = await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    assert event.json()["data"]["pack_slug"] == pack.slug


async def test_lost_notification_is_caught_by_the_poll(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_500_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)
    await nwc.drop_notifications(True)
    await nwc.drop_hosted_webhooks(True)  # nor does Alby's hosted webhook come
    try:
        await nwc.pay(session["hash"])
        await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    finally:
        await nwc.drop_notifications(False)
        await nwc.drop_hosted_webhooks(False)
    polls = stack.published.on(
        stack.topics.webhooks_raw,
        lambda r: r.headers.get("delivery-source") == b"poll" and session["hash"].encode() in r.value,
    )
    assert polls
    assert not stack.published.on(
        stack.topics.webhooks_raw,
        lambda r: r.headers.get("delivery-source") == b"nwc" and session["hash"].encode() in r.value,
    )


async def test_underpaid_invoice_is_recorded_partial_and_grants_nothing(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_500_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)

    await nwc.pay(session["hash"], amountMsat=1_000_000)

    row = await invoice_in_status(stack.sessions, session["id"], "partially_paid")
    assert row.amount_paid_msat == 1_000_000
    await stack.published.caught_up()
    assert not stack.published.on(stack.topics.entitlements, lambda r: user_id.encode() in r.value)
