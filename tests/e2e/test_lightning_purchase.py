"""Lightning purchases end to end: checkout → BOLT11 (or LNURL-pay) → payment → activation."""

import hashlib
from datetime import datetime
from decimal import Decimal

import httpx
from lnurl import url_decode
from redis.asyncio import Redis

from shared.connectors.lightning.bolt11_invoices import decode_invoice
from shared.connectors.lightning.pricing.conversion import fiat_minor_to_msat, round_up_to_sat
from shared.connectors.lightning.pricing.oracle import price_oracle_from_settings
from shared.domain.packs import BillingKind
from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    invoice_row,
    lightning_pack,
)

ACTIVATED = "entitlement.activated"


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
    event = await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    assert event.json()["data"]["pack_slug"] == pack.slug
    assert event.json()["data"]["purchase_reference"] == invoice.payment_hash
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    entitlements = read.json()["entitlements"]
    assert [(e["pack_slug"], e["status"], e["expires_at"]) for e in entitlements] == [
        (pack.slug, "active", None)
    ]


async def test_subscription_settlement_grants_one_period(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(
        stack.sessions, price=5_000_000, currency="BTC", kind=BillingKind.SUBSCRIPTION, period="P1M"
    )
    session = await checkout(http, stack.gateway_url, user_id, pack)

    await btcpay.pay(await btcpay.invoice_id_for(session["id"]))

    event = await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    data = event.json()["data"]
    activated, expires = (
        datetime.fromisoformat(data["activated_at"]),
        datetime.fromisoformat(data["expires_at"]),
    )
    assert (expires.year * 12 + expires.month) - (activated.year * 12 + activated.month) == 1
    assert expires.day == activated.day or expires.day < activated.day  # month ends clamp


async def test_lnurl_pay_returns_an_invoice_committing_to_the_metadata_and_paying_it_activates(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_100_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)

    pay_request = (await http.get(url_decode(session["lnurl"]))).json()
    assert pay_request["tag"] == "payRequest"
    assert pay_request["minSendable"] == pay_request["maxSendable"] == session["amountMsat"]
    answer = (await http.get(pay_request["callback"], params={"amount": session["amountMsat"]})).json()
    invoice = decode_invoice(answer["pr"])
    assert invoice.description_hash == hashlib.sha256(pay_request["metadata"].encode()).hexdigest()
    assert invoice.amount_msat == session["amountMsat"]

    await btcpay.pay(await btcpay.invoice_id_for(session["id"]), paymentHash=invoice.payment_hash)

    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, ACTIVATED, pack.slug)
    )


async def test_lnurl_callback_refuses_another_amount(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_100_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    pay_request = (await http.get(url_decode(session["lnurl"]))).json()

    answer = (await http.get(pay_request["callback"], params={"amount": session["amountMsat"] - 1000})).json()

    assert answer["status"] == "ERROR"


async def test_fiat_pack_is_priced_through_the_oracle_and_the_quote_stays_locked(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=499, currency="USD")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    row = await invoice_row(stack.sessions, session["id"])
    rate = Decimal(row.quote_rate or "0")
    assert session["amountMsat"] == round_up_to_sat(fiat_minor_to_msat(499, "USD", rate))
    assert (session["amountMinor"], session["currency"]) == (499, "USD")

    await btcpay.set_rate("BTC_USD", str(rate * 2))
    try:
        pay_request = (await http.get(url_decode(session["lnurl"]))).json()
        assert pay_request["maxSendable"] == session["amountMsat"]
        async with httpx.AsyncClient() as oracle_http:
            redis = Redis.from_url(stack.settings.redis_url)
            oracle = price_oracle_from_settings(stack.settings, oracle_http, redis)
            locked = await oracle.locked_quote(row.quote_id or "")
            await redis.aclose()
        assert locked is not None and locked.btc_price == rate

        await btcpay.pay(await btcpay.invoice_id_for(session["id"]))
    finally:
        await btcpay.set_rate("BTC_USD", str(rate))

    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, ACTIVATED, pack.slug)
    )


async def test_second_subscription_payment_renews_from_the_current_expiry(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(
        stack.sessions, price=5_000_000, currency="BTC", kind=BillingKind.SUBSCRIPTION, period="P1M"
    )
    first = await checkout(http, stack.gateway_url, user_id, pack)
    await btcpay.pay(await btcpay.invoice_id_for(first["id"]))
    activated = await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, ACTIVATED)
    )

    renewal = await checkout(http, stack.gateway_url, user_id, pack)
    await btcpay.pay(await btcpay.invoice_id_for(renewal["id"]))

    renewed = await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.renewed", pack.slug)
    )
    assert renewal["purchaseReference"] == first["purchaseReference"]
    first_expiry = datetime.fromisoformat(activated.json()["data"]["expires_at"])
    renewed_expiry = datetime.fromisoformat(renewed.json()["data"]["expires_at"])
    assert (renewed_expiry.year * 12 + renewed_expiry.month) - (
        first_expiry.year * 12 + first_expiry.month
    ) == 1
