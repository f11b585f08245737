"""Each RevenueCat event type's effect, through the sandbox, gateway, ingest (subscribers API) and worker."""

import asyncio
from collections.abc import Collection
from datetime import datetime, timedelta

import httpx
import pytest

from shared.connectors.revenuecat.event_log import RevenueCatUnappliedEvent
from shared.domain.packs import BillingKind
from tests.conftest import Stack
from tests.infra.revenuecat import (
    RevenueCatSandbox,
    announced,
    entitlement_rows,
    make_pack,
    wait_until_applied,
)

ACTIVATED = "entitlement.activated"
RENEWED = "entitlement.renewed"
EXPIRED = "entitlement.expired"
REVOKED = "entitlement.revoked"


@pytest.fixture
async def product(stack: Stack) -> str:
    _, product_id = await make_pack(stack.sessions)
    return product_id


async def _apply(
    stack: Stack,
    rc: RevenueCatSandbox,
    user_id: str,
    kind: str,
    products: Collection[str] = (),
    **body: object,
) -> str:
    """Simulate, wait until the worker applied what the subscribers API said (for every one of
    ``products`` when the event touches several); the event id."""
    body.setdefault("app_user_id", f"rc_{user_id}")
    event = await rc.simulate(kind, **body)
    await wait_until_applied(stack.sessions, event["id"], user_id, products)
    return str(event["id"])


async def _expires_at(http: httpx.AsyncClient, stack: Stack, user_id: str) -> datetime:
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    [entitlement] = read.json()["entitlements"]
    return datetime.fromisoformat(entitlement["expires_at"])


