"""What the stack really publishes matches the committed AsyncAPI document (docs/asyncapi.json).

A whole RevenueCat lifecycle (purchase, renewal, cancellation, expiration) runs through the
live stack; every CloudEvent announced for the user, and every
entitlement update and raw delivery behind them, is validated against its topic's message: the
payload schema and the headers.
"""

import httpx
import pytest

from shared.messaging.topics import Topics
from tests.conftest import Stack
from tests.infra.asyncapi import committed_document, message_of, violations
from tests.infra.revenuecat import RevenueCatSandbox, make_pack, wait_until_applied
from tests.infra.topic_collector import Published
from tests.infra.waiting import eventually

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.redis]

LIFECYCLE = ("purchase", "renewal", "cancellation", "expiration")


def _record_violations(address: str, record: Published) -> list[str]:
    document = committed_document()
    message = message_of(document, address)
    headers = {name: value.decode() for name, value in record.headers.items()}
    found = violations(document, message["headers"], headers) if "headers" in message else []
    if message["contentType"] != "application/octet-stream":
        found += violations(document, message["payload"], record.json())
    return found


async def test_published_cloudevents_and_updates_match_the_asyncapi_document(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    _, product = await make_pack(stack.sessions)
    for kind in LIFECYCLE:
        event = await rc.simulate(kind, app_user_id=f"rc_{user_id}", product_id=product)
        await wait_until_applied(stack.sessions, event["id"], user_id)

    mine = user_id.encode()

    async def announced() -> list[Published] | None:
        found = stack.published.on(stack.topics.entitlements, lambda r: r.key == mine)
        return found if len(found) == 3 else None

    events = await eventually(announced, what="three CloudEvents for the user")
    assert [e.json()["type"] for e in events] == [
        "entitlement.activated",
        "entitlement.renewed",
        "entitlement.expired",
    ]
    plain = Topics()  # the document's addresses carry no namespace
    for record in events:
        assert _record_violations(plain.entitlements, record) == []
    updates = stack.published.on(stack.topics.entitlement_updates, lambda r: r.key == mine)
    assert len(updates) >= len(LIFECYCLE)
    for record in updates:
        assert _record_violations(plain.entitlement_updates, record) == []
    deliveries = stack.published.on(stack.topics.webhooks_raw, lambda r: mine in r.value)
    assert len(deliveries) >= len(LIFECYCLE)
    for record in deliveries:
        assert _record_violations(plain.webhooks_raw, record) == []


async def test_the_gateway_serves_the_committed_document_without_credentials(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10) as anonymous:
        answer = await anonymous.get(f"{stack.gateway_url}/asyncapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == committed_document()
