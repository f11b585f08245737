"""The walking skeleton: a RevenueCat purchase through the sandbox, gateway, Kafka, worker and Postgres."""

import httpx
import pytest

from shared.domain.packs import MicroSaasPack
from tests.conftest import Stack, revenuecat_product_of
from tests.infra.revenuecat import RevenueCatSandbox, announced, revenuecat_event, wait_until_applied


def _activation_for(user_id: str):  # type: ignore[no-untyped-def]
    return lambda r: r.json()["subject"] == user_id and r.json()["type"] == "entitlement.activated"


async def test_initial_purchase_becomes_activated_event_row_and_read(
    stack: Stack,
    http: httpx.AsyncClient,
    rc: RevenueCatSandbox,
    user_id: str,
    subscription_pack: MicroSaasPack,
) -> None:
    await rc.simulate(
        "purchase", app_user_id=f"rc_{user_id}", product_id=revenuecat_product_of(subscription_pack)
    )

    event = await stack.published.wait_for(stack.topics.entitlements, _activation_for(user_id))
    cloud_event = event.json()
    assert event.key == user_id.encode()
    assert cloud_event["specversion"] == "1.0"
    assert cloud_event["data"]["pack_slug"] == subscription_pack.slug
    assert cloud_event["data"]["status"] == "active"

    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    entitlements = read.json()["entitlements"]
    assert [(e["pack_slug"], e["status"]) for e in entitlements] == [(subscription_pack.slug, "active")]
    assert entitlements[0]["entitlement_id"] == cloud_event["data"]["entitlement_id"]


async def test_duplicate_webhook_has_one_effect(
    stack: Stack,
    rc: RevenueCatSandbox,
    user_id: str,
    subscription_pack: MicroSaasPack,
) -> None:
    purchase = await rc.simulate(
        "purchase",
        app_user_id=f"rc_{user_id}",
        product_id=revenuecat_product_of(subscription_pack),
        duplicates=2,
    )
    await rc.wait_delivered(purchase["id"], copies=3)  # all three copies were accepted ...
    await wait_until_applied(stack.sessions, purchase["id"], user_id)
    await stack.published.caught_up()
    raw = stack.published.on(stack.topics.webhooks_raw, lambda r: purchase["id"].encode() in (r.key or b""))
    assert len(raw) == 3
    assert await announced(stack.sessions, purchase["id"]) == [("entitlement.activated", user_id)]  # ... once


@pytest.mark.parametrize(
    ("authorization", "payload", "status", "code"),
    [
        ("Bearer wrong", None, 401, "unauthorized"),
        (None, None, 401, "unauthorized"),
        (
            "valid",
            '{"api_version": "1.0", "event": {"type": "INITIAL_PURCHASE", "app_user_id": "rc_%s"}}',
            400,
            "invalid_webhook",
        ),
        ("valid", "not json, rc_%s", 400, "invalid_webhook"),
    ],
    ids=["wrong-authorization", "no-authorization", "envelope-without-event-id", "not-json"],
)
async def test_rejected_webhook_reaches_no_topic(
    stack: Stack,
    http: httpx.AsyncClient,
    auth_headers: dict[str, str],
    user_id: str,
    subscription_pack: MicroSaasPack,
    authorization: str | None,
    payload: str | None,
    status: int,
    code: str,
) -> None:
    good = revenuecat_event(
        "INITIAL_PURCHASE",
        app_user_id=f"rc_{user_id}",
        product_id=revenuecat_product_of(subscription_pack),
    )
    headers = {"Content-Type": "application/json"}
    if authorization == "valid":
        headers["Authorization"] = auth_headers["Authorization"]
    elif authorization is not None:
        headers["Authorization"] = authorization
    content = (
        (payload % user_id).encode() if payload is not None else httpx.Request("POST", "/", json=good).content
    )
    response = await http.post(
        f"{stack.gateway_url}/v1/webhooks/revenuecat", content=content, headers=headers
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code

    await stack.published.caught_up()
    assert not [r for r in stack.published.records if user_id.encode() in r.value]
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    assert read.json()["entitlements"] == []