async def test_initial_purchase_activates(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    event_id = await _apply(stack, rc, user_id, "purchase", product_id=product)
    assert await announced(stack.sessions, event_id) == [(ACTIVATED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}


async def test_renewal_extends_access_and_announces_renewed(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    before = await _expires_at(http, stack, user_id)
    event_id = await _apply(stack, rc, user_id, "renewal", product_id=product)
    assert await announced(stack.sessions, event_id) == [(RENEWED, user_id)]
    assert await _expires_at(http, stack, user_id) - before == timedelta(weeks=1)


async def test_cancellation_keeps_access_until_expiry(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    event_id = await _apply(stack, rc, user_id, "cancellation", product_id=product)
    assert await announced(stack.sessions, event_id) == []
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}


async def test_uncancellation_changes_nothing(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    await _apply(stack, rc, user_id, "cancellation", product_id=product)
    event_id = await _apply(stack, rc, user_id, "uncancellation", product_id=product)
    assert await announced(stack.sessions, event_id) == []
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}


async def test_expiration_expires(stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    event_id = await _apply(stack, rc, user_id, "expiration", product_id=product)
    assert await announced(stack.sessions, event_id) == [(EXPIRED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("expired", "expired")}


async def test_non_renewing_purchase_activates_one_time_pack_without_expiry(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str
) -> None:
    pack, product_id = await make_pack(stack.sessions, kind=BillingKind.ONE_TIME)
    event_id = await _apply(stack, rc, user_id, "non-renewing-purchase", product_id=product_id)
    assert await announced(stack.sessions, event_id) == [(ACTIVATED, user_id)]
    read = await http.get(f"{stack.gateway_url}/v1/users/{user_id}/entitlements")
    [entitlement] = read.json()["entitlements"]
    assert (entitlement["pack_slug"], entitlement["status"], entitlement["expires_at"]) == (
        pack.slug,
        "active",
        None,
    )


async def test_subscription_paused_keeps_access_until_the_paused_expiration(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product, store="PLAY_STORE")
    paused = await _apply(stack, rc, user_id, "pause", product_id=product)
    assert await announced(stack.sessions, paused) == []
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}

    expired = await _apply(stack, rc, user_id, "expiration", product_id=product, reason="SUBSCRIPTION_PAUSED")
    assert await announced(stack.sessions, expired) == [(EXPIRED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("expired", "paused")}


async def test_billing_issue_keeps_access_through_the_grace_period(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    grace_ms = 3 * 86_400_000
    event = await rc.simulate(
        "billing-issue", app_user_id=f"rc_{user_id}", product_id=product, grace_period_ms=grace_ms
    )
    await wait_until_applied(stack.sessions, event["id"], user_id)
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", "grace_period")}
    grace_end = datetime.fromtimestamp(event["grace_period_expiration_at_ms"] // 1000).astimezone()
    assert await _expires_at(http, stack, user_id) == grace_end
    assert (EXPIRED, user_id) not in await announced(stack.sessions, event["id"])


async def test_product_change_moves_access_to_the_new_pack(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    _, new_product = await make_pack(stack.sessions)
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    both = {product, new_product}
    event_id = await _apply(
        stack, rc, user_id, "product-change", both, product_id=product, new_product_id=new_product
    )
    assert sorted(await announced(stack.sessions, event_id)) == [(ACTIVATED, user_id), (EXPIRED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {
        product: ("expired", "expired"),
        new_product: ("active", None),
    }


async def test_deferred_product_change_changes_nothing_until_renewal(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    _, new_product = await make_pack(stack.sessions)
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    both = {product, new_product}
    changed = await _apply(
        stack,
        rc,
        user_id,
        "product-change",
        both,
        product_id=product,
        new_product_id=new_product,
        immediate=False,
    )
    assert await announced(stack.sessions, changed) == []
    renewed = await _apply(stack, rc, user_id, "renewal", both, product_id=product)
    assert sorted(await announced(stack.sessions, renewed)) == [(ACTIVATED, user_id), (EXPIRED, user_id)]


async def test_transfer_revokes_the_source_and_activates_the_destination(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    destination = f"{user_id}-new"
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    event = await rc.simulate(
        "transfer", from_app_user_id=f"rc_{user_id}", to_app_user_id=f"rc_{destination}"
    )
    assert "app_user_id" not in event
    await wait_until_applied(stack.sessions, event["id"], user_id)
    await wait_until_applied(stack.sessions, event["id"], destination)
    assert sorted(await announced(stack.sessions, event["id"])) == [
        (ACTIVATED, destination),
        (REVOKED, user_id),
    ]
    assert await entitlement_rows(stack.sessions, user_id) == {
        product: ("revoked", f"transferred to rc_{destination}")
    }
    assert await entitlement_rows(stack.sessions, destination) == {product: ("active", None)}


async def test_subscription_extended_announces_renewed(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    before = await _expires_at(http, stack, user_id)
    event_id = await _apply(stack, rc, user_id, "extension", product_id=product, extension_ms=86_400_000)
    assert await announced(stack.sessions, event_id) == [(RENEWED, user_id)]
    assert await _expires_at(http, stack, user_id) - before == timedelta(days=1)


async def test_temporary_entitlement_grant_activates_for_at_most_a_day(
    stack: Stack, http: httpx.AsyncClient, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    event = await rc.simulate(
        "temporary-grant", app_user_id=f"rc_{user_id}", product_id=product, duration_ms=2 * 86_400_000
    )
    await wait_until_applied(stack.sessions, event["id"], user_id)
    assert await announced(stack.sessions, event["id"]) == [(ACTIVATED, user_id)]
    granted_for = (
        await _expires_at(http, stack, user_id)
        - datetime.fromtimestamp(event["purchased_at_ms"] // 1000).astimezone()
    )
    assert granted_for <= timedelta(days=1)


async def test_refund_revokes(stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    event = await rc.simulate("refund", app_user_id=f"rc_{user_id}", product_id=product)
    assert (event["type"], event["cancel_reason"]) == ("CANCELLATION", "CUSTOMER_SUPPORT")
    await wait_until_applied(stack.sessions, event["id"], user_id)
    assert await announced(stack.sessions, event["id"]) == [(REVOKED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("revoked", "refunded")}


async def test_refund_of_a_one_time_purchase_revokes(
    stack: Stack, rc: RevenueCatSandbox, user_id: str
) -> None:
    _, product_id = await make_pack(stack.sessions, kind=BillingKind.ONE_TIME)
    await _apply(stack, rc, user_id, "non-renewing-purchase", product_id=product_id)
    event_id = await _apply(stack, rc, user_id, "refund", product_id=product_id)
    assert await announced(stack.sessions, event_id) == [(REVOKED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {
        product_id: ("revoked", "no longer on the RevenueCat customer")
    }


async def test_refund_reversed_restores_access(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    await _apply(stack, rc, user_id, "purchase", product_id=product)
    await _apply(stack, rc, user_id, "refund", product_id=product)
    event_id = await _apply(stack, rc, user_id, "refund-reversed", product_id=product)
    assert await announced(stack.sessions, event_id) == [(ACTIVATED, user_id)]
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}


async def test_user_is_matched_through_an_alias(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, product: str
) -> None:
    anonymous = f"$RCAnonymousID:{user_id}"
    await rc.add_alias(anonymous, f"rc_{user_id}")
    event = await rc.simulate("purchase", app_user_id=anonymous, product_id=product)
    assert (event["app_user_id"], event["original_app_user_id"]) == (anonymous, anonymous)
    await wait_until_applied(stack.sessions, event["id"], user_id)
    assert await entitlement_rows(stack.sessions, user_id) == {product: ("active", None)}


@pytest.mark.parametrize(
    ("kind", "event_type", "reason"),
    [("test-event", "TEST", "test event"), ("custom-event", "SOMETHING_NEW_2027", "unknown event type")],
    ids=["test", "unknown-type"],
)
async def test_test_and_unknown_events_are_acknowledged_recorded_and_change_nothing(
    stack: Stack, rc: RevenueCatSandbox, user_id: str, kind: str, event_type: str, reason: str
) -> None:
    event = await rc.simulate(kind, app_user_id=f"rc_{user_id}", type=event_type)
    await rc.wait_delivered(event["id"])  # the gateway answered 200
    record = await _unapplied_record(stack, event["id"])
    assert (record.event_type, record.reason, record.app_user_id) == (event_type, reason, f"rc_{user_id}")
    assert "subscriber_attributes" not in record.payload["event"]
    assert await entitlement_rows(stack.sessions, user_id) == {}
    await stack.published.caught_up()
    assert not stack.published.on(stack.topics.entitlement_updates, lambda r: r.key == user_id.encode())


async def _unapplied_record(stack: Stack, event_id: str) -> RevenueCatUnappliedEvent:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        async with stack.sessions() as session:
            record = await session.get(RevenueCatUnappliedEvent, event_id)
        if record is not None:
            return record
        assert asyncio.get_running_loop().time() < deadline, f"{event_id} was not recorded"
        await asyncio.sleep(0.05)
