"""Whole RevenueCat lifecycles: in order, duplicated, and shuffled, ending where the subscribers API is."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.infra.revenuecat import (
    RevenueCatSandbox,
    announced,
    entitlement_rows,
    make_pack,
    wait_until_applied,
)

LIFECYCLE = ("purchase", "renewal", "cancellation", "expiration")


@pytest.fixture
async def product(stack: Stack) -> str:
    _, product_id = await make_pack(stack.sessions)
    return product_id


async def _announcements(stack: Stack, event_ids: list[str]) -> list[str]:
    return [
        event_type for event_id in event_ids for event_type, _ in await announced(stack.sessions, event_id)
    ]


async def _ledger_entry(http: httpx.AsyncClient, stack: Stack, user_id: str) -> tuple[str, datetime | None]:
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    [entitlement] = read.json()["entitlements"]
    expires = entitlement["expires_at"]
    return entitlement["status"], datetime.fromisoformat(expires) if expires else None


def _subscribers_api_view(info: dict[str, Any], product: str) -> tuple[str, datetime]:
    """Status and access end as the subscribers API reports them (the ledger must agree)."""
    subscription = info["subscriber"]["subscriptions"][product]
    expires = datetime.fromisoformat(subscription["expires_date"].replace("Z", "+00:00"))
    requested = datetime.fromtimestamp(info["request_date_ms"] / 1000, UTC)
    return ("active" if expires > requested else "expired"), expires


async def test_purchase_renewal_cancellation_expiration_announce_activated_renewed_expired(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    event_ids = []
    for kind in LIFECYCLE:
        event = await rc.simulate(kind, app_user_id=f"rc_{user_id}", product_id=product)
        await wait_until_applied(stack.sessions, event["id"], user_id)
        event_ids.append(event["id"])

    assert await _announcements(stack, event_ids) == [
        "entitlement.activated",
        "entitlement.renewed",
        "entitlement.expired",
    ]
    info = await rc.customer_info(f"rc_{user_id}")
    assert await _ledger_entry(http, stack, user_id) == _subscribers_api_view(info, product)


async def test_lifecycle_delivered_three_times_has_the_effect_of_one(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    event_ids = []
    for kind in LIFECYCLE:
        event = await rc.simulate(kind, app_user_id=f"rc_{user_id}", product_id=product, duplicates=2)
        await rc.wait_delivered(event["id"], copies=3)
        await wait_until_applied(stack.sessions, event["id"], user_id)
        event_ids.append(event["id"])

    await stack.published.caught_up()
    for event_id in event_ids:
        copies = stack.published.on(
            stack.topics.webhooks_raw, lambda r, e=event_id: e.encode() in (r.key or b"")
        )
        assert len(copies) == 3
    assert await _announcements(stack, event_ids) == [
        "entitlement.activated",
        "entitlement.renewed",
        "entitlement.expired",
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_shuffled_lifecycle_ends_in_the_state_the_subscribers_api_reports(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str, seed: int
) -> None:
    event_ids = [
        (await rc.simulate(kind, app_user_id=f"rc_{user_id}", product_id=product, deliver="hold"))["id"]
        for kind in LIFECYCLE
    ]
    order = await rc.flush(shuffle=True, seed=seed)
    assert sorted(order) == sorted(event_ids)
    for event_id in event_ids:
        await wait_until_applied(stack.sessions, event_id, user_id)

    info = await rc.customer_info(f"rc_{user_id}")
    assert await _ledger_entry(http, stack, user_id) == _subscribers_api_view(info, product)
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("expired", "expired")}
    # Every snapshot was read after the expiry: nothing was ever announced as active.
    assert "entitlement.activated" not in await _announcements(stack, event_ids)


@pytest.mark.parametrize("seed", [5, 6, 7])
async def test_shuffled_delivery_of_a_live_subscription_ends_active_with_the_latest_expiry(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str, seed: int
) -> None:
    kinds = ("purchase", "cancellation", "uncancellation", "renewal", "renewal")
    event_ids = [
        (await rc.simulate(kind, app_user_id=f"rc_{user_id}", product_id=product, deliver="hold"))["id"]
        for kind in kinds
    ]
    await rc.flush(shuffle=True, seed=seed)
    for event_id in event_ids:
        await wait_until_applied(stack.sessions, event_id, user_id)

    info = await rc.customer_info(f"rc_{user_id}")
    assert await _ledger_entry(http, stack, user_id) == _subscribers_api_view(info, product)
    assert await _announcements(stack, event_ids) == ["entitlement.activated"]


async def test_a_late_purchase_event_does_not_restore_expired_access(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    purchase = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, purchase["id"], user_id)
    expiration = await rc.simulate("expiration", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, expiration["id"], user_id)

    # A purchase event arrives after the expiry, claiming access until far in the future: it is
    # re-confirmed against the subscribers API, which says expired, so access is not restored.
    late = await rc.simulate(
        "custom-event",
        app_user_id=f"rc_{user_id}",
        type="INITIAL_PURCHASE",
        fields={"product_id": product, "expiration_at_ms": purchase["expiration_at_ms"] * 2},
    )
    await wait_until_applied(stack.sessions, late["id"], user_id)
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("expired", "expired")}
    assert await announced(stack.sessions, late["id"]) == []
