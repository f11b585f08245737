"""``RevenueCatAdapter.revoke_entitlement``: proposed on the user's partition, applied by the worker,
revoked in our ledger with the reason and announced once; and the admin route that calls it."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, text

from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.db.models import Outbox, UserEntitlement
from shared.messaging.entitlement_updates import EntitlementUpdatePublisher
from shared.messaging.producer import create_producer
from tests.conftest import Stack
from tests.infra.revenuecat import RevenueCatSandbox, entitlement_rows, make_pack, wait_until_applied
from tests.infra.security import billing_cli
from tests.infra.waiting import eventually

REVOKED_BY_BANK = ("revoked", "revoked locally: chargeback reported by the bank")


@pytest.fixture
async def adapter(stack: Stack, http: httpx.AsyncClient) -> AsyncIterator[RevenueCatAdapter]:
    producer = create_producer(stack.settings)
    await producer.start()
    updates = EntitlementUpdatePublisher(producer, stack.topics.entitlement_updates)
    yield RevenueCatAdapter(stack.settings, http, stack.sessions, updates)
    await producer.stop()


async def _purchased(stack: Stack, http: httpx.AsyncClient, user_id: str) -> str:
    _, product = await make_pack(stack.sessions)
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, event["id"], user_id)
    return product


async def _revoked(stack: Stack, user_id: str, product: str) -> bool:
    return (await entitlement_rows(stack.sessions, user_id)).get(product) == REVOKED_BY_BANK


async def test_revoke_marks_the_entitlement_revoked_with_the_reason_and_announces_it(
    stack: Stack, http: httpx.AsyncClient, adapter: RevenueCatAdapter, user_id: str
) -> None:
    product = await _purchased(stack, http, user_id)

    await adapter.revoke_entitlement(user_id, product, "chargeback reported by the bank")

    await eventually(lambda: _revoked(stack, user_id, product), what="revocation applied by the worker")
    assert await entitlement_rows(stack.sessions, user_id) == {product: REVOKED_BY_BANK}
    async with stack.sessions() as session:
        types = (
            (await session.execute(select(Outbox.event_type).where(Outbox.key == user_id))).scalars().all()
        )
    assert sorted(types) == ["entitlement.activated", "entitlement.revoked"]


async def test_revoking_an_unknown_purchase_reference_is_refused(
    adapter: RevenueCatAdapter, user_id: str
) -> None:
    with pytest.raises(LookupError):
        await adapter.revoke_entitlement(user_id, "com.nobody.sells.this", "mistake")


async def test_admin_revoke_route_goes_through_the_provider_and_the_worker(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    product = await _purchased(stack, http, user_id)
    body = {
        "userId": user_id,
        "provider": "revenuecat",
        "purchaseReference": product,
        "reason": "chargeback reported by the bank",
    }

    response = await http.post(f"{stack.gateway_url}/v1/admin/entitlements/revoke", json=body)

    assert response.status_code == 202, response.text
    await eventually(lambda: _revoked(stack, user_id, product), what="revocation applied by the worker")


async def test_admin_revoke_of_an_unknown_purchase_is_a_404(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    body = {"userId": user_id, "provider": "revenuecat", "purchaseReference": "nope", "reason": "x"}
    response = await http.post(f"{stack.gateway_url}/v1/admin/entitlements/revoke", json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "entitlement_not_found"


async def _entitlement_id(stack: Stack, user_id: str) -> uuid.UUID:
    async with stack.sessions() as session:
        return (
            await session.execute(select(UserEntitlement.id).where(UserEntitlement.user_id == user_id))
        ).scalar_one()


async def _revoke_requests(stack: Stack, user_id: str) -> list[tuple[str, str]]:
    async with stack.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT actor, details->>'reason' FROM audit_log"
                " WHERE subject = :s AND event = 'entitlement.revoke_requested'"
            ),
            {"s": f"user:{user_id}"},
        )
        return [(actor, reason) for actor, reason in rows.all()]


async def test_admin_revoke_by_entitlement_id_goes_through_the_worker_and_is_audited(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    product = await _purchased(stack, http, user_id)
    entitlement_id = await _entitlement_id(stack, user_id)

    response = await http.post(
        f"{stack.gateway_url}/v1/admin/entitlements/{entitlement_id}/revoke",
        json={"reason": "chargeback reported by the bank"},
    )

    assert response.status_code == 202, response.text
    assert response.json() == {"status": "accepted", "entitlementId": str(entitlement_id), "userId": user_id}
    await eventually(lambda: _revoked(stack, user_id, product), what="revocation applied by the worker")
    [(actor, reason)] = await _revoke_requests(stack, user_id)
    assert actor.startswith("apikey:") and reason == "chargeback reported by the bank"


async def test_admin_revoke_by_id_refuses_an_unknown_or_malformed_id_and_a_missing_reason(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    unknown = await http.post(
        f"{stack.gateway_url}/v1/admin/entitlements/{uuid.uuid4()}/revoke", json={"reason": "x"}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "entitlement_not_found")
    malformed = await http.post(
        f"{stack.gateway_url}/v1/admin/entitlements/nope/revoke", json={"reason": "x"}
    )
    assert (malformed.status_code, malformed.json()["error"]["field"]) == (400, "entitlementId")
    no_reason = await http.post(f"{stack.gateway_url}/v1/admin/entitlements/{uuid.uuid4()}/revoke", json={})
    assert (no_reason.status_code, no_reason.json()["error"]["field"]) == (400, "reason")


async def test_billing_entitlements_revoke_goes_through_the_worker_and_is_audited(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    product = await _purchased(stack, http, user_id)
    entitlement_id = await _entitlement_id(stack, user_id)

    ran = billing_cli(stack.settings, "entitlements", "revoke", str(entitlement_id), "--reason", "fraud")

    assert ran.returncode == 0, ran.stderr
    assert "accepted" in ran.stdout
    await eventually(
        lambda: _revoked_for(stack, user_id, product, "revoked locally: fraud"), what="revocation applied"
    )
    [(actor, reason)] = await _revoke_requests(stack, user_id)
    assert actor.startswith("cli:") and reason == "fraud"
    unknown = billing_cli(stack.settings, "entitlements", "revoke", str(uuid.uuid4()), "--reason", "x")
    assert unknown.returncode == 1 and "no entitlement" in unknown.stderr


async def _revoked_for(stack: Stack, user_id: str, product: str, reason: str) -> bool:
    return (await entitlement_rows(stack.sessions, user_id)).get(product) == ("revoked", reason)


async def _status(stack: Stack, user_id: str, product: str) -> str | None:
    row = (await entitlement_rows(stack.sessions, user_id)).get(product)
    return row[0] if row else None


async def test_a_renewal_held_during_the_revoke_reactivates_from_the_snapshot_read_after_it(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    # RevenueCat webhooks are triggers (decision 0005): ingest applies the subscribers-API snapshot
    # as of its read. A renewal made before the operator's revoke but delivered after it is read
    # after the revoke; the store still bills the subscription, so the snapshot (newer than the
    # revoke) says active and wins by the ordering rule. A local revoke lasts until the provider
    # speaks again: cancel or refund in the store to make it final.
    product = await _purchased(stack, http, user_id)
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    held = await rc.simulate("renewal", app_user_id=f"rc_{user_id}", product_id=product, deliver="hold")
    response = await http.post(
        f"{stack.gateway_url}/v1/admin/entitlements/{await _entitlement_id(stack, user_id)}/revoke",
        json={"reason": "chargeback reported by the bank"},
    )
    assert response.status_code == 202, response.text
    await eventually(lambda: _revoked(stack, user_id, product), what="revocation applied by the worker")

    assert await rc.flush() == [held["id"]]
    await wait_until_applied(stack.sessions, held["id"], user_id)
    assert await _status(stack, user_id, product) == "active"


async def test_a_renewal_after_the_revoke_grants_access_again(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    # RevenueCat keeps billing a store subscription a revoke did not cancel: its next renewal is newer
    # than the revoke, so access comes back (documented on RevenueCatAdapter.revoke_entitlement).
    product = await _purchased(stack, http, user_id)
    response = await http.post(
        f"{stack.gateway_url}/v1/admin/entitlements/{await _entitlement_id(stack, user_id)}/revoke",
        json={"reason": "mistaken chargeback"},
    )
    assert response.status_code == 202, response.text
    await eventually(lambda: _status_is(stack, user_id, product, "revoked"), what="revocation applied")

    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    renewal = await rc.simulate("renewal", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, renewal["id"], user_id)
    assert await _status(stack, user_id, product) == "active"


async def _status_is(stack: Stack, user_id: str, product: str, status: str) -> bool:
    return await _status(stack, user_id, product) == status


async def test_with_revenuecats_clock_behind_ours_a_renewal_after_the_revoke_still_counts(
    stack: Stack, http: httpx.AsyncClient, user_id: str
) -> None:
    # Snapshots are ordered by RevenueCat's clock (request_date_ms). Were the revoke stamped with
    # ours, a RevenueCat clock five minutes behind would make the renewal's snapshot look older than
    # the revoke for five minutes: the customer paid and would have no access.
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    await rc.skew_clock(-300_000)
    try:
        product = await _purchased(stack, http, user_id)
        response = await http.post(
            f"{stack.gateway_url}/v1/admin/entitlements/{await _entitlement_id(stack, user_id)}/revoke",
            json={"reason": "mistaken chargeback"},
        )
        assert response.status_code == 202, response.text
        await eventually(lambda: _status_is(stack, user_id, product, "revoked"), what="revocation applied")

        renewal = await rc.simulate("renewal", app_user_id=f"rc_{user_id}", product_id=product)
        await wait_until_applied(stack.sessions, renewal["id"], user_id)
    finally:
        await rc.skew_clock(0)
    assert await _status(stack, user_id, product) == "active"
