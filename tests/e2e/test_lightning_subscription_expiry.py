"""Subscription expiry: the worker's sweeper ends a lapsed Lightning subscription, announced once."""

import httpx
import orjson

from shared.domain.packs import BillingKind
from shared.messaging.producer import create_producer
from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    checkout,
    entitlement_event,
    lightning_pack,
)


async def test_lapsed_subscription_is_expired_once_even_when_the_expiry_is_replayed(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(
        stack.sessions, price=1_000_000, currency="BTC", kind=BillingKind.SUBSCRIPTION, period="PT2S"
    )
    session = await checkout(http, stack.gateway_url, user_id, pack)
    await btcpay.pay(await btcpay.invoice_id_for(session["id"]))

    expired = await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.expired", pack.slug)
    )
    assert expired.json()["data"]["status"] == "expired"

    expiry_update = stack.published.on(
        stack.topics.entitlement_updates,
        lambda r: user_id.encode() in r.value and r.json()["update_id"].startswith("expiry:"),
    )[0]
    producer = create_producer(stack.settings)
    await producer.start()
    try:
        await producer.send_and_wait(
            stack.topics.entitlement_updates, value=expiry_update.value, key=expiry_update.key
        )
    finally:
        await producer.stop()
    # A later purchase by the same user queues behind the replay (same partition, keyed by user).
    sentinel, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    sentinel_session = await checkout(http, stack.gateway_url, user_id, sentinel)
    await btcpay.pay(await btcpay.invoice_id_for(sentinel_session["id"]))
    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, "entitlement.activated", sentinel.slug)
    )
    await stack.published.caught_up()

    assert (
        len(stack.published.on(stack.topics.entitlements, entitlement_event(user_id, "entitlement.expired")))
        == 1
    )
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    statuses = {e["pack_slug"]: e["status"] for e in read.json()["entitlements"]}
    assert statuses == {pack.slug: "expired", sentinel.slug: "active"}
    assert orjson.loads(expiry_update.value)["status"] == "expired"
