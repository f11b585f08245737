"""Alby's hosted webhooks end to end: the NWC/Alby sandbox posts ``invoice.incoming.settled``
signed the Standard Webhooks way; the settlement is applied once (the NWC notification and the poll
may report it too), and a forged or stale signature is a 401 that puts nothing on any topic."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import select
from standardwebhooks import Webhook

from shared.connectors.lightning.tables import LightningDelivery
from tests.conftest import Stack
from tests.infra.lightning import (  # noqa: F401
    NwcSandbox,
    entitlement_event,
    lightning_pack,
    nwc_checkout,
    nwc_fixture,
)
from tests.infra.waiting import eventually

ACTIVATED = "entitlement.activated"
OTHER_SECRET = "whsec_" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"  # a well-formed key that is not ours


async def _hosted_attempts(nwc: NwcSandbox, payment_hash: str) -> list[dict[str, Any]]:
    response = await nwc.http.get(f"{nwc.base_url}/control/hosted-webhooks")
    attempts: list[dict[str, Any]] = response.json()["attempts"]
    return [a for a in attempts if a["payload"]["payment_hash"] == payment_hash]


async def _alby_delivery(stack: Stack, webhook_id: str) -> LightningDelivery | None:
    async with stack.sessions() as session:
        return await session.scalar(
            select(LightningDelivery).where(LightningDelivery.dedupe_key == f"alby:{webhook_id}")
        )


async def test_settlement_notified_by_a_hosted_webhook_activates_once(
    stack: Stack, http: httpx.AsyncClient, nwc: NwcSandbox, user_id: str
) -> None:
    pack, _ = await lightning_pack(stack.sessions, price=2_500_000, currency="BTC")
    session = await nwc_checkout(stack, http, user_id, pack)

    await nwc.pay(session["hash"])

    async def delivered() -> bool:
        return any(a["status"] == 200 for a in await _hosted_attempts(nwc, session["hash"]))

    await eventually(delivered, what="the hosted webhook answered 200 by the gateway")
    [attempt] = [a for a in await _hosted_attempts(nwc, session["hash"]) if a["status"] == 200]
    await eventually(
        lambda: _processed(stack, attempt["id"]), what="ingest recorded the hosted webhook's delivery"
    )
    # The activation goes through the worker and the outbox relay after ingest: wait for it, then
    # read every topic up to its end before counting.
    await stack.published.wait_for(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    await stack.published.caught_up()
    raw = stack.published.on(
        stack.topics.webhooks_raw,
        lambda r: r.headers.get("delivery-source") == b"alby" and session["hash"].encode() in r.value,
    )
    assert [r.headers["delivery-id"].decode() for r in raw] == [attempt["id"]]
    activations = stack.published.on(stack.topics.entitlements, entitlement_event(user_id, ACTIVATED))
    assert len(activations) == 1  # webhook, NWC notification and poll: one effect


async def _processed(stack: Stack, webhook_id: str) -> bool:
    return await _alby_delivery(stack, webhook_id) is not None


async def test_forged_or_stale_hosted_webhook_is_refused_and_publishes_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    secret = stack.settings.alby.webhook_secret.get_secret_value()
    body = orjson.dumps({"type": "invoice.incoming.settled", "payment_hash": uuid.uuid4().hex * 2}).decode()
    stale_at = datetime.now(UTC) - timedelta(minutes=10)  # outside Standard Webhooks' 5 minutes
    forged_at = datetime.now(UTC)
    cases = {
        f"msg_stale_{uuid.uuid4().hex[:8]}": (Webhook(secret), stale_at),
        f"msg_forged_{uuid.uuid4().hex[:8]}": (
            Webhook("whsec_" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC"),
            forged_at,
        ),
    }
    for message_id, (signer, at) in cases.items():
        response = await http.post(
            f"{stack.gateway_url}/v1/webhooks/lightning",
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(int(at.timestamp())),
                "webhook-signature": signer.sign(message_id, at, body),
            },
        )
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthorized"

    # The gateway refuses before it publishes; read every topic up to its end and look.
    await stack.published.caught_up()
    for topic in stack.topics.all():
        for record in stack.published.on(topic):
            seen = record.value + b"".join(record.headers.values())
            assert not any(message_id.encode() in seen for message_id in cases), topic
