"""``RevenueCatAdapter.revoke_entitlement``: revoked in our ledger with the reason, announced once."""

import httpx
import pytest
from sqlalchemy import select

from shared.connectors.revenuecat.adapter import RevenueCatAdapter
from shared.db.models import Outbox
from tests.conftest import Stack
from tests.infra.revenuecat import RevenueCatSandbox, entitlement_rows, make_pack, wait_until_applied


@pytest.fixture
def adapter(stack: Stack, http: httpx.AsyncClient) -> RevenueCatAdapter:
    return RevenueCatAdapter(stack.settings, http, stack.sessions)


async def test_revoke_marks_the_entitlement_revoked_with_the_reason_and_announces_it(
    stack: Stack, http: httpx.AsyncClient, adapter: RevenueCatAdapter, user_id: str
) -> None:
    _, product = await make_pack(stack.sessions)
    rc = RevenueCatSandbox(http, stack.sandbox_urls["revenuecat"])
    event = await rc.simulate("purchase", app_user_id=f"rc_{user_id}", product_id=product)
    await wait_until_applied(stack.sessions, event["id"], user_id)

    await adapter.revoke_entitlement(user_id, product, "chargeback reported by the bank")

    assert await entitlement_rows(stack.sessions, user_id) == {
        product: ("revoked", "revoked locally: chargeback reported by the bank")
    }
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
