"""``POST /v1/webhooks/lightning``: signatures, envelopes, replays and unknown event types."""

import time
import uuid
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from standardwebhooks import Webhook

from shared.connectors.lightning.tables import LightningDelivery
from tests.conftest import Stack
from tests.infra.lightning import (
    BtcpaySandbox,
    btcpay_fixture,  # noqa: F401
    btcpay_signature,
    checkout,
    deliveries_for,
    entitlement_event,
    lightning_pack,
)
from tests.infra.waiting import eventually

ACTIVATED = "entitlement.activated"


def _settled_event(invoice_id: str, delivery_id: str, original: str | None = None) -> bytes:
    return orjson.dumps(
        {
            "deliveryId": delivery_id,
            "webhookId": "hook-1",
            "originalDeliveryId": original or delivery_id,
            "isRedelivery": original is not None,
            "type": "InvoiceSettled",
            "timestamp": int(time.time()),
            "storeId": "store-test",
            "invoiceId": invoice_id,
            "metadata": {},
            "manuallyMarked": False,
            "overPaid": False,
        }
    )


async def _post(
    http: httpx.AsyncClient, stack: Stack, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await http.post(
        f"{stack.gateway_url}/v1/webhooks/lightning",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, "forged-with-another-secret", "sha1=abc"],
    ids=["missing", "zero-hmac", "wrong-secret", "wrong-scheme"],
)
async def test_forged_signature_is_refused_and_reaches_no_topic(
    stack: Stack, http: httpx.AsyncClient, signature: str | None
) -> None:
    marker = f"forged-{uuid.uuid4().hex}"
    body = _settled_event(marker, marker)
    headers = {}
    if signature == "forged-with-another-secret":
        headers["BTCPay-Sig"] = btcpay_signature("not-the-secret", body)
    elif signature is not None:
        headers["BTCPay-Sig"] = signature

    response = await _post(http, stack, body, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    await stack.published.caught_up()
    assert not [
        r for r in stack.published.records if marker.encode() in r.value or marker.encode() in (r.key or b"")
    ]


async def test_signed_body_that_is_not_a_btcpay_event_is_a_400(stack: Stack, http: httpx.AsyncClient) -> None:
    body = b'{"hello": "world"}'
    secret = stack.settings.btcpay.webhook_secret.get_secret_value()

    response = await _post(http, stack, body, {"BTCPay-Sig": btcpay_signature(secret, body)})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook"


async def test_alby_standard_webhook_with_an_unknown_key_is_refused(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    body = orjson.dumps({"payment_hash": "00" * 32, "type": "invoice.incoming.settled"})
    signature = Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").sign(
        "msg_1", datetime.now(UTC), body.decode()
    )
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": signature,
    }

    response = await _post(http, stack, body, headers)

    assert response.status_code == 401


async def test_replayed_deliveries_of_a_settlement_have_one_effect(
    stack: Stack, http: httpx.AsyncClient, btcpay: BtcpaySandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    session = await checkout(http, stack.gateway_url, user_id, pack)
    invoice_id = await btcpay.invoice_id_for(session["id"])
    await btcpay.pay(invoice_id)
    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, ACTIVATED, pack.slug)
    )
    settled = next(
        d
        for d in await btcpay.deliveries()
        if d["request"].get("invoiceId") == invoice_id and d["request"]["type"] == "InvoiceSettled"
    )

    # BTCPay's own redelivery (new deliveryId, same originalDeliveryId) and a byte-identical replay.
    webhook_id = settled["request"]["webhookId"]
    await btcpay.greenfield("POST", f"/webhooks/{webhook_id}/deliveries/{settled['id']}/redeliver")
    replay = orjson.dumps(settled["request"])
    secret = stack.settings.btcpay.webhook_secret.get_secret_value()
    assert (
        await _post(http, stack, replay, {"BTCPay-Sig": btcpay_signature(secret, replay)})
    ).status_code == 200

    async def seen_three_times() -> bool | None:
        rows = [
            d for d in await deliveries_for(stack.sessions, invoice_id) if d.event_type == "InvoiceSettled"
        ]
        return True if rows and rows[0].times_seen >= 3 else None

    await eventually(seen_three_times, what="three copies of InvoiceSettled recorded")
    # A later purchase by the same user queues behind the replays (same partition, keyed by user).
    sentinel, _ = await lightning_pack(stack.sessions, price=1_000_000, currency="BTC")
    sentinel_session = await checkout(http, stack.gateway_url, user_id, sentinel)
    await btcpay.pay(await btcpay.invoice_id_for(sentinel_session["id"]))
    await stack.published.wait_for(
        stack.topics.entitlements, entitlement_event(user_id, ACTIVATED, sentinel.slug)
    )
    await stack.published.caught_up()
    activations = stack.published.on(
        stack.topics.entitlements, entitlement_event(user_id, ACTIVATED, pack.slug)
    )
    assert len(activations) == 1


async def test_unknown_event_type_is_acknowledged_and_recorded(stack: Stack, http: httpx.AsyncClient) -> None:
    delivery_id = f"unknown-{uuid.uuid4().hex}"
    body = orjson.dumps(
        {
            "deliveryId": delivery_id,
            "webhookId": "hook-1",
            "originalDeliveryId": delivery_id,
            "isRedelivery": False,
            "type": "SubscriberCreditsUpdated",
            "timestamp": int(time.time()),
            "storeId": "store-test",
        }
    )
    secret = stack.settings.btcpay.webhook_secret.get_secret_value()

    response = await _post(http, stack, body, {"BTCPay-Sig": btcpay_signature(secret, body)})

    assert response.status_code == 200

    async def recorded() -> str | None:
        async with stack.sessions() as session:
            row = await session.get(LightningDelivery, f"btcpay:{delivery_id}")
            return row.outcome if row is not None else None

    assert (await eventually(recorded, what="unknown delivery recorded")).startswith("ignored")
